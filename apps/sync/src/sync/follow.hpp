#pragma once

#include "sync/run.hpp"

#include <chrono>

// attendance-sync --follow (docs/sync.md, "Live upload"): beside a running scanner,
// without its lock, upload every `--interval` what the scanner has made durable
// (its <log>.durable mark, ADR 0053), with the checkpoint and idempotency of a
// normal run; while the backend is unreachable, wait with backoff and catch up.
namespace attendance::sync {

// The wait before the next round: `interval` after a round that went through; after
// `failures` failed rounds in a row 1 s, 2 s, 4 s … but never more than `interval`,
// so a backend that comes back is found within one interval. Pure.
[[nodiscard]] std::chrono::milliseconds followWait(std::chrono::milliseconds interval, unsigned failures) noexcept;

// Runs until env.stopRequested() (SIGTERM/SIGINT), then returns 0; returns 2 at once
// for a usage error (flags, key file, an event conflict in the log). Failures that a
// later round can get past (backend unreachable, key refused, scanner not assigned)
// are reported and retried.
[[nodiscard]] int runFollow(const SyncOptions& options, Environment& env);

}  // namespace attendance::sync

#pragma once

#include "sync/checkpoint.hpp"
#include "sync/run.hpp"
#include "sync/run_error.hpp"
#include "sync/summary.hpp"
#include "sync/upload.hpp"

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>

// The phases of a run (docs/sync.md, "How a run works") that runSync (run.cpp) and
// the follower (follow.cpp) share. Each phase that can refuse the run returns a
// RunError; the caller prints it.
namespace attendance::sync {

// The flags that need no file and no network.
[[nodiscard]] RunResult<void> checkOptions(const SyncOptions& o);

// Configuration first: nothing is touched before every input is known to be usable.
// A dry run sends nothing (no target) but still checks a --backend it is given.
[[nodiscard]] RunResult<std::optional<Target>> checkTarget(const SyncOptions& o);

// Where the unsent part of the log starts, from the checkpoint if it describes this
// very log, and the clock anchor it kept.
struct Resume {
  std::uint64_t offset = 0;
  std::uint64_t line = 1;
  std::optional<ClockAnchor> anchor;
};
[[nodiscard]] Resume findStart(const SyncOptions& o, Environment& env, const std::filesystem::path& checkpointPath,
                               const LogIdentity& identity);

// Every line to send (up to byte `end`) must have an event before the first batch
// goes out: a refusal is a mistake in the command, which a rerun with the right
// --event fixes.
[[nodiscard]] RunResult<void> checkEvents(const SyncOptions& o, Environment& env, int fd, const Resume& start,
                                          std::uint64_t end = std::numeric_limits<std::uint64_t>::max());

// The clock correction's context and the checkpoint the upload starts from. A new
// clock anchor is saved before anything is sent, so a rerun after a crash corrects
// identically.
[[nodiscard]] RunResult<UploadStart> planUpload(const SyncOptions& o, Environment& env,
                                                std::filesystem::path checkpointPath, const LogIdentity& identity,
                                                Resume start);

}  // namespace attendance::sync

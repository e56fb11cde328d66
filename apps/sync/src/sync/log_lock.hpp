#pragma once

#include "sync/run.hpp"

#include <optional>

namespace attendance::sync {

// Takes the log's writer lock (flock on the open log `fd`) for the whole sync, so no
// scanner appends while we read and no second sync races on the checkpoint; with
// --stop-scanner it stops the holder first. A dry run may go on without the lock
// (`locked` false). Returns an exit code when the run must stop.
[[nodiscard]] std::optional<int> lockLog(const SyncOptions& options, Environment& env, int fd, bool& locked);

}  // namespace attendance::sync

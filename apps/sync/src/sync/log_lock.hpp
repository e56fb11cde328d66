#pragma once

#include "sync/run.hpp"
#include "sync/run_error.hpp"

namespace attendance::sync {

// Takes the log's writer lock (flock on the open log `fd`) for the whole sync, so no
// scanner appends while we read and no second sync races on the checkpoint; with
// --stop-scanner it stops the holder first. A dry run may go on without the lock
// (false: not locked). Notes on stderr say what it is doing while it stops a scanner.
[[nodiscard]] RunResult<bool> lockLog(const SyncOptions& options, Environment& env, int fd);

}  // namespace attendance::sync

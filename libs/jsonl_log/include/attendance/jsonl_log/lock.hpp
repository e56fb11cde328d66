#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <sys/types.h>

#include <attendance/jsonl_log/failure.hpp>

namespace attendance::jsonl_log {

// Who holds the exclusive writer lock (flock(2) on the log file itself).
struct LockHolder {
  bool held = false;
  std::optional<pid_t> pid;  // from /proc/locks when visible in our PID namespace
  std::string processName;   // /proc/<pid>/comm, empty when unknown

  // "PID 1234 (attendance-scann)" / "another process" (for messages).
  [[nodiscard]] std::string describe() const;
};

// For attendance-sync: is a scanner writing this log right now? A missing file is
// "not held". Looks in /proc/locks first; only when that shows no holder does it
// take and release the lock for an instant (the definitive check).
[[nodiscard]] Outcome<LockHolder> probeLock(const std::filesystem::path& log);

}  // namespace attendance::jsonl_log

#pragma once

#include <sys/stat.h>

#include <optional>

#include <attendance/jsonl_log/lock.hpp>

namespace attendance::jsonl_log::detail {

// The holder of a flock on the file with this device/inode, from /proc/locks;
// nullopt when /proc/locks shows none (or cannot be read).
[[nodiscard]] std::optional<LockHolder> holderFromProcLocks(const struct stat& st);
// Same, but someone is known to hold it: falls back to "another process".
[[nodiscard]] LockHolder findHolder(const struct stat& st);

}  // namespace attendance::jsonl_log::detail

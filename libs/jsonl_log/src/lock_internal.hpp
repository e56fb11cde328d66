#pragma once

#include <sys/stat.h>

#include "attendance/jsonl_log/lock.hpp"

namespace attendance::jsonl_log::detail {

// Finds the holder of a flock on the file with this device/inode in /proc/locks.
[[nodiscard]] LockHolder findHolder(const struct stat& st);

}  // namespace attendance::jsonl_log::detail

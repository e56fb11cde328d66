#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include <attendance/jsonl_log/lock.hpp>
#include "lock_internal.hpp"

namespace attendance::jsonl_log {

std::string LockHolder::describe() const {
  if (!pid) return "another process";
  std::string s = "PID " + std::to_string(*pid);
  if (!processName.empty()) s += " (" + processName + ")";
  return s;
}

namespace detail {

std::optional<LockHolder> holderFromProcLocks(const struct stat& st) {
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (major:minor in hex, inode decimal)
    char kind[16] = {};
    char mode[16] = {};
    char access[16] = {};
    long pid = 0;
    unsigned maj = 0;
    unsigned min = 0;
    unsigned long long ino = 0;
    if (line.find("->") != std::string::npos) continue;  // a blocked waiter, not a holder
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (std::sscanf(line.c_str() + colon + 1, "%15s %15s %15s %ld %x:%x:%llu", kind, mode, access, &pid, &maj, &min,
                    &ino) != 7) {
      continue;
    }
    if (std::string_view(kind) != "FLOCK") continue;
    if (ino != static_cast<unsigned long long>(st.st_ino) || maj != major(st.st_dev) || min != minor(st.st_dev))
      continue;
    LockHolder holder;
    holder.held = true;
    if (pid > 0) {
      holder.pid = static_cast<pid_t>(pid);
      std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
      std::getline(comm, holder.processName);
    }
    return holder;
  }
  return std::nullopt;
}

LockHolder findHolder(const struct stat& st) {
  if (auto h = holderFromProcLocks(st)) return *h;
  LockHolder holder;
  holder.held = true;
  return holder;
}

}  // namespace detail

Outcome<LockHolder> probeLock(const std::filesystem::path& log) {
  const int fd = ::open(log.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return LockHolder{};
    const int err = errno;
    return Failure{{err, boost::system::system_category()},
                   "cannot open log " + log.string() + " to check its lock: " + std::strerror(err)};
  }
  LockHolder result;
  struct stat st {};
  if (::fstat(fd, &st) == 0) {
    // Look first: a brief probe lock could make a scanner starting at that instant fail.
    if (auto h = detail::holderFromProcLocks(st)) {
      ::close(fd);
      return *h;
    }
  }
  // /proc/locks may not show holders in other PID namespaces: the lock itself is the truth.
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
    ::flock(fd, LOCK_UN);
  } else if (errno == EWOULDBLOCK) {
    result = detail::findHolder(st);
  } else {
    const int err = errno;
    ::close(fd);
    return Failure{{err, boost::system::system_category()},
                   "cannot check the lock of " + log.string() + ": " + std::strerror(err)};
  }
  ::close(fd);
  return result;
}

}  // namespace attendance::jsonl_log

// The server's beacon key file (attendance-backend beacon-key generate, serve
// --beacon-key-file): 64 hex digits that encrypt every participant's identity key at
// rest (docs/adr/0029-private-rotating-ids.md). Kept outside the database, readable
// only by the backend's user.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "backend.hpp"

namespace attendance::backend {

std::variant<core::ServerKey, std::string> loadBeaconKeyFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "beacon key file " + path + ": " + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return "beacon key file " + path + ": not a regular file";
  if ((st.st_mode & 077) != 0) {
    return "beacon key file " + path + ": readable by others (mode " + std::to_string((st.st_mode >> 6) & 7) +
           std::to_string((st.st_mode >> 3) & 7) + std::to_string(st.st_mode & 7) + "); chmod 600 it";
  }
  if (st.st_size > 256) return "beacon key file " + path + ": not a beacon key (64 hex digits)";
  std::ifstream in{path, std::ios::binary};
  if (!in) return "beacon key file " + path + ": cannot read it";
  std::ostringstream text;
  text << in.rdbuf();
  auto key = core::ServerKey::parseHex(text.str());
  if (!key) return "beacon key file " + path + ": not a beacon key (64 hex digits)";
  return *key;
}

std::optional<std::string> generateBeaconKeyFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST)
      return "beacon key file " + path + " exists already; not overwritten (its key encrypts the stored identity keys)";
    return "beacon key file " + path + ": " + std::strerror(errno);
  }
  const std::string text = core::ServerKey::generate().toHex() + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return "beacon key file " + path + ": cannot write it";
  }
  return std::nullopt;
}

}  // namespace attendance::backend

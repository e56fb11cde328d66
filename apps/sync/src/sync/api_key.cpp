#include "sync/fd.hpp"
#include "sync/run.hpp"
#include "sync/summary.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace attendance::sync {

RunResult<std::string> readApiKeyFile(const std::filesystem::path& path) {
  const auto usage = [](std::string message) { return RunError{kExitUsage, std::move(message)}; };
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return usage("cannot read the API key file " + path.string() + ": " + std::strerror(errno));
  std::string key;
  char buf[4097];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return usage("cannot read the API key file " + path.string() + ": " + std::strerror(errno));
    if (n == 0) break;
    key.append(buf, static_cast<std::size_t>(n));
    if (key.size() > 4096) {
      return usage("the API key file " + path.string() + " is larger than 4 KiB; is it the right file?");
    }
  }
  const auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!key.empty() && isSpace(key.back())) key.pop_back();
  std::size_t lead = 0;
  while (lead < key.size() && isSpace(key[lead])) ++lead;
  key.erase(0, lead);
  if (key.empty()) return usage("the API key file " + path.string() + " is empty");
  for (const char c : key) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
      return usage("the API key in " + path.string() + " contains whitespace or control characters");
    }
  }
  return key;
}

}  // namespace attendance::sync

// Fuzz target: attendance-scanner's configuration: the --config TOML file
// (toml++) read through parseCommandLine, as an operator's hand-edited file
// reaches it.
//
// Properties: no crash and no exception; either a configuration to run with,
// or exit code 2 with a message that names the problem.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "scanner/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sc = attendance::scanner;
  static const std::string path = [] {
    char name[] = "/tmp/scanner-config-fuzz-XXXXXX";
    const int fd = ::mkstemp(name);
    if (fd < 0) std::abort();
    ::close(fd);
    return std::string{name};
  }();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size != 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);

  const char* argv[] = {"attendance-scanner", "--config", path.c_str()};
  const auto parsed = sc::parseCommandLine(3, argv);
  if (parsed.config) return 0;
  if (parsed.exitCode != sc::kExitUsage || parsed.message.empty()) std::abort();
  return 0;
}

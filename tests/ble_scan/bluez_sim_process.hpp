#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace attendance::test {

// Runs `tools/bluez-sim/bluez-sim serve --control` (a private dbus-daemon with
// the bluez5 mock and adapter hci0) as a child process and drives it with JSON
// commands over its stdin/stdout. The destructor always tears it down.
class BluezSimProcess {
public:
  // Throws std::runtime_error when the simulator does not come up in time. `args` replace
  // "serve --control", e.g. {"--adapter", "hci0,hci1", "serve", "--control", "--relay-interval", "0.1"}.
  static std::unique_ptr<BluezSimProcess> start(std::chrono::milliseconds timeout = std::chrono::seconds{30},
                                                std::vector<std::string> args = {"serve", "--control"});
  ~BluezSimProcess();
  BluezSimProcess(const BluezSimProcess&) = delete;
  BluezSimProcess& operator=(const BluezSimProcess&) = delete;

  [[nodiscard]] const std::string& address() const { return address_; }
  [[nodiscard]] pid_t pid() const { return pid_; }

  // Sends one command and returns its "result"; throws std::runtime_error with
  // the simulator's message when it fails or does not answer within `timeout`.
  boost::json::value command(const boost::json::object& request,
                             std::chrono::milliseconds timeout = std::chrono::seconds{30});

private:
  BluezSimProcess() = default;
  std::string readLine(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int toChild_ = -1;
  int fromChild_ = -1;
  std::string buffer_;
  std::string address_;
};

}  // namespace attendance::test

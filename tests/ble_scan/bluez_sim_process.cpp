#include "bluez_sim_process.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace attendance::test {

namespace {

void writeAll(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const auto n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw std::runtime_error(std::string{"bluez-sim: write failed: "} + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::unique_ptr<BluezSimProcess> BluezSimProcess::start(std::chrono::milliseconds timeout,
                                                        std::vector<std::string> simArgs) {
  std::unique_ptr<BluezSimProcess> p{new BluezSimProcess};
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    throw std::runtime_error("bluez-sim: pipe failed");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  const std::string script = std::string{ATTENDANCE_SOURCE_DIR} + "/tools/bluez-sim/bluez-sim";
  std::vector<std::string> args{"/usr/bin/python3", script};
  args.insert(args.end(), simArgs.begin(), simArgs.end());
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  // No .pyc files in the source tree; no inherited session bus.
  std::vector<std::string> envStore{"PYTHONDONTWRITEBYTECODE=1"};
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view kv{*e};
    if (!kv.starts_with("DBUS_SESSION_BUS_ADDRESS=") && !kv.starts_with("DBUS_SYSTEM_BUS_ADDRESS=")) {
      envStore.emplace_back(kv);
    }
  }
  std::vector<char*> envp;
  for (auto& e : envStore) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  const int rc = ::posix_spawn(&p->pid_, "/usr/bin/python3", &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  p->toChild_ = in[1];
  p->fromChild_ = out[0];
  if (rc != 0) {
    p->pid_ = -1;
    throw std::runtime_error(std::string{"bluez-sim: spawn failed: "} + std::strerror(rc));
  }
  const auto first = boost::json::parse(p->readLine(std::chrono::steady_clock::now() + timeout));
  if (!first.as_object().at("ok").as_bool()) {
    throw std::runtime_error("bluez-sim: failed to start");
  }
  p->address_ = std::string{first.at("result").at("address").as_string()};
  return p;
}

BluezSimProcess::~BluezSimProcess() {
  if (toChild_ >= 0) {
    // Closing stdin ends the control loop; the simulator then tears down bus and mock.
    ::close(toChild_);
  }
  if (pid_ > 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{15};
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);  // its children die with it (PR_SET_PDEATHSIG)
        ::waitpid(pid_, &status, 0);
        break;
      }
      ::usleep(10000);
    }
  }
  if (fromChild_ >= 0) {
    ::close(fromChild_);
  }
}

std::string BluezSimProcess::readLine(std::chrono::steady_clock::time_point deadline) {
  while (true) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      throw std::runtime_error("bluez-sim: no answer before the deadline");
    }
    pollfd pfd{fromChild_, POLLIN, 0};
    const int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) {
      throw std::runtime_error("bluez-sim: poll failed");
    }
    if (n > 0) {
      std::array<char, 4096> buf{};
      const auto got = ::read(fromChild_, buf.data(), buf.size());
      if (got == 0) {
        throw std::runtime_error("bluez-sim: exited unexpectedly");
      }
      if (got > 0) {
        buffer_.append(buf.data(), static_cast<std::size_t>(got));
      }
    }
  }
}

boost::json::value BluezSimProcess::command(const boost::json::object& request, std::chrono::milliseconds timeout) {
  writeAll(toChild_, boost::json::serialize(request) + "\n");
  const auto reply = boost::json::parse(readLine(std::chrono::steady_clock::now() + timeout));
  const auto& obj = reply.as_object();
  if (!obj.at("ok").as_bool()) {
    throw std::runtime_error("bluez-sim " + boost::json::serialize(request) + ": " +
                             std::string{obj.at("error").as_string()});
  }
  return obj.at("result");
}

}  // namespace attendance::test

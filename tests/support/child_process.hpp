#pragma once

// The real binaries under test run as child processes (tests/backend, tests/sync):
// stdout read line by line through a pipe; stderr either captured in memory or
// written to a file a test can inspect while the child runs.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace attendance::testing {

class ChildProcess {
public:
  // args[0] is the executable's path; extraEnv ("NAME=value") is added to this
  // process's environment. An empty stderrFile captures stderr (stderrText()).
  ChildProcess(std::vector<std::string> args, std::vector<std::string> extraEnv,
               const std::filesystem::path& stderrFile = {});
  ~ChildProcess();  // a child still running is killed (SIGKILL) and reaped
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // One line of stdout without its newline, or nullopt at EOF.
  [[nodiscard]] std::optional<std::string> readLine();
  // The rest of stdout, up to EOF.
  [[nodiscard]] std::string readAll();
  // Exit code (128 + signal when killed), or nullopt if still running at the deadline.
  [[nodiscard]] std::optional<int> wait(std::chrono::milliseconds deadline);
  void kill(int signal);
  [[nodiscard]] int pid() const { return pid_; }
  // Captured stderr; complete only after wait() returned an exit code.
  [[nodiscard]] const std::string& stderrText() const { return stderr_; }

private:
  int pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
  FILE* out_ = nullptr;
  int errFd_ = -1;
  std::string stderr_;
  std::thread errReader_;
};

}  // namespace attendance::testing

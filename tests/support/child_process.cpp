#include "support/child_process.hpp"

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace attendance::testing {

ChildProcess::ChildProcess(std::vector<std::string> args, std::vector<std::string> extraEnv,
                           const std::filesystem::path& stderrFile) {
  const bool captureErr = stderrFile.empty();
  int out[2];
  int err[2] = {-1, -1};
  // Close-on-exec: the child gets only its dup2'ed copies, so a grandchild that
  // outlives it (a server pg_ctl starts) cannot hold the pipe open, and later
  // children do not inherit this one's pipes.
  if (::pipe2(out, O_CLOEXEC) != 0 || (captureErr && ::pipe2(err, O_CLOEXEC) != 0)) {
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  if (captureErr) {
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addclose(&fa, err[0]);
  } else {
    posix_spawn_file_actions_addopen(&fa, 2, stderrFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (auto& e : extraEnv) env.push_back(std::move(e));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (captureErr) ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    if (captureErr) ::close(err[0]);
    throw std::runtime_error("cannot start " + args[0]);
  }
  out_ = ::fdopen(out[0], "r");
  if (captureErr) {
    errFd_ = err[0];
    errReader_ = std::thread([this] {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(errFd_, buf, sizeof buf)) > 0) stderr_.append(buf, static_cast<std::size_t>(n));
    });
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    (void)wait(std::chrono::seconds{10});
  }
  if (errReader_.joinable()) errReader_.join();
  if (out_ != nullptr) std::fclose(out_);
  if (errFd_ >= 0) ::close(errFd_);
}

std::optional<std::string> ChildProcess::readLine() {
  char* line = nullptr;
  std::size_t cap = 0;
  const ssize_t n = ::getline(&line, &cap, out_);
  if (n < 0) {
    std::free(line);
    return std::nullopt;
  }
  std::string s{line, static_cast<std::size_t>(n)};
  std::free(line);
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string ChildProcess::readAll() {
  std::string all;
  while (auto l = readLine()) all += *l + "\n";
  return all;
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!exited_) {
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
      exited_ = true;
      break;
    }
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  // The child's stderr ends with it: the captured text is complete once the reader is done.
  if (errReader_.joinable()) errReader_.join();
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

void ChildProcess::kill(int signal) {
  if (!exited_) ::kill(pid_, signal);
}

}  // namespace attendance::testing

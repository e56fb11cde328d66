#include "sync/log_lock.hpp"

#include "sync/messages.hpp"
#include "sync/summary.hpp"

#include <attendance/jsonl_log/lock.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <string>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace attendance::sync {

namespace jl = attendance::jsonl_log;

namespace {

constexpr std::string_view kUnit = "attendance-scanner.service";

// Runs a program without a shell; returns its exit status (-1 if it could not run).
int runProgram(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool tryLock(int fd) { return ::flock(fd, LOCK_EX | LOCK_NB) == 0; }

std::string holderText(const std::filesystem::path& log) {
  auto holder = jl::probeLock(log);
  if (!holder) return "another process";
  return holder->describe();
}

}  // namespace

bool SystemScannerControl::unitActive() {
  return runProgram({"systemctl", "is-active", "--quiet", std::string(kUnit)}) == 0;
}

RunResult<void> SystemScannerControl::stopUnit() {
  const int rc = runProgram({"systemctl", "stop", std::string(kUnit)});
  if (rc == 0) return {};
  return RunError{kExitScannerRunning,
                  rc < 0 ? "systemctl could not be run" : "systemctl stop exited with " + std::to_string(rc)};
}

RunResult<void> SystemScannerControl::terminate(pid_t pid) {
  if (::kill(pid, SIGTERM) == 0) return {};
  return RunError{kExitScannerRunning, std::strerror(errno)};
}

RunResult<bool> lockLog(const SyncOptions& o, Environment& env, int fd) {
  if (tryLock(fd)) return true;
  if (errno != EWOULDBLOCK) return RunError{kExitUsage, "cannot lock " + o.log.string() + ": " + std::strerror(errno)};
  if (o.dryRun) {
    note(env, "a scanner (" + holderText(o.log) + ") is still writing " + o.log.string() +
                  "; the dry run reads what is there now");
    return false;
  }
  const auto stop = [](std::string message) { return RunError{kExitScannerRunning, std::move(message)}; };
  if (!o.stopScanner) {
    return stop("the log " + o.log.string() + " is locked by a running scanner (" + holderText(o.log) +
                ").\n  Stop the scanner first, or pass --stop-scanner to stop it and wait for it to flush.");
  }
  if (env.scanner == nullptr) return stop("--stop-scanner: no way to stop the scanner in this environment");
  if (env.scanner->unitActive()) {
    note(env, "stopping " + std::string(kUnit) + " ...");
    if (auto stopped = env.scanner->stopUnit(); !stopped) {
      return stop("could not stop " + std::string(kUnit) + ": " + stopped.error().message);
    }
  } else {
    auto holder = jl::probeLock(o.log);
    if (!holder || !holder->pid) {
      return stop("the log is locked but the process holding it cannot be identified; stop the scanner by hand");
    }
    note(env, "stopping the scanner, " + holder->describe() + ", with SIGTERM ...");
    if (auto stopped = env.scanner->terminate(*holder->pid); !stopped) {
      return stop("could not stop " + holder->describe() + ": " + stopped.error().message);
    }
  }
  // The scanner flushes and fsyncs before it exits; its lock goes with it. The wait is on the
  // injected clock, so a test of a scanner that never lets go takes no real time.
  const auto deadline = env.clock.monotonicTime() + o.stopTimeout;
  while (!tryLock(fd)) {
    if (env.clock.monotonicTime() >= deadline) {
      return stop("the scanner did not release the log within " + std::to_string(o.stopTimeout.count() / 1000) +
                  " s (" + holderText(o.log) + " still holds it)");
    }
    env.clock.sleepFor(env.lockPollInterval);
  }
  note(env, "the scanner has stopped and released the log");
  return true;
}

}  // namespace attendance::sync

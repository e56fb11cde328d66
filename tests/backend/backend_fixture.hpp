#pragma once
// Test scaffolding for attendance-backend: a throwaway database on the
// pg_virtualenv cluster (PG* variables), the real binary as a subprocess, and
// the backend's router served in-process on 127.0.0.1:0.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "backend.hpp"

extern char** environ;

namespace attendance::testing {

inline std::string backendBinary() { return std::string{ATTENDANCE_BINARY_DIR} + "/apps/backend/attendance-backend"; }

// A database of its own, created on construction and dropped on destruction.
class TestDatabase {
public:
  TestDatabase() {
    std::random_device rd;
    name_ = "att_backend_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1000000);
    pqxx::connection admin{""};
    pqxx::nontransaction tx{admin};
    tx.exec("CREATE DATABASE " + tx.quote_name(name_));
  }
  ~TestDatabase() {
    try {
      pqxx::connection admin{""};
      pqxx::nontransaction tx{admin};
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
    } catch (...) {
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::string conninfo() const { return "dbname=" + name_; }

  long long scalar(const std::string& sql) const {
    pqxx::connection c{conninfo()};
    pqxx::nontransaction tx{c};
    return tx.exec1(sql)[0].as<long long>();
  }
  void exec(const std::string& sql) const {
    pqxx::connection c{conninfo()};
    pqxx::nontransaction tx{c};
    tx.exec(sql);
  }
  // Refuses new connections and ends existing ones: "the database went away".
  void setAvailable(bool available) const {
    pqxx::connection admin{""};
    pqxx::nontransaction tx{admin};
    tx.exec("ALTER DATABASE " + tx.quote_name(name_) + " ALLOW_CONNECTIONS " + (available ? "true" : "false"));
    if (!available) {
      tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " + tx.quote(name_) +
              " AND pid <> pg_backend_pid()");
    }
  }

private:
  std::string name_;
};

// A child process with stdout and stderr captured through pipes.
class Process {
public:
  Process(std::vector<std::string> args, std::vector<std::string> extraEnv) {
    int out[2];
    int err[2];
    if (::pipe(out) != 0 || ::pipe(err) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, err[0]);
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    for (auto& e : extraEnv) env.push_back(e);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) {
      throw std::runtime_error("cannot start " + args[0]);
    }
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    ::close(err[1]);
    out_ = ::fdopen(out[0], "r");
    errFd_ = err[0];
    errReader_ = std::thread([this] {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(errFd_, buf, sizeof buf)) > 0) stderr_.append(buf, static_cast<std::size_t>(n));
    });
  }
  ~Process() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      (void)wait(std::chrono::seconds{10});
    }
    if (errReader_.joinable()) errReader_.join();
    if (out_ != nullptr) ::fclose(out_);
    ::close(errFd_);
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // One line of stdout (without newline), or nullopt at EOF.
  std::optional<std::string> readLine() {
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
  std::string readAllStdout() {
    std::string all;
    while (auto l = readLine()) all += *l + "\n";
    return all;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  // Exit code, or nullopt if still running at the deadline.
  std::optional<int> wait(std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (true) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        if (errReader_.joinable()) errReader_.join();
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() >= end) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
  }
  // Complete only after wait() returned.
  [[nodiscard]] const std::string& stderrText() const { return stderr_; }

private:
  pid_t pid_ = -1;
  bool exited_ = false;
  FILE* out_ = nullptr;
  int errFd_ = -1;
  std::string stderr_;
  std::thread errReader_;
};

// Runs the binary to completion; returns {exit code, stdout, stderr}.
struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};
inline RunResult runBackend(std::vector<std::string> args, const std::string& conninfo) {
  args.insert(args.begin(), backendBinary());
  Process p{args, {"DATABASE_URL=" + conninfo}};
  RunResult r;
  r.out = p.readAllStdout();
  r.code = p.wait(std::chrono::seconds{60}).value_or(-1);
  r.err = p.stderrText();
  return r;
}

// A wall clock tests can move forward; safe to read from server threads.
class ManualClock final : public support::TimeSource {
public:
  [[nodiscard]] std::chrono::system_clock::time_point systemTime() const override {
    return start_ + std::chrono::nanoseconds{offset_.load()};
  }
  [[nodiscard]] std::chrono::steady_clock::time_point monotonicTime() const override {
    return std::chrono::steady_clock::time_point{} + std::chrono::nanoseconds{offset_.load()};
  }
  void advance(std::chrono::nanoseconds d) { offset_ += d.count(); }

private:
  std::chrono::system_clock::time_point start_ = std::chrono::system_clock::now();
  std::atomic<std::int64_t> offset_{0};
};

}  // namespace attendance::testing

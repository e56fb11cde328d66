#include "sync/e2e_support.hpp"

#include <pqxx/pqxx>

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace attendance::testing {

std::vector<std::string> TestDatabase::rows(const std::string& sql) const {
  pqxx::connection c{conninfo()};
  pqxx::nontransaction tx{c};
  std::vector<std::string> out;
  for (const auto& row : tx.exec(sql)) {
    std::string line;
    for (const auto& field : row) {
      if (!line.empty()) line += '|';
      line += field.c_str();
    }
    out.push_back(std::move(line));
  }
  return out;
}

Child::Child(std::vector<std::string> args, std::vector<std::string> extraEnv, const std::filesystem::path& stderrFile) {
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  posix_spawn_file_actions_addopen(&fa, 2, stderrFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
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
  if (rc != 0) {
    ::close(out[0]);
    throw std::runtime_error("cannot start " + args[0]);
  }
  out_ = ::fdopen(out[0], "r");
}

Child::~Child() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    (void)wait(std::chrono::seconds{10});
  }
  if (out_ != nullptr) std::fclose(static_cast<FILE*>(out_));
}

std::optional<std::string> Child::readLine() {
  char* line = nullptr;
  std::size_t cap = 0;
  const ssize_t n = ::getline(&line, &cap, static_cast<FILE*>(out_));
  if (n < 0) {
    std::free(line);
    return std::nullopt;
  }
  std::string s{line, static_cast<std::size_t>(n)};
  std::free(line);
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string Child::readAll() {
  std::string all;
  while (auto l = readLine()) all += *l + "\n";
  return all;
}

std::optional<int> Child::wait(std::chrono::milliseconds deadline) {
  if (exited_) return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  const auto end = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
    }
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
}

void Child::kill(int signal) {
  if (!exited_) ::kill(pid_, signal);
}

RunResult runToCompletion(std::vector<std::string> args, const std::filesystem::path& scratch) {
  const auto errFile = scratch / "child-stderr.txt";
  RunResult r;
  {
    Child c(std::move(args), {}, errFile);
    r.out = c.readAll();
    r.code = c.wait(std::chrono::seconds{120}).value_or(-1);
  }
  std::ifstream in(errFile);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  return r;
}

}  // namespace attendance::testing

// `attendance-admin create-admin` and `serve` as a user runs them: the real
// binary, its exit codes, and a clean exit on SIGTERM.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <attendance/attendance_core/migrations.hpp>

#include "test_support.hpp"

namespace attendance::admin_web::testing {
namespace {

struct Child {
  pid_t pid = -1;
  int out = -1;  // stdout pipe
};

Child spawn(const std::vector<std::string>& args, const std::string& database, bool stdinFromDevNull = true) {
  int pipeFds[2];
  if (::pipe(pipeFds) != 0) throw std::runtime_error("pipe");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipeFds[1], STDOUT_FILENO);
    const int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, STDERR_FILENO);
    if (stdinFromDevNull) ::dup2(devnull, STDIN_FILENO);
    ::close(pipeFds[0]);
    ::setenv("PGDATABASE", database.c_str(), 1);
    ::unsetenv("DATABASE_URL");
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipeFds[1]);
  return {pid, pipeFds[0]};
}

// Reads stdout until EOF or `until` appears, within the deadline.
std::string readOut(const Child& c, std::chrono::milliseconds deadline, const std::string& until = {}) {
  std::string out;
  const auto end = std::chrono::steady_clock::now() + deadline;
  char buf[4096];
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{c.out, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
    const auto n = ::read(c.out, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (!until.empty() && out.find(until) != std::string::npos) break;
  }
  return out;
}

int waitExit(const Child& c, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  int status = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (::waitpid(c.pid, &status, WNOHANG) == c.pid) {
      ::close(c.out);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    ::usleep(20'000);
  }
  ::kill(c.pid, SIGKILL);
  ::waitpid(c.pid, &status, 0);
  ::close(c.out);
  return -1;
}

int run(const std::vector<std::string>& args, const std::string& db, std::string* out = nullptr) {
  Child c = spawn(args, db);
  std::string o = readOut(c, std::chrono::seconds{30});
  if (out) *out = o;
  return waitExit(c, std::chrono::seconds{30});
}

// "listening http://127.0.0.1:PORT/" -> PORT
std::uint16_t portOf(const std::string& line) {
  const auto colon = line.rfind(':');
  return static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
}

std::string dbName(const TestDatabase& db) { return db.conninfo().substr(std::string("dbname=").size()); }

std::string writeFile(const std::string& text) {
  char path[] = "/tmp/admin-web-pw-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp");
  ::close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(AdminCli, CreateAdminAndServeBehaveAsDocumented) {
  TestDatabase db;
  const std::string bin = ATTENDANCE_ADMIN_BIN;
  const std::string name = dbName(db);
  const std::string pw = writeFile("a long enough password\n");

  // Not migrated yet: schema outdated.
  EXPECT_EQ(run({bin, "create-admin", "--email", "boss@example.org", "--password-file", pw}, name), 7);
  {
    core::DatabaseConfig cfg;
    cfg.conninfo = db.conninfo();
    core::ConnectionPool pool{cfg};
    ASSERT_TRUE(core::migrate(pool).has_value());
  }
  std::string out;
  EXPECT_EQ(run({bin, "create-admin", "--email", "boss@example.org", "--password-file", pw}, name, &out), 0);
  EXPECT_EQ(out, "{\"id\":1,\"email\":\"boss@example.org\"}\n");
  EXPECT_EQ(db.scalar("SELECT password_hash LIKE '$argon2id$%' FROM admin_accounts"), "t");
  EXPECT_EQ(run({bin, "create-admin", "--email", "BOSS@example.org", "--password-file", pw}, name), 5);
  EXPECT_EQ(run({bin, "create-admin", "--email", "x@example.org", "--password-file", writeFile("short\n")}, name), 3);
  EXPECT_EQ(run({bin, "create-admin", "--email", "not-an-email", "--password-file", pw}, name), 3);
  EXPECT_EQ(run({bin, "create-admin", "--email", "x@example.org", "--password-file", "/nonexistent/pw"}, name), 8);
  EXPECT_EQ(run({bin, "serve", "--listen", "not-an-address"}, name), 3);

  // serve: prints where it listens, answers, and drains on SIGTERM with exit 0.
  Child server = spawn({bin, "serve", "--listen", "127.0.0.1:0"}, name);
  const std::string line = readOut(server, std::chrono::seconds{30}, "\n");
  ASSERT_EQ(line.rfind("listening http://127.0.0.1:", 0), 0U) << line;
  Browser b{portOf(line)};
  EXPECT_EQ(b.get("/healthz").result(), http::status::ok);
  EXPECT_EQ(b.login("boss@example.org", "a long enough password").result(), http::status::see_other);
  EXPECT_EQ(b.get("/events").result(), http::status::ok);
  ::kill(server.pid, SIGTERM);
  EXPECT_EQ(waitExit(server, std::chrono::seconds{30}), 0);
  // A second server on the same port cannot listen.
  Child first = spawn({bin, "serve", "--listen", "127.0.0.1:0"}, name);
  const std::string firstLine = readOut(first, std::chrono::seconds{30}, "\n");
  const std::string taken = "127.0.0.1:" + std::to_string(portOf(firstLine));
  EXPECT_EQ(run({bin, "serve", "--listen", taken}, name), 9);
  ::kill(first.pid, SIGTERM);
  EXPECT_EQ(waitExit(first, std::chrono::seconds{30}), 0);
}

}  // namespace
}  // namespace attendance::admin_web::testing

// The attendance-backend binary: migrate, schema check, exit codes, SIGTERM drain.
#include <gtest/gtest.h>

#include <signal.h>

#include <fmt/format.h>

#include "backend/backend_fixture.hpp"
#include "http_server/test_client.hpp"

using attendance::testing::Client;
using attendance::testing::Process;
using attendance::testing::runBackend;
using attendance::testing::TestDatabase;
using namespace std::chrono_literals;

namespace {
std::uint16_t portFromListeningLine(const std::string& line) {
  // {"listening":"127.0.0.1:PORT"}
  const auto colon = line.rfind(':');
  return static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
}
}  // namespace

TEST(BackendCli, ServeRefusesAnUnmigratedDatabaseNamingTheMigrateCommand) {
  TestDatabase db;
  auto r = runBackend({"serve", "--listen", "127.0.0.1:0"}, db.conninfo());
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("attendance-backend migrate"), std::string::npos) << r.err;
}

TEST(BackendCli, MigrateIsIdempotent) {
  TestDatabase db;
  auto first = runBackend({"migrate"}, db.conninfo());
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("\"from\":0"), std::string::npos) << first.out;
  auto second = runBackend({"migrate"}, db.conninfo());
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_NE(second.out.find("\"applied\":0"), std::string::npos) << second.out;
}

TEST(BackendCli, ConcurrentMigratorsDoNotRace) {
  TestDatabase db;
  Process a{{attendance::testing::backendBinary(), "migrate"}, {"DATABASE_URL=" + db.conninfo()}};
  Process b{{attendance::testing::backendBinary(), "migrate"}, {"DATABASE_URL=" + db.conninfo()}};
  (void)a.readAllStdout();
  (void)b.readAllStdout();
  EXPECT_EQ(a.wait(60s), 0) << a.stderrText();
  EXPECT_EQ(b.wait(60s), 0) << b.stderrText();
}

TEST(BackendCli, UnreachableDatabaseExits4) {
  auto r = runBackend({"migrate"}, "host=127.0.0.1 port=1 dbname=none connect_timeout=2");
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_FALSE(r.err.empty());
}

TEST(BackendCli, UsageErrorsExit2) {
  TestDatabase db;
  EXPECT_EQ(runBackend({}, db.conninfo()).code, 2);
  EXPECT_EQ(runBackend({"serve", "--listen", "nonsense"}, db.conninfo()).code, 2);
  EXPECT_EQ(runBackend({"serve", "--threads", "0"}, db.conninfo()).code, 2);
  EXPECT_EQ(runBackend({"frobnicate"}, db.conninfo()).code, 2);
}

TEST(BackendCli, ServeAnswersThenDrainsOnSigtermAndExits0) {
  TestDatabase db;
  ASSERT_EQ(runBackend({"migrate"}, db.conninfo()).code, 0);
  Process serve{{attendance::testing::backendBinary(), "serve", "--listen", "127.0.0.1:0", "--no-access-log"},
                {"DATABASE_URL=" + db.conninfo()}};
  auto line = serve.readLine();
  ASSERT_TRUE(line) << "serve printed nothing";
  ASSERT_NE(line->find("listening"), std::string::npos) << *line;
  const auto port = portFromListeningLine(*line);

  Client idle{port};
  auto res = idle.request("GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(res.result_int(), 200) << res.body();
  res = idle.request("POST /batchCheckIn HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(res.result_int(), 401);

  serve.signal(SIGTERM);
  const auto code = serve.wait(15s);
  ASSERT_TRUE(code) << "serve did not exit after SIGTERM";
  EXPECT_EQ(*code, 0) << serve.stderrText();
  EXPECT_NE(serve.stderrText().find("http.draining"), std::string::npos);
  // The idle keep-alive connection was closed by the drain.
  EXPECT_TRUE(attendance::testing::closedByPeer(idle.waitClosed(2s)));
}

TEST(BackendCli, ListenFailureExits5) {
  TestDatabase db;
  ASSERT_EQ(runBackend({"migrate"}, db.conninfo()).code, 0);
  Process first{{attendance::testing::backendBinary(), "serve", "--listen", "127.0.0.1:0"},
                {"DATABASE_URL=" + db.conninfo()}};
  auto line = first.readLine();
  ASSERT_TRUE(line);
  const auto port = portFromListeningLine(*line);
  auto second = runBackend({"serve", "--listen", fmt::format("127.0.0.1:{}", port)}, db.conninfo());
  EXPECT_EQ(second.code, 5) << second.err;
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait(15s), 0);
}

// The attendance-backend binary: migrate, schema check, exit codes, SIGTERM drain.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <attendance/core/core.hpp>
#include <attendance/core/identity_keys.hpp>

#include "backend/backend_fixture.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"
#include "support/test_client.hpp"

using attendance::testing::Client;
using attendance::testing::number;
using attendance::testing::Process;
using attendance::testing::runBackend;
using attendance::testing::TestDatabase;
using namespace std::chrono_literals;

namespace {
// A migrated database with `ev` and scanner Entrance-Scanner-01 assigned to it; returns the key.
std::string seedAssignedScanner(const TestDatabase& db, attendance::core::NewEvent ev) {
  namespace core = attendance::core;
  core::ConnectionPool pool{core::DatabaseConfig{db.conninfo(), 1, 2000ms, 2}};
  const auto now = std::chrono::system_clock::now();
  const std::string eventId = *ev.id;
  EXPECT_TRUE(core::createEvent(pool, ev, now));
  auto scanner = core::createScanner(pool, "Entrance-Scanner-01", now);
  EXPECT_TRUE(scanner);
  EXPECT_TRUE(core::assignScanner(pool, "Entrance-Scanner-01", eventId, now));
  return scanner ? scanner->apiKey : std::string{};
}

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
  (void)a.readAll();
  (void)b.readAll();
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
  EXPECT_EQ(runBackend({"serve", "--event-window-slack", "-1"}, db.conninfo()).code, 2);
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

  serve.kill(SIGTERM);
  const auto code = serve.wait(15s);
  ASSERT_TRUE(code) << "serve did not exit after SIGTERM";
  EXPECT_EQ(*code, 0) << serve.stderrText();
  EXPECT_NE(serve.stderrText().find("http.draining"), std::string::npos);
  // The idle keep-alive connection was closed by the drain.
  EXPECT_TRUE(attendance::testing::closedByPeer(idle.waitClosed(2s)));
}

// Every line of stderr, split.
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(BackendCli, JsonLogLinesAreEachOneJsonObject) {
  TestDatabase db;
  ASSERT_EQ(runBackend({"migrate"}, db.conninfo()).code, 0);
  Process serve{{attendance::testing::backendBinary(), "serve", "--listen", "127.0.0.1:0", "--log-format", "json"},
                {"DATABASE_URL=" + db.conninfo()}};
  auto line = serve.readLine();
  ASSERT_TRUE(line) << "serve printed nothing";
  Client client{portFromListeningLine(*line)};
  EXPECT_EQ(client.request("GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n").result_int(), 200);
  serve.kill(SIGTERM);
  ASSERT_EQ(serve.wait(15s).value_or(-1), 0) << serve.stderrText();
  std::set<std::string> events;
  for (const auto& l : lines(serve.stderrText())) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(l, ec);
    ASSERT_FALSE(ec) << "not JSON: " << l;
    ASSERT_TRUE(v.is_object()) << l;
    for (const char* key : {"ts", "level", "event"}) EXPECT_TRUE(v.as_object().contains(key)) << key << " in " << l;
    events.insert(std::string(v.at("event").as_string()));
    if (v.at("event").as_string() == "http.access") {
      EXPECT_EQ(v.at("status").as_int64(), 200) << l;
    }
  }
  for (const char* e : {"backend.no_beacon_key", "http.access", "http.draining", "backend.exit"}) {
    EXPECT_TRUE(events.count(e)) << e << " missing in " << serve.stderrText();
  }
}

// The config file drives a real migrate and server: the database from url-file, text log lines.
TEST(BackendCli, ServeTakesItsSettingsFromTheConfigFile) {
  TestDatabase db;
  attendance::testing::TempDir dir;
  attendance::testing::writeFile(dir / "database-url", db.conninfo() + "\n");
  attendance::testing::writeFile(dir / "server.toml", "[database]\nurl-file = \"" + (dir / "database-url").string() +
                                                          "\"\n\n[backend]\nlisten = \"127.0.0.1:0\"\n"
                                                          "log-format = \"text\"\n");
  // Without url-file the PG* variables would name a database that does not exist.
  const std::vector<std::string> env{"PGDATABASE=attendance_cfg_no_such_database"};
  Process migrate{{attendance::testing::backendBinary(), "migrate", "--config", (dir / "server.toml").string()}, env};
  EXPECT_NE(migrate.readAll().find("\"applied\""), std::string::npos);
  ASSERT_EQ(migrate.wait(60s).value_or(-1), 0) << migrate.stderrText();
  Process serve{{attendance::testing::backendBinary(), "serve", "--config", (dir / "server.toml").string()}, env};
  auto line = serve.readLine();
  ASSERT_TRUE(line) << "serve printed nothing";
  Client client{portFromListeningLine(*line)};
  EXPECT_EQ(client.request("GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n").result_int(), 200);
  serve.kill(SIGTERM);
  ASSERT_EQ(serve.wait(15s).value_or(-1), 0) << serve.stderrText();
  bool access = false;
  for (const auto& l : lines(serve.stderrText())) {
    EXPECT_NE(l.rfind('{', 0), 0U) << "a JSON line with log-format = \"text\": " << l;
    access =
        access || (l.find(" info http.access ") != std::string::npos && l.find(" status=200") != std::string::npos);
  }
  EXPECT_TRUE(access) << serve.stderrText();
  EXPECT_EQ(serve.stderrText().find(db.conninfo()), std::string::npos);
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
  first.kill(SIGTERM);
  EXPECT_EQ(first.wait(15s), 0);
}

TEST(BackendCli, RequestInFlightAtSigtermStillCompletes) {
  TestDatabase db;
  ASSERT_EQ(runBackend({"migrate"}, db.conninfo()).code, 0);
  attendance::core::NewEvent ev;
  ev.id = "ev-drain";
  ev.name = "Drain";
  const std::string key = seedAssignedScanner(db, ev);
  ASSERT_FALSE(key.empty());
  Process serve{{attendance::testing::backendBinary(), "serve", "--listen", "127.0.0.1:0", "--drain-timeout", "10"},
                {"DATABASE_URL=" + db.conninfo()}};
  auto line = serve.readLine();
  ASSERT_TRUE(line);
  const auto port = portFromListeningLine(*line);

  const auto t =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() -
      60'000;
  const std::string body = fmt::format(
      R"({{"eventId":"ev-drain","records":[{{"bleUuid":"0f8fad5b-d9cb-469f-a165-70867728950e","checkInTime":{},"scannerId":"Entrance-Scanner-01"}}]}})",
      t);
  Client c{port};
  // Header and half the body, then SIGTERM, then the rest: the request is in flight.
  c.send("POST /batchCheckIn HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + key +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body.substr(0, body.size() / 2));
  // Make sure the server has accepted it (a connection still in the kernel's
  // accept queue at SIGTERM is reset, docs/http-server.md): poll /metrics
  // until two connections are open, the poller's and this one.
  Client poller{port};
  ASSERT_TRUE(attendance::testing::eventually([&] {
    auto m = poller.request("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
    return m.body().find("http_connections_active 2\n") != std::string::npos;
  }));
  serve.kill(SIGTERM);
  // Give the signal time to land; the log order below proves it did.
  std::this_thread::sleep_for(200ms);
  // This test failed once under heavy load with a connection reset and never
  // again (70 runs at load 3-8): should it recur, say which step saw it, with
  // the server's own log.
  attendance::testing::ClientResponse res;
  const char* step = "sending the rest of the body";
  try {
    c.send(body.substr(body.size() / 2));
    step = "reading the answer";
    res = c.read(10s);
  } catch (const boost::system::system_error& e) {
    (void)serve.wait(15s);
    FAIL() << step << ": " << e.code().message() << "\nserver log:\n" << serve.stderrText();
  }
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_NE(res.body().find("\"inserted\":1"), std::string::npos) << res.body();
  EXPECT_FALSE(res.keep_alive());
  const auto code = serve.wait(15s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << serve.stderrText();
  EXPECT_EQ(number(db, "SELECT count(*) FROM check_ins"), 1);
  // The drain started before the request was answered.
  const std::string& log = serve.stderrText();
  const auto draining = log.find("\"event\":\"http.draining\"");
  const auto answered = log.find("\"route\":\"/batchCheckIn\"");
  ASSERT_NE(draining, std::string::npos) << log;
  ASSERT_NE(answered, std::string::npos) << log;
  EXPECT_LT(draining, answered) << log;
}

// serve --event-window-slack HOURS reaches ingest: with half an hour, a sighting an
// hour before the event's start is rejected (outside_event_window), one during it is stored.
TEST(BackendCli, EventWindowSlackOptionNarrowsTheWindow) {
  TestDatabase db;
  ASSERT_EQ(runBackend({"migrate"}, db.conninfo()).code, 0);
  const auto now = std::chrono::system_clock::now();
  attendance::core::NewEvent ev;
  ev.id = "ev-window";
  ev.name = "Window";
  ev.startsAt = now + 1h;
  ev.endsAt = now + 2h;
  const std::string key = seedAssignedScanner(db, ev);
  ASSERT_FALSE(key.empty());
  Process serve{
      {attendance::testing::backendBinary(), "serve", "--listen", "127.0.0.1:0", "--event-window-slack", "0.5"},
      {"DATABASE_URL=" + db.conninfo()}};
  auto line = serve.readLine();
  ASSERT_TRUE(line) << serve.stderrText();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::string body = fmt::format(
      R"({{"eventId":"ev-window","records":[)"
      R"({{"bleUuid":"0f8fad5b-d9cb-469f-a165-70867728950e","checkInTime":{},"scannerId":"Entrance-Scanner-01"}},)"
      R"({{"bleUuid":"0f8fad5b-d9cb-469f-a165-70867728950e","checkInTime":{},"scannerId":"Entrance-Scanner-01"}}]}})",
      ms, ms + 90 * 60'000);
  Client c{portFromListeningLine(*line)};
  auto res = c.request("POST /batchCheckIn HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + key +
                       "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\n\r\n" + body);
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_NE(res.body().find(R"("inserted":1,)"), std::string::npos) << res.body();
  EXPECT_NE(res.body().find(R"({"index":0,"reason":"outside_event_window","detail":)"), std::string::npos)
      << res.body();
  serve.kill(SIGTERM);
  const auto code = serve.wait(15s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << serve.stderrText();
}

namespace {

long rssKiB(int pid) {
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

// Attack: on 64 connections at once, a chunk-size line whose extension never
// ends (1 MiB each). Before, the server kept every byte: +252 MiB RSS for 256 MiB
// sent. Now each connection holds at most its read buffer, and is refused.
TEST(BackendCli, ChunkExtensionFloodOnManyConnectionsKeepsTheServersMemoryBounded) {
  TestDatabase db;
  ASSERT_EQ(runBackend({"migrate"}, db.conninfo()).code, 0);
  Process serve{{attendance::testing::backendBinary(), "serve", "--listen", "127.0.0.1:0", "--no-access-log"},
                {"DATABASE_URL=" + db.conninfo()}};
  auto line = serve.readLine();
  ASSERT_TRUE(line);
  const auto port = portFromListeningLine(*line);
  {
    Client warm{port};
    EXPECT_EQ(warm.request("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").result_int(), 200);
  }
  const long before = rssKiB(serve.pid());
  ASSERT_GT(before, 0);

  constexpr int kConnections = 64;
  std::vector<attendance::testing::RawSocket> attackers;
  for (int i = 0; i < kConnections; ++i) {
    attackers.emplace_back(port);
    auto& a = attackers.back();
    ASSERT_TRUE(
        a.send("POST /api/sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n1;x="));
    const std::string piece(16 * 1024, 'e');
    for (int k = 0; k < 64 && a.send(piece, 200ms); ++k) {
    }
  }
  const long during = rssKiB(serve.pid());
  // Each was answered 400 and closed (or reset, when more bytes were still
  // arriving as the server closed); before, each stayed open, reading.
  int refused = 0;
  for (auto& a : attackers) {
    if (a.closedByPeer(3s)) ++refused;
  }
  const long growthKiB = during - before;
  std::cout << "[ measured ] backend RSS " << before << " KiB before, " << during << " KiB with " << kConnections
            << " attacking connections (+" << growthKiB << " KiB, " << growthKiB / kConnections
            << " KiB per connection)\n";
  EXPECT_EQ(refused, kConnections);
  EXPECT_LT(growthKiB, 16 * 1024) << "the server kept the attackers' bytes";
  serve.kill(SIGTERM);
  EXPECT_EQ(serve.wait(15s), 0) << serve.stderrText();
}

TEST(BackendCli, BeaconKeyGenerateWritesAPrivateFileOnceAndServeSaysWhenItHasNone) {
  TestDatabase db;
  ASSERT_EQ(runBackend({"migrate"}, db.conninfo()).code, 0);
  char dirTemplate[] = "/tmp/beacon-key-XXXXXX";
  ASSERT_NE(::mkdtemp(dirTemplate), nullptr);
  const std::string path = std::string{dirTemplate} + "/beacon.key";
  auto made = runBackend({"beacon-key", "generate", "--file", path}, db.conninfo());
  ASSERT_EQ(made.code, 0) << made.err;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  std::ifstream in{path};
  std::string key;
  in >> key;
  EXPECT_EQ(key.size(), 64U);
  EXPECT_TRUE(attendance::core::ServerKey::parseHex(key).has_value());
  // Never overwritten: its key encrypts the stored identity keys.
  auto again = runBackend({"beacon-key", "generate", "--file", path}, db.conninfo());
  EXPECT_EQ(again.code, 2);
  EXPECT_NE(again.err.find("exists already"), std::string::npos) << again.err;
  std::ifstream in2{path};
  std::string same;
  in2 >> same;
  EXPECT_EQ(same, key);
  // A key others can read is refused at start.
  ::chmod(path.c_str(), 0644);
  auto loose = runBackend({"serve", "--listen", "127.0.0.1:0", "--beacon-key-file", path}, db.conninfo());
  EXPECT_EQ(loose.code, 2);
  EXPECT_NE(loose.err.find("chmod 600"), std::string::npos) << loose.err;
  ::chmod(path.c_str(), 0600);
  // Through the environment: serves; without any key it serves too and says so.
  for (const bool withKey : {true, false}) {
    std::vector<std::string> env{"DATABASE_URL=" + db.conninfo()};
    if (withKey) env.push_back("ATTENDANCE_BEACON_KEY_FILE=" + path);
    Process serve{{attendance::testing::backendBinary(), "serve", "--listen", "127.0.0.1:0", "--no-access-log"}, env};
    auto line = serve.readLine();
    ASSERT_TRUE(line) << serve.stderrText();
    Client client{portFromListeningLine(*line)};
    EXPECT_EQ(client.request("GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n").result_int(), 200);
    serve.kill(SIGTERM);
    EXPECT_EQ(serve.wait(15s), 0);
    EXPECT_EQ(serve.stderrText().find("no --beacon-key-file") != std::string::npos, !withKey) << serve.stderrText();
  }
  std::remove(path.c_str());
  ::rmdir(dirTemplate);
}

// serve --private-ids-refresh: the index of a current private-ids event is built as serve starts, and a
// registration made afterwards (here straight in the database, as the admin console, another process,
// would) is indexed by the next background round, not by the next sync.
TEST(BackendCli, ServeIndexesARegistrationOfACurrentPrivateIdsEventInTheBackground) {
  namespace core = attendance::core;
  TestDatabase db;
  ASSERT_EQ(runBackend({"migrate"}, db.conninfo()).code, 0);
  attendance::testing::TempDir dir;
  const std::string keyFile = (dir / "beacon.key").string();
  ASSERT_EQ(runBackend({"beacon-key", "generate", "--file", keyFile}, db.conninfo()).code, 0);
  std::ifstream in{keyFile};
  std::string hex;
  in >> hex;
  const auto serverKey = core::ServerKey::parseHex(hex);
  ASSERT_TRUE(serverKey);

  core::ConnectionPool pool{core::DatabaseConfig{db.conninfo(), 1, 2000ms, 2}};
  const auto now = std::chrono::system_clock::now();
  core::NewEvent ev{std::string{"ev-private"}, "Private", "Hall", now - 1h, now + 2h};
  ev.privateIds = true;
  ASSERT_TRUE(core::createEvent(pool, ev, now));
  const auto participant = [&](const std::string& email) {
    auto u = core::createUser(pool, {email, email, std::nullopt}, core::AuthConfig::forTests(), now);
    EXPECT_TRUE(u);
    EXPECT_TRUE(core::participantIdentityKey(pool, *serverKey, u->id, now));
    return u->id;
  };
  ASSERT_TRUE(core::registerForEvent(pool, "ev-private", participant("ada@example.org"), now));

  const auto logFile = dir / "serve.log";
  Process serve{{attendance::testing::backendBinary(), "serve", "--listen", "127.0.0.1:0", "--no-access-log",
                 "--beacon-key-file", keyFile, "--private-ids-refresh", "1"},
                {"DATABASE_URL=" + db.conninfo()},
                logFile};
  ASSERT_TRUE(serve.readLine());
  // The `entries` of each backend.private_ids_prepared line so far.
  const auto prepared = [&] {
    std::vector<std::int64_t> out;
    std::ifstream log{logFile};
    for (std::string l; std::getline(log, l);) {
      if (l.find("\"backend.private_ids_prepared\"") == std::string::npos) continue;
      out.push_back(boost::json::parse(l).as_object().at("entries").as_int64());
    }
    return out;
  };
  const auto waitFor = [&](std::size_t lines) {
    for (int i = 0; i < 300 && prepared().size() < lines; ++i) std::this_thread::sleep_for(50ms);
    return prepared();
  };
  const auto atStart = waitFor(1);
  ASSERT_EQ(atStart.size(), 1U) << "nothing built at start";
  EXPECT_GT(atStart[0], 0);
  ASSERT_TRUE(core::registerForEvent(pool, "ev-private", participant("bob@example.org"), now));
  const auto after = waitFor(2);
  ASSERT_EQ(after.size(), 2U) << "the registration was not indexed in the background";
  EXPECT_EQ(after[1], 2 * atStart[0]) << "Ada and Bob, every window";
  std::this_thread::sleep_for(1500ms);  // a round or more with nothing changed builds nothing
  EXPECT_EQ(prepared().size(), 2U);
  serve.kill(SIGTERM);
  EXPECT_EQ(serve.wait(15s), 0);
}

#include "admin/web_fixture.hpp"
#include "core/test_database.hpp"
#include "support/child_process.hpp"

#include <attendance/core/core.hpp>
#include <attendance/support/clock.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace core = attendance::core;
namespace json = boost::json;
using core::testing::TestDatabase;

namespace {

struct Run {
  int exitCode = -1;
  std::string out;
  std::string err;
  json::value json() const { return json::parse(out); }
};

std::string shellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return q + "'";
}

// Runs attendance-admin under `env` (arguments of env(1): "-u NAME", "NAME=value").
Run adminIn(const std::string& env, const std::vector<std::string>& args) {
  char errPath[] = "/tmp/admin-cli-err-XXXXXX";
  const int fd = mkstemp(errPath);
  close(fd);
  std::string cmd = "env " + env + " " + shellQuote(ATTENDANCE_ADMIN_EXE);
  for (const auto& a : args) cmd += " " + shellQuote(a);
  cmd += " 2>" + std::string{errPath} + " </dev/null";
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e{errPath};
  r.err.assign(std::istreambuf_iterator<char>{e}, {});
  unlink(errPath);
  return r;
}

// Runs attendance-admin with DATABASE_URL pointing at the test database.
Run admin(const TestDatabase& db, const std::vector<std::string>& args, const std::string& databaseUrl = {}) {
  return adminIn("DATABASE_URL=" + shellQuote(databaseUrl.empty() ? db.conninfo() : databaseUrl), args);
}

std::string str(const json::value& v, const char* key) { return std::string{v.at(key).as_string()}; }

TEST(AdminCli, RefusesAnUnmigratedDatabaseThenMigratesIdempotently) {
  TestDatabase db;
  auto r = admin(db, {"event", "list"});
  EXPECT_EQ(r.exitCode, 7);
  EXPECT_NE(r.err.find("run `attendance-admin migrate`"), std::string::npos) << r.err;

  r = admin(db, {"migrate"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.json().at("applied").as_int64(), core::embeddedMigrationCount());
  EXPECT_EQ(r.json().at("to").as_int64(), core::expectedSchemaVersion());
  r = admin(db, {"migrate"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.json().at("applied").as_int64(), 0);
}

class AdminFlow : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_EQ(admin(db, {"migrate"}).exitCode, 0); }
  TestDatabase db;
};

TEST_F(AdminFlow, CreateRegisterSyncAndReport) {
  auto ev = admin(db, {"event", "create", "--name", "Summer Meetup", "--venue", "Hall 1", "--starts",
                       "2024-07-20T10:00:00Z", "--ends", "2024-07-20T12:00:00+00:00"});
  ASSERT_EQ(ev.exitCode, 0) << ev.err;
  const std::string eventId = str(ev.json(), "id");
  EXPECT_EQ(eventId.rfind("ev-", 0), 0U);
  EXPECT_EQ(str(ev.json(), "startsAt"), "2024-07-20T10:00:00.000Z");
  EXPECT_FALSE(ev.json().at("privateIds").as_bool());

  std::ofstream{"/tmp/admin-cli-password-" + db.name()} << "correct horse battery\n";
  auto ada = admin(db, {"user", "create", "--email", "ada@example.org", "--name", "Ada Lovelace", "--password-file",
                        "/tmp/admin-cli-password-" + db.name()});
  std::remove(("/tmp/admin-cli-password-" + db.name()).c_str());
  ASSERT_EQ(ada.exitCode, 0) << ada.err;
  EXPECT_TRUE(ada.json().at("canLogIn").as_bool());
  auto bob = admin(db, {"user", "create", "--email", "bob@example.org", "--name", "Bob"});
  auto cy = admin(db, {"user", "create", "--email", "cy@example.org", "--name", "Cy"});
  ASSERT_EQ(bob.exitCode, 0) << bob.err;
  ASSERT_EQ(cy.exitCode, 0) << cy.err;
  const std::string adaId = str(ada.json(), "id");
  const std::string adaBle = str(ada.json(), "bleUuid");
  const std::string cyBle = str(cy.json(), "bleUuid");

  auto reg = admin(db, {"registration", "add", "--event", eventId, "--user", adaId});
  ASSERT_EQ(reg.exitCode, 0) << reg.err;
  EXPECT_TRUE(reg.json().at("created").as_bool());
  reg = admin(db, {"registration", "add", "--event", eventId, "--user", adaId});
  ASSERT_EQ(reg.exitCode, 0);
  EXPECT_FALSE(reg.json().at("created").as_bool());
  ASSERT_EQ(admin(db, {"registration", "add", "--event", eventId, "--user", str(bob.json(), "id")}).exitCode, 0);

  // Before any sync the report says so.
  auto before = admin(db, {"report", "--event", eventId});
  ASSERT_EQ(before.exitCode, 0) << before.err;
  EXPECT_NE(before.out.find("Attendance data has not been synced."), std::string::npos) << before.out;

  auto sc = admin(db, {"scanner", "create", "--id", "Entrance-Scanner-01"});
  ASSERT_EQ(sc.exitCode, 0) << sc.err;
  const std::string apiKey = str(sc.json(), "apiKey");
  auto assigned = admin(db, {"scanner", "assign", "--id", "Entrance-Scanner-01", "--event", eventId});
  ASSERT_EQ(assigned.exitCode, 0) << assigned.err;

  // The key works the way the backend uses it; a sync arrives.
  auto pool = db.pool(false, 1);
  auto who = core::authenticateScanner(*pool, apiKey);
  ASSERT_TRUE(who);
  const std::string body = R"({"eventId":")" + eventId + R"(","records":[
      {"bleUuid":")" + adaBle +
                           R"(","checkInTime":1721469900000,"scannerId":"Entrance-Scanner-01"},
      {"bleUuid":")" + adaBle +
                           R"(","checkInTime":1721473200000,"scannerId":"Entrance-Scanner-01"},
      {"bleUuid":")" + cyBle +
                           R"(","checkInTime":1721470000000,"scannerId":"Entrance-Scanner-01"},
      {"bleUuid":"00000000-1111-4222-8333-444444444444","checkInTime":1721470000000,"scannerId":"Entrance-Scanner-01"}]})";
  auto parsed = core::parseBatchBody(body);
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(core::ingestBatch(*pool, core::IngestRequest::fromParsed(std::move(parsed.batch), *who),
                                attendance::support::fromEpochMillis(1721480000000)));

  auto rep = admin(db, {"report", "--event", eventId, "--format", "json"});
  ASSERT_EQ(rep.exitCode, 0) << rep.err;
  const auto j = rep.json();
  EXPECT_TRUE(j.at("synced").as_bool());
  const auto& sum = j.at("summary");
  EXPECT_EQ(sum.at("registered").as_int64(), 2);
  EXPECT_EQ(sum.at("attended").as_int64(), 1);
  EXPECT_EQ(sum.at("noShows").as_int64(), 1);
  EXPECT_EQ(sum.at("walkIns").as_int64(), 1);
  EXPECT_EQ(sum.at("unknownDevices").as_int64(), 1);
  EXPECT_DOUBLE_EQ(sum.at("attendanceRate").to_number<double>(), 0.5);
  const auto& first = j.at("participants").as_array().at(0);
  EXPECT_EQ(str(first, "name"), "Ada Lovelace");
  EXPECT_EQ(str(first, "status"), "attended");
  EXPECT_EQ(str(first, "firstSeen"), "2024-07-20T10:05:00.000Z");
  EXPECT_EQ(str(first, "lastSeen"), "2024-07-20T11:00:00.000Z");
  EXPECT_EQ(first.at("sightings").as_int64(), 2);
  EXPECT_EQ(str(j.at("scanners").as_array().at(0), "scannerId"), "Entrance-Scanner-01");

  auto csv = admin(db, {"report", "--event", eventId, "--format", "csv"});
  ASSERT_EQ(csv.exitCode, 0);
  EXPECT_EQ(
      csv.out.rfind(
          "status,name,email,bleUuid,firstSeen,lastSeen,scanners,sightings,source,manualAt,manualBy,manualReason\r\n",
          0),
      0U);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 5);  // header + 3 people + 1 unknown device
  auto tableOut = admin(db, {"report", "--event", eventId});
  EXPECT_NE(tableOut.out.find("Attended: 1"), std::string::npos) << tableOut.out;
  EXPECT_NE(tableOut.out.find("Ada Lovelace"), std::string::npos);

  auto scanners = admin(db, {"scanner", "list", "--format", "json"});
  ASSERT_EQ(scanners.exitCode, 0);
  EXPECT_EQ(scanners.json().as_array().at(0).at("recordsReceived").as_int64(), 4);
  EXPECT_EQ(scanners.out.find(apiKey), std::string::npos);  // never shown again

  auto revoke = admin(db, {"scanner", "revoke", "--id", "Entrance-Scanner-01"});
  ASSERT_EQ(revoke.exitCode, 0) << revoke.err;
  EXPECT_FALSE(core::authenticateScanner(*pool, apiKey));
  scanners = admin(db, {"scanner", "list", "--format", "json"});
  EXPECT_TRUE(scanners.json().as_array().at(0).at("revokedAt").is_string());

  auto regen = admin(db, {"user", "regenerate-ble-uuid", "--user", adaId});
  ASSERT_EQ(regen.exitCode, 0) << regen.err;
  EXPECT_NE(str(regen.json(), "bleUuid"), adaBle);
  auto users = admin(db, {"user", "list", "--format", "json"});
  ASSERT_EQ(users.exitCode, 0);
  EXPECT_EQ(str(users.json().as_array().at(0), "bleUuid"), str(regen.json(), "bleUuid"));
  // Past attendance stays with Ada.
  EXPECT_EQ(
      admin(db, {"report", "--event", eventId, "--format", "json"}).json().at("summary").at("attended").as_int64(), 1);
}

// Issue 16: door staff check a participant in by hand and revoke, with the
// reason and who did it in the report; refusals have their exit codes.
TEST_F(AdminFlow, CheckinAddAndRevokeWithTheAuditTrail) {
  auto ev = admin(db, {"event", "create", "--id", "ev-door", "--name", "Door"});
  ASSERT_EQ(ev.exitCode, 0) << ev.err;
  auto bob = admin(db, {"user", "create", "--email", "bob@example.org", "--name", "Bob"});
  ASSERT_EQ(bob.exitCode, 0) << bob.err;
  ASSERT_EQ(admin(db, {"registration", "add", "--event", "ev-door", "--user", str(bob.json(), "id")}).exitCode, 0);

  auto add = admin(db, {"checkin", "add", "--event", "ev-door", "--participant", "BOB@example.org", "--reason",
                        "phone left at home", "--by", "door@example.org"});
  ASSERT_EQ(add.exitCode, 0) << add.err;
  EXPECT_EQ(str(add.json(), "action"), "check_in");
  EXPECT_EQ(str(add.json(), "email"), "bob@example.org");
  EXPECT_EQ(str(add.json(), "by"), "door@example.org");

  // Already checked in: nothing recorded, exit 5 and the reason.
  auto again = admin(db, {"checkin", "add", "--event", "ev-door", "--participant", "bob@example.org", "--reason", "x"});
  EXPECT_EQ(again.exitCode, 5);
  EXPECT_EQ(again.err,
            "attendance-admin: error: bob@example.org is already checked in at event ev-door: nothing recorded\n");

  auto rep = admin(db, {"report", "--event", "ev-door", "--format", "json"});
  ASSERT_EQ(rep.exitCode, 0) << rep.err;
  auto j = rep.json();
  EXPECT_EQ(j.at("summary").at("attended").as_int64(), 1);
  EXPECT_EQ(j.at("summary").at("manualCheckIns").as_int64(), 1);
  EXPECT_EQ(str(j.at("participants").as_array().at(0), "source"), "manual");
  ASSERT_EQ(j.at("audit").as_array().size(), 1U);
  EXPECT_EQ(str(j.at("audit").as_array().at(0), "reason"), "phone left at home");

  auto revoke =
      admin(db, {"checkin", "revoke", "--event", "ev-door", "--participant", "bob@example.org", "--reason", "mistake"});
  ASSERT_EQ(revoke.exitCode, 0) << revoke.err;
  EXPECT_EQ(str(revoke.json(), "by").rfind("cli:", 0), 0U);  // without --by: the operator's login
  j = admin(db, {"report", "--event", "ev-door", "--format", "json"}).json();
  EXPECT_EQ(j.at("summary").at("attended").as_int64(), 0);
  EXPECT_EQ(j.at("summary").at("revoked").as_int64(), 1);
  auto table = admin(db, {"report", "--event", "ev-door"});
  EXPECT_NE(table.out.find("no-show (revoked)"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("by door@example.org: phone left at home"), std::string::npos) << table.out;

  auto csv = admin(db, {"report", "--event", "ev-door", "--format", "csv"});
  EXPECT_NE(csv.out.find(",manual,"), std::string::npos) << csv.out;

  // Refusals: not checked in (5), no such participant or event (4), no reason (3), missing option (2).
  EXPECT_EQ(admin(db, {"checkin", "revoke", "--event", "ev-door", "--participant", "bob@example.org", "--reason", "x"})
                .exitCode,
            5);
  auto nobody =
      admin(db, {"checkin", "add", "--event", "ev-door", "--participant", "nobody@example.org", "--reason", "x"});
  EXPECT_EQ(nobody.exitCode, 4);
  EXPECT_NE(nobody.err.find("no participant with the email nobody@example.org"), std::string::npos) << nobody.err;
  EXPECT_EQ(
      admin(db, {"checkin", "add", "--event", "ev-none", "--participant", "bob@example.org", "--reason", "x"}).exitCode,
      4);
  auto blank = admin(db, {"checkin", "add", "--event", "ev-door", "--participant", "bob@example.org", "--reason", " "});
  EXPECT_EQ(blank.exitCode, 3);
  EXPECT_NE(blank.err.find("--reason: Give a reason"), std::string::npos) << blank.err;
  EXPECT_EQ(admin(db, {"checkin", "add", "--event", "ev-door", "--participant", "bob@example.org"}).exitCode, 2);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM check_in_overrides"), "2");
}

// Issue 11 §1: the deployment's namespace, for the scanner's --namespace.
TEST_F(AdminFlow, DeploymentShowPrintsTheNamespaceThatMigrateKeeps) {
  auto shown = admin(db, {"deployment", "show"});
  ASSERT_EQ(shown.exitCode, 0) << shown.err;
  const std::string ns = str(shown.json(), "namespace");
  EXPECT_EQ(ns.size(), 20U) << ns;
  EXPECT_EQ(ns.find_first_not_of("0123456789abcdef"), std::string::npos) << ns;
  EXPECT_EQ(shown.json().at("participants").as_int64(), 0);
  EXPECT_EQ(shown.json().at("participantsOutsideNamespace").as_int64(), 0);
  EXPECT_TRUE(shown.json().at("createdAt").is_string());

  ASSERT_EQ(admin(db, {"migrate"}).exitCode, 0);
  EXPECT_EQ(str(admin(db, {"deployment", "show"}).json(), "namespace"), ns);
}

// Issue 11 §2: --private-ids turns private rotating ids on for the event.
TEST_F(AdminFlow, EventCreatePrivateIdsTurnsThemOn) {
  auto priv = admin(db, {"event", "create", "--name", "Private", "--id", "ev-private", "--private-ids"});
  ASSERT_EQ(priv.exitCode, 0) << priv.err;
  EXPECT_TRUE(priv.json().at("privateIds").as_bool());
  EXPECT_EQ(db.scalar("SELECT private_ids FROM events WHERE id = 'ev-private'"), "t");
  auto plain = admin(db, {"event", "create", "--name", "Plain", "--id", "ev-plain"});
  ASSERT_EQ(plain.exitCode, 0) << plain.err;
  EXPECT_FALSE(plain.json().at("privateIds").as_bool());
  EXPECT_EQ(db.scalar("SELECT private_ids FROM events WHERE id = 'ev-plain'"), "f");
}

// Issue 12: --capacity and --registration-closes on create, `event update` changes them.
TEST_F(AdminFlow, EventCapacityAndRegistrationClosingTime) {
  auto ev = admin(db, {"event", "create", "--name", "Small", "--id", "ev-small", "--capacity", "10", "--ends",
                       "2024-07-20T18:00:00Z", "--registration-closes", "2024-07-20T09:00:00Z"});
  ASSERT_EQ(ev.exitCode, 0) << ev.err;
  EXPECT_EQ(ev.json().at("capacity").as_int64(), 10);
  EXPECT_EQ(ev.json().at("registrationClosesAt").as_string(), "2024-07-20T09:00:00.000Z");
  auto up = admin(db, {"event", "update", "--id", "ev-small", "--capacity", "none"});
  ASSERT_EQ(up.exitCode, 0) << up.err;
  EXPECT_TRUE(up.json().at("capacity").is_null());
  EXPECT_EQ(up.json().at("registrationClosesAt").as_string(), "2024-07-20T09:00:00.000Z") << "unchanged";
  up = admin(db, {"event", "update", "--id", "ev-small", "--registration-closes", "none", "--capacity", "3"});
  ASSERT_EQ(up.exitCode, 0) << up.err;
  EXPECT_EQ(db.scalar("SELECT capacity::text || coalesce(registration_closes_at::text, '-') FROM events WHERE id = "
                      "'ev-small'"),
            "3-");
  for (const auto& [args, part] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"event", "create", "--name", "E", "--capacity", "0"}, "--capacity '0' must be a whole number"},
           {{"event", "create", "--name", "E", "--capacity", "ten"}, "--capacity 'ten' must be a whole number"},
           {{"event", "create", "--name", "E", "--ends", "2024-07-20T10:00Z", "--registration-closes",
             "2024-07-20T11:00Z"},
            "registration must close before the event ends"},
           {{"event", "update", "--id", "ev-small"}, "nothing to change"}}) {
    auto r = admin(db, args);
    EXPECT_EQ(r.exitCode, 3) << r.err;
    EXPECT_NE(r.err.find(part), std::string::npos) << r.err;
  }
  EXPECT_EQ(admin(db, {"event", "update", "--id", "nope", "--capacity", "2"}).exitCode, 4);
}

TEST_F(AdminFlow, ErrorsHaveMessagesAndExitCodes) {
  ASSERT_EQ(admin(db, {"event", "create", "--name", "E", "--id", "ev-fixed"}).exitCode, 0);
  ASSERT_EQ(admin(db, {"scanner", "create", "--id", "S0"}).exitCode, 0);
  struct Case {
    std::vector<std::string> args;
    int code;
    const char* messagePart;
  };
  const std::vector<Case> cases = {
      {{"event", "create", "--name", "E", "--id", "ev-fixed"}, 5, "already exists"},
      {{"event", "create", "--name", "E", "--id", "bad id!"}, 3, "event id must be"},
      {{"event", "create", "--name", "E", "--starts", "noon"}, 3, "not an ISO 8601 time"},
      {{"event", "create", "--name", "E", "--starts", "2024-07-20T12:00Z", "--ends", "2024-07-20T10:00Z"},
       3,
       "ends before it starts"},
      {{"event", "create"}, 2, "--name is required"},
      {{"user", "create", "--email", "not-an-email", "--name", "X"}, 3, "email must look like"},
      {{"user", "create", "--email", "x@example.org", "--name", "X", "--password-file", "/nonexistent/pw"},
       8,
       "cannot read --password-file"},
      {{"user", "regenerate-ble-uuid", "--user", "nobody"}, 4, "unknown user"},
      {{"registration", "add", "--event", "nope", "--user", "00000000-0000-4000-8000-000000000000"},
       4,
       "unknown event"},
      {{"scanner", "create", "--id", "has space"}, 3, "scanner id must be"},
      {{"scanner", "revoke", "--id", "ghost"}, 4, "unknown scanner"},
      {{"scanner", "assign", "--id", "ghost", "--event", "ev-fixed"},
       4,
       "cannot assign scanner ghost to event ev-fixed: unknown scanner"},
      {{"scanner", "assign", "--id", "S0", "--event", "nope"},
       4,
       "cannot assign scanner S0 to event nope: unknown event"},
      {{"scanner", "unassign", "--id", "S0", "--event", "nope"}, 4, "unknown event"},
      {{"scanner", "assign", "--id", "S0"}, 2, "--event is required"},
      {{"report", "--event", "nope"}, 4, "unknown event"},
      {{"report", "--event", "ev-fixed", "--format", "xml"}, 2, "xml"},
      {{"frobnicate"}, 2, ""},
  };
  for (const auto& c : cases) {
    const auto r = admin(db, c.args);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    EXPECT_EQ(r.exitCode, c.code) << joined << "\n" << r.err;
    EXPECT_NE(r.err.find(c.messagePart), std::string::npos) << joined << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << joined << "\n" << r.out;
  }
  ASSERT_EQ(admin(db, {"scanner", "create", "--id", "S1"}).exitCode, 0);
  const auto dup = admin(db, {"scanner", "create", "--id", "S1"});
  EXPECT_EQ(dup.exitCode, 5);
  EXPECT_NE(dup.err.find("cannot create scanner S1: already exists"), std::string::npos) << dup.err;

  const auto down = admin(db, {"event", "list"}, "host=127.0.0.1 port=1 connect_timeout=2");
  EXPECT_EQ(down.exitCode, 6);
  // libpq's reason on the one error line (docs/admin-cli.md, "Exit codes").
  EXPECT_NE(down.err.find("attendance-admin: error: cannot read the schema version: database unavailable: connection "
                          "to server at \"127.0.0.1\", port 1 failed: Connection refused"),
            std::string::npos)
      << down.err;
}

// Assign, unassign, and the events of each scanner in `scanner list`.
TEST(AdminCli, ScannerAssignUnassignAndList) {
  TestDatabase db;
  ASSERT_EQ(admin(db, {"migrate"}).exitCode, 0);
  for (const char* id : {"ev-a", "ev-b"})
    ASSERT_EQ(admin(db, {"event", "create", "--name", id, "--id", id}).exitCode, 0);
  for (const char* id : {"S1", "S2"}) ASSERT_EQ(admin(db, {"scanner", "create", "--id", id}).exitCode, 0);

  auto a = admin(db, {"scanner", "assign", "--id", "S1", "--event", "ev-a"});
  ASSERT_EQ(a.exitCode, 0) << a.err;
  EXPECT_EQ(a.out, "{\"scannerId\":\"S1\",\"eventId\":\"ev-a\",\"created\":true}\n");
  auto again = admin(db, {"scanner", "assign", "--id", "S1", "--event", "ev-a"});
  ASSERT_EQ(again.exitCode, 0) << again.err;
  EXPECT_FALSE(again.json().at("created").as_bool());
  ASSERT_EQ(admin(db, {"scanner", "assign", "--id", "S1", "--event", "ev-b"}).exitCode, 0);

  auto list = admin(db, {"scanner", "list", "--format", "json"});
  ASSERT_EQ(list.exitCode, 0) << list.err;
  const json::value listed = list.json();
  const auto& arr = listed.as_array();
  ASSERT_EQ(arr.size(), 2U);
  EXPECT_EQ(json::serialize(arr[0].at("events")), R"(["ev-a","ev-b"])");
  EXPECT_EQ(json::serialize(arr[1].at("events")), "[]");
  auto table = admin(db, {"scanner", "list"});
  ASSERT_EQ(table.exitCode, 0) << table.err;
  EXPECT_NE(table.out.find("EVENTS"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("ev-a,ev-b"), std::string::npos) << table.out;

  auto u = admin(db, {"scanner", "unassign", "--id", "S1", "--event", "ev-a"});
  ASSERT_EQ(u.exitCode, 0) << u.err;
  EXPECT_EQ(u.out, "{\"scannerId\":\"S1\",\"eventId\":\"ev-a\",\"removed\":true}\n");
  EXPECT_FALSE(admin(db, {"scanner", "unassign", "--id", "S1", "--event", "ev-a"}).json().at("removed").as_bool());
  list = admin(db, {"scanner", "list", "--format", "json"});
  EXPECT_EQ(json::serialize(list.json().as_array()[0].at("events")), R"(["ev-b"])");
  auto pool = db.pool(false, 1);
  EXPECT_FALSE(*core::isAssigned(*pool, "S1", "ev-a"));
  EXPECT_TRUE(*core::isAssigned(*pool, "S1", "ev-b"));
}

// `create-admin` and `serve` as a user runs them: exit codes, the account it
// creates signing in to the server it starts, and a clean exit on SIGTERM.
TEST(AdminCli, CreateAdminAndServeBehaveAsDocumented) {
  TestDatabase db;
  const std::string pw = "/tmp/admin-cli-admin-password-" + db.name();
  const std::string shortPw = pw + "-short";
  std::ofstream{pw} << "a long enough password\n";
  std::ofstream{shortPw} << "short\n";
  auto createAdmin = [&](const std::string& email, const std::string& file) {
    return admin(db, {"create-admin", "--email", email, "--password-file", file});
  };

  // Not migrated yet: schema outdated.
  EXPECT_EQ(createAdmin("boss@example.org", pw).exitCode, 7);
  ASSERT_EQ(admin(db, {"migrate"}).exitCode, 0);
  const auto created = createAdmin("boss@example.org", pw);
  EXPECT_EQ(created.exitCode, 0) << created.err;
  EXPECT_EQ(created.out, "{\"id\":1,\"email\":\"boss@example.org\"}\n");
  EXPECT_EQ(db.scalar("SELECT password_hash LIKE '$argon2id$%' FROM admin_accounts"), "t");
  EXPECT_EQ(createAdmin("BOSS@example.org", pw).exitCode, 5);
  EXPECT_EQ(createAdmin("x@example.org", shortPw).exitCode, 3);
  EXPECT_EQ(createAdmin("not-an-email", pw).exitCode, 3);
  EXPECT_EQ(createAdmin("x@example.org", "/nonexistent/pw").exitCode, 8);
  EXPECT_EQ(admin(db, {"serve", "--listen", "not-an-address"}).exitCode, 3);
  std::remove(pw.c_str());
  std::remove(shortPw.c_str());

  // serve: prints where it listens, answers, and drains on SIGTERM with exit 0.
  const std::vector<std::string> env{"DATABASE_URL=" + db.conninfo()};
  auto serve = [&](const std::string& listen) {
    return std::make_unique<attendance::testing::ChildProcess>(
        std::vector<std::string>{ATTENDANCE_ADMIN_EXE, "serve", "--listen", listen}, env);
  };
  // "listening http://127.0.0.1:PORT/" -> PORT
  auto portOf = [](const std::string& line) {
    return static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
  };
  auto server = serve("127.0.0.1:0");
  const std::string line = server->readLine().value_or("");
  ASSERT_EQ(line.rfind("listening http://127.0.0.1:", 0), 0U) << line;
  attendance::admin_web::testing::Browser b{portOf(line)};
  EXPECT_EQ(b.get("/healthz").result(), boost::beast::http::status::ok);
  EXPECT_EQ(b.login("boss@example.org", "a long enough password").result(), boost::beast::http::status::see_other);
  EXPECT_EQ(b.get("/events").result(), boost::beast::http::status::ok);
  server->kill(SIGTERM);
  EXPECT_EQ(server->wait(std::chrono::seconds{30}), 0);
  // A second server on the same port cannot listen.
  auto first = serve("127.0.0.1:0");
  const std::string firstLine = first->readLine().value_or("");
  ASSERT_EQ(firstLine.rfind("listening http://127.0.0.1:", 0), 0U) << firstLine;
  auto second = serve("127.0.0.1:" + std::to_string(portOf(firstLine)));
  EXPECT_EQ(second->wait(std::chrono::seconds{30}), 9);
  first->kill(SIGTERM);
  EXPECT_EQ(first->wait(std::chrono::seconds{30}), 0);
}

}  // namespace

// Issue 15: on an installed server the management commands find the database as the servers do, in
// the config file's [database] section (ADR 0070): --database-url > DATABASE_URL > the file > PG*.
TEST(AdminCli, ManagementCommandsReadTheDatabaseFromTheServersConfigFile) {
  TestDatabase db;
  ASSERT_EQ(admin(db, {"migrate"}).exitCode, 0);
  char dir[] = "/tmp/admin-config-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string config = std::string{dir} + "/server.toml";
  const std::string urlFile = std::string{dir} + "/database-url";
  const auto write = [](const std::string& path, const std::string& text) { std::ofstream{path} << text; };
  // The PG* variables point nowhere, so only the file can lead to the test database.
  const std::string nowhere = "-u DATABASE_URL PGDATABASE=no_such_database_here";
  write(config, "[database]\nurl = \"" + db.conninfo() + "\"\n\n[backend]\nlisten = \"127.0.0.1:0\"\n\n[admin]\n");
  auto r = adminIn(nowhere, {"--config", config, "event", "create", "--id", "ev-conf", "--name", "From the file"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(str(r.json(), "id"), "ev-conf");
  // The secret in a file of its own, as the package's server.toml suggests.
  write(urlFile, db.conninfo() + "\n");
  write(config, "[database]\nurl-file = \"" + urlFile + "\"\n");
  r = adminIn(nowhere, {"--config", config, "event", "list"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("ev-conf"), std::string::npos) << r.out;
  // DATABASE_URL and --database-url are stronger than the file.
  r = adminIn("DATABASE_URL=" + shellQuote("postgresql:///no_such_database_here"),
              {"--config", config, "event", "list"});
  EXPECT_EQ(r.exitCode, 6) << r.err;
  EXPECT_NE(r.err.find("no_such_database_here"), std::string::npos) << r.err;
  r = adminIn(nowhere, {"--config", config, "--database-url", "postgresql:///no_such_database_here", "event", "list"});
  EXPECT_EQ(r.exitCode, 6) << r.err;
  // A mistake in the file is a usage error naming the place.
  write(config, "[database]\nurl = 42\n");
  r = adminIn(nowhere, {"--config", config, "event", "list"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find(config + ":2:"), std::string::npos) << r.err;
  r = adminIn(nowhere, {"--config", std::string{dir} + "/missing.toml", "event", "list"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("cannot read the config file"), std::string::npos) << r.err;
  std::remove(config.c_str());
  std::remove(urlFile.c_str());
  rmdir(dir);
}

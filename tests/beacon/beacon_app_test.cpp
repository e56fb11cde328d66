// attendance-beacon's behaviour through its library (apps/beacon/src): what a user types and
// what they see. Expected ids are docs/beacon-spec.md's test vectors, typed in, not computed.
#include "batch_client/test_server.hpp"
#include "beacon/cli.hpp"
#include "beacon/run.hpp"
#include "support/temp_dir.hpp"

#include <attendance/support/clock.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

namespace ab = attendance::beacon;
using attendance::testing::Reply;
using attendance::testing::TempDir;
using attendance::testing::TestServer;
using ::testing::HasSubstr;

constexpr const char* kKey1 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr const char* kKey5 = "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
constexpr const char* kStatic = "edd1ebea-c04e-5def-a017-000000000001";

std::string settingsJson(const std::string& ns, int period, const std::string& key, const std::string& events) {
  return R"({"namespace":")" + ns + R"(","bleUuid":")" + kStatic + R"(","periodSeconds":)" + std::to_string(period) +
         R"(,"identityKey":)" + key + R"(,"events":[)" + events + "]}";
}

// Vectors 1–4: 2024-07-19 and 2024-07-20 inside one private-id event.
std::string vectorSettings() {
  return settingsJson("edd1ebeac04e5defa017", 900, std::string{"\""} + kKey1 + "\"",
                      R"({"id":"ev-private","name":"Meetup","startsAt":"2024-07-19T00:00:00Z",)"
                      R"("endsAt":"2024-07-21T00:00:00Z","privateIds":true},)"
                      R"({"id":"ev-static","name":"Open day","startsAt":"2024-08-01T09:00:00Z",)"
                      R"("endsAt":"2024-08-01T17:00:00Z","privateIds":false})");
}

struct Ran {
  int code;
  std::string out;
  std::string err;
};

Ran runArgs(std::vector<std::string> args) {
  args.insert(args.begin(), "attendance-beacon");
  std::vector<const char*> argv;
  for (const auto& a : args) {
    argv.push_back(a.c_str());
  }
  auto options = ab::parseCommandLine(static_cast<int>(argv.size()), argv.data());
  if (!options) {
    return {options.error().code, options.error().out, options.error().err};
  }
  attendance::support::RealTimeSource clock;
  std::ostringstream out;
  std::ostringstream err;
  ab::Environment env{clock, out, err, {}, {}};
  const int code = ab::run(*options, env);
  return {code, out.str(), err.str()};
}

class BeaconAppTest : public ::testing::Test {
protected:
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0600) {
    const auto path = dir_ / name;
    attendance::testing::writeFile(path, text);
    ::chmod(path.c_str(), mode);
    return path.string();
  }
  TempDir dir_;
};

// ---- command line -----------------------------------------------------------

TEST(BeaconCli, WithoutASourceOfSettingsItSaysWhatToPass) {
  const auto r = runArgs({});
  EXPECT_EQ(r.code, ab::kExitUsage);
  EXPECT_EQ(r.err,
            "attendance-beacon: error: say where the beacon settings come from: --backend URL --email E "
            "--password-file F, or --settings FILE\n");
}

TEST(BeaconCli, BadValuesAreUsageErrors) {
  EXPECT_EQ(runArgs({"--settings", "s.json", "--format", "altbeacon"}).code, ab::kExitUsage);
  EXPECT_THAT(runArgs({"--settings", "s.json", "--format", "altbeacon"}).err,
              HasSubstr("--format must be ibeacon or eddystone"));
  EXPECT_EQ(runArgs({"--settings", "s.json", "--backend", "http://127.0.0.1:1"}).code, ab::kExitUsage);
  const auto noAt = runArgs({"id", "--settings", "s.json"});
  EXPECT_EQ(noAt.code, ab::kExitUsage);
  EXPECT_THAT(noAt.err, HasSubstr("--at"));
  EXPECT_THAT(noAt.err, HasSubstr("run 'attendance-beacon --help' for usage"));
  EXPECT_THAT(runArgs({"id", "--at", "yesterday", "--settings", "s.json"}).err, HasSubstr("--at must be an ISO"));
  EXPECT_EQ(runArgs({"--settings", "s.json", "--bogus"}).code, ab::kExitUsage);
  for (const char* bad : {"19", "10241", "-250", "fast"}) {
    const auto r = runArgs({"--settings", "s.json", "--interval-ms", bad});
    EXPECT_EQ(r.code, ab::kExitUsage) << bad;
    EXPECT_THAT(r.err, HasSubstr("--interval-ms")) << bad;
  }
}

TEST(BeaconCli, VersionAndHelpWithItsExitCodes) {
  const auto v = runArgs({"--version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_THAT(v.out, HasSubstr("attendance-beacon 0.1.0 ("));
  const auto h = runArgs({"--help"});
  EXPECT_EQ(h.code, 0);
  EXPECT_THAT(h.out, HasSubstr("Exit codes:"));
  EXPECT_THAT(h.out, HasSubstr("3   sign-in refused"));
  EXPECT_THAT(h.out, HasSubstr("docs/beacon.md"));
}

TEST(BeaconCli, TheMainOptionsAlsoFollowId) {
  const std::vector<const char*> argv{"attendance-beacon", "id",   "--at",     "1721471400000", "--settings", "s.json",
                                      "--event",           "ev-1", "--format", "eddystone"};
  auto o = ab::parseCommandLine(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(o) << o.error().err;
  EXPECT_EQ(o->settingsFile, "s.json");
  EXPECT_EQ(o->eventId, "ev-1");
  EXPECT_EQ(o->format, ab::AdvertFormat::eddystone);
  ASSERT_TRUE(o->idAt);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(o->idAt->time_since_epoch()).count(), 1721471400000);
}

// ---- id --at: the spec's vectors ---------------------------------------------

TEST_F(BeaconAppTest, IdAtGivesTheSpecVectorsDuringAPrivateIdEvent) {
  const auto s = write("v.json", vectorSettings());
  const std::vector<std::pair<std::string, std::string>> vectors{
      {"2024-07-20T10:30:00.000Z", "edd1ebea-c04e-5def-a017-1b413700621c"},  // vector 1
      {"1721472299999", "edd1ebea-c04e-5def-a017-1b413700621c"},             // vector 2, as Unix ms
      {"2024-07-20T10:45:00Z", "edd1ebea-c04e-5def-a017-8d6f20e27680"},      // vector 3
      {"2024-07-19T10:30:00Z", "edd1ebea-c04e-5def-a017-b8e94e3cfa5a"},      // vector 4
  };
  for (const auto& [at, id] : vectors) {
    const auto r = runArgs({"id", "--at", at, "--settings", s});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, id + "\n") << at;
    // The same with the event named.
    EXPECT_EQ(runArgs({"id", "--at", at, "--settings", s, "--event", "ev-private"}).out, id + "\n") << at;
  }
}

TEST_F(BeaconAppTest, IdAtGivesVectorsFiveAndSix) {
  const auto five = write("5.json", settingsJson("8b0ca750e7a7be8e20d5", 300, std::string{"\""} + kKey5 + "\"",
                                                 R"({"id":"e","name":"n","startsAt":null,"endsAt":null,)"
                                                 R"("privateIds":true})"));
  EXPECT_EQ(runArgs({"id", "--at", "2025-11-24T16:00:00.123Z", "--settings", five}).out,
            "8b0ca750-e7a7-be8e-20d5-cb4679074ade\n");
  const auto six = write("6.json", settingsJson("8b0ca750e7a7be8e20d5", 60, std::string{"\""} + kKey5 + "\"",
                                                R"({"id":"e","name":"n","startsAt":null,"endsAt":null,)"
                                                R"("privateIds":true})"));
  EXPECT_EQ(runArgs({"id", "--at", "0", "--settings", six}).out, "8b0ca750-e7a7-be8e-20d5-53902f4afd64\n");
}

TEST_F(BeaconAppTest, OutsideAPrivateIdEventTheStaticIdIsBroadcast) {
  const auto s = write("v.json", vectorSettings());
  EXPECT_EQ(runArgs({"id", "--at", "2024-07-22T10:00:00Z", "--settings", s}).out, std::string{kStatic} + "\n");
  EXPECT_EQ(runArgs({"id", "--at", "2024-08-01T10:00:00Z", "--settings", s}).out, std::string{kStatic} + "\n");
  // A named event decides even outside its hours.
  EXPECT_EQ(runArgs({"id", "--at", "2024-07-20T10:30:00Z", "--settings", s, "--event", "ev-static"}).out,
            std::string{kStatic} + "\n");
  const auto unknown = runArgs({"id", "--at", "2024-07-20T10:30:00Z", "--settings", s, "--event", "nope"});
  EXPECT_EQ(unknown.code, ab::kExitUsage);
  EXPECT_THAT(unknown.err, HasSubstr("event nope is not among the participant's events"));
}

TEST_F(BeaconAppTest, APrivateIdEventWithoutAKeyIsAnError) {
  const auto s = write("nokey.json", settingsJson("edd1ebeac04e5defa017", 900, "null",
                                                  R"({"id":"e","name":"n","startsAt":null,"endsAt":null,)"
                                                  R"("privateIds":true})"));
  const auto r = runArgs({"id", "--at", "2024-07-20T10:30:00Z", "--settings", s});
  EXPECT_EQ(r.code, ab::kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("carry no identity key"));
}

// ---- saved settings -------------------------------------------------------------

TEST_F(BeaconAppTest, SavedSettingsAreOwnerOnlyAndRoundTrip) {
  const auto s = write("v.json", vectorSettings());
  const auto saved = (dir_ / "saved.json").string();
  const mode_t old = ::umask(0);  // even a permissive umask gives 0600
  const auto r = runArgs({"id", "--at", "2024-07-20T10:30:00Z", "--settings", s, "--save-settings", saved});
  ::umask(old);
  ASSERT_EQ(r.code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(saved.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600U);
  EXPECT_EQ(attendance::testing::readFile(saved), vectorSettings());
  EXPECT_EQ(runArgs({"id", "--at", "2024-07-20T10:30:00Z", "--settings", saved}).out,
            "edd1ebea-c04e-5def-a017-1b413700621c\n");
}

TEST_F(BeaconAppTest, ASettingsFileOthersMayReadIsRefusedWhileItHoldsAKey) {
  const auto open = write("open.json", vectorSettings(), 0644);
  const auto r = runArgs({"id", "--at", "2024-07-20T10:30:00Z", "--settings", open});
  EXPECT_EQ(r.code, ab::kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("others may read it (mode 0644); run: chmod 600 " + open));
  const auto noKey = write("nokey.json", settingsJson("edd1ebeac04e5defa017", 900, "null", ""), 0644);
  EXPECT_EQ(runArgs({"id", "--at", "2024-07-20T10:30:00Z", "--settings", noKey}).out, std::string{kStatic} + "\n");
}

TEST_F(BeaconAppTest, BrokenSettingsNameTheField) {
  const auto bad = write("bad.json", settingsJson("edd1ebeac04e5defa017", 0, "null", ""));
  const auto r = runArgs({"id", "--at", "0", "--settings", bad});
  EXPECT_EQ(r.code, ab::kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("\"periodSeconds\""));
}

// ---- sign-in through the participant API --------------------------------------

TEST_F(BeaconAppTest, SignsInFetchesTheSettingsAndSavesThem) {
  const std::string json = vectorSettings();
  TestServer server{[&](const attendance::testing::ReceivedRequest& req) {
    Reply reply;
    if (req.method == "POST" && req.target == "/api/sessions") {
      if (req.body == R"({"email":"ada@example.org","password":"s3cret pass"})") {
        reply.body = R"({"token":"tok-123","userId":"u1","expiresAt":"2030-01-01T00:00:00Z"})";
      } else {
        reply.status = 401;
        reply.body = R"({"error":"wrong email or password"})";
      }
    } else if (req.method == "GET" && req.target == "/api/me/beacon" && req.authorization == "Bearer tok-123") {
      reply.body = json;
    } else {
      reply.status = 401;
      reply.body = R"({"error":"unauthorized"})";
    }
    return reply;
  }};
  const auto password = write("password", "s3cret pass\n");
  const auto saved = (dir_ / "saved.json").string();
  const auto r = runArgs({"id", "--at", "2024-07-20T10:45:00Z", "--backend", server.url(), "--email", "ada@example.org",
                          "--password-file", password, "--save-settings", saved});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "edd1ebea-c04e-5def-a017-8d6f20e27680\n");
  EXPECT_EQ(attendance::testing::readFile(saved), json);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[1].target, "/api/me/beacon");

  const auto wrong = write("wrong", "guess\n");
  const auto refused =
      runArgs({"id", "--at", "0", "--backend", server.url(), "--email", "ada@example.org", "--password-file", wrong});
  EXPECT_EQ(refused.code, ab::kExitSignInRefused);
  EXPECT_EQ(refused.err, "attendance-beacon: error: sign-in refused: wrong email or password\n");
  EXPECT_THAT(refused.err, ::testing::Not(HasSubstr("guess")));
}

TEST_F(BeaconAppTest, AnUnreachableBackendIsExitFour) {
  const auto password = write("password", "pw\n");
  const auto r =
      runArgs({"id", "--at", "0", "--backend", "http://127.0.0.1:1", "--email", "a@b.c", "--password-file", password});
  EXPECT_EQ(r.code, ab::kExitBackend);
  EXPECT_THAT(r.err, HasSubstr("attendance-beacon: error: sign-in: "));
}

}  // namespace

// attendance-backend against a real PostgreSQL (pg_virtualenv) over real sockets:
// the original design's body, idempotency, per-record rejections, every
// whole-request error, rate limiting, database loss and recovery, 100-continue,
// the roster and the participant API.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <iostream>

#include <attendance/core/core.hpp>
#include <attendance/batch_client/content_digest.hpp>

#include "backend/backend_test_base.hpp"
#include "support/test_client.hpp"

namespace core = attendance::core;
namespace hs = attendance::http_server;
namespace json = boost::json;
using attendance::backend::BackendContext;
using attendance::testing::Client;
using attendance::testing::ClientResponse;
using attendance::testing::Process;
using attendance::testing::setAvailable;
using attendance::testing::TestDatabase;
using namespace std::chrono_literals;

namespace {

using namespace attendance::testing::backend_test;

struct CurlResult {
  int status = 0;
  std::string body;
  std::string verbose;
};

CurlResult curlPost(std::uint16_t port, const std::string& path, const std::string& body, const std::string& key) {
  const std::string bodyFile = ::testing::TempDir() + "backend_body_" + std::to_string(::getpid()) + ".json";
  const std::string outFile = bodyFile + ".out";
  {
    std::ofstream f{bodyFile, std::ios::binary};
    f << body;
  }
  Process p{{"/usr/bin/curl", "-sS", "-v", "--max-time", "60", "-o", outFile, "-w", "%{http_code}", "-X", "POST", "-H",
             "Authorization: Bearer " + key, "-H", "Content-Type: application/json", "--data-binary", "@" + bodyFile,
             fmt::format("http://127.0.0.1:{}{}", port, path)},
            {}};
  CurlResult r;
  const std::string code = p.readAll();
  EXPECT_EQ(p.wait(90s), 0);
  r.status = std::atoi(code.c_str());
  r.verbose = p.stderrText();
  std::ifstream in{outFile, std::ios::binary};
  r.body.assign(std::istreambuf_iterator<char>{in}, {});
  std::remove(bodyFile.c_str());
  std::remove(outFile.c_str());
  return r;
}

}  // namespace

TEST_F(BackendTest, OriginalDesignBodyWithCurlThenRepostInsertsNothing) {
  const auto t = nowMs() - 60'000;
  // Exactly the original design's body shape.
  const std::string body = batch({record(aliceUuid, t), record(bobUuid, t + 1000), record(unknownUuid, t + 2000)});
  auto first = curlPost(backend->port, "/batchCheckIn", body, apiKey);
  ASSERT_EQ(first.status, 200) << first.body;
  auto o = parseObject(first.body);
  EXPECT_EQ(o.at("eventId").as_string(), kEvent);
  EXPECT_EQ(o.at("received").as_int64(), 3);
  EXPECT_EQ(o.at("inserted").as_int64(), 3);
  EXPECT_EQ(o.at("duplicates").as_int64(), 0);
  EXPECT_TRUE(o.at("rejected").as_array().empty());
  EXPECT_EQ(o.at("registered").as_int64(), 1);
  EXPECT_EQ(o.at("walkIns").as_int64(), 1);
  EXPECT_EQ(o.at("unknownDevices").as_int64(), 1);
  EXPECT_EQ(checkIns(), 3);

  auto again = curlPost(backend->port, "/batchCheckIn", body, apiKey);
  ASSERT_EQ(again.status, 200) << again.body;
  auto o2 = parseObject(again.body);
  EXPECT_EQ(o2.at("inserted").as_int64(), 0);
  EXPECT_EQ(o2.at("duplicates").as_int64(), 3);
  EXPECT_EQ(checkIns(), 3);
  EXPECT_EQ(backend->metrics.value("attendance_records_ingested_total"), 3);
  // The repost went straight to the idempotent path: no COPY aborted on a stored row.
  EXPECT_EQ(backend->metrics.value("attendance_ingest_copy_conflicts_total"), 0);
}

TEST_F(BackendTest, PerRecordProblemsRejectOnlyThoseRecordsWithTheirIndex) {
  const auto t = nowMs() - 60'000;
  const std::string body = batch({
      record(aliceUuid, t),                         // 0 ok
      record("not-a-uuid", t),                      // 1 malformed UUID
      record(bobUuid, t),                           // 2 ok
      record(unknownUuid, 1000),                    // 3 time in 1970
      record(aliceUuid, t + 5, "Exit-Scanner-02"),  // 4 not this key's scanner
      fmt::format(R"({{"bleUuid":"{}","checkInTime":"soon","scannerId":"{}"}})", bobUuid, kScanner),  // 5 type
      fmt::format(R"({{"bleUuid":"{}","checkInTime":{},"scannerId":"{}","rssi":-60}})", unknownUuid, t,
                  kScanner),  // 6 unknown field: fine
  });
  Client c{backend->port};
  auto res = c.request(request("POST", "/batchCheckIn", body, apiKey));
  ASSERT_EQ(res.result(), hs::http::status::ok) << res.body();
  auto o = parseObject(res.body());
  EXPECT_EQ(o.at("received").as_int64(), 7);
  EXPECT_EQ(o.at("inserted").as_int64(), 3);
  std::vector<std::int64_t> indices;
  for (const auto& r : o.at("rejected").as_array()) {
    indices.push_back(r.as_object().at("index").as_int64());
    EXPECT_FALSE(r.as_object().at("reason").as_string().empty());
  }
  EXPECT_EQ(indices, (std::vector<std::int64_t>{1, 3, 4, 5}));
  EXPECT_EQ(checkIns(), 3);
}

TEST_F(BackendTest, WholeRequestErrorsAnswerTheirStatusAndCommitNothing) {
  const auto t = nowMs() - 60'000;
  const std::string good = batch({record(aliceUuid, t)});
  Client c{backend->port};
  struct Case {
    std::string name;
    std::string raw;
    unsigned status;
  };
  const std::vector<Case> cases = {
      {"malformed JSON", request("POST", "/batchCheckIn", R"({"eventId": "ev-1", "records": [)", apiKey), 400},
      {"envelope without records", request("POST", "/batchCheckIn", R"({"eventId":"ev-1"})", apiKey), 400},
      {"records not an array", request("POST", "/batchCheckIn", R"({"eventId":"ev-1","records":{}})", apiKey), 400},
      {"missing key", request("POST", "/batchCheckIn", good), 401},
      {"unknown key", request("POST", "/batchCheckIn", good, "att_notarealkey0000000000000000000"), 401},
      // Answered like an event the scanner is not assigned to: a key cannot probe event ids.
      {"unknown event", request("POST", "/batchCheckIn", batch({record(aliceUuid, t)}, "no-such-event"), apiKey), 403},
      {"not JSON", request("POST", "/batchCheckIn", good, apiKey, "text/plain"), 415},
  };
  for (const auto& k : cases) {
    auto res = c.request(k.raw);
    EXPECT_EQ(res.result_int(), k.status) << k.name << ": " << res.body();
    EXPECT_EQ(res[hs::http::field::content_type], "application/json") << k.name;
    EXPECT_TRUE(parseObject(res.body()).contains("error")) << k.name << ": " << res.body();
    if (k.status == 401) {
      EXPECT_EQ(res[hs::http::field::www_authenticate], "Bearer");
    }
  }
  auto res = c.request(request("GET", "/batchCheckIn"));
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(res[hs::http::field::allow], "POST");
  EXPECT_EQ(checkIns(), 0);
  EXPECT_EQ(receipts(), 0);

  revoke(kScanner);
  Client c2{backend->port};
  res = c2.request(request("POST", "/batchCheckIn", good, apiKey));
  EXPECT_EQ(res.result_int(), 401) << res.body();
  EXPECT_EQ(checkIns(), 0);
}

// A Content-Digest (RFC 9530), when sent, must match the body: a body changed on
// the way is refused whole and named, never stored as other records
// (docs/sync.md, "Corrupted and duplicated requests"). Without it nothing changes.
TEST_F(BackendTest, ABodyThatDoesNotMatchItsContentDigestIsRefusedAndNothingIsStored) {
  const auto t = nowMs() - 60'000;
  const std::string sent = batch({record(aliceUuid, t), record(bobUuid, t)});
  const std::string digest = attendance::batch_client::contentDigestSha256(sent);
  auto withDigest = [](std::string raw, const std::string& value) {
    return raw.insert(raw.find("\r\n") + 2, "Content-Digest: " + value + "\r\n");
  };
  std::string changed = sent;
  changed[changed.find(std::to_string(t)) + 5] ^= 0x01;  // one digit of a checkInTime: still valid JSON
  Client c{backend->port};

  auto res = c.request(withDigest(request("POST", "/batchCheckIn", changed, apiKey), digest));
  EXPECT_EQ(res.result_int(), 400) << res.body();
  auto o = parseObject(res.body());
  EXPECT_EQ(o.at("reason").as_string(), "content_digest_mismatch");
  EXPECT_NE(std::string(o.at("error").as_string()).find("does not match its Content-Digest"), std::string::npos)
      << res.body();
  EXPECT_EQ(checkIns(), 0);
  EXPECT_EQ(receipts(), 0);
  EXPECT_EQ(backend->metrics.value("attendance_content_digest_mismatches_total"), 1);

  res = c.request(withDigest(request("POST", "/batchCheckIn", sent, apiKey), "sha-256=:bm90IGEgZGlnZXN0:"));
  EXPECT_EQ(res.result_int(), 400) << res.body();
  EXPECT_EQ(parseObject(res.body()).at("reason").as_string(), "content_digest_malformed");
  EXPECT_EQ(checkIns(), 0);

  // Only algorithms the backend does not check: accepted as without the header.
  res = c.request(withDigest(request("POST", "/batchCheckIn", sent, apiKey), "sha-512=:AAAA:"));
  EXPECT_EQ(res.result_int(), 200) << res.body();
  res = c.request(withDigest(request("POST", "/batchCheckIn", sent, apiKey), digest));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(parseObject(res.body()).at("duplicates").as_int64(), 2);
  EXPECT_EQ(checkIns(), 2);
}

class SmallLimitsBackendTest : public BackendTest {
protected:
  void SetUp() override {
    BackendOptions o;
    o.maxBody = 64 * 1024;
    o.maxRecords = 5;
    o.rate = 1;
    o.burst = 3;
    SetUpWith(o);
  }
};

TEST_F(SmallLimitsBackendTest, TooLargeBodiesAndTooManyRecordsAre413) {
  const auto t = nowMs() - 60'000;
  Client c{backend->port};
  // Content-Length over the limit: answered from the header, body never sent.
  c.send("POST /batchCheckIn HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + apiKey +
         "\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n");
  auto res = c.read(5s);
  EXPECT_EQ(res.result_int(), 413) << res.body();

  std::vector<std::string> six;
  for (int i = 0; i < 6; ++i) six.push_back(record(aliceUuid, t + i));
  Client c2{backend->port};
  res = c2.request(request("POST", "/batchCheckIn", batch(six), apiKey));
  EXPECT_EQ(res.result_int(), 413) << res.body();
  EXPECT_TRUE(parseObject(res.body()).contains("error"));
  EXPECT_EQ(checkIns(), 0);
  EXPECT_EQ(receipts(), 0);
}

TEST_F(SmallLimitsBackendTest, PerKeyRateLimitAnswers429WithRetryAfter) {
  const auto t = nowMs() - 60'000;
  Client c{backend->port};
  for (int i = 0; i < 3; ++i) {
    auto res = c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, t + i)}), apiKey));
    ASSERT_EQ(res.result_int(), 200) << res.body();
  }
  auto limited = c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, t + 10)}), apiKey));
  EXPECT_EQ(limited.result_int(), 429);
  EXPECT_EQ(limited[hs::http::field::retry_after], "1");
  EXPECT_EQ(checkIns(), 3);
  // Another scanner has its own bucket.
  auto other = c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, t, "Exit-Scanner-02")}), otherKey));
  EXPECT_EQ(other.result_int(), 200) << other.body();
  backend->clock.advance(1s);
  auto after = c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, t + 10)}), apiKey));
  EXPECT_EQ(after.result_int(), 200) << after.body();
}

TEST_F(BackendTest, DatabaseUnavailableIs503WithRetryAfterThenRecoversWithoutRestart) {
  const auto t = nowMs() - 60'000;
  Client c{backend->port};
  ASSERT_EQ(c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, t)}), apiKey)).result_int(), 200);
  setAvailable(*db, false);
  auto res = c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, t + 1)}), apiKey));
  EXPECT_EQ(res.result_int(), 503) << res.body();
  EXPECT_FALSE(res[hs::http::field::retry_after].empty());
  EXPECT_TRUE(parseObject(res.body()).contains("error"));
  auto ready = c.request(request("GET", "/readyz"));
  EXPECT_EQ(ready.result_int(), 503);
  setAvailable(*db, true);
  res = c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, t + 1)}), apiKey));
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(checkIns(), 2);
  EXPECT_EQ(c.request(request("GET", "/readyz")).result_int(), 200);
}

TEST_F(BackendTest, LargeBodyWithExpectContinueFromCurl) {
  const auto t = nowMs() - 3'600'000;
  std::vector<std::string> records;
  const int n = 30'000;
  records.reserve(n);
  for (int i = 0; i < n; ++i) records.push_back(record(i % 2 == 0 ? aliceUuid : bobUuid, t + i));
  const std::string body = batch(records);
  ASSERT_GT(body.size(), 1024U * 1024U);  // curl sends Expect: 100-continue above 1 MiB
  auto r = curlPost(backend->port, "/batchCheckIn", body, apiKey);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.verbose.find("Expect: 100-continue"), std::string::npos);
  EXPECT_NE(r.verbose.find("HTTP/1.1 100 Continue"), std::string::npos) << r.verbose.substr(0, 2000);
  auto o = parseObject(r.body);
  EXPECT_EQ(o.at("received").as_int64(), n);
  EXPECT_EQ(o.at("inserted").as_int64(), n);
  EXPECT_EQ(checkIns(), n);
}

TEST_F(BackendTest, RosterListsRegisteredBleUuidsOnly) {
  Client c{backend->port};
  auto res = c.request(request("GET", "/api/events/ev-1/roster", {}, apiKey));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  // With the deployment's namespace (issue 11 §1), for the scanner's filter.
  EXPECT_EQ(res.body(), fmt::format(R"({{"eventId":"ev-1","namespace":"{}","bleUuids":["{}"]}})",
                                    db->scalar("SELECT encode(ble_namespace, 'hex') FROM deployment"), aliceUuid));
  EXPECT_EQ(c.request(request("GET", "/api/events/ev-1/roster")).result_int(), 401);
  EXPECT_EQ(c.request(request("GET", "/api/events/nope/roster", {}, apiKey)).result_int(), 403);
  EXPECT_EQ(c.request(request("POST", "/api/events/ev-1/roster", "{}", apiKey)).result_int(), 405);
}

// Issue 12: capacity, waitlist and closing time through the JSON API (core::requestRegistration,
// the rule the participant pages use too). ev-1 has alice registered by the seed.
TEST_F(BackendTest, CapacityWaitlistPromotionAndClosingThroughTheApi) {
  withPool([](core::ConnectionPool& pool) {
    auto ev = core::getEvent(pool, kEvent).value();
    core::EventEdit edit{ev.name, ev.venue, ev.startsAt, ev.endsAt};
    edit.registration = core::RegistrationLimits{2, std::nullopt};
    ASSERT_TRUE(core::updateEvent(pool, kEvent, edit));
  });
  Client c{backend->port};
  auto signUp = [&](const std::string& name) {
    auto res = c.request(request(
        "POST", "/api/participants",
        fmt::format(R"({{"email":"{}@example.com","displayName":"{}","password":"correct horse"}})", name, name)));
    EXPECT_EQ(res.result_int(), 201) << res.body();
    auto o = parseObject(res.body());
    return std::pair{std::string{o.at("token").as_string()}, std::string{o.at("bleUuid").as_string()}};
  };
  const auto [carol, carolUuid] = signUp("carol");
  const auto [dave, daveUuid] = signUp("dave");
  const auto [erin, erinUuid] = signUp("erin");
  const std::string path = std::string{"/api/events/"} + kEvent + "/registrations";

  auto res = c.request(request("POST", path, {}, carol));
  ASSERT_EQ(res.result_int(), 201) << res.body();
  EXPECT_EQ(parseObject(res.body()).at("status").as_string(), "registered");
  res = c.request(request("POST", path, {}, dave));
  ASSERT_EQ(res.result_int(), 201) << res.body();
  auto o = parseObject(res.body());
  EXPECT_EQ(o.at("status").as_string(), "waitlisted");
  EXPECT_EQ(o.at("registered").as_bool(), false);
  EXPECT_EQ(o.at("waitlistPosition").as_int64(), 1);
  res = c.request(request("POST", path, {}, erin));
  EXPECT_EQ(parseObject(res.body()).at("waitlistPosition").as_int64(), 2);
  res = c.request(request("POST", path, {}, erin));  // again: 200, same place
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(parseObject(res.body()).at("waitlistPosition").as_int64(), 2);

  res = c.request(request("GET", "/api/events", {}, dave));
  auto listed = parseObject(res.body()).at("events").as_array()[0].as_object();
  EXPECT_EQ(listed.at("capacity").as_int64(), 2);
  EXPECT_EQ(listed.at("seatsLeft").as_int64(), 0);
  EXPECT_EQ(listed.at("waitlisted").as_int64(), 2);
  EXPECT_EQ(listed.at("status").as_string(), "waitlisted");
  EXPECT_EQ(listed.at("waitlistPosition").as_int64(), 1);
  EXPECT_EQ(listed.at("registrationOpen").as_bool(), true);
  // The scanners' roster has the seats only.
  res = c.request(request("GET", std::string{"/api/events/"} + kEvent + "/roster", {}, apiKey));
  EXPECT_NE(res.body().find(carolUuid), std::string::npos);
  EXPECT_EQ(res.body().find(daveUuid), std::string::npos);

  // Carol leaves: dave, first on the waitlist, gets her seat; erin moves up.
  res = c.request(request("DELETE", path, {}, carol));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(parseObject(res.body()).at("was").as_string(), "registered");
  res = c.request(request("GET", "/api/events", {}, dave));
  EXPECT_EQ(parseObject(res.body()).at("events").as_array()[0].as_object().at("status").as_string(), "registered");
  res = c.request(request("GET", "/api/events", {}, erin));
  EXPECT_EQ(parseObject(res.body()).at("events").as_array()[0].as_object().at("waitlistPosition").as_int64(), 1);
  res = c.request(request("GET", std::string{"/api/events/"} + kEvent + "/roster", {}, apiKey));
  EXPECT_NE(res.body().find(daveUuid), std::string::npos);
  // Erin leaves the waitlist.
  res = c.request(request("DELETE", path, {}, erin));
  EXPECT_EQ(parseObject(res.body()).at("was").as_string(), "waitlisted");

  // Registration closed a minute ago: refused with the reason.
  const auto closed = backend->clock.systemTime() - 1min;
  withPool([&](core::ConnectionPool& pool) {
    auto ev = core::getEvent(pool, kEvent).value();
    core::EventEdit edit{ev.name, ev.venue, ev.startsAt, ev.endsAt};
    edit.registration = core::RegistrationLimits{std::nullopt, closed};
    ASSERT_TRUE(core::updateEvent(pool, kEvent, edit));
  });
  res = c.request(request("POST", path, {}, erin));
  EXPECT_EQ(res.result_int(), 409) << res.body();
  EXPECT_EQ(parseObject(res.body()).at("error").as_string(), "registration for this event is closed");
  res = c.request(request("GET", "/api/events", {}, erin));
  EXPECT_EQ(parseObject(res.body()).at("events").as_array()[0].as_object().at("registrationOpen").as_bool(), false);
}

// A private-ids event's participants broadcast rotating ids, which no list of bleUuids can hold and
// which a scanner must not refuse: its roster carries the namespace (every id inside it is logged)
// and no bleUuid at all, so a stolen scanner holds nothing that names or links anyone (ADR 0078).
TEST_F(BackendTest, ARosterOfAPrivateIdsEventCarriesTheNamespaceAndNoBleUuids) {
  (void)db->scalar("UPDATE events SET private_ids = true WHERE id = 'ev-1' RETURNING id");
  Client c{backend->port};
  auto res = c.request(request("GET", "/api/events/ev-1/roster", {}, apiKey));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res.body(), fmt::format(R"({{"eventId":"ev-1","namespace":"{}","privateIds":true,"bleUuids":[]}})",
                                    db->scalar("SELECT encode(ble_namespace, 'hex') FROM deployment")));
  EXPECT_EQ(res.body().find(aliceUuid), std::string::npos);
}

TEST_F(BackendTest, ParticipantApiFlow) {
  Client c{backend->port};
  const std::string signup = R"({"email":"carol@example.com","displayName":"Carol","password":"correct horse"})";
  auto res = c.request(request("POST", "/api/participants", signup));
  ASSERT_EQ(res.result_int(), 201) << res.body();
  auto created = parseObject(res.body());
  const std::string token{created.at("token").as_string()};
  const std::string userId{created.at("userId").as_string()};
  const std::string bleUuid{created.at("bleUuid").as_string()};
  EXPECT_TRUE(attendance::support::Uuid::parse(bleUuid).has_value());

  EXPECT_EQ(c.request(request("POST", "/api/participants", signup)).result_int(), 409);
  EXPECT_EQ(c.request(request("POST", "/api/participants",
                              R"({"email":"d@example.com","displayName":"D","password":"short"})"))
                .result_int(),
            400);
  EXPECT_EQ(c.request(request("POST", "/api/participants", R"({"email":1})")).result_int(), 400);
  EXPECT_EQ(c.request(request("POST", "/api/participants", signup, {}, "text/plain")).result_int(), 415);

  EXPECT_EQ(c.request(request("POST", "/api/sessions", R"({"email":"carol@example.com","password":"wrong password"})"))
                .result_int(),
            401);
  EXPECT_EQ(c.request(request("POST", "/api/sessions", R"({"email":"nobody@example.com","password":"correct horse"})"))
                .result_int(),
            401);
  res = c.request(request("POST", "/api/sessions", R"({"email":"carol@example.com","password":"correct horse"})"));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  const std::string token2{parseObject(res.body()).at("token").as_string()};
  EXPECT_NE(token2, token);

  res = c.request(request("GET", "/api/me", {}, token2));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto me = parseObject(res.body());
  EXPECT_EQ(me.at("userId").as_string(), userId);
  EXPECT_EQ(me.at("email").as_string(), "carol@example.com");
  EXPECT_EQ(me.at("displayName").as_string(), "Carol");
  EXPECT_EQ(me.at("bleUuid").as_string(), bleUuid);
  EXPECT_EQ(c.request(request("GET", "/api/me")).result_int(), 401);
  EXPECT_EQ(c.request(request("GET", "/api/me", {}, "not-a-token")).result_int(), 401);

  res = c.request(request("GET", "/api/events", {}, token));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto events = parseObject(res.body()).at("events").as_array();
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].as_object().at("id").as_string(), kEvent);
  EXPECT_EQ(events[0].as_object().at("registered").as_bool(), false);

  EXPECT_EQ(c.request(request("POST", "/api/events/ev-1/registrations", {}, token)).result_int(), 201);
  EXPECT_EQ(c.request(request("POST", "/api/events/ev-1/registrations", {}, token)).result_int(), 200);
  EXPECT_EQ(c.request(request("POST", "/api/events/nope/registrations", {}, token)).result_int(), 404);
  EXPECT_EQ(c.request(request("POST", "/api/events/ev-1/registrations")).result_int(), 401);
  res = c.request(request("GET", "/api/events", {}, token));
  EXPECT_EQ(parseObject(res.body()).at("events").as_array()[0].as_object().at("registered").as_bool(), true);
  res = c.request(request("GET", "/api/events/ev-1/roster", {}, apiKey));
  EXPECT_NE(res.body().find(bleUuid), std::string::npos);

  res = c.request(request("DELETE", "/api/events/ev-1/registrations", {}, token));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(parseObject(res.body()).at("removed").as_bool(), true);
  res = c.request(request("DELETE", "/api/events/ev-1/registrations", {}, token));
  EXPECT_EQ(parseObject(res.body()).at("removed").as_bool(), false);
  res = c.request(request("GET", "/api/events/ev-1/roster", {}, apiKey));
  EXPECT_EQ(res.body().find(bleUuid), std::string::npos);

  // Tokens expire (30 days by default).
  backend->clock.advance(std::chrono::hours{24 * 31});
  EXPECT_EQ(c.request(request("GET", "/api/me", {}, token2)).result_int(), 401);
}

// Issue 9: text that is not UTF-8 must be a 400 (or the usual 401 for a bad key),
// never the 500 of PostgreSQL refusing it, and must change nothing.
TEST_F(BackendTest, InvalidUtf8InBodiesPathsAndKeysIsRefusedBeforeTheDatabase) {
  Client c{backend->port};
  auto res = c.request(request("POST", "/api/participants",
                               R"({"email":"carol@example.com","displayName":"Carol","password":"correct horse"})"));
  ASSERT_EQ(res.result_int(), 201) << res.body();
  const std::string token{parseObject(res.body()).at("token").as_string()};
  const auto usersBefore = db->scalar("SELECT count(*) FROM users");

  struct Case {
    std::string name;
    std::string raw;
    unsigned status;
    std::string message;  // part of the error
  };
  const std::vector<Case> cases = {
      // Participant API bodies: raw bytes and escapes that are no character.
      {"raw 0xFF in a name",
       request("POST", "/api/participants",
               "{\"email\":\"d@example.com\",\"displayName\":\"D\xFF\",\"password\":\"correct horse\"}"),
       400, "not valid UTF-8"},
      {"truncated sequence in an email",
       request("POST", "/api/participants",
               "{\"email\":\"d\xC3@example.com\",\"displayName\":\"D\",\"password\":\"correct horse\"}"),
       400, "not valid UTF-8"},
      {"overlong in a password",
       request("POST", "/api/sessions", "{\"email\":\"carol@example.com\",\"password\":\"correct\xC0\xAFhorse\"}"), 400,
       "not valid UTF-8"},
      {"UTF-8 encoded surrogate",
       request("POST", "/api/participants",
               "{\"email\":\"d@example.com\",\"displayName\":\"\xED\xA0\x80\",\"password\":\"correct horse\"}"),
       400, "not valid UTF-8"},
      {"lone surrogate escape",
       request("POST", "/api/participants",
               R"({"email":"d@example.com","displayName":"\udc00","password":"correct horse"})"),
       400, ""},
      // Path parameters.
      {"register", request("POST", "/api/events/%FF/registrations", {}, token), 400,
       "path parameter id is not valid UTF-8"},
      {"unregister", request("DELETE", "/api/events/ev%C3/registrations", {}, token), 400,
       "path parameter id is not valid UTF-8"},
      {"roster", request("GET", "/api/events/%ED%A0%80/roster", {}, apiKey), 400,
       "path parameter id is not valid UTF-8"},
      // The batch body.
      {"batch eventId", request("POST", "/batchCheckIn", "{\"eventId\":\"ev-\xFF\",\"records\":[]}", apiKey), 400,
       "not valid UTF-8"},
      {"batch unknown field",
       request("POST", "/batchCheckIn",
               batch({fmt::format(R"({{"bleUuid":"{}","checkInTime":{},"scannerId":"{}","note":"{}"}})", aliceUuid,
                                  nowMs() - 60'000, kScanner, "\xF4\x90\x80\x80")}),
               apiKey),
       400, "not valid UTF-8"},
      // A scanner key whose characters are not the key alphabet (its prefix is looked up).
      {"scanner key",
       request("POST", "/batchCheckIn", batch({}), "att_\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF" + std::string(35, 'a')), 401,
       ""},
  };
  for (const auto& k : cases) {
    res = c.request(k.raw);
    EXPECT_EQ(res.result_int(), k.status) << k.name << ": " << res.body();
    EXPECT_EQ(res[hs::http::field::content_type], "application/json") << k.name;
    EXPECT_NE(res.body().find(k.message), std::string::npos) << k.name << ": " << res.body();
  }
  EXPECT_EQ(db->scalar("SELECT count(*) FROM users"), usersBefore);
  EXPECT_EQ(checkIns(), 0);
  EXPECT_EQ(receipts(), 0);
}

TEST_F(BackendTest, HealthReadinessAndMetrics) {
  Client c{backend->port};
  EXPECT_EQ(c.request(request("GET", "/healthz")).result_int(), 200);
  auto ready = c.request(request("GET", "/readyz"));
  EXPECT_EQ(ready.result_int(), 200) << ready.body();
  const auto t = nowMs() - 60'000;
  ASSERT_EQ(c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, t), record(bobUuid, t)}), apiKey))
                .result_int(),
            200);
  auto m = c.request(request("GET", "/metrics"));
  ASSERT_EQ(m.result_int(), 200);
  EXPECT_NE(m.body().find("attendance_records_ingested_total 2\n"), std::string::npos) << m.body();
  EXPECT_NE(m.body().find("http_requests_total{method=\"POST\",route=\"/batchCheckIn\",status=\"200\"} 1\n"),
            std::string::npos)
      << m.body();
  EXPECT_NE(m.body().find("http_request_duration_seconds_bucket{route=\"/batchCheckIn\",le=\"+Inf\"} 1\n"),
            std::string::npos);
}

namespace {
// The parts of the report that must not depend on the order batches arrived in.
std::string reportFingerprint(const core::EventReport& r) {
  std::string s = fmt::format("registered={} attended={} noShows={} walkIns={} unknown={} synced={}\n", r.registered,
                              r.attended, r.noShows, r.walkIns, r.unknownDevices, r.synced);
  auto ms = [](const std::optional<core::TimePoint>& t) {
    return t ? std::to_string(attendance::support::toEpochMillis(*t)) : std::string{"-"};
  };
  for (const auto& p : r.participants) {
    s += fmt::format("{} {} first={} last={} count={} scanners={}\n", p.email, core::toString(p.status),
                     ms(p.seen.firstSeen), ms(p.seen.lastSeen), p.seen.count, fmt::join(p.seen.scanners, ","));
  }
  for (const auto& u : r.unknown) {
    s += fmt::format("unknown {} first={} last={} count={}\n", u.bleUuid.toString(), ms(u.seen.firstSeen),
                     ms(u.seen.lastSeen), u.seen.count);
  }
  return s;
}
}  // namespace

TEST_F(BackendTest, ThreeScannersWithOverlappingBatchesGiveTheSameReportInEveryOrder) {
  core::ConnectionPool pool{core::DatabaseConfig{db->conninfo(), 2, 2000ms, 2}};
  const auto now = std::chrono::system_clock::now();
  auto third = core::createScanner(pool, "Side-Scanner-03", now);
  ASSERT_TRUE(third);
  auto users = core::listUsers(pool);
  ASSERT_TRUE(users);
  std::string aliceUserId;
  for (const auto& u : *users) {
    if (u.email == "alice@example.com") aliceUserId = u.id;
  }
  ASSERT_FALSE(aliceUserId.empty());

  const auto t = nowMs() - 3'600'000;
  const std::string s1 = kScanner;
  const std::string s2 = "Exit-Scanner-02";
  const std::string s3 = "Side-Scanner-03";
  struct Batch {
    std::string key;
    std::vector<std::string> records;
  };
  const std::vector<Batch> batches = {
      {apiKey, {record(aliceUuid, t + 10, s1), record(bobUuid, t + 5, s1), record(aliceUuid, t + 10, s1)}},
      {otherKey, {record(aliceUuid, t + 2, s2), record(aliceUuid, t + 100, s2), record(unknownUuid, t + 3, s2)}},
      {third->apiKey, {record(bobUuid, t + 1, s3), record(aliceUuid, t + 10, s3), record(unknownUuid, t + 50, s3)}},
  };

  std::vector<int> order = {0, 1, 2};
  std::vector<std::string> fingerprints;
  int run = 0;
  auto newEvent = [&](const std::string& id) {
    core::NewEvent ev;
    ev.id = id;
    ev.name = "Order " + id;
    ASSERT_TRUE(core::createEvent(pool, ev, now));
    ASSERT_TRUE(core::registerForEvent(pool, id, aliceUserId, now));
    for (const auto& scanner : {s1, s2, s3}) ASSERT_TRUE(core::assignScanner(pool, scanner, id, now));
  };
  auto post = [&](const std::string& eventId, int which) {
    Client c{backend->port};
    std::vector<std::string> recs = batches[static_cast<std::size_t>(which)].records;
    auto res =
        c.request(request("POST", "/batchCheckIn", batch(recs, eventId), batches[static_cast<std::size_t>(which)].key));
    EXPECT_EQ(res.result_int(), 200) << res.body();
  };
  do {
    const std::string eventId = fmt::format("order-{}", run++);
    newEvent(eventId);
    for (int which : order) post(eventId, which);
    auto report = core::buildReport(pool, eventId, std::chrono::system_clock::now());
    ASSERT_TRUE(report);
    fingerprints.push_back(reportFingerprint(*report));
  } while (std::next_permutation(order.begin(), order.end()));
  // And all three at once, twice (the second time everything is a duplicate).
  for (int i = 0; i < 2; ++i) {
    const std::string eventId = "concurrent";
    if (i == 0) newEvent(eventId);
    std::vector<std::thread> threads;
    for (int which = 0; which < 3; ++which) threads.emplace_back([&, which] { post(eventId, which); });
    for (auto& th : threads) th.join();
  }
  auto concurrent = core::buildReport(pool, "concurrent", std::chrono::system_clock::now());
  ASSERT_TRUE(concurrent);
  fingerprints.push_back(reportFingerprint(*concurrent));

  ASSERT_EQ(fingerprints.size(), 7U);
  for (const auto& f : fingerprints) EXPECT_EQ(f, fingerprints.front());
  const auto& r = *concurrent;
  EXPECT_EQ(r.registered, 1);
  EXPECT_EQ(r.attended, 1);
  EXPECT_EQ(r.walkIns, 1);
  EXPECT_EQ(r.unknownDevices, 1);
  ASSERT_EQ(r.participants.size(), 2U);
  for (const auto& p : r.participants) {
    if (p.email == "alice@example.com") {
      EXPECT_EQ(p.status, core::ParticipantStatus::attended);
      EXPECT_EQ(attendance::support::toEpochMillis(*p.seen.firstSeen), t + 2);  // earliest across scanners
      EXPECT_EQ(attendance::support::toEpochMillis(*p.seen.lastSeen), t + 100);
      EXPECT_EQ(p.seen.scanners, (std::vector<std::string>{s1, s2, s3}));
    } else {
      EXPECT_EQ(p.email, "bob@example.com");
      EXPECT_EQ(p.status, core::ParticipantStatus::walk_in);
      EXPECT_EQ(attendance::support::toEpochMillis(*p.seen.firstSeen), t + 1);
      EXPECT_EQ(attendance::support::toEpochMillis(*p.seen.lastSeen), t + 5);
    }
  }
  std::cout << fingerprints.front();
}

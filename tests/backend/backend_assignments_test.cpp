// Scanners assigned to events (docs/adr/0046-scanners-are-assigned-to-events.md):
// an unassigned scanner's batch and roster are 403 with the command that fixes it,
// nothing is stored (not even a receipt), an unknown event answers the same,
// unassigning takes effect at the next request, and records far outside the
// event's window are rejected one by one while the rest of the batch is stored.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <attendance/core/core.hpp>

#include "backend/backend_test_base.hpp"
#include "support/test_client.hpp"

namespace core = attendance::core;
using attendance::testing::Client;
using namespace std::chrono_literals;
using namespace attendance::testing::backend_test;

namespace {

constexpr std::int64_t kHourMs = 3'600'000;

std::string errorOf(const std::string& body) { return std::string{parseObject(body).at("error").as_string()}; }

class BackendAssignmentTest : public BackendTest {
protected:
  // ev-2, dated like ev-1 but with no scanner assigned.
  void createSecondEvent() {
    withPool([](core::ConnectionPool& pool) {
      const auto now = std::chrono::system_clock::now();
      core::NewEvent ev;
      ev.id = "ev-2";
      ev.name = "Second";
      ev.startsAt = now - 1h;
      ev.endsAt = now + 1h;
      ASSERT_TRUE(core::createEvent(pool, ev, now));
    });
  }
  void assign(const std::string& eventId) {
    withPool([&](core::ConnectionPool& pool) {
      ASSERT_TRUE(core::assignScanner(pool, kScanner, eventId, std::chrono::system_clock::now()));
    });
  }
  void unassign(const std::string& eventId) {
    withPool([&](core::ConnectionPool& pool) { ASSERT_TRUE(core::unassignScanner(pool, kScanner, eventId)); });
  }
};

TEST_F(BackendAssignmentTest, UnassignedScannersBatchIs403NamingTheFixAndStoresNothing) {
  createSecondEvent();
  const auto t = nowMs() - 60'000;
  Client c{backend->port};
  auto res = c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, t)}, "ev-2"), apiKey));
  ASSERT_EQ(res.result_int(), 403) << res.body();
  EXPECT_EQ(res[hs::http::field::content_type], "application/json");
  EXPECT_EQ(errorOf(res.body()),
            "scanner Entrance-Scanner-01 is not assigned to event ev-2; assign it with: attendance-admin scanner "
            "assign --id Entrance-Scanner-01 --event ev-2");
  // An empty batch used to leave a sync receipt; an unassigned one leaves nothing.
  res = c.request(request("POST", "/batchCheckIn", batch({}, "ev-2"), apiKey));
  EXPECT_EQ(res.result_int(), 403) << res.body();
  // An event that does not exist answers exactly like one the scanner is not assigned to.
  res = c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, t)}, "ev-missing"), apiKey));
  EXPECT_EQ(res.result_int(), 403) << res.body();
  EXPECT_EQ(errorOf(res.body()),
            "scanner Entrance-Scanner-01 is not assigned to event ev-missing; assign it with: attendance-admin "
            "scanner assign --id Entrance-Scanner-01 --event ev-missing");
  EXPECT_EQ(checkIns(), 0);
  EXPECT_EQ(receipts(), 0);
  EXPECT_EQ(backend->metrics.value("attendance_records_received_total"), 0);
}

TEST_F(BackendAssignmentTest, RosterOfAnEventTheScannerIsNotAssignedToIs403) {
  createSecondEvent();
  Client c{backend->port};
  auto res = c.request(request("GET", "/api/events/ev-2/roster", {}, apiKey));
  ASSERT_EQ(res.result_int(), 403) << res.body();
  EXPECT_EQ(errorOf(res.body()),
            "scanner Entrance-Scanner-01 is not assigned to event ev-2; assign it with: attendance-admin scanner "
            "assign --id Entrance-Scanner-01 --event ev-2");
  EXPECT_EQ(c.request(request("GET", "/api/events/ev-missing/roster", {}, apiKey)).result_int(), 403);
  assign("ev-2");
  res = c.request(request("GET", "/api/events/ev-2/roster", {}, apiKey));
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res.body(), R"({"eventId":"ev-2","namespace":")" +
                            db->scalar("SELECT encode(ble_namespace, 'hex') FROM deployment") + R"(","bleUuids":[]})");
}

TEST_F(BackendAssignmentTest, AssignedWorksAndUnassignTakesEffectAtTheNextRequest) {
  createSecondEvent();
  assign("ev-2");
  const auto t = nowMs() - 60'000;
  Client c{backend->port};  // one keep-alive connection throughout
  auto res = c.request(request("POST", "/batchCheckIn", batch({record(aliceUuid, t)}, "ev-2"), apiKey));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(parseObject(res.body()).at("inserted").as_int64(), 1);
  unassign("ev-2");
  res = c.request(request("POST", "/batchCheckIn", batch({record(bobUuid, t)}, "ev-2"), apiKey));
  EXPECT_EQ(res.result_int(), 403) << res.body();
  EXPECT_EQ(c.request(request("GET", "/api/events/ev-2/roster", {}, apiKey)).result_int(), 403);
  EXPECT_EQ(checkIns(), 1);
  EXPECT_EQ(receipts(), 1);
  // The other event's assignment is untouched.
  res = c.request(request("POST", "/batchCheckIn", batch({record(bobUuid, t)}), apiKey));
  EXPECT_EQ(res.result_int(), 200) << res.body();
}

TEST_F(BackendAssignmentTest, RecordsFarOutsideTheEventWindowAreRejectedAndTheRestStored) {
  // ev-1 runs from now + 1 h to now + 3 h; the default slack is 24 h on each side.
  const auto now = nowMs();
  const std::string body = batch({
      record(aliceUuid, now - 60'000),         // 0: an hour before the start, fine
      record(bobUuid, now - 26 * kHourMs),     // 1: 27 h before the start
      record(unknownUuid, now + 2 * kHourMs),  // 2: during the event, fine
      record(aliceUuid, now - 30 * kHourMs),   // 3: 31 h before the start
  });
  Client c{backend->port};
  auto res = c.request(request("POST", "/batchCheckIn", body, apiKey));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto o = parseObject(res.body());
  EXPECT_EQ(o.at("received").as_int64(), 4);
  EXPECT_EQ(o.at("inserted").as_int64(), 2);
  const auto& rejected = o.at("rejected").as_array();
  ASSERT_EQ(rejected.size(), 2U) << res.body();
  for (std::size_t i = 0; i < rejected.size(); ++i) {
    const auto& r = rejected[i].as_object();
    EXPECT_EQ(r.at("index").as_int64(), i == 0 ? 1 : 3);
    EXPECT_EQ(r.at("reason").as_string(), "outside_event_window");
    const std::string detail{r.at("detail").as_string()};
    EXPECT_NE(detail.find("is more than 1440 minutes before the event's window ["), std::string::npos) << detail;
  }
  EXPECT_EQ(checkIns(), 2);
  EXPECT_EQ(backend->metrics.value("attendance_records_rejected_total"), 2);
}

class NarrowWindowBackendTest : public BackendTest {
protected:
  void SetUp() override {
    BackendOptions o;
    o.ingest.eventWindowSlack = 30min;  // what serve --event-window-slack 0.5 sets
    SetUpWith(o);
  }
};

TEST_F(NarrowWindowBackendTest, TheSlackOptionNarrowsTheWindow) {
  // ev-1 starts in an hour: with 30 minutes of slack, a sighting now is too early.
  const auto now = nowMs();
  Client c{backend->port};
  auto res = c.request(request("POST", "/batchCheckIn",
                               batch({record(aliceUuid, now - 60'000), record(bobUuid, now + 45 * 60'000)}), apiKey));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto o = parseObject(res.body());
  EXPECT_EQ(o.at("inserted").as_int64(), 1);
  const auto& rejected = o.at("rejected").as_array();
  ASSERT_EQ(rejected.size(), 1U) << res.body();
  EXPECT_EQ(rejected[0].as_object().at("index").as_int64(), 0);
  EXPECT_EQ(rejected[0].as_object().at("reason").as_string(), "outside_event_window");
  EXPECT_NE(std::string{rejected[0].as_object().at("detail").as_string()}.find("more than 30 minutes before"),
            std::string::npos);
}

}  // namespace

#include "report_compute.hpp"

#include <attendance/core/report.hpp>

#include <attendance/support/clock.hpp>
#include <gtest/gtest.h>

#include <algorithm>

namespace core = attendance::core;
namespace detail = attendance::core::detail;
using attendance::support::Uuid;

namespace {

Uuid uuid(int n) {
  char text[64];
  std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012d", n);
  return *Uuid::parse(text);
}

detail::ReportInput baseInput() {
  detail::ReportInput in;
  in.event.id = "ev-1";
  in.event.name = "Meetup";
  in.now = core::parseIsoUtc("2024-07-20T12:00:00Z").value();
  in.synced = true;
  // Ada and Bob registered; Cy is a known user who was not registered.
  in.people = {{"u-ada", "Ada", "ada@example.org", uuid(1), true},
               {"u-bob", "Bob", "bob@example.org", uuid(2), true},
               {"u-cy", "Cy", "cy@example.org", uuid(3), false}};
  in.owners = {{uuid(1), "u-ada"}, {uuid(3), "u-cy"}, {uuid(11), "u-ada"}};  // 11 = Ada's retired bleUuid
  const std::int64_t t0 = 1721469600000;                                     // 2024-07-20T10:00:00Z
  in.seen = {{uuid(1), t0 + 60'000, t0 + 3'600'000, 3, {"A", "B"}},
             {uuid(11), t0 - 60'000, t0, 1, {"C"}},
             {uuid(3), t0 + 20 * 60'000, t0 + 20 * 60'000, 1, {"A"}},
             {uuid(99), t0 + 5 * 60'000, t0 + 6 * 60'000, 2, {"B"}}};
  in.scanners = {{"B", std::nullopt, 0, 0, 3}, {"A", std::nullopt, 1, 4, 4}};
  return in;
}

TEST(ReportCompute, ClassifiesAttendedNoShowWalkInAndUnknown) {
  const auto r = detail::computeReport(baseInput(), {});
  EXPECT_EQ(r.registered, 2);
  EXPECT_EQ(r.attended, 1);
  EXPECT_EQ(r.noShows, 1);
  EXPECT_EQ(r.walkIns, 1);
  EXPECT_EQ(r.unknownDevices, 1);
  EXPECT_DOUBLE_EQ(r.attendanceRate, 0.5);
  ASSERT_EQ(r.participants.size(), 3U);
  EXPECT_EQ(r.participants[0].displayName, "Ada");
  EXPECT_EQ(r.participants[0].status, core::ParticipantStatus::attended);
  EXPECT_EQ(r.participants[1].displayName, "Cy");
  EXPECT_EQ(r.participants[1].status, core::ParticipantStatus::walk_in);
  EXPECT_EQ(r.participants[2].displayName, "Bob");
  EXPECT_EQ(r.participants[2].status, core::ParticipantStatus::no_show);
  EXPECT_FALSE(r.participants[2].seen.firstSeen.has_value());
}

TEST(ReportCompute, EarliestAcrossScannersAndRetiredUuidsIsAttendance) {
  const auto r = detail::computeReport(baseInput(), {});
  const auto& ada = r.participants[0];
  EXPECT_EQ(core::formatIsoUtc(*ada.seen.firstSeen), "2024-07-20T09:59:00.000Z");
  EXPECT_EQ(core::formatIsoUtc(*ada.seen.lastSeen), "2024-07-20T11:00:00.000Z");
  EXPECT_EQ(ada.seen.count, 4);
  EXPECT_EQ(ada.seen.scanners, (std::vector<std::string>{"A", "B", "C"}));
}

TEST(ReportCompute, InputOrderDoesNotMatter) {
  auto a = baseInput();
  auto b = baseInput();
  std::reverse(b.seen.begin(), b.seen.end());
  std::reverse(b.people.begin(), b.people.end());
  std::reverse(b.owners.begin(), b.owners.end());
  EXPECT_EQ(core::renderReportJson(detail::computeReport(a, {})), core::renderReportJson(detail::computeReport(b, {})));
}

TEST(ReportCompute, ArrivalsAreBucketedFirstCheckIns) {
  const auto r = detail::computeReport(baseInput(), {std::chrono::minutes{15}});
  // Ada first at 09:59 (bucket 09:45), Cy at 10:20 (bucket 10:15); unknown devices are not arrivals.
  ASSERT_EQ(r.arrivals.size(), 3U);
  EXPECT_EQ(core::formatIsoUtc(r.arrivals[0].start), "2024-07-20T09:45:00.000Z");
  EXPECT_EQ(r.arrivals[0].arrivals, 1);
  EXPECT_EQ(r.arrivals[1].arrivals, 0);
  EXPECT_EQ(r.arrivals[2].arrivals, 1);
}

TEST(ReportCompute, NotSyncedIsItsOwnState) {
  auto in = baseInput();
  in.synced = false;
  in.seen.clear();
  in.scanners.clear();
  const auto r = detail::computeReport(in, {});
  EXPECT_FALSE(r.synced);
  EXPECT_EQ(r.noShows, 2);
  EXPECT_NE(core::renderReportTable(r).find("Attendance data has not been synced."), std::string::npos);
  EXPECT_NE(core::renderReportJson(r).find("\"synced\":false"), std::string::npos);
}

TEST(ReportRender, CsvIsRfc4180AndNeutralisesFormulas) {
  auto in = baseInput();
  in.people[0].displayName = "=HYPERLINK(\"x\")";
  in.people[1].displayName = "Bob, Jr.";
  const auto csv = core::renderReportCsv(detail::computeReport(in, {}));
  EXPECT_EQ(
      csv.rfind(
          "status,name,email,bleUuid,firstSeen,lastSeen,scanners,sightings,source,manualAt,manualBy,manualReason\r\n",
          0),
      0U);
  EXPECT_NE(csv.find("attended,\"'=HYPERLINK(\"\"x\"\")\",ada@example.org,00000000-0000-4000-8000-000000000001,"
                     "2024-07-20T09:59:00.000Z,2024-07-20T11:00:00.000Z,A;B;C,4,scanner,,,\r\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("no-show,\"Bob, Jr.\",bob@example.org,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("unknown-device,,,00000000-0000-4000-8000-000000000099,"), std::string::npos) << csv;
}

// Door staff's overrides (migration 0010): the latest one per person decides over the sightings.
TEST(ReportCompute, TheLatestOverrideDecidesOverTheScanners) {
  auto in = baseInput();
  const auto at = [](const char* iso) { return core::parseIsoUtc(iso).value(); };
  using core::OverrideAction;
  in.overrides = {
      {1, "u-ada", "Ada", "ada@example.org", OverrideAction::revoke, "door@x", "not her", at("2024-07-20T11:00:00Z")},
      {2, "u-bob", "Bob", "bob@example.org", OverrideAction::check_in, "door@x", "no phone",
       at("2024-07-20T10:30:00Z")},
      {3, "u-cy", "Cy", "cy@example.org", OverrideAction::check_in, "door@x", "a", at("2024-07-20T10:05:00Z")},
      {4, "u-cy", "Cy", "cy@example.org", OverrideAction::revoke, "door@x", "b", at("2024-07-20T10:06:00Z")},
  };
  const auto r = detail::computeReport(in, {});
  EXPECT_EQ(r.attended, 1);  // Bob, by hand; Ada revoked
  EXPECT_EQ(r.noShows, 1);
  EXPECT_EQ(r.walkIns, 0);  // Cy's latest override is a revocation
  EXPECT_EQ(r.manualCheckIns, 1);
  EXPECT_EQ(r.revoked, 2);
  ASSERT_EQ(r.participants.size(), 2U);
  EXPECT_EQ(r.participants[0].email, "bob@example.org");
  EXPECT_EQ(core::sourceOf(r.participants[0]), "manual");
  EXPECT_EQ(r.participants[1].email, "ada@example.org");
  EXPECT_EQ(r.participants[1].status, core::ParticipantStatus::no_show);
  EXPECT_EQ(r.participants[1].seen.count, 4);  // the sightings stay
  // Arrivals: only Bob, at his manual check-in.
  std::int64_t arrived = 0;
  for (const auto& b : r.arrivals) arrived += b.arrivals;
  EXPECT_EQ(arrived, 1);
  EXPECT_EQ(r.arrivals.front().start, at("2024-07-20T10:30:00Z"));
  EXPECT_EQ(r.audit.size(), 4U);
}

TEST(ReportCompute, APersonOwnsTheirCurrentBleUuidWithoutAnOwnerEntry) {
  auto in = baseInput();
  in.owners.clear();  // only Ada's retired bleUuid (11) needs one
  in.owners.push_back({uuid(11), "u-ada"});
  const auto r = detail::computeReport(in, {});
  EXPECT_EQ(r.attended, 1);
  EXPECT_EQ(r.walkIns, 1);         // Cy, through their current bleUuid
  EXPECT_EQ(r.unknownDevices, 1);  // 99
  EXPECT_EQ(r.participants[0].seen.count, 4);
}

TEST(ReportRender, JsonTimesMatchFormatIsoUtcAcrossTheRange) {
  // The JSON renderer writes timestamps itself; it must print what formatIsoUtc prints,
  // including before 1970, at midnight, at leap days and with milliseconds.
  for (const std::int64_t ms :
       {-86'400'001LL, -1LL, 0LL, 951'782'400'000LL, 1'709'164'799'999LL, 1'721'471'400'123LL, 4'102'444'800'000LL}) {
    auto in = baseInput();
    in.seen = {{uuid(1), ms, ms, 1, {"A"}}};
    const auto json = core::renderReportJson(detail::computeReport(in, {}));
    const auto expected = "\"firstSeen\":\"" + core::formatIsoUtc(attendance::support::fromEpochMillis(ms)) + "\"";
    EXPECT_NE(json.find(expected), std::string::npos) << expected;
  }
}

TEST(TimeFormat, ParsesAndFormatsIso8601) {
  EXPECT_EQ(core::formatIsoUtc(attendance::support::fromEpochMillis(1721471400000)), "2024-07-20T10:30:00.000Z");
  EXPECT_EQ(core::parseIsoUtc("2024-07-20T10:30:00Z"), attendance::support::fromEpochMillis(1721471400000));
  EXPECT_EQ(core::parseIsoUtc("2024-07-20T12:30+02:00"), attendance::support::fromEpochMillis(1721471400000));
  EXPECT_EQ(core::parseIsoUtc("2024-07-20T10:30:00.250Z"), attendance::support::fromEpochMillis(1721471400250));
  EXPECT_EQ(core::parseIsoUtc("2024-07-20"), attendance::support::fromEpochMillis(1721433600000));
  EXPECT_FALSE(core::parseIsoUtc("2024-02-30"));
  EXPECT_FALSE(core::parseIsoUtc("2024-07-20T25:00Z"));
  EXPECT_FALSE(core::parseIsoUtc("yesterday"));
  EXPECT_FALSE(core::parseIsoUtc("2024-07-20T10:30:00Zjunk"));
  // Beyond what the clock holds (nanoseconds since 1970 in 64 bits): refused, not overflowed.
  EXPECT_EQ(core::formatIsoUtc(core::parseIsoUtc("2200-01-01T00:00Z").value()), "2200-01-01T00:00:00.000Z");
  EXPECT_FALSE(core::parseIsoUtc("9999-12-31T23:59Z"));
  EXPECT_FALSE(core::parseIsoUtc("2300-01-01"));
  EXPECT_FALSE(core::parseIsoUtc("1600-01-01T00:00Z"));
}

}  // namespace

namespace {

// The incremental update (detail::applyReceipts) of a computed report equals
// computeReport of the same input with the new sightings added.
TEST(ReportCompute, ApplyReceiptsEqualsComputingTheWholeInputAgain) {
  const std::int64_t t0 = 1721469600000;
  const auto base = detail::computeReport(baseInput(), {});
  const auto later = core::parseIsoUtc("2024-07-20T13:00:00Z").value();
  const auto syncedAt = attendance::support::fromEpochMillis(t0 + 7'200'000);

  detail::ReceiptDelta delta;
  delta.version = base.version;
  delta.version.receipts += 2;
  delta.now = later;
  delta.receipts = {{"A", syncedAt, 2, 9, 0}, {"C", syncedAt, 1, 2, 0}};
  delta.seen = {{uuid(2), "C", t0 + 30 * 60'000, t0 + 31 * 60'000, 2},   // Bob: no-show -> attended
                {uuid(1), "C", t0 - 120'000, t0 + 7'000'000, 1},         // Ada: earlier and later, new scanner
                {uuid(14), "A", t0 + 40 * 60'000, t0 + 40 * 60'000, 1},  // Dee's retired bleUuid: a new walk-in
                {uuid(99), "A", t0 + 1, t0 + 10 * 60'000, 1},            // a known unknown device, again
                {uuid(98), "C", t0 + 2, t0 + 2, 1}};                     // a new unknown device
  std::vector<Uuid> asked;
  const detail::OwnerLookup lookup = [&](const std::vector<Uuid>& uuids) {
    asked = uuids;
    return std::vector<detail::OwnerRow>{{uuid(14), "u-dee", "Dee", "dee@example.org", uuid(4), false}};
  };
  const auto updated = detail::applyReceipts(base, delta, lookup, std::chrono::minutes{15});
  ASSERT_TRUE(updated.has_value());
  // Only the bleUuids that match no row are looked up.
  EXPECT_EQ(asked, (std::vector<Uuid>{uuid(14), uuid(98)}));

  auto whole = baseInput();
  whole.version = delta.version;
  whole.now = later;
  whole.people.push_back({"u-dee", "Dee", "dee@example.org", uuid(4), false});
  whole.owners.push_back({uuid(14), "u-dee"});
  for (const auto& s : delta.seen) {  // computeReport takes one entry per bleUuid (buildReport merges them)
    auto same =
        std::find_if(whole.seen.begin(), whole.seen.end(), [&](const auto& w) { return w.bleUuid == s.bleUuid; });
    if (same == whole.seen.end()) {
      whole.seen.push_back({s.bleUuid, s.firstMs, s.lastMs, s.count, {s.scannerId}});
      continue;
    }
    same->firstMs = std::min(same->firstMs, s.firstMs);
    same->lastMs = std::max(same->lastMs, s.lastMs);
    same->count += s.count;
    same->scanners.push_back(s.scannerId);
  }
  whole.scanners = {{"B", std::nullopt, 0, 0, 3}, {"A", syncedAt, 2, 9, 4 + 2}, {"C", syncedAt, 1, 2, 2 + 1 + 1}};
  const auto expected = detail::computeReport(whole, {});
  EXPECT_EQ(core::renderReportJson(*updated), core::renderReportJson(expected));
  EXPECT_EQ(updated->noShows, 0);
  EXPECT_EQ(updated->walkIns, 2);
  EXPECT_EQ(updated->unknownDevices, 2);
  EXPECT_EQ(updated->generatedAt, later);
}

TEST(ReportCompute, ApplyReceiptsGivesUpWhenTheOwnersContradictTheReport) {
  const std::int64_t t0 = 1721469600000;
  const auto base = detail::computeReport(baseInput(), {});
  detail::ReceiptDelta delta;
  delta.version = base.version;
  delta.now = base.generatedAt;
  delta.seen = {{uuid(20), "A", t0, t0, 1}};
  // A registered owner without a row (registrations changed under us): build in full.
  const detail::OwnerLookup registeredStranger = [&](const std::vector<Uuid>&) {
    return std::vector<detail::OwnerRow>{{uuid(20), "u-zed", "Zed", "zed@example.org", uuid(21), true}};
  };
  EXPECT_FALSE(detail::applyReceipts(base, delta, registeredStranger, std::chrono::minutes{15}).has_value());
  // A row with the owner's current bleUuid that belongs to someone else.
  const detail::OwnerLookup otherUser = [&](const std::vector<Uuid>&) {
    return std::vector<detail::OwnerRow>{{uuid(20), "u-not-ada", "Ada?", "x@example.org", uuid(1), false}};
  };
  EXPECT_FALSE(detail::applyReceipts(base, delta, otherUser, std::chrono::minutes{15}).has_value());
  // The owner's own row: fine.
  const detail::OwnerLookup ada = [&](const std::vector<Uuid>&) {
    return std::vector<detail::OwnerRow>{{uuid(20), "u-ada", "Ada", "ada@example.org", uuid(1), true}};
  };
  const auto updated = detail::applyReceipts(base, delta, ada, std::chrono::minutes{15});
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(updated->participants[0].seen.count, base.participants[0].seen.count + 1);
}

}  // namespace

// buildReport against a real database: a deterministic event with every kind
// of row (attended, no-shows, walk-ins, retired bleUuids, unknown devices,
// several scanners, check-ins without a receipt, names that need escaping,
// equal names, a month-long span that widens the arrival buckets), and its JSON
// and CSV compared byte for byte with report_golden.json / report_golden.csv.
// The golden files were written by the implementation before the report was
// rewritten for speed (docs/benchmarks-core.md), so they pin the exact output
// the admin web page and scripts read. ATTENDANCE_UPDATE_GOLDEN=1 rewrites them.
#include "core/test_database.hpp"

#include <attendance/core/core.hpp>

#include <attendance/support/clock.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace core = attendance::core;
using attendance::support::fromEpochMillis;
using core::testing::TestDatabase;

namespace {

const auto kNow = fromEpochMillis(1721480000000);  // 2024-07-20T12:53:20Z
constexpr std::int64_t kT0 = 1721469600000;        // 2024-07-20T10:00:00Z

std::string uuidText(unsigned prefix, unsigned n) {
  char text[64];
  std::snprintf(text, sizeof text, "%08x-0000-4000-8000-%012x", prefix, n * 2654435761U);
  return text;
}
std::string userId(unsigned n) { return uuidText(0x11110000U + n, n); }
std::string bleOf(unsigned n) { return uuidText(0x22220000U + n, n); }
std::string retiredBleOf(unsigned n) { return uuidText(0x33330000U + n, n); }
std::string unknownBle(unsigned n) { return uuidText(0x44440000U + n, n); }

// Deterministic pseudo-random numbers (the data must be the same on every run).
struct Lcg {
  std::uint64_t state = 12345;
  unsigned next(unsigned bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<unsigned>((state >> 33) % bound);
  }
};

std::string displayName(unsigned n) {
  switch (n % 9) {
    case 0: return "<script>alert(" + std::to_string(n) + ")</script>";
    case 1: return "Zoë \"Z\" Ångström " + std::to_string(n);
    case 2: return "Same Name";  // ties are broken by email
    case 3: return "back\\slash\ttab " + std::to_string(n);
    case 4: return "=SUM(A1) " + std::to_string(n);
    case 5: return "名前 " + std::to_string(n);
    case 6: return "comma, \"quoted\" " + std::to_string(n);
    default: return "User " + std::to_string(1000 - n);
  }
}

constexpr unsigned kUsers = 300;
constexpr unsigned kRegistered = 220;  // users 0..219; 220..299 can only be walk-ins

void seed(const TestDatabase& db) {
  pqxx::connection c{db.conninfo()};
  pqxx::work tx{c};
  tx.exec(
      "INSERT INTO events (id, name, venue, starts_at, ends_at, created_at) VALUES "
      "('ev-big', 'Big \"Event\" <b>', 'Hall\\A', '2024-07-20T09:00:00Z', '2024-07-20T18:00:00Z', "
      "'2024-07-01T00:00:00Z'), ('ev-other', 'Other', '', NULL, NULL, '2024-07-01T00:00:00Z')");
  for (const char* s : {"S1", "S2", "S3", "Zeta-Scanner-With-A-Long-Name"}) {
    tx.exec_params("INSERT INTO scanners VALUES ($1, decode(repeat('00', 32), 'hex'), 'x', now(), NULL)", s);
  }
  for (unsigned n = 0; n < kUsers; ++n) {
    tx.exec_params(
        "INSERT INTO users (id, email, display_name, ble_uuid, created_at) VALUES ($1::uuid, $2, $3, $4::uuid, now())",
        userId(n), "user" + std::to_string(n) + "@example.org", displayName(n), bleOf(n));
    if (n % 7 == 3) {
      tx.exec_params("INSERT INTO retired_ble_uuids VALUES ($1::uuid, $2::uuid, now())", retiredBleOf(n), userId(n));
    }
    if (n < kRegistered) {
      tx.exec_params("INSERT INTO registrations VALUES ('ev-big', $1::uuid, now())", userId(n));
    }
    if (n % 3 == 0) tx.exec_params("INSERT INTO registrations VALUES ('ev-other', $1::uuid, now())", userId(n));
  }
  // Receipts for S1 (two), S2 and the long-named scanner; S3's check-ins came
  // without one (performCheckIn without a receipt).
  auto receipt = [&](const std::string& event, const std::string& scanner, const std::string& at, int received) {
    return tx
        .exec_params1(
            "INSERT INTO sync_receipts (event_id, scanner_id, received_at, received) VALUES ($1, $2, "
            "$3::timestamptz, $4) RETURNING id",
            event, scanner, at, received)[0]
        .as<std::int64_t>();
  };
  const std::int64_t s1a = receipt("ev-big", "S1", "2024-07-20T11:00:00Z", 10);
  const std::int64_t s1b = receipt("ev-big", "S1", "2024-07-20T12:00:00.123Z", 5);
  const std::int64_t s2 = receipt("ev-big", "S2", "2024-07-20T12:30:00Z", 7);
  const std::int64_t zeta = receipt("ev-big", "Zeta-Scanner-With-A-Long-Name", "2024-07-20T12:31:00Z", 0);
  const std::int64_t other = receipt("ev-other", "S1", "2024-07-20T12:00:00Z", 1);
  Lcg rng;
  const char* scanners[] = {"S1", "S2", "S3", "Zeta-Scanner-With-A-Long-Name"};
  auto checkIn = [&](const std::string& event, const std::string& ble, std::int64_t t, const char* scanner) {
    const std::string s{scanner};
    const std::int64_t r = event == "ev-other" ? other
                           : s == "S1"         ? (t % 2 == 0 ? s1a : s1b)
                           : s == "S2"         ? s2
                           : s == "S3"         ? 0
                                               : zeta;
    tx.exec_params(
        "INSERT INTO check_ins (event_id, ble_uuid, check_in_time, scanner_id, receipt_id) "
        "VALUES ($1, $2::uuid, $3, $4, nullif($5, 0)) ON CONFLICT DO NOTHING",
        event, ble, t, s, r);
  };
  for (unsigned n = 0; n < kUsers; ++n) {
    // About two thirds of the registered come; some walk-ins among the rest.
    const bool comes = n < kRegistered ? rng.next(3) != 0 : rng.next(4) == 0;
    if (comes) {
      const unsigned sightings = 1 + rng.next(6);
      for (unsigned k = 0; k < sightings; ++k) {
        checkIn("ev-big", bleOf(n), kT0 + static_cast<std::int64_t>(rng.next(8 * 3600)) * 1000 + rng.next(1000),
                scanners[rng.next(4)]);
      }
    }
    if (n % 7 == 3 && rng.next(2) == 0) {  // seen under the retired bleUuid (before regenerating)
      checkIn("ev-big", retiredBleOf(n), kT0 - 3'600'000 + rng.next(3'600'000), scanners[rng.next(4)]);
    }
    if (n % 5 == 0) checkIn("ev-other", bleOf(n), kT0 + n, "S1");  // another event: must not count
  }
  for (unsigned n = 0; n < 25; ++n) {
    const unsigned sightings = 1 + rng.next(3);
    for (unsigned k = 0; k < sightings; ++k) {
      checkIn("ev-big", unknownBle(n), kT0 + static_cast<std::int64_t>(rng.next(8 * 3600)) * 1000,
              scanners[rng.next(4)]);
    }
  }
  // A walk-in seen again a month later: a first sighting then would widen the buckets; this one
  // only moves lastSeen. User 298 arrives a month later for the first time: wider buckets.
  checkIn("ev-big", bleOf(kUsers - 1), kT0 + 31LL * 24 * 3'600'000, "S2");
  checkIn("ev-big", bleOf(kUsers - 2), kT0 + 30LL * 24 * 3'600'000 + 17, "S3");
  // Door staff (migration 0010): a registered person revoked, one checked in by hand, an unseen
  // non-registered user checked in by hand (a walk-in), one checked in, revoked and checked in again;
  // reasons that need escaping in JSON and CSV.
  const char* overrides[][5] = {
      {"0", "revoke", "door@example.org", "badge lent to a friend, \"not them\"", "2024-07-20T11:00:00Z"},
      {"1", "check_in", "door@example.org", "=phone battery dead", "2024-07-20T10:30:00.250Z"},
      {"262", "check_in", "cli:root", "on the paper list", "2024-07-20T10:45:00Z"},
      {"8", "check_in", "door@example.org", "first try", "2024-07-20T10:10:00Z"},
      {"8", "revoke", "second@example.org", "wrong person", "2024-07-20T10:20:00Z"},
      {"8", "check_in", "door@example.org", "名前 checked again", "2024-07-20T10:40:00Z"},
  };
  for (const auto& o : overrides) {
    tx.exec_params(
        "INSERT INTO check_in_overrides (event_id, user_id, action, admin_email, reason, at) "
        "VALUES ('ev-big', $1::uuid, $2, $3, $4, $5::timestamptz)",
        userId(static_cast<unsigned>(std::stoul(o[0]))), std::string{o[1]}, std::string{o[2]}, std::string{o[3]},
        std::string{o[4]});
  }
  tx.commit();
  pqxx::nontransaction analyze{c};
  analyze.exec("ANALYZE");
}

// More sightings after a first report: a new S2 receipt (earlier and later
// times for people already seen, a first sighting, an unknown device seen again
// and a new one) and S3 rows without a receipt.
void addMore(const TestDatabase& db, int round) {
  pqxx::connection c{db.conninfo()};
  pqxx::work tx{c};
  const auto r = tx.exec_params1(
                       "INSERT INTO sync_receipts (event_id, scanner_id, received_at, received) "
                       "VALUES ('ev-big', 'S2', '2024-07-20T13:00:00Z'::timestamptz + $1 * interval '1 minute', 9) "
                       "RETURNING id",
                       round)[0]
                     .as<std::int64_t>();
  auto checkIn = [&](const std::string& ble, std::int64_t t, const char* scanner, std::int64_t receipt) {
    tx.exec_params(
        "INSERT INTO check_ins (event_id, ble_uuid, check_in_time, scanner_id, receipt_id) "
        "VALUES ('ev-big', $1::uuid, $2, $3, nullif($4, 0)) ON CONFLICT DO NOTHING",
        ble, t, std::string{scanner}, receipt);
  };
  for (unsigned n = static_cast<unsigned>(round); n < kUsers; n += 11) {
    checkIn(bleOf(n), kT0 - 7'200'000 + n * 1000 + static_cast<unsigned>(round), "S2", r);  // earlier
    checkIn(bleOf(n), kT0 + 10 * 3'600'000 + n, "S2", r);                                   // later
    checkIn(bleOf(n), kT0 + 5 * 3'600'000 + n + static_cast<unsigned>(round), "S3", 0);     // no receipt
  }
  checkIn(unknownBle(3), kT0 + 123, "S2", r);
  checkIn(unknownBle(100 + static_cast<unsigned>(round)), kT0 + 456, "S2", r);
  checkIn(retiredBleOf(10), kT0 - 9'000'000, "S2", r);  // user 10's retired bleUuid
  tx.commit();
}

std::string goldenPath(const char* name) { return std::string{ATTENDANCE_SOURCE_DIR} + "/tests/core/" + name; }

std::string readFile(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void compareWithGolden(const std::string& actual, const char* name) {
  const std::string path = goldenPath(name);
  if (const char* update = std::getenv("ATTENDANCE_UPDATE_GOLDEN"); update != nullptr && std::string{update} == "1") {
    std::ofstream{path, std::ios::binary} << actual;
  }
  const std::string expected = readFile(path);
  ASSERT_FALSE(expected.empty()) << path;
  if (actual != expected) {
    std::size_t at = 0;
    while (at < actual.size() && at < expected.size() && actual[at] == expected[at]) ++at;
    const std::size_t from = at < 80 ? 0 : at - 80;
    FAIL() << name << " differs at byte " << at << "\n  actual:   " << actual.substr(from, 200)
           << "\n  expected: " << expected.substr(from, 200);
  }
}

TEST(ReportDb, JsonAndCsvMatchTheGoldenFiles) {
  TestDatabase db;
  auto pool = db.pool();
  seed(db);
  auto report = core::buildReport(*pool, "ev-big", kNow);
  ASSERT_TRUE(report);
  // Sanity checks a reader of the page would make, independent of the golden files.
  EXPECT_TRUE(report->synced);
  EXPECT_EQ(report->registered, static_cast<std::int64_t>(kRegistered));
  EXPECT_EQ(report->attended + report->noShows, report->registered);
  EXPECT_GT(report->attended, 100);
  EXPECT_GT(report->walkIns, 5);
  EXPECT_EQ(report->unknownDevices, 25);
  EXPECT_EQ(report->scanners.size(), 4U);
  EXPECT_GT(report->bucketWidth.count(), 15);  // widened by the month-long span
  EXPECT_EQ(report->manualCheckIns, 3);
  EXPECT_EQ(report->revoked, 1);
  EXPECT_EQ(report->audit.size(), 6U);
  compareWithGolden(core::renderReportJson(*report), "report_golden.json");
  compareWithGolden(core::renderReportCsv(*report), "report_golden.csv");

  // Another bucket width gives other buckets but the same rows.
  auto narrow = core::buildReport(*pool, "ev-other", kNow, core::ReportOptions{std::chrono::minutes{1}});
  ASSERT_TRUE(narrow);
  EXPECT_EQ(narrow->bucketWidth, std::chrono::minutes{1});
  compareWithGolden(core::renderReportJson(*narrow), "report_golden_other.json");
}

// The summary table (migration 0002) only changes speed: a report built while
// receipts are folded in step by step, one built while another session holds
// the fold lock (nothing folded, everything aggregated on the fly), and one
// built on a database that got all rows at once are identical.
TEST(ReportDb, FoldingReceiptsStepByStepGivesTheSameReport) {
  TestDatabase stepwise;
  auto pool = stepwise.pool();
  seed(stepwise);
  auto first = core::buildReport(*pool, "ev-big", kNow);
  ASSERT_TRUE(first);
  compareWithGolden(core::renderReportJson(*first), "report_golden.json");
  EXPECT_EQ(stepwise.scalar("SELECT count(*) FROM report_folded WHERE event_id = 'ev-big'"), "4");
  EXPECT_NE(stepwise.scalar("SELECT count(*) FROM report_seen WHERE event_id = 'ev-big'"), "0");

  addMore(stepwise, 1);
  std::string whileLocked;
  {
    pqxx::connection holder{stepwise.conninfo()};
    pqxx::nontransaction lock{holder};
    lock.exec("SELECT pg_advisory_lock(hashtext('attendance.report_fold'), hashtext('ev-big'))");
    auto locked = core::buildReport(*pool, "ev-big", kNow);
    ASSERT_TRUE(locked);
    whileLocked = core::renderReportJson(*locked);
    EXPECT_EQ(stepwise.scalar("SELECT count(*) FROM report_folded WHERE event_id = 'ev-big'"), "4");
    // Unlock explicitly: a closed connection's server process may still hold the
    // session lock for a moment, and the next report would then skip folding.
    lock.exec("SELECT pg_advisory_unlock(hashtext('attendance.report_fold'), hashtext('ev-big'))");
  }
  auto second = core::buildReport(*pool, "ev-big", kNow);
  ASSERT_TRUE(second);
  EXPECT_EQ(stepwise.scalar("SELECT count(*) FROM report_folded WHERE event_id = 'ev-big'"), "5");
  EXPECT_EQ(core::renderReportJson(*second), whileLocked);
  EXPECT_NE(core::renderReportJson(*second), core::renderReportJson(*first));
  addMore(stepwise, 2);
  auto third = core::buildReport(*pool, "ev-big", kNow);
  ASSERT_TRUE(third);

  TestDatabase atOnce;
  auto poolAtOnce = atOnce.pool();
  seed(atOnce);
  addMore(atOnce, 1);
  addMore(atOnce, 2);
  auto reference = core::buildReport(*poolAtOnce, "ev-big", kNow);
  ASSERT_TRUE(reference);
  EXPECT_EQ(core::renderReportJson(*third), core::renderReportJson(*reference));
  EXPECT_EQ(core::renderReportCsv(*third), core::renderReportCsv(*reference));
  // Read back from the summary alone, the same again.
  auto again = core::buildReport(*poolAtOnce, "ev-big", kNow);
  ASSERT_TRUE(again);
  EXPECT_EQ(core::renderReportJson(*again), core::renderReportJson(*reference));

  // Deleting the event (as the admin app does, check-ins first) clears the summary.
  {
    pqxx::connection c{atOnce.conninfo()};
    pqxx::work tx{c};
    tx.exec("DELETE FROM check_ins WHERE event_id = 'ev-big'");
    tx.exec("DELETE FROM events WHERE id = 'ev-big'");
    tx.commit();
  }
  EXPECT_EQ(atOnce.scalar("SELECT count(*) FROM report_seen"), "0");
  EXPECT_EQ(atOnce.scalar("SELECT count(*) FROM report_folded WHERE event_id = 'ev-big'"), "0");
  EXPECT_FALSE(core::buildReport(*poolAtOnce, "ev-big", kNow));
}

TEST(ReportDb, UnknownEventAndEmptyEvent) {
  TestDatabase db;
  auto pool = db.pool();
  auto missing = core::buildReport(*pool, "no-such-event", kNow);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), core::make_error_code(core::Errc::event_not_found));
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"ev-empty"}, "Empty", "", std::nullopt, std::nullopt}, kNow));
  auto empty = core::buildReport(*pool, "ev-empty", kNow);
  ASSERT_TRUE(empty);
  EXPECT_EQ(core::renderReportJson(*empty),
            "{\"event\":{\"id\":\"ev-empty\",\"name\":\"Empty\",\"venue\":\"\",\"startsAt\":null,\"endsAt\":null},"
            "\"generatedAt\":\"2024-07-20T12:53:20.000Z\",\"synced\":false,\"summary\":{\"registered\":0,"
            "\"attended\":0,\"noShows\":0,\"walkIns\":0,\"unknownDevices\":0,\"attendanceRate\":0.0000,"
            "\"manualCheckIns\":0,\"revoked\":0,\"erasedIds\":0},\"participants\":[],\"unknownDevices\":[],\"audit\":[]"
            ",\"scanners\":[]"
            ",\"arrivals\":{\"bucketMinutes\":15,"
            "\"buckets\":[]}}");
}

}  // namespace

// ReportCache and CachedReport against a real database: a hit is the same
// object without a rebuild; after any change that alters the report the cache
// answers a report equal to a fresh buildReport; least recently used events are
// dropped; concurrent misses build once; a deleted event is event_not_found.
#include "core/report_test_support.hpp"
#include "core/test_database.hpp"

#include <attendance/core/core.hpp>
#include <attendance/core/report_cache.hpp>

#include <attendance/support/clock.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <functional>
#include <latch>
#include <thread>
#include <vector>

namespace core = attendance::core;
using attendance::support::Uuid;
using namespace core::testing;  // the report tests' helpers and clock (report_test_support.hpp)

namespace {

// `participants` registered users (u1@…), the first half seen twice.
void seedEvent(const TestDatabase& db, const std::string& eventId, int participants) {
  pqxx::connection c{db.conninfo()};
  pqxx::work tx{c};
  tx.exec_params("INSERT INTO events (id, name, created_at) VALUES ($1, 'Event ' || $1, now())", eventId);
  tx.exec_params(
      "INSERT INTO users (id, email, display_name, ble_uuid, created_at) "
      "SELECT gen_random_uuid(), $1 || '-u' || g || '@example.org', 'User ' || g, gen_random_uuid(), now() "
      "FROM generate_series(1, $2) g",
      eventId, participants);
  tx.exec_params("INSERT INTO registrations SELECT $1, id, now() FROM users WHERE email LIKE $1 || '-u%'", eventId);
  const auto receipt = tx.exec_params1(
                             "INSERT INTO sync_receipts (event_id, scanner_id, received_at, received) "
                             "VALUES ($1, 'S1', now(), $2) RETURNING id",
                             eventId, participants)[0]
                           .as<std::int64_t>();
  tx.exec_params(
      "INSERT INTO check_ins (event_id, ble_uuid, check_in_time, scanner_id, receipt_id) "
      "SELECT $1, u.ble_uuid, $2::bigint + k * 60000 + (row_number() OVER ()), 'S1', $3 "
      "FROM (SELECT ble_uuid FROM users WHERE email LIKE $1 || '-u%' ORDER BY email LIMIT $4) u, "
      "generate_series(1, 2) k",
      eventId, kT0, receipt, participants / 2);
  tx.commit();
}

class ReportCacheTest : public ::testing::Test {
protected:
  void SetUp() override {
    pool = db.pool(true, 8);
    ASSERT_TRUE(core::createScanner(*pool, "S1", kNow));
    seedEvent(db, "ev-1", 40);
    seedEvent(db, "ev-2", 10);
    seedEvent(db, "ev-3", 10);
    execSql(db, "INSERT INTO scanner_assignments SELECT 'S1', id, now() FROM events");
  }

  std::string freshJson(const std::string& eventId) {
    auto r = core::buildReport(*pool, eventId, kNow);
    EXPECT_TRUE(r);
    return r ? core::renderReportJson(*r) : std::string{};
  }

  std::shared_ptr<const core::CachedReport> get(core::ReportCache& cache, const std::string& eventId) {
    auto r = cache.get(*pool, eventId, kNow);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : nullptr;
  }

  std::string userWithEmail(const std::string& email) {
    return db.scalar("SELECT id::text FROM users WHERE email = '" + email + "'");
  }

  TestDatabase db;
  std::unique_ptr<core::ConnectionPool> pool;
};

TEST_F(ReportCacheTest, HitIsTheSameObjectWithoutRebuilding) {
  core::ReportCache cache;
  const auto first = get(cache, "ev-1");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->report().registered, 40);
  EXPECT_EQ(first->report().attended, 20);
  const auto second = get(cache, "ev-1");
  EXPECT_EQ(second.get(), first.get());
  const auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 1U);
  EXPECT_EQ(stats.misses, 1U);
  EXPECT_EQ(stats.rebuilds, 1U);
  EXPECT_EQ(first->json(), freshJson("ev-1"));
}

TEST_F(ReportCacheTest, EveryChangeGivesARebuiltReportEqualToAFreshOne) {
  core::ReportCache cache;
  auto previous = get(cache, "ev-1");
  ASSERT_TRUE(previous);
  std::string bobId;
  const std::string adaId = userWithEmail("ev-1-u1@example.org");
  const auto adaBle = *Uuid::parse(db.scalar("SELECT ble_uuid::text FROM users WHERE email = 'ev-1-u1@example.org'"));
  const std::vector<std::pair<const char*, std::function<void()>>> changes = {
      {"ingest of a new batch",
       [&] {
         ASSERT_TRUE(
             core::ingestBatch(*pool, scannerBatch("ev-1", {{adaBle, kT0 + 7}, {numberedUuid(7), kT0 + 1}}), kNow));
       }},
      {"ingest of an all-duplicate batch",
       [&] {
         auto r = core::ingestBatch(*pool, scannerBatch("ev-1", {{adaBle, kT0 + 7}}), kNow);
         ASSERT_TRUE(r);
         EXPECT_EQ(r->inserted, 0U);
       }},
      {"performCheckIn without a receipt",
       [&] {
         core::CheckInRecord rec;
         rec.bleUuid = numberedUuid(8);
         rec.checkInTimeMs = kT0 + 5;
         rec.scannerId = "S2";
         ASSERT_TRUE(core::performCheckIn(*pool, "ev-1", rec));
       }},
      {"a new user owning a seen bleUuid",
       [&] {
         auto bob =
             core::createUser(*pool, {"bob@example.org", "Bob", std::nullopt}, core::AuthConfig::forTests(), kNow);
         ASSERT_TRUE(bob);
         bobId = bob->id;
         execSql(db,
                 "UPDATE users SET ble_uuid = '" + numberedUuid(7).toString() + "' WHERE email = 'bob@example.org'");
       }},
      {"register", [&] { ASSERT_TRUE(core::registerForEvent(*pool, "ev-1", bobId, kNow)); }},
      {"unregister", [&] { ASSERT_TRUE(core::unregisterFromEvent(*pool, "ev-1", bobId)); }},
      {"rename a user",
       [&] { execSql(db, "UPDATE users SET display_name = 'Ada' WHERE email = 'ev-1-u1@example.org'"); }},
      {"regenerate a bleUuid", [&] { ASSERT_TRUE(core::regenerateBleUuid(*pool, adaId)); }},
      {"edit the event", [&] { execSql(db, "UPDATE events SET venue = 'Room 2' WHERE id = 'ev-1'"); }},
  };
  std::uint64_t rebuilds = cache.stats().rebuilds;
  for (const auto& [what, change] : changes) {
    SCOPED_TRACE(what);
    change();
    const auto now = get(cache, "ev-1");
    ASSERT_TRUE(now);
    EXPECT_NE(now.get(), previous.get());
    EXPECT_NE(now->version(), previous->version());
    EXPECT_EQ(cache.stats().rebuilds, ++rebuilds);
    const auto fresh = freshJson("ev-1");
    EXPECT_EQ(now->json(), fresh);
    EXPECT_EQ(core::renderReportJson(now->report()), fresh);
    EXPECT_NE(now->json(), previous->json());
    // Unchanged since: a hit.
    EXPECT_EQ(get(cache, "ev-1").get(), now.get());
    previous = now;
  }
  EXPECT_EQ(previous->report().event.venue, "Room 2");
}

TEST_F(ReportCacheTest, LeastRecentlyUsedEventIsDropped) {
  core::ReportCache cache{core::ReportCache::Options{2}};
  const auto one = get(cache, "ev-1");
  (void)get(cache, "ev-2");
  EXPECT_EQ(get(cache, "ev-1").get(), one.get());  // hit; ev-1 is now the most recent
  (void)get(cache, "ev-3");                        // drops ev-2
  EXPECT_EQ(cache.stats().rebuilds, 3U);
  EXPECT_EQ(get(cache, "ev-1").get(), one.get());
  EXPECT_EQ(cache.stats().rebuilds, 3U);
  (void)get(cache, "ev-2");  // rebuilt; drops ev-3
  EXPECT_EQ(cache.stats().rebuilds, 4U);
  (void)get(cache, "ev-3");
  EXPECT_EQ(cache.stats().rebuilds, 5U);
  EXPECT_EQ(cache.stats().hits, 2U);
}

TEST_F(ReportCacheTest, MaxEventsZeroNeverCaches) {
  core::ReportCache cache{core::ReportCache::Options{0}};
  const auto a = get(cache, "ev-2");
  const auto b = get(cache, "ev-2");
  ASSERT_TRUE(a && b);
  EXPECT_NE(a.get(), b.get());
  EXPECT_EQ(a->json(), b->json());
  EXPECT_EQ(cache.stats().hits, 0U);
  EXPECT_EQ(cache.stats().rebuilds, 2U);
  EXPECT_EQ(cache.refresh(*pool, kNow), 0U);
}

TEST_F(ReportCacheTest, ConcurrentGetsOfOneEventBuildOnce) {
  seedEvent(db, "ev-big", 3000);  // a build takes a while; the version query does not
  core::ReportCache cache;
  constexpr int kThreads = 6;
  const auto got = core::testing::concurrentGets(cache, *pool, "ev-big", kNow, kThreads);
  for (const auto& g : got) {
    ASSERT_TRUE(g);
    EXPECT_EQ(g.get(), got[0].get());
  }
  const auto stats = cache.stats();
  EXPECT_EQ(stats.rebuilds, 1U);
  EXPECT_EQ(stats.hits + stats.misses, static_cast<std::uint64_t>(kThreads));
  EXPECT_EQ(got[0]->report().registered, 3000);

  // The lazily derived parts, asked for by several threads at once, are computed once.
  std::vector<const std::string*> jsons(kThreads);
  std::vector<core::ReportSelection> pages(kThreads);
  std::vector<std::thread> threads;
  std::latch again{kThreads};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      again.arrive_and_wait();
      jsons[static_cast<std::size_t>(i)] = &got[0]->json();
      core::ReportQuery q;
      q.sort = core::ReportSort::name;
      q.descending = true;
      pages[static_cast<std::size_t>(i)] = got[0]->select(q);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(jsons[static_cast<std::size_t>(i)], jsons[0]);
    EXPECT_EQ(pages[static_cast<std::size_t>(i)].rows, pages[0].rows);
  }
  EXPECT_EQ(*jsons[0], core::renderReportJson(got[0]->report()));
}

TEST_F(ReportCacheTest, CachedPagesEqualThePureSelection) {
  core::ReportCache cache;
  const auto cached = get(cache, "ev-1");
  ASSERT_TRUE(cached);
  EXPECT_EQ(&cached->csv(), &cached->csv());
  EXPECT_EQ(cached->csv(), core::renderReportCsv(cached->report()));
  for (const auto sort : {core::ReportSort::report, core::ReportSort::name, core::ReportSort::first_seen}) {
    for (const bool descending : {false, true}) {
      for (int round = 0; round < 2; ++round) {  // the second one reuses the kept order
        core::ReportQuery q;
        q.sort = sort;
        q.descending = descending;
        q.filter = core::ReportFilter::no_show;
        q.search = "USER 3";  // no-shows: users 3, 30-39 (the first 20 by email were seen)
        q.offset = 1;
        q.limit = 5;
        const auto pure = core::selectParticipants(cached->report(), q);
        EXPECT_GT(pure.total, 0U);
        EXPECT_EQ(cached->select(q).rows, pure.rows);
        EXPECT_EQ(cached->pageJson(q), core::renderReportPageJson(cached->report(), q, pure));
      }
    }
  }
}

TEST_F(ReportCacheTest, RefreshRebuildsChangedEventsAndDropsDeletedOnes) {
  core::ReportCache cache;
  const auto one = get(cache, "ev-1");
  const auto two = get(cache, "ev-2");
  EXPECT_EQ(cache.refresh(*pool, kNow), 0U);
  ASSERT_TRUE(core::ingestBatch(*pool, scannerBatch("ev-1", {{numberedUuid(9), kT0}}), kNow));
  EXPECT_EQ(cache.refresh(*pool, kNow), 1U);
  const auto rebuilds = cache.stats().rebuilds;
  const auto warm = get(cache, "ev-1");
  EXPECT_NE(warm.get(), one.get());
  EXPECT_EQ(cache.stats().rebuilds, rebuilds);  // refresh did it
  EXPECT_EQ(warm->json(), freshJson("ev-1"));

  execSql(db, "DELETE FROM check_ins WHERE event_id = 'ev-2'; DELETE FROM events WHERE id = 'ev-2'");
  EXPECT_EQ(cache.refresh(*pool, kNow), 0U);
  auto gone = cache.get(*pool, "ev-2", kNow);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error(), core::make_error_code(core::Errc::event_not_found));
}

TEST_F(ReportCacheTest, DeletedEventIsNotFound) {
  core::ReportCache cache;
  ASSERT_TRUE(get(cache, "ev-3"));
  execSql(db, "DELETE FROM check_ins WHERE event_id = 'ev-3'; DELETE FROM events WHERE id = 'ev-3'");
  auto r = cache.get(*pool, "ev-3", kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), core::make_error_code(core::Errc::event_not_found));
  auto never = cache.get(*pool, "no-such-event", kNow);
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error(), core::make_error_code(core::Errc::event_not_found));
}

}  // namespace

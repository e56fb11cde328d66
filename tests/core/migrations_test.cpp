#include "core/test_database.hpp"

#include <attendance/core/events.hpp>
#include <attendance/core/error.hpp>
#include <attendance/core/migrations.hpp>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace core = attendance::core;
using core::testing::TestDatabase;

namespace {

TEST(Migrations, FreshDatabaseIsOutdatedThenCurrent) {
  TestDatabase db;
  auto pool = db.pool(/*migrated=*/false);
  auto before = core::schemaStatus(*pool);
  ASSERT_TRUE(before) << before.error().message();
  EXPECT_EQ(before->current, 0);
  EXPECT_EQ(before->expected, core::expectedSchemaVersion());
  EXPECT_GE(core::expectedSchemaVersion(), 1);
  EXPECT_FALSE(before->upToDate());

  auto m = core::migrate(*pool);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->from, 0);
  EXPECT_EQ(m->to, core::expectedSchemaVersion());
  EXPECT_EQ(m->applied(), core::embeddedMigrationCount());
  auto after = core::schemaStatus(*pool);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->upToDate());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name IN "
                      "('users','events','registrations','scanners','check_ins','sync_receipts',"
                      "'participant_sessions','retired_ble_uuids')"),
            "8");
}

TEST(Migrations, ReRunIsANoOp) {
  TestDatabase db;
  auto pool = db.pool(false);
  ASSERT_TRUE(core::migrate(*pool));
  auto again = core::migrate(*pool);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->applied(), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM attendance_schema_migrations"),
            std::to_string(core::embeddedMigrationCount()));
}

TEST(Migrations, ConcurrentMigratorsDoNotRace) {
  TestDatabase db;
  constexpr int kMigrators = 4;
  std::vector<std::unique_ptr<core::ConnectionPool>> pools;
  for (int i = 0; i < kMigrators; ++i) pools.push_back(db.pool(false, 1));
  std::vector<attendance::Result<core::MigrateOutcome>> results(kMigrators, core::MigrateOutcome{});
  std::vector<std::thread> threads;
  for (int i = 0; i < kMigrators; ++i) {
    threads.emplace_back(
        [&, i] { results[static_cast<std::size_t>(i)] = core::migrate(*pools[static_cast<std::size_t>(i)]); });
  }
  for (auto& t : threads) t.join();
  int applied = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().message();
    applied += r->applied();
  }
  // Exactly one migrator did the work; the others found it done.
  EXPECT_EQ(applied, core::embeddedMigrationCount());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM attendance_schema_migrations"),
            std::to_string(core::embeddedMigrationCount()));
}

TEST(Migrations, DatabaseNewerThanBinaryIsRefused) {
  TestDatabase db;
  auto pool = db.pool(true);
  (void)db.scalar(
      "INSERT INTO attendance_schema_migrations (version, name) VALUES (9999, 'from_the_future') RETURNING 1");
  auto status = core::schemaStatus(*pool);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->newerThanBinary());
  auto m = core::migrate(*pool);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), core::Errc::schema_outdated);
}

TEST(Migrations, UnmigratedDatabaseAnswersSchemaOutdatedNotACrash) {
  TestDatabase db;
  auto pool = db.pool(false);
  // A query on missing tables maps to schema_outdated (503 + "run migrate").
  auto r = core::listEvents(*pool);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), core::Errc::schema_outdated);
}

}  // namespace

#include "core/test_database.hpp"

#include <attendance/core/deployment.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/users.hpp>
#include <attendance/support/clock.hpp>

#include <gtest/gtest.h>

namespace core = attendance::core;
using core::testing::TestDatabase;

namespace {

const auto kNow = attendance::support::fromEpochMillis(1721480000000);

// Issue 11 §1: bleUuid = namespace ‖ 6 random bytes, for new and regenerated ids.
TEST(DeploymentBleUuids, NewAndRegeneratedBleUuidsAreInsideTheNamespace) {
  TestDatabase db;
  auto pool = db.pool();
  const auto ns = core::readBleNamespace(*pool).value();
  const auto auth = core::AuthConfig::forTests();
  auto ada = core::createUser(*pool, {"ada@example.org", "Ada", std::nullopt}, auth, kNow);
  auto bob = core::createParticipant(*pool, {"bob@example.org", "Bob", std::string{"long enough"}}, auth, kNow);
  ASSERT_TRUE(ada && bob);
  EXPECT_TRUE(ns.contains(ada->bleUuid)) << ada->bleUuid.toString() << " vs " << ns.toHex();
  EXPECT_TRUE(ns.contains(bob->user.bleUuid)) << bob->user.bleUuid.toString();
  EXPECT_NE(ada->bleUuid, bob->user.bleUuid);
  auto fresh = core::regenerateBleUuid(*pool, ada->id);
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(ns.contains(*fresh)) << fresh->toString();
  EXPECT_NE(*fresh, ada->bleUuid);
}

TEST(DeploymentBleUuids, BleUuidsFromBeforeTheNamespaceKeepWorking) {
  TestDatabase db;
  auto pool = db.pool();
  // A participant created before migration 0007: a random v4 bleUuid.
  (void)db.scalar(
      "INSERT INTO users (id, email, display_name, ble_uuid, created_at) VALUES "
      "('11111111-2222-4333-8444-555555555555', 'old@example.org', 'Old', "
      "'a1b2c3d4-e5f6-4789-8abc-def012345678', now()) RETURNING 1");
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"ev"}, "Ev", "", std::nullopt, std::nullopt}, kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev", "11111111-2222-4333-8444-555555555555", kNow));
  auto roster = core::roster(*pool, "ev");
  ASSERT_TRUE(roster);
  ASSERT_EQ(roster->size(), 1U);
  EXPECT_EQ((*roster)[0].toString(), "a1b2c3d4-e5f6-4789-8abc-def012345678");
  auto d = core::readDeployment(*pool);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->participants, 1);
  EXPECT_EQ(d->participantsOutsideNamespace, 1);
}

TEST(DeploymentBleUuids, TheDatabaseRefusesTheSameBleUuidTwice) {
  TestDatabase db;
  auto pool = db.pool();
  auto ada = core::createUser(*pool, {"ada@example.org", "Ada", std::nullopt}, core::AuthConfig::forTests(), kNow);
  ASSERT_TRUE(ada);
  // The UNIQUE constraint on users.ble_uuid (migration 0001) is what guarantees it.
  EXPECT_THROW((void)db.scalar("INSERT INTO users (id, email, display_name, ble_uuid, created_at) VALUES "
                               "('11111111-2222-4333-8444-555555555555', 'twin@example.org', 'Twin', '" +
                               ada->bleUuid.toString() + "', now()) RETURNING 1"),
               std::exception);
}

}  // namespace

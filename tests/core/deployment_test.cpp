#include "core/test_database.hpp"

#include <attendance/core/deployment.hpp>
#include <attendance/core/migrations.hpp>

#include <gtest/gtest.h>

namespace core = attendance::core;
using core::testing::TestDatabase;

namespace {

// Issue 11 §1: migrate gives the deployment its namespace once; re-runs keep it.
TEST(Deployment, MigrateCreatesOneRandomNamespaceThatReRunsKeep) {
  TestDatabase db;
  auto pool = db.pool(/*migrated=*/false);
  ASSERT_TRUE(core::migrate(*pool));
  auto first = core::readDeployment(*pool);
  ASSERT_TRUE(first) << first.error().message();
  const std::string hex = first->bleNamespace.toHex();
  EXPECT_EQ(hex.size(), 20U);
  EXPECT_NE(hex, std::string(20, '0'));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM deployment"), "1");
  EXPECT_EQ(db.scalar("SELECT encode(ble_namespace, 'hex') FROM deployment"), hex);

  ASSERT_TRUE(core::migrate(*pool));
  auto again = core::readDeployment(*pool);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->bleNamespace, first->bleNamespace);
}

TEST(Deployment, TwoDeploymentsGetDifferentNamespaces) {
  TestDatabase a;
  TestDatabase b;
  auto na = core::readDeployment(*a.pool());
  auto nb = core::readDeployment(*b.pool());
  ASSERT_TRUE(na && nb);
  EXPECT_NE(na->bleNamespace, nb->bleNamespace);
}

TEST(Deployment, TheDatabaseHoldsExactlyOneNamespaceOfTenBytes) {
  TestDatabase db;
  auto pool = db.pool();
  EXPECT_THROW((void)db.scalar("INSERT INTO deployment (ble_namespace, created_at) VALUES "
                               "('\\x00112233445566778899'::bytea, now()) RETURNING 1"),
               std::exception);
  EXPECT_THROW((void)db.scalar("UPDATE deployment SET ble_namespace = '\\x0011'::bytea RETURNING 1"), std::exception);
}

}  // namespace

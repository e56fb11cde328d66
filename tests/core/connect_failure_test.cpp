// What the command-line tools print after "database unavailable: " (connect_failure.hpp).
#include <attendance/core/connect_failure.hpp>
#include <attendance/core/database.hpp>
#include <attendance/core/error.hpp>

#include <gtest/gtest.h>

namespace core = attendance::core;

TEST(ConnectFailure, AServerRefusalIsItsReasonAlone) {
  EXPECT_EQ(core::describeConnectFailure(
                "connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: FATAL:  role \"root\" "
                "does not exist\n",
                ""),
            "role \"root\" does not exist");
  EXPECT_EQ(core::describeConnectFailure("connection to server at \"localhost\" (127.0.0.1), port 5432 failed: FATAL:  "
                                         "password authentication failed for user \"att\"\n",
                                         "hunter2"),
            "password authentication failed for user \"att\"");
}

TEST(ConnectFailure, ANetworkFailureKeepsItsFirstLineOnly) {
  EXPECT_EQ(core::describeConnectFailure("connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n"
                                         "\tIs the server running on that host and accepting TCP/IP connections?\n",
                                         ""),
            "connection to server at \"127.0.0.1\", port 1 failed: Connection refused");
}

TEST(ConnectFailure, ThePasswordNeverAppears) {
  EXPECT_EQ(core::describeConnectFailure("FATAL:  database \"s3cret\" does not exist", "s3cret"),
            "database \"***\" does not exist");
}

// The reason belongs to the pool that failed: a tool holding two pools (or a
// server holding one beside a tool's) never reads another pool's failure.
TEST(ConnectFailure, EachPoolKeepsItsOwnReason) {
  core::DatabaseConfig closedPort;
  closedPort.conninfo = "host=127.0.0.1 port=1";
  core::ConnectionPool refused{closedPort};
  core::ConnectionPool untouched{closedPort};
  EXPECT_EQ(refused.lastConnectFailure(), "");

  const auto lease = refused.acquire();
  ASSERT_FALSE(lease);
  EXPECT_EQ(lease.error(), core::Errc::unavailable);
  EXPECT_NE(refused.lastConnectFailure().find("Connection refused"), std::string::npos) << refused.lastConnectFailure();
  EXPECT_EQ(untouched.lastConnectFailure(), "");
}

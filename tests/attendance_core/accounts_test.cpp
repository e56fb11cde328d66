#include "attendance_core/test_database.hpp"

#include <attendance/attendance_core/core.hpp>

#include <attendance/support/clock.hpp>
#include <gtest/gtest.h>

#include <thread>

namespace core = attendance::core;
using attendance::support::fromEpochMillis;
using core::testing::TestDatabase;

namespace {

const auto kNow = fromEpochMillis(1721480000000);

class Accounts : public ::testing::Test {
protected:
  void SetUp() override { pool = db.pool(); }
  TestDatabase db;
  std::unique_ptr<core::ConnectionPool> pool;
  core::AuthConfig auth = core::AuthConfig::forTests();
};

TEST_F(Accounts, ScannerKeyIsShownOnceAndStoredHashed) {
  auto created = core::createScanner(*pool, "Entrance-Scanner-01", kNow);
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_EQ(created->scannerId, "Entrance-Scanner-01");
  EXPECT_EQ(created->apiKey.rfind("att_", 0), 0U);
  EXPECT_EQ(created->apiKey.size(), 47U);
  EXPECT_EQ(created->apiKey.rfind(created->keyPrefix, 0), 0U);
  // Nothing stored contains the key itself.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM scanners WHERE key_hash::text LIKE '%" + created->apiKey.substr(12) +
                      "%' OR key_prefix = '" + created->apiKey + "'"),
            "0");
  auto who = core::authenticateScanner(*pool, created->apiKey);
  ASSERT_TRUE(who);
  EXPECT_EQ(*who, "Entrance-Scanner-01");

  auto dup = core::createScanner(*pool, "Entrance-Scanner-01", kNow);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error(), core::Errc::conflict);
  auto bad = core::createScanner(*pool, "no spaces allowed", kNow);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), core::Errc::invalid_argument);
}

TEST_F(Accounts, UnknownWrongAndRevokedKeysAreRefused) {
  auto a = core::createScanner(*pool, "A", kNow);
  auto b = core::createScanner(*pool, "B", kNow);
  ASSERT_TRUE(a && b);
  std::string tampered = a->apiKey;
  tampered.back() = tampered.back() == 'x' ? 'y' : 'x';
  for (const std::string& key : {std::string{}, std::string{"Bearer"}, tampered, a->apiKey + "x"}) {
    auto r = core::authenticateScanner(*pool, key);
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.error(), core::Errc::unauthorized);
  }
  ASSERT_TRUE(core::revokeScanner(*pool, "A", kNow));
  auto revoked = core::authenticateScanner(*pool, a->apiKey);
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error(), core::Errc::unauthorized);
  EXPECT_TRUE(core::authenticateScanner(*pool, b->apiKey));  // others unaffected
  auto missing = core::revokeScanner(*pool, "nope", kNow);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), core::Errc::scanner_not_found);

  auto list = core::listScanners(*pool);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2U);
  EXPECT_EQ((*list)[0].scannerId, "A");
  ASSERT_TRUE((*list)[0].revokedAt.has_value());
  EXPECT_EQ(*(*list)[0].revokedAt, kNow);
  EXPECT_FALSE((*list)[1].revokedAt.has_value());
  EXPECT_EQ((*list)[1].keyPrefix, b->keyPrefix);
}

TEST_F(Accounts, ParticipantSignUpLoginAndTokens) {
  auto created = core::createParticipant(*pool, {"Ada@Example.org", "Ada", std::string{"correct horse"}}, auth, kNow);
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_FALSE(created->user.bleUuid.toString().empty());
  EXPECT_EQ(created->session.expiresAt, kNow + auth.tokenLifetime);
  EXPECT_EQ(db.scalar("SELECT left(password_hash, 10) FROM users"), "$argon2id$");

  auto me = core::authenticateToken(*pool, created->session.token, kNow);
  ASSERT_TRUE(me);
  EXPECT_EQ(me->id, created->user.id);
  EXPECT_EQ(me->email, "Ada@Example.org");

  // Email is unique regardless of case.
  auto again = core::createParticipant(*pool, {"ada@example.ORG", "Other", std::string{"something else"}}, auth, kNow);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), core::Errc::conflict);

  auto wrong = core::createSession(*pool, "ada@example.org", "wrong password", auth, kNow);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), core::Errc::unauthorized);
  auto unknown = core::createSession(*pool, "nobody@example.org", "correct horse", auth, kNow);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error(), core::Errc::unauthorized);

  auto login = core::createSession(*pool, "ADA@example.org", "correct horse", auth, kNow);
  ASSERT_TRUE(login);
  EXPECT_NE(login->token, created->session.token);
  EXPECT_TRUE(core::authenticateToken(*pool, login->token, kNow));

  // Expired tokens are refused.
  auto expired = core::authenticateToken(*pool, login->token, kNow + auth.tokenLifetime + std::chrono::seconds{1});
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error(), core::Errc::unauthorized);
  // Logout ends a session.
  ASSERT_TRUE(core::revokeSession(*pool, login->token));
  EXPECT_FALSE(core::authenticateToken(*pool, login->token, kNow));
  EXPECT_FALSE(core::authenticateToken(*pool, "atp_garbage", kNow));
  // Tokens are stored hashed.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM participant_sessions WHERE encode(token_hash, 'escape') LIKE '%" +
                      created->session.token.substr(4, 20) + "%'"),
            "0");
}

TEST_F(Accounts, DisabledUserCannotLogInUseTokensOrAppearInTheRoster) {
  auto created = core::createParticipant(*pool, {"dora@example.org", "Dora", std::string{"long enough"}}, auth, kNow);
  ASSERT_TRUE(created);
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"ev"}, "Ev", "", std::nullopt, std::nullopt}, kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev", created->user.id, kNow));
  ASSERT_EQ(core::roster(*pool, "ev")->size(), 1U);
  (void)db.scalar("UPDATE users SET disabled = true RETURNING 1");
  auto login = core::createSession(*pool, "dora@example.org", "long enough", auth, kNow);
  ASSERT_FALSE(login);
  EXPECT_EQ(login.error(), core::Errc::forbidden);
  auto token = core::authenticateToken(*pool, created->session.token, kNow);
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error(), core::Errc::unauthorized);
  EXPECT_TRUE(core::roster(*pool, "ev")->empty());
}

TEST_F(Accounts, AdminCreatedUserWithoutPasswordCannotLogIn) {
  auto u = core::createUser(*pool, {"cy@example.org", "Cy", std::nullopt}, auth, kNow);
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->hasPassword);
  auto s = core::createSession(*pool, "cy@example.org", "anything at all", auth, kNow);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), core::Errc::unauthorized);
  EXPECT_EQ(core::validateNewUser({"no-at-sign", "X", std::nullopt}, auth).value_or(""),
            "email must look like name@example.org (3-254 characters, one @, no spaces)");
  EXPECT_TRUE(core::validateNewUser({"a@b", "X", std::string{"short"}}, auth).has_value());
  auto bad = core::createUser(*pool, {"a@b", "", std::nullopt}, auth, kNow);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), core::Errc::invalid_argument);
}

TEST_F(Accounts, RegistrationsAndUpcomingEvents) {
  auto u = core::createUser(*pool, {"ada@example.org", "Ada", std::nullopt}, auth, kNow);
  ASSERT_TRUE(u);
  const auto hour = std::chrono::hours{1};
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"past"}, "Past", "", kNow - 3 * hour, kNow - 2 * hour}, kNow));
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"soon"}, "Soon", "", kNow + hour, kNow + 2 * hour}, kNow));
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"now"}, "Now", "", kNow - hour, kNow + hour}, kNow));
  auto generated = core::createEvent(*pool, {std::nullopt, "Undated", "", std::nullopt, std::nullopt}, kNow);
  ASSERT_TRUE(generated);
  EXPECT_EQ(generated->id.rfind("ev-", 0), 0U);
  auto endsBeforeStart = core::createEvent(*pool, {std::nullopt, "X", "", kNow, kNow - hour}, kNow);
  ASSERT_FALSE(endsBeforeStart);
  EXPECT_EQ(endsBeforeStart.error(), core::Errc::invalid_argument);

  auto first = core::registerForEvent(*pool, "soon", u->id, kNow);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, core::RegistrationOutcome::created);
  auto second = core::registerForEvent(*pool, "soon", u->id, kNow);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, core::RegistrationOutcome::already_registered);
  auto noEvent = core::registerForEvent(*pool, "missing", u->id, kNow);
  ASSERT_FALSE(noEvent);
  EXPECT_EQ(noEvent.error(), core::Errc::event_not_found);
  auto noUser = core::registerForEvent(*pool, "soon", "00000000-0000-4000-8000-000000000000", kNow);
  ASSERT_FALSE(noUser);
  EXPECT_EQ(noUser.error(), core::Errc::user_not_found);

  auto upcoming = core::listUpcomingEvents(*pool, kNow, u->id);
  ASSERT_TRUE(upcoming);
  std::vector<std::string> ids;
  for (const auto& e : *upcoming) ids.push_back(e.event.id + (e.registered ? "*" : ""));
  EXPECT_EQ(ids, (std::vector<std::string>{"now", "soon*", generated->id}));

  auto roster = core::roster(*pool, "soon");
  ASSERT_TRUE(roster);
  ASSERT_EQ(roster->size(), 1U);
  EXPECT_EQ((*roster)[0], u->bleUuid);

  auto removed = core::unregisterFromEvent(*pool, "soon", u->id);
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
  auto removedAgain = core::unregisterFromEvent(*pool, "soon", u->id);
  ASSERT_TRUE(removedAgain);
  EXPECT_FALSE(*removedAgain);
  EXPECT_TRUE(core::roster(*pool, "soon")->empty());
  EXPECT_EQ(core::roster(*pool, "missing").error(), core::Errc::event_not_found);
}

TEST(Pool, ExhaustedPoolAnswersUnavailableAfterTheTimeout) {
  TestDatabase db;
  auto pool = db.pool(true, 1);
  auto held = pool->acquire();
  ASSERT_TRUE(held);
  EXPECT_EQ(pool->inUse(), 1U);
  const auto start = std::chrono::steady_clock::now();
  auto second = pool->acquire(std::chrono::milliseconds{200});
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), core::Errc::unavailable);
  EXPECT_GE(waited, std::chrono::milliseconds{200});
  // A waiter is woken as soon as the connection comes back.
  std::thread releaser{[lease = std::move(*held)]() mutable {
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    auto gone = std::move(lease);
  }};
  auto third = pool->acquire(std::chrono::milliseconds{5000});
  releaser.join();
  ASSERT_TRUE(third);
}

TEST(Pool, UnreachableDatabaseIsUnavailableNotACrash) {
  core::DatabaseConfig cfg;
  cfg.conninfo = "host=127.0.0.1 port=1 dbname=nothing";
  cfg.connectTimeoutSeconds = 2;
  core::ConnectionPool pool{cfg};
  auto r = core::listEvents(pool);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), core::Errc::unavailable);
  EXPECT_EQ(pool.inUse(), 0U);
}

TEST(Pool, RecoversAfterConnectionsAreKilled) {
  TestDatabase db;
  auto pool = db.pool(true, 2);
  ASSERT_TRUE(core::listEvents(*pool));
  // An administrator (or a restart) kills every session of this database.
  (void)db.scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + db.name() +
                  "' AND pid <> pg_backend_pid()");
  int failures = 0;
  bool recovered = false;
  for (int attempt = 0; attempt < 3 && !recovered; ++attempt) {
    auto r = core::listEvents(*pool);
    if (r) {
      recovered = true;
    } else {
      EXPECT_EQ(r.error(), core::Errc::unavailable);
      ++failures;
    }
  }
  EXPECT_TRUE(recovered);
  EXPECT_LE(failures, 1);
}

}  // namespace

#include "core/test_database.hpp"

#include <attendance/core/core.hpp>

#include <attendance/support/clock.hpp>
#include <gtest/gtest.h>

#include <map>
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
  // Right prefix and length, but bytes no key has: its prefix is looked up as text,
  // and PostgreSQL would refuse the invalid UTF-8 with an error (a 500, issue 9).
  const std::string notUtf8 = "att_\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF" + a->apiKey.substr(12);
  for (const std::string& key : {std::string{}, std::string{"Bearer"}, tampered, a->apiKey + "x", notUtf8}) {
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
  EXPECT_EQ(core::validateNewUser({"a\xC3@b.org", "X", std::nullopt}, auth).value_or(""), "email is not valid UTF-8");
  EXPECT_EQ(core::validateNewUser({"a@b.org", "X\xED\xA0\x80", std::nullopt}, auth).value_or(""),
            "display name is not valid UTF-8");
  auto notUtf8 = core::createSession(*pool, "cy\xFF@example.org", "anything at all", auth, kNow);
  ASSERT_FALSE(notUtf8);
  EXPECT_EQ(notUtf8.error(), core::Errc::unauthorized);
  auto noUser = core::userIdByEmail(*pool, "cy\xFF@example.org");
  ASSERT_FALSE(noUser);
  EXPECT_EQ(noUser.error(), core::Errc::user_not_found);
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

// Stores check-ins through the real ingest path, as scanner `scannerId`.
void checkIn(core::ConnectionPool& pool, const std::string& eventId, const std::string& scannerId,
             const std::vector<std::pair<attendance::support::Uuid, std::int64_t>>& sightings) {
  core::IngestRequest req;
  req.eventId = eventId;
  req.scannerId = scannerId;
  for (const auto& [uuid, ms] : sightings) {
    req.records.push_back({req.records.size(), uuid, ms, scannerId});
  }
  ASSERT_TRUE(core::assignScanner(pool, scannerId, eventId, kNow));
  auto r = core::ingestBatch(pool, req, kNow);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->rejected.empty());
}

constexpr std::int64_t kT0 = 1721471400000;  // 2024-07-20T10:30:00Z, before kNow

TEST_F(Accounts, UpdateEventReplacesFieldsAndRefusesBadInput) {
  const auto hour = std::chrono::hours{1};
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"ev"}, "Old", "Hall A", kNow, kNow + hour}, kNow));
  auto updated = core::updateEvent(*pool, "ev", {"New name", "Hall B", kNow + hour, kNow + 3 * hour});
  ASSERT_TRUE(updated) << updated.error().message();
  auto stored = core::getEvent(*pool, "ev");
  ASSERT_TRUE(stored);
  for (const core::Event* e : {&*updated, &*stored}) {
    EXPECT_EQ(e->id, "ev");
    EXPECT_EQ(e->name, "New name");
    EXPECT_EQ(e->venue, "Hall B");
    EXPECT_EQ(e->startsAt, kNow + hour);
    EXPECT_EQ(e->endsAt, kNow + 3 * hour);
    EXPECT_EQ(e->createdAt, kNow);
  }
  // Times can be cleared.
  auto undated = core::updateEvent(*pool, "ev", {"New name", "", std::nullopt, std::nullopt});
  ASSERT_TRUE(undated);
  EXPECT_FALSE(core::getEvent(*pool, "ev")->startsAt.has_value());
  EXPECT_FALSE(core::getEvent(*pool, "ev")->endsAt.has_value());

  const std::vector<core::EventEdit> bad{{"", "", std::nullopt, std::nullopt},
                                         {std::string(201, 'x'), "", std::nullopt, std::nullopt},
                                         {"Ok", std::string(201, 'v'), std::nullopt, std::nullopt},
                                         {"Ok", "", kNow, kNow - hour},
                                         {"Ok\xFF", "", std::nullopt, std::nullopt},
                                         {"Ok", "Hall \xC3", std::nullopt, std::nullopt}};
  for (const auto& edit : bad) {
    auto r = core::updateEvent(*pool, "ev", edit);
    ASSERT_FALSE(r) << edit.name;
    EXPECT_EQ(r.error(), core::Errc::invalid_argument);
  }
  EXPECT_EQ(core::getEvent(*pool, "ev")->name, "New name");  // refused edits changed nothing
  auto missing = core::updateEvent(*pool, "missing", {"X", "", std::nullopt, std::nullopt});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), core::Errc::event_not_found);
}

TEST_F(Accounts, DeleteEventIsRefusedOnceCheckInsExistUnlessForced) {
  auto u = core::createUser(*pool, {"ada@example.org", "Ada", std::nullopt}, auth, kNow);
  ASSERT_TRUE(u);
  ASSERT_TRUE(core::createScanner(*pool, "S1", kNow));
  for (const char* id : {"empty", "busy", "other"}) {
    ASSERT_TRUE(core::createEvent(*pool, {std::string{id}, id, "", std::nullopt, std::nullopt}, kNow));
    ASSERT_TRUE(core::registerForEvent(*pool, id, u->id, kNow));
  }
  checkIn(*pool, "busy", "S1", {{u->bleUuid, kT0}, {u->bleUuid, kT0 + 60'000}});
  checkIn(*pool, "other", "S1", {{u->bleUuid, kT0}});
  // buildReport folds the check-ins into the report summary tables; deleting must clear those too.
  ASSERT_TRUE(core::buildReport(*pool, "busy", kNow));

  EXPECT_EQ(core::eventHasCheckIns(*pool, "empty").value(), false);
  EXPECT_EQ(core::eventHasCheckIns(*pool, "busy").value(), true);
  auto unknown = core::eventHasCheckIns(*pool, "missing");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error(), core::Errc::event_not_found);

  // No check-ins: deleted without force, with its registrations.
  ASSERT_TRUE(core::deleteEvent(*pool, "empty", false));
  EXPECT_EQ(core::getEvent(*pool, "empty").error(), core::Errc::event_not_found);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM registrations WHERE event_id = 'empty'"), "0");

  auto refused = core::deleteEvent(*pool, "busy", false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), core::Errc::conflict);
  EXPECT_TRUE(core::getEvent(*pool, "busy"));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM check_ins WHERE event_id = 'busy'"), "2");

  ASSERT_TRUE(core::deleteEvent(*pool, "busy", true));
  EXPECT_EQ(core::getEvent(*pool, "busy").error(), core::Errc::event_not_found);
  ASSERT_TRUE(core::listEventSummaries(*pool));  // caches the list's counts
  for (const char* table :
       {"check_ins", "registrations", "sync_receipts", "report_seen", "report_folded", "event_list_counts"}) {
    EXPECT_EQ(db.scalar(std::string{"SELECT count(*) FROM "} + table + " WHERE event_id = 'busy'"), "0") << table;
  }
  // The other event is untouched.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM check_ins WHERE event_id = 'other'"), "1");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM registrations WHERE event_id = 'other'"), "1");

  auto missing = core::deleteEvent(*pool, "busy", true);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), core::Errc::event_not_found);
}

TEST_F(Accounts, SetUserDisabledEndsSessionsAndCanBeUndone) {
  auto created = core::createParticipant(*pool, {"dora@example.org", "Dora", std::string{"long enough"}}, auth, kNow);
  auto other = core::createParticipant(*pool, {"eve@example.org", "Eve", std::string{"long enough"}}, auth, kNow);
  ASSERT_TRUE(created && other);
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"ev"}, "Ev", "", std::nullopt, std::nullopt}, kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev", created->user.id, kNow));

  ASSERT_TRUE(core::setUserDisabled(*pool, created->user.id, true));
  EXPECT_TRUE(core::getUser(*pool, created->user.id)->disabled);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM participant_sessions WHERE user_id = '" + created->user.id + "'"), "0");
  EXPECT_EQ(core::authenticateToken(*pool, created->session.token, kNow).error(), core::Errc::unauthorized);
  EXPECT_EQ(core::createSession(*pool, "dora@example.org", "long enough", auth, kNow).error(), core::Errc::forbidden);
  EXPECT_TRUE(core::roster(*pool, "ev")->empty());
  EXPECT_TRUE(core::authenticateToken(*pool, other->session.token, kNow));  // others keep their sessions

  ASSERT_TRUE(core::setUserDisabled(*pool, created->user.id, false));
  EXPECT_FALSE(core::getUser(*pool, created->user.id)->disabled);
  EXPECT_TRUE(core::createSession(*pool, "dora@example.org", "long enough", auth, kNow));
  EXPECT_EQ(core::roster(*pool, "ev")->size(), 1U);

  for (const char* id : {"00000000-0000-4000-8000-000000000000", "not-a-uuid", ""}) {
    auto r = core::setUserDisabled(*pool, id, true);
    ASSERT_FALSE(r) << id;
    EXPECT_EQ(r.error(), core::Errc::user_not_found) << id;
  }
}

TEST_F(Accounts, UserIdByEmailIgnoresCase) {
  auto u = core::createUser(*pool, {"Ada@Example.org", "Ada", std::nullopt}, auth, kNow);
  ASSERT_TRUE(u);
  EXPECT_EQ(core::userIdByEmail(*pool, "ada@EXAMPLE.org").value(), u->id);
  for (const std::string& email : {std::string{"bob@example.org"}, std::string{}, std::string(300, 'a')}) {
    auto r = core::userIdByEmail(*pool, email);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::Errc::user_not_found);
  }
}

TEST_F(Accounts, ParticipantAndRegistrationListsSearchAndPage) {
  // Names chosen so order, case-insensitivity and LIKE wildcards are visible.
  const std::vector<std::pair<std::string, std::string>> people{
      {"zoe@example.org", "zoe"},       {"bob@example.org", "Bob"},   {"ann@example.org", "ann"},
      {"pct@example.org", "100% Sure"}, {"under@example.org", "a_b"}, {"carl@other.net", "Carl"}};
  std::map<std::string, std::string> idOf;
  for (const auto& [email, name] : people) {
    auto u = core::createUser(*pool, {email, name, std::nullopt}, auth, kNow);
    ASSERT_TRUE(u);
    idOf[name] = u->id;
  }
  auto names = [](const core::UserPage& p) {
    std::vector<std::string> out;
    for (const auto& r : p.rows) out.push_back(r.displayName);
    return out;
  };
  auto all = core::listParticipants(*pool, "", 0, 100);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->total, 6);
  EXPECT_EQ(names(*all), (std::vector<std::string>{"100% Sure", "a_b", "ann", "Bob", "Carl", "zoe"}));
  EXPECT_EQ(all->rows[3].email, "bob@example.org");
  EXPECT_EQ(all->rows[3].id, idOf["Bob"]);
  EXPECT_EQ(all->rows[3].bleUuid, core::getUser(*pool, idOf["Bob"])->bleUuid.toString());
  EXPECT_FALSE(all->rows[3].registeredAt.has_value());

  auto page2 = core::listParticipants(*pool, "", 2, 2);
  ASSERT_TRUE(page2);
  EXPECT_EQ(page2->total, 6);
  EXPECT_EQ(names(*page2), (std::vector<std::string>{"ann", "Bob"}));
  // Substring of name or email, any case; % and _ are literal.
  EXPECT_EQ(names(core::listParticipants(*pool, "EXAMPLE", 0, 100).value()).size(), 5U);
  EXPECT_EQ(names(core::listParticipants(*pool, "other.NET", 0, 100).value()), (std::vector<std::string>{"Carl"}));
  EXPECT_EQ(names(core::listParticipants(*pool, "%", 0, 100).value()), (std::vector<std::string>{"100% Sure"}));
  EXPECT_EQ(names(core::listParticipants(*pool, "_", 0, 100).value()), (std::vector<std::string>{"a_b"}));
  auto none = core::listParticipants(*pool, "nobody", 0, 100);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->total, 0);
  EXPECT_TRUE(none->rows.empty());

  ASSERT_TRUE(core::createEvent(*pool, {std::string{"ev"}, "Ev", "", std::nullopt, std::nullopt}, kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev", idOf["zoe"], kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev", idOf["Bob"], kNow + std::chrono::minutes{5}));
  ASSERT_TRUE(core::registerForEvent(*pool, "ev", idOf["Carl"], kNow));
  auto regs = core::listRegistrations(*pool, "ev", "", 0, 2);
  ASSERT_TRUE(regs);
  EXPECT_EQ(regs->total, 3);
  EXPECT_EQ(names(*regs), (std::vector<std::string>{"Bob", "Carl"}));
  EXPECT_EQ(regs->rows[0].registeredAt, kNow + std::chrono::minutes{5});
  auto searched = core::listRegistrations(*pool, "ev", "o", 0, 100);
  ASSERT_TRUE(searched);
  EXPECT_EQ(searched->total, 3);  // bob, carl@other, zoe
  auto zoe = core::listRegistrations(*pool, "ev", "ZO", 0, 100);
  ASSERT_TRUE(zoe);
  EXPECT_EQ(zoe->total, 1);
  EXPECT_EQ(names(*zoe), (std::vector<std::string>{"zoe"}));
  auto unknownEvent = core::listRegistrations(*pool, "missing", "", 0, 10);
  ASSERT_TRUE(unknownEvent);
  EXPECT_EQ(unknownEvent->total, 0);

  // Invalid paging or search.
  const std::string longSearch(core::kMaxSearchLength + 1, 'a');
  for (auto r :
       {core::listParticipants(*pool, "", -1, 10), core::listParticipants(*pool, "", 0, 0),
        core::listParticipants(*pool, "", 0, core::kMaxPageLimit + 1), core::listParticipants(*pool, longSearch, 0, 10),
        core::listRegistrations(*pool, "ev", "", -5, 10), core::listRegistrations(*pool, "ev", longSearch, 0, 10),
        core::listParticipants(*pool, "caf\xC3", 0, 10), core::listRegistrations(*pool, "ev", "\xFF", 0, 10)}) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::Errc::invalid_argument);
  }
}

// The events list's counts must be the report's, however they were cached.
TEST_F(Accounts, EventListCountsMatchTheReportThroughSyncsRegistrationsAndNewBleUuids) {
  std::map<std::string, core::User> u;
  for (const char* name : {"ann", "bob", "cy", "dee", "eve", "fay"}) {
    auto created = core::createUser(*pool, {std::string{name} + "@example.org", name, std::nullopt}, auth, kNow);
    ASSERT_TRUE(created);
    u[name] = *created;
  }
  ASSERT_TRUE(core::createScanner(*pool, "S1", kNow));
  ASSERT_TRUE(core::createScanner(*pool, "S2", kNow));
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"ev"}, "Ev", "", kNow, std::nullopt}, kNow));
  ASSERT_TRUE(core::createEvent(*pool, {std::string{"quiet"}, "Quiet", "", std::nullopt, std::nullopt}, kNow));
  for (const char* name : {"ann", "bob", "cy", "dee"})
    ASSERT_TRUE(core::registerForEvent(*pool, "ev", u[name].id, kNow));
  ASSERT_TRUE(core::registerForEvent(*pool, "quiet", u["ann"].id, kNow));
  const auto unknown = *attendance::support::Uuid::parse("0f8fad5b-d9cb-469f-a165-70867728950e");
  // ann twice on two scanners, bob before his phone is replaced, eve walks in, one unknown device.
  checkIn(*pool, "ev", "S1", {{u["ann"].bleUuid, kT0}, {u["bob"].bleUuid, kT0 + 1000}, {unknown, kT0 + 2000}});
  checkIn(*pool, "ev", "S2", {{u["ann"].bleUuid, kT0 + 5000}, {u["eve"].bleUuid, kT0 + 6000}});
  ASSERT_TRUE(core::regenerateBleUuid(*pool, u["bob"].id));  // bob's old check-in keeps counting

  auto expectSameAsReport = [&](const std::string& step, std::int64_t attended) {
    SCOPED_TRACE(step);
    auto list = core::listEventSummaries(*pool);
    ASSERT_TRUE(list) << list.error().message();
    auto report = core::buildReport(*pool, "ev", kNow);
    ASSERT_TRUE(report);
    const core::EventSummary* ev = nullptr;
    for (const auto& e : *list) {
      if (e.id == "ev") ev = &e;
    }
    ASSERT_NE(ev, nullptr);
    EXPECT_EQ(ev->registered, report->registered);
    EXPECT_EQ(ev->attended, report->attended);
    EXPECT_EQ(ev->attended, attended);
    EXPECT_EQ(ev->synced, report->synced);
    // A second look (cached numbers) says the same.
    auto again = core::listEventSummaries(*pool);
    ASSERT_TRUE(again);
    for (const auto& e : *again) {
      if (e.id == "ev") {
        EXPECT_EQ(e.attended, attended);
      }
    }
  };
  expectSameAsReport("ann, bob (retired bleUuid); eve is a walk-in; unknown device", 2);
  {
    auto list = core::listEventSummaries(*pool);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2U);
    EXPECT_EQ((*list)[0].id, "ev");  // newest start first, undated last
    EXPECT_EQ((*list)[1].id, "quiet");
    EXPECT_EQ((*list)[1].registered, 1);
    EXPECT_EQ((*list)[1].attended, 0);
    EXPECT_FALSE((*list)[1].synced);
  }

  // A number cached under the current version is used as is: corrupt it to see that...
  (void)db.scalar("UPDATE event_list_counts SET attended = 999 WHERE event_id = 'ev' RETURNING 1");
  EXPECT_EQ(core::listEventSummaries(*pool)->front().attended, 999);
  // ...and every change the count depends on moves the version, so it is recomputed.
  checkIn(*pool, "ev", "S1", {{u["dee"].bleUuid, kT0 + 9000}, {u["ann"].bleUuid, kT0 + 9000}});
  expectSameAsReport("a later sync brings dee", 3);

  ASSERT_TRUE(core::registerForEvent(*pool, "ev", u["eve"].id, kNow));
  expectSameAsReport("the walk-in registers", 4);

  ASSERT_TRUE(core::unregisterFromEvent(*pool, "ev", u["ann"].id));
  expectSameAsReport("ann unregisters", 3);

  ASSERT_TRUE(core::registerForEvent(*pool, "ev", u["fay"].id, kNow));
  expectSameAsReport("fay registers, not seen yet", 3);
  ASSERT_TRUE(core::performCheckIn(*pool, "ev", {0, u["fay"].bleUuid, kT0 + 12000, "S2"}));  // no receipt
  expectSameAsReport("a check-in without a receipt", 4);

  // cy's new phone was seen before it was hers (an unknown device until the direct update).
  checkIn(*pool, "ev", "S2", {{*attendance::support::Uuid::parse("11111111-2222-4333-8444-555555555555"), kT0}});
  expectSameAsReport("another unknown device", 4);
  (void)db.scalar(
      "UPDATE users SET ble_uuid = '11111111-2222-4333-8444-555555555555' WHERE email = 'cy@example.org' "
      "RETURNING 1");
  expectSameAsReport("that device turns out to be cy's", 5);
}

TEST(EventsJson, RendersEveryEventWithEscapingAndNullTimes) {
  core::Event a;
  a.id = "ev-1";
  a.name = "Quote \" back\\slash <script>\n\x01";
  a.venue = "Caf\xC3\xA9";  // UTF-8 passes through
  a.startsAt = fromEpochMillis(kT0);
  a.endsAt = fromEpochMillis(kT0 + 90 * 60'000);
  core::Event b;
  b.id = "ev-2";
  b.name = "Undated";
  core::UpcomingEvent full{a, false, core::RegistrationStatus::waitlisted, 3, 12, 7};
  full.event.capacity = 10;
  const auto now = fromEpochMillis(kT0);
  EXPECT_EQ(
      core::renderEventsJson(
          std::vector<core::UpcomingEvent>{{a, true, core::RegistrationStatus::registered}, {b, false}}, true, now),
      R"({"events":[{"id":"ev-1","name":"Quote \" back\\slash <script>\n\u0001","venue":"Café",)"
      R"("startsAt":"2024-07-20T10:30:00.000Z","endsAt":"2024-07-20T12:00:00.000Z","seatsLeft":null,)"
      R"("waitlisted":0,"registrationOpen":true,"registered":true,"status":"registered","waitlistPosition":null,)"
      R"("capacity":null,"registrationClosesAt":"2024-07-20T12:00:00.000Z"},)"
      R"({"id":"ev-2","name":"Undated","venue":"","startsAt":null,"endsAt":null,"seatsLeft":null,"waitlisted":0,)"
      R"("registrationOpen":true,"registered":false,"status":null,"waitlistPosition":null,"capacity":null,)"
      R"("registrationClosesAt":null}]})");
  // Full, the caller third on the waitlist; at the end the registration is closed.
  EXPECT_EQ(core::renderEventsJson(std::vector<core::UpcomingEvent>{full}, true, fromEpochMillis(kT0 + 90 * 60'000)),
            R"({"events":[{"id":"ev-1","name":"Quote \" back\\slash <script>\n\u0001","venue":"Café",)"
            R"("startsAt":"2024-07-20T10:30:00.000Z","endsAt":"2024-07-20T12:00:00.000Z","seatsLeft":0,)"
            R"("waitlisted":7,"registrationOpen":false,"registered":false,"status":"waitlisted","waitlistPosition":3,)"
            R"("capacity":10,"registrationClosesAt":"2024-07-20T12:00:00.000Z"}]})");
  // Without a caller there is no "registered".
  EXPECT_EQ(core::renderEventsJson(std::vector<core::UpcomingEvent>{{b, true}}, false, now),
            R"({"events":[{"id":"ev-2","name":"Undated","venue":"","startsAt":null,"endsAt":null,"seatsLeft":null,)"
            R"("waitlisted":0,"registrationOpen":true,"capacity":null,"registrationClosesAt":null}]})");
  EXPECT_EQ(core::renderEventsJson(std::vector<core::UpcomingEvent>{}, true, now), R"({"events":[]})");

  core::EventSummary s;
  s.id = "ev-3";
  s.name = "</script>";
  s.venue = "V";
  s.startsAt = fromEpochMillis(kT0);
  s.registered = 50'000;
  s.attended = 41'234;
  s.synced = true;
  EXPECT_EQ(core::renderEventsJson(std::vector<core::EventSummary>{s, {}}),
            R"({"events":[{"id":"ev-3","name":"</script>","venue":"V","startsAt":"2024-07-20T10:30:00.000Z",)"
            R"("endsAt":null,"registered":50000,"attended":41234,"synced":true},)"
            R"({"id":"","name":"","venue":"","startsAt":null,"endsAt":null,"registered":0,"attended":0,)"
            R"("synced":false}]})");
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

// The registration rule applied in PostgreSQL (registration.hpp): capacity,
// waitlist order, promotion, closing time, and 50 concurrent requests for 10 seats.
#include "core/test_database.hpp"

#include <attendance/core/core.hpp>

#include <attendance/support/clock.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <thread>

namespace core = attendance::core;
using attendance::support::fromEpochMillis;
using core::RegistrationStatus;
using core::testing::TestDatabase;
using namespace std::chrono_literals;

namespace {

const auto kNow = fromEpochMillis(1721480000000);

class Registration : public ::testing::Test {
protected:
  void SetUp() override { pool = db.pool(true, 8); }

  std::string user(int n) {
    auto u = core::createUser(*pool, {"p" + std::to_string(n) + "@example.org", "P" + std::to_string(n), std::nullopt},
                              auth, kNow);
    EXPECT_TRUE(u) << u.error().message();
    return u ? u->id : std::string{};
  }
  void event(const std::string& id, std::optional<std::int32_t> capacity,
             std::optional<core::TimePoint> closes = std::nullopt) {
    core::NewEvent ev{id, "Meetup", "Hall A", kNow + 24h, kNow + 26h};
    ev.registration = {capacity, closes};
    auto created = core::createEvent(*pool, ev, kNow);
    ASSERT_TRUE(created) << created.error().message();
  }
  std::string count(const std::string& table, const std::string& ev) {
    return db.scalar("SELECT count(*) FROM " + table + " WHERE event_id = '" + ev + "'");
  }

  TestDatabase db;
  std::unique_ptr<core::ConnectionPool> pool;
  core::AuthConfig auth = core::AuthConfig::forTests();
};

TEST_F(Registration, SeatsThenTheWaitlistInOrderAndTheRosterHasOnlySeats) {
  event("ev", 2);
  const std::string a = user(1), b = user(2), c = user(3), d = user(4);
  std::vector<core::RegistrationResult> got;
  for (const auto& u : {a, b, c, d}) {
    auto r = core::requestRegistration(*pool, "ev", u, kNow);
    ASSERT_TRUE(r) << r.error().message();
    got.push_back(*r);
  }
  EXPECT_EQ(got[0].status, RegistrationStatus::registered);
  EXPECT_EQ(got[1].status, RegistrationStatus::registered);
  EXPECT_EQ(got[2].status, RegistrationStatus::waitlisted);
  EXPECT_EQ(got[2].waitlistPosition, 1);
  EXPECT_EQ(got[3].waitlistPosition, 2);
  EXPECT_TRUE(got[3].created);
  // Asking again changes nothing.
  auto again = core::requestRegistration(*pool, "ev", d, kNow);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, RegistrationStatus::waitlisted);
  EXPECT_EQ(again->waitlistPosition, 2);
  EXPECT_FALSE(again->created);

  EXPECT_EQ(core::roster(*pool, "ev")->size(), 2U);
  EXPECT_EQ(core::buildReport(*pool, "ev", kNow)->registered, 2);
  const auto counts = core::registrationCounts(*pool, "ev");
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->registered, 2);
  EXPECT_EQ(counts->waitlisted, 2);

  const auto list = core::listUpcomingEvents(*pool, kNow, d);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1U);
  EXPECT_EQ((*list)[0].status, RegistrationStatus::waitlisted);
  EXPECT_EQ((*list)[0].waitlistPosition, 2);
  EXPECT_EQ((*list)[0].registeredCount, 2);
  EXPECT_EQ((*list)[0].waitlistCount, 2);
}

TEST_F(Registration, AFreedSeatGoesToTheFirstWaitlistedAndLeavingTheWaitlistWorks) {
  event("ev", 1);
  const std::string a = user(1), b = user(2), c = user(3);
  for (const auto& u : {a, b, c}) ASSERT_TRUE(core::requestRegistration(*pool, "ev", u, kNow));

  // c leaves the waitlist: nobody is promoted, b stays first.
  auto left = core::cancelRegistration(*pool, "ev", c);
  ASSERT_TRUE(left);
  EXPECT_EQ(left->was, RegistrationStatus::waitlisted);
  EXPECT_TRUE(left->promoted.empty());

  // a leaves: b gets the seat, with the time they asked.
  auto gone = core::cancelRegistration(*pool, "ev", a);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->was, RegistrationStatus::registered);
  EXPECT_EQ(gone->promoted, std::vector<std::string>{b});
  EXPECT_EQ(core::getParticipantEvent(*pool, "ev", b)->status, RegistrationStatus::registered);
  EXPECT_EQ(count("waitlist", "ev"), "0");
  EXPECT_EQ(db.scalar("SELECT (extract(epoch from created_at) * 1000)::bigint FROM registrations WHERE user_id = '" +
                      b + "'"),
            "1721480000000");

  auto nothing = core::cancelRegistration(*pool, "ev", a);
  ASSERT_TRUE(nothing);
  EXPECT_EQ(nothing->was, RegistrationStatus::none);
  EXPECT_EQ(core::cancelRegistration(*pool, "missing", a).error(), core::Errc::event_not_found);
}

TEST_F(Registration, MoreSeatsPromoteAtOnce) {
  event("ev", 1);
  const std::string a = user(1), b = user(2), c = user(3), d = user(4);
  for (const auto& u : {a, b, c, d}) ASSERT_TRUE(core::requestRegistration(*pool, "ev", u, kNow));
  auto ev = core::getEvent(*pool, "ev").value();
  core::EventEdit edit{ev.name, ev.venue, ev.startsAt, ev.endsAt};
  edit.registration = core::RegistrationLimits{3, std::nullopt};
  auto updated = core::updateEvent(*pool, "ev", edit);
  ASSERT_TRUE(updated) << updated.error().message();
  EXPECT_EQ(updated->capacity, 3);
  EXPECT_EQ(count("registrations", "ev"), "3");
  EXPECT_EQ(core::getParticipantEvent(*pool, "ev", d)->waitlistPosition, 1);
  // Fewer seats never take one away.
  edit.registration = core::RegistrationLimits{1, std::nullopt};
  ASSERT_TRUE(core::updateEvent(*pool, "ev", edit));
  EXPECT_EQ(count("registrations", "ev"), "3");
  // An edit without limits leaves them as they are.
  edit.registration.reset();
  EXPECT_EQ(core::updateEvent(*pool, "ev", edit)->capacity, 1);
}

TEST_F(Registration, ClosedRegistrationIsRefusedButCancellingStillWorks) {
  event("ev", 5, kNow + 1h);
  const std::string a = user(1), b = user(2);
  ASSERT_TRUE(core::requestRegistration(*pool, "ev", a, kNow));
  auto late = core::requestRegistration(*pool, "ev", b, kNow + 1h);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), core::Errc::registration_closed);
  EXPECT_EQ(core::httpStatusFor(late.error()), 409);
  // Someone who has a seat asking again is told so, not refused.
  EXPECT_EQ(core::requestRegistration(*pool, "ev", a, kNow + 2h)->status, RegistrationStatus::registered);
  EXPECT_EQ(core::cancelRegistration(*pool, "ev", a)->was, RegistrationStatus::registered);
  // The organizer may still register anyone.
  EXPECT_EQ(core::registerForEvent(*pool, "ev", b, kNow + 2h).value(), core::RegistrationOutcome::created);
}

TEST_F(Registration, TheOrganizersSeatReplacesAWaitlistPlace) {
  event("ev", 1);
  const std::string a = user(1), b = user(2);
  ASSERT_TRUE(core::requestRegistration(*pool, "ev", a, kNow));
  ASSERT_EQ(core::requestRegistration(*pool, "ev", b, kNow)->status, RegistrationStatus::waitlisted);
  ASSERT_TRUE(core::registerForEvent(*pool, "ev", b, kNow));
  EXPECT_EQ(count("registrations", "ev"), "2");
  EXPECT_EQ(count("waitlist", "ev"), "0");
}

TEST_F(Registration, InvalidLimitsAreRefused) {
  core::NewEvent ev{std::string{"bad"}, "Meetup", "", kNow + 24h, kNow + 26h};
  ev.registration.capacity = 0;
  EXPECT_EQ(core::validateNewEvent(ev), "capacity must be a whole number from 1 to 1000000 (or none for unlimited)");
  EXPECT_EQ(core::createEvent(*pool, ev, kNow).error(), core::Errc::invalid_argument);
  ev.registration = {10, kNow + 27h};
  EXPECT_EQ(core::validateNewEvent(ev), "registration must close before the event ends");
}

// 50 participants press Register at once for 10 seats: exactly 10 seats, 40 on the
// waitlist with positions 1..40, no error.
TEST_F(Registration, FiftyConcurrentRequestsForTenSeats) {
  event("ev", 10);
  std::vector<std::string> users;
  for (int i = 0; i < 50; ++i) users.push_back(user(i));
  std::vector<attendance::Result<core::RegistrationResult>> results(
      50, attendance::Result<core::RegistrationResult>{core::make_error_code(core::Errc::internal)});
  std::atomic<int> ready{0};
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < 50; ++i) {
      threads.emplace_back([&, i] {
        ++ready;
        while (ready.load() < 50) std::this_thread::yield();
        results[static_cast<std::size_t>(i)] =
            core::requestRegistration(*pool, "ev", users[static_cast<std::size_t>(i)], kNow);
      });
    }
  }
  int registered = 0;
  std::vector<std::int64_t> positions;
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().message();
    if (r->status == RegistrationStatus::registered) ++registered;
    if (r->status == RegistrationStatus::waitlisted) positions.push_back(r->waitlistPosition);
  }
  EXPECT_EQ(registered, 10);
  std::sort(positions.begin(), positions.end());
  std::vector<std::int64_t> expected(40);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(positions, expected);
  EXPECT_EQ(count("registrations", "ev"), "10");
  EXPECT_EQ(count("waitlist", "ev"), "40");
}

}  // namespace

namespace {

TEST_F(Registration, ADeletedAccountsSeatGoesToTheWaitlist) {
  event("ev", 1);
  auto owner = core::createParticipant(*pool, {"owner@example.org", "Owner", "correct horse battery"}, auth, kNow);
  ASSERT_TRUE(owner) << owner.error().message();
  const std::string b = user(2);
  ASSERT_TRUE(core::requestRegistration(*pool, "ev", owner->user.id, kNow));
  ASSERT_EQ(core::requestRegistration(*pool, "ev", b, kNow)->status, RegistrationStatus::waitlisted);
  ASSERT_TRUE(core::deleteParticipant(*pool, owner->user.id, "correct horse battery", "192.0.2.1",
                                      core::AuthConfig::forTests(), kNow));
  EXPECT_EQ(core::getParticipantEvent(*pool, "ev", b)->status, RegistrationStatus::registered);
}

}  // namespace

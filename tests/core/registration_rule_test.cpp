// The registration rule as pure decisions (registration.hpp): seats, waitlist,
// closing time and promotion, without a database.
#include <attendance/core/registration.hpp>

#include <gtest/gtest.h>

namespace core = attendance::core;
using core::Availability;
using core::RegistrationDecision;
using core::RegistrationStatus;
using namespace std::chrono_literals;

namespace {

const core::RegistrationTime kNow{std::chrono::milliseconds{1721480000000}};

core::Event event(std::optional<std::int32_t> capacity, std::optional<core::RegistrationTime> closes = std::nullopt) {
  core::Event e;
  e.id = "ev";
  e.name = "Meetup";
  e.startsAt = kNow + 24h;
  e.endsAt = kNow + 26h;
  e.capacity = capacity;
  e.registrationClosesAt = closes;
  return e;
}

TEST(RegistrationRule, ASeatWhileSeatsRemainThenTheWaitlist) {
  const auto e = event(10);
  EXPECT_EQ(core::decideRegistration(e, RegistrationStatus::none, 0, kNow), RegistrationDecision::register_now);
  EXPECT_EQ(core::decideRegistration(e, RegistrationStatus::none, 9, kNow), RegistrationDecision::register_now);
  EXPECT_EQ(core::decideRegistration(e, RegistrationStatus::none, 10, kNow), RegistrationDecision::join_waitlist);
  // Over capacity (the organizer registered more at the door): still the waitlist.
  EXPECT_EQ(core::decideRegistration(e, RegistrationStatus::none, 12, kNow), RegistrationDecision::join_waitlist);
  // No capacity: always a seat.
  EXPECT_EQ(core::decideRegistration(event(std::nullopt), RegistrationStatus::none, 100000, kNow),
            RegistrationDecision::register_now);
}

TEST(RegistrationRule, ARepeatedRequestKeepsWhatTheyHave) {
  const auto e = event(1, kNow - 1h);  // closed and full
  EXPECT_EQ(core::decideRegistration(e, RegistrationStatus::registered, 1, kNow),
            RegistrationDecision::already_registered);
  EXPECT_EQ(core::decideRegistration(e, RegistrationStatus::waitlisted, 1, kNow),
            RegistrationDecision::already_waitlisted);
}

TEST(RegistrationRule, ClosedFromTheClosingTimeOn) {
  const auto e = event(10, kNow + 1h);
  EXPECT_EQ(core::decideRegistration(e, RegistrationStatus::none, 0, kNow + 1h - 1ms),
            RegistrationDecision::register_now);
  EXPECT_EQ(core::decideRegistration(e, RegistrationStatus::none, 0, kNow + 1h), RegistrationDecision::closed);
  EXPECT_EQ(core::decideRegistration(e, RegistrationStatus::none, 10, kNow + 2h), RegistrationDecision::closed);
}

TEST(RegistrationRule, WithoutAClosingTimeItClosesWhenTheEventIsOver) {
  auto e = event(std::nullopt);
  EXPECT_EQ(core::registrationDeadline(e), e.endsAt);
  EXPECT_TRUE(core::registrationOpen(e, *e.startsAt + 1h));  // late arrivals may still register
  EXPECT_FALSE(core::registrationOpen(e, *e.endsAt));
  e.endsAt.reset();
  EXPECT_EQ(core::registrationDeadline(e), e.startsAt);
  e.startsAt.reset();
  EXPECT_EQ(core::registrationDeadline(e), std::nullopt);
  EXPECT_TRUE(core::registrationOpen(e, kNow + 10000h));
  e.registrationClosesAt = kNow;
  EXPECT_FALSE(core::registrationOpen(e, kNow));
}

TEST(RegistrationRule, WhatAListShows) {
  EXPECT_EQ(core::seatInfo(event(std::nullopt), 5, kNow).availability, Availability::open);
  const auto left = core::seatInfo(event(10), 7, kNow);
  EXPECT_EQ(left.availability, Availability::seats_left);
  EXPECT_EQ(left.seatsLeft, 3);
  EXPECT_EQ(core::seatInfo(event(10), 10, kNow).availability, Availability::waitlist);
  EXPECT_EQ(core::seatInfo(event(10, kNow), 0, kNow).availability, Availability::closed);
}

TEST(RegistrationRule, FreedSeatsGoToTheWaitlist) {
  EXPECT_EQ(core::seatsToPromote(10, 9, 40), 1);
  EXPECT_EQ(core::seatsToPromote(10, 10, 40), 0);
  EXPECT_EQ(core::seatsToPromote(10, 12, 40), 0);           // over capacity: nobody moves up
  EXPECT_EQ(core::seatsToPromote(15, 10, 3), 3);            // capacity raised past the waitlist
  EXPECT_EQ(core::seatsToPromote(std::nullopt, 10, 4), 4);  // capacity removed: everyone
  EXPECT_EQ(core::seatsToPromote(10, 0, 0), 0);
}

TEST(RegistrationRule, LimitsAreValidated) {
  const auto starts = kNow + 24h, ends = kNow + 26h;
  EXPECT_EQ(core::validateRegistrationLimits({10, kNow}, starts, ends), std::nullopt);
  EXPECT_EQ(core::validateRegistrationLimits({std::nullopt, std::nullopt}, starts, ends), std::nullopt);
  EXPECT_EQ(core::validateRegistrationLimits({std::nullopt, starts + 1h}, starts, ends), std::nullopt);
  EXPECT_EQ(core::validateRegistrationLimits({0, std::nullopt}, starts, ends),
            "capacity must be a whole number from 1 to 1000000 (or none for unlimited)");
  EXPECT_NE(core::validateRegistrationLimits({1000001, std::nullopt}, starts, ends), std::nullopt);
  EXPECT_EQ(core::validateRegistrationLimits({10, ends + 1ms}, starts, ends),
            "registration must close before the event ends");
  EXPECT_EQ(core::validateRegistrationLimits({10, ends + 1h}, starts, std::nullopt), std::nullopt);
}

}  // namespace

#pragma once

// HTML of the participant pages: pure functions from values to markup; every
// stored or typed string goes through escape() (web/html.hpp).
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <attendance/core/events.hpp>
#include <attendance/core/participant_data.hpp>
#include <attendance/core/registration.hpp>
#include <attendance/core/users.hpp>

#include "web/html.hpp"

namespace attendance::backend::web::pages {

using TimePoint = std::chrono::system_clock::time_point;

// The page shell: <head> with the stylesheet, the top bar (with the sign-out
// form when `csrf` is set: a signed-in page), `flashHtml` and `content`.
[[nodiscard]] std::string layout(std::string_view title, std::string_view displayName, std::string_view csrf,
                                 std::string_view flashHtml, std::string_view content);

using admin_web::flash;  // web/html.hpp, shared with the admin console
using admin_web::FlashKind;
// The participant pages' notices for `?notice=` after a redirect (admin_web::noticeFor).
[[nodiscard]] std::span<const admin_web::Notice> notices();

// "2026-11-24 09:00 UTC" in a <time> element: the time zone the admin console shows.
[[nodiscard]] std::string timeText(TimePoint t);

// A form as it was sent, when it was refused.
struct AccountForm {
  std::string email;
  std::string displayName;
  admin_web::FieldErrors errors;  // by field: email, displayName, password
};

[[nodiscard]] std::string signIn(std::string_view formCsrf, const AccountForm& typed);
[[nodiscard]] std::string signUp(std::string_view formCsrf, const AccountForm& typed);

struct HomeView {
  const core::User* user = nullptr;
  std::string qrSvg;
  std::vector<core::MyEvent> mine;
  std::vector<core::UpcomingEvent> upcoming;
  TimePoint now;
};
[[nodiscard]] std::string home(const HomeView& view, std::string_view csrf);

// One event (GET /events/{id}): its details, the participant's status and, with a
// seat, the confirmation to show at the door (their name, the event, the id and QR).
struct EventPageView {
  const core::User* user = nullptr;
  std::string qrSvg;
  core::UpcomingEvent event;
  TimePoint now;
};
[[nodiscard]] std::string eventPage(const EventPageView& view, std::string_view csrf);

// "Registration closed at …" for a refused request.
[[nodiscard]] std::string registrationClosedText(const core::Event& event);

[[nodiscard]] std::string account(const core::User& user, std::string_view csrf, const admin_web::FieldErrors* errors);

[[nodiscard]] std::string errorContent(std::string_view title, std::string_view message);

// The stylesheet, served at /assets/participant.css.
[[nodiscard]] std::string_view stylesheet();

}  // namespace attendance::backend::web::pages

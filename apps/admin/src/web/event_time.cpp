#include "event_time.hpp"

#include <charconv>
#include <string>

#include <attendance/core/error.hpp>
#include <attendance/core/report.hpp>

namespace attendance::admin_web {

namespace {

using TimePoint = std::chrono::system_clock::time_point;

constexpr std::size_t kMaxTimeText = 40;

// "YYYY-MM-DDTHH:MM..." followed by "Z" or "±HH:MM" somewhere after the minutes.
bool hasZone(std::string_view v) { return v.size() > 16 && v.find_first_of("Zz+-", 16) != std::string_view::npos; }

Result<TimePoint> absolute(std::string_view v) {
  // A zone is required: without one the instant would depend on who reads it.
  if (v.size() > kMaxTimeText || !hasZone(v)) return core::make_error_code(core::Errc::invalid_argument);
  auto t = core::parseIsoUtc(v);
  if (!t) return core::make_error_code(core::Errc::invalid_argument);
  return *t;
}

}  // namespace

Result<std::optional<TimePoint>> parseFormTime(std::string_view local, std::string_view utc,
                                               std::string_view tzOffset) {
  if (!utc.empty()) {
    auto t = absolute(utc);
    if (!t) return t.error();
    return std::optional<TimePoint>{*t};
  }
  if (local.empty()) return std::optional<TimePoint>{};
  if (local.size() > kMaxTimeText) return core::make_error_code(core::Errc::invalid_argument);
  if (hasZone(local)) {
    auto t = absolute(local);
    if (!t) return t.error();
    return std::optional<TimePoint>{*t};
  }
  if (local.size() < 16) return core::make_error_code(core::Errc::invalid_argument);
  auto t = core::parseIsoUtc(std::string(local) + "Z");
  if (!t) return core::make_error_code(core::Errc::invalid_argument);
  int offset = 0;
  if (!tzOffset.empty()) {
    const auto [ptr, ec] = std::from_chars(tzOffset.data(), tzOffset.data() + tzOffset.size(), offset);
    if (ec != std::errc{} || ptr != tzOffset.data() + tzOffset.size() || offset < -24 * 60 || offset > 24 * 60) {
      return core::make_error_code(core::Errc::invalid_argument);
    }
  }
  // Shifting a time at the very edge of the clock's range would overflow it.
  if (*t > TimePoint::max() - std::chrono::hours{25} || *t < TimePoint::min() + std::chrono::hours{25}) {
    return core::make_error_code(core::Errc::invalid_argument);
  }
  return std::optional<TimePoint>{*t + std::chrono::minutes{offset}};
}

}  // namespace attendance::admin_web

#include <attendance/core/report.hpp>

#include <fmt/format.h>

#include <cctype>
#include <charconv>

namespace attendance::core {

std::string formatIsoUtc(TimePoint t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> tod{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), tod.hours().count(),
                     tod.minutes().count(), tod.seconds().count(), tod.subseconds().count());
}

namespace {

bool readInt(std::string_view s, std::size_t& pos, std::size_t digits, int& out) {
  if (pos + digits > s.size()) return false;
  for (std::size_t i = pos; i < pos + digits; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  std::from_chars(s.data() + pos, s.data() + pos + digits, out);
  pos += digits;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

// system_clock counts nanoseconds in 64 bits here (years 1677 to 2262): a
// date outside that range would overflow on conversion, so it is refused.
std::optional<TimePoint> representable(std::chrono::sys_time<std::chrono::milliseconds> t) {
  using namespace std::chrono;
  constexpr auto lo = ceil<milliseconds>(TimePoint::min());
  constexpr auto hi = floor<milliseconds>(TimePoint::max());
  if (t < lo || t > hi) return std::nullopt;
  return time_point_cast<TimePoint::duration>(t);
}

}  // namespace

std::optional<TimePoint> parseIsoUtc(std::string_view s) {
  using namespace std::chrono;
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  if (!readInt(s, pos, 4, y) || !expect(s, pos, '-') || !readInt(s, pos, 2, mo) || !expect(s, pos, '-') ||
      !readInt(s, pos, 2, d)) {
    return std::nullopt;
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  if (pos == s.size()) return representable(sys_days{ymd});
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
  ++pos;
  if (!readInt(s, pos, 2, h) || !expect(s, pos, ':') || !readInt(s, pos, 2, mi)) return std::nullopt;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!readInt(s, pos, 2, sec)) return std::nullopt;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      const std::size_t start = pos;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
      const std::size_t n = pos - start;
      if (n == 0 || n > 9) return std::nullopt;
      int frac = 0;
      std::from_chars(s.data() + start, s.data() + start + std::min<std::size_t>(n, 3), frac);
      for (std::size_t i = n; i < 3; ++i) frac *= 10;
      ms = frac;
    }
  }
  if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  minutes offset{0};
  if (pos < s.size()) {
    const char z = s[pos];
    if (z == 'Z' || z == 'z') {
      ++pos;
    } else if (z == '+' || z == '-') {
      ++pos;
      int oh = 0, om = 0;
      if (!readInt(s, pos, 2, oh) || !expect(s, pos, ':') || !readInt(s, pos, 2, om) || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offset = hours{oh} + minutes{om};
      if (z == '-') offset = -offset;
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) return std::nullopt;
  return representable(sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{ms} - offset);
}

}  // namespace attendance::core

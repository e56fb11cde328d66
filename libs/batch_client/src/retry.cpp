#include <attendance/batch_client/retry.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

namespace attendance::batch_client {

std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, unsigned retry, double unitRandom) noexcept {
  if (retry == 0) return std::chrono::milliseconds{0};
  // base * 2^(retry-1), saturating at the cap without overflowing.
  const double base = static_cast<double>(policy.baseDelay.count());
  const double cap = static_cast<double>(policy.maxDelay.count());
  const double exponent = std::min(static_cast<double>(retry - 1), 62.0);
  const double ceiling = std::min(cap, base * std::exp2(exponent));
  const double r = std::clamp(unitRandom, 0.0, 1.0);
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::floor(ceiling * r))};
}

namespace {

struct Cursor {
  std::string_view s;
  std::size_t i = 0;

  bool done() const { return i >= s.size(); }
  bool literal(std::string_view lit) {
    if (s.substr(i, lit.size()) != lit) return false;
    i += lit.size();
    return true;
  }
  void spaces() {
    while (!done() && s[i] == ' ') ++i;
  }
  std::optional<int> number(std::size_t minDigits, std::size_t maxDigits) {
    std::size_t n = 0;
    int value = 0;
    while (!done() && n < maxDigits && std::isdigit(static_cast<unsigned char>(s[i])) != 0) {
      value = value * 10 + (s[i] - '0');
      ++i;
      ++n;
    }
    if (n < minDigits) return std::nullopt;
    return value;
  }
  std::string_view word() {
    const std::size_t start = i;
    while (!done() && std::isalpha(static_cast<unsigned char>(s[i])) != 0) ++i;
    return s.substr(start, i - start);
  }
};

std::optional<unsigned> monthIndex(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned m = 0; m < kMonths.size(); ++m) {
    if (kMonths[m] == name) return m + 1;
  }
  return std::nullopt;
}

bool time(Cursor& c, int& h, int& m, int& s) {
  auto hh = c.number(2, 2);
  if (!hh || !c.literal(":")) return false;
  auto mm = c.number(2, 2);
  if (!mm || !c.literal(":")) return false;
  auto ss = c.number(2, 2);
  if (!ss) return false;
  h = *hh;
  m = *mm;
  s = *ss;
  return h < 24 && m < 60 && s <= 60;
}

std::optional<std::chrono::system_clock::time_point> build(int year, unsigned month, int day, int h, int m, int s) {
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{m} + std::chrono::seconds{s};
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parseHttpDate(std::string_view text) noexcept {
  Cursor c{text};
  const std::string_view weekday = c.word();
  if (weekday.size() < 3) return std::nullopt;
  int h = 0;
  int m = 0;
  int s = 0;
  if (c.literal(",")) {
    c.spaces();
    auto day = c.number(1, 2);
    if (!day) return std::nullopt;
    if (c.literal(" ")) {
      // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
      auto month = monthIndex(c.word());
      if (!month || !c.literal(" ")) return std::nullopt;
      auto year = c.number(4, 4);
      if (!year || !c.literal(" ") || !time(c, h, m, s) || !c.literal(" GMT") || !c.done()) return std::nullopt;
      return build(*year, *month, *day, h, m, s);
    }
    if (c.literal("-")) {
      // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years < 70 are 20xx.
      auto month = monthIndex(c.word());
      if (!month || !c.literal("-")) return std::nullopt;
      auto year = c.number(2, 2);
      if (!year || !c.literal(" ") || !time(c, h, m, s) || !c.literal(" GMT") || !c.done()) return std::nullopt;
      return build(*year < 70 ? 2000 + *year : 1900 + *year, *month, *day, h, m, s);
    }
    return std::nullopt;
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (!c.literal(" ")) return std::nullopt;
  auto month = monthIndex(c.word());
  if (!month) return std::nullopt;
  c.spaces();
  auto day = c.number(1, 2);
  if (!day || !c.literal(" ") || !time(c, h, m, s) || !c.literal(" ")) return std::nullopt;
  auto year = c.number(4, 4);
  if (!year || !c.done()) return std::nullopt;
  return build(*year, *month, *day, h, m, s);
}

std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now) noexcept {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(value.front())) != 0) {
    std::uint64_t seconds = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range) return std::chrono::milliseconds::max();
    if (ec != std::errc{} || ptr != value.data() + value.size()) return std::nullopt;
    if (seconds > 100'000'000ULL) return std::chrono::milliseconds::max();
    return std::chrono::milliseconds{static_cast<std::int64_t>(seconds) * 1000};
  }
  auto date = parseHttpDate(value);
  if (!date) return std::nullopt;
  if (*date <= now) return std::chrono::milliseconds{0};
  return std::chrono::ceil<std::chrono::milliseconds>(*date - now);
}

}  // namespace attendance::batch_client

#include "report_params.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <attendance/http_server/message.hpp>

namespace attendance::admin_web {

namespace {

constexpr std::array<std::string_view, 7> kNames{"offset", "limit", "filter", "q", "sort", "dir", "buckets"};

// Offsets beyond any real event are refused instead of wrapping around.
constexpr std::size_t kMaxOffset = 100'000'000;

bool parseCount(std::string_view text, std::size_t& out) {
  if (text.empty() || text.size() > 12) return false;
  std::size_t n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return false;
  out = n;
  return true;
}

}  // namespace

ReportRequest parseReportRequest(std::string_view query) {
  ReportRequest r;
  r.query.limit = kReportPageDefaultLimit;
  std::array<bool, kNames.size()> seen{};
  auto fail = [&r](std::string message) {
    r.error = std::move(message);
    return r;
  };
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    const auto known = std::find(kNames.begin(), kNames.end(), name);
    if (known == kNames.end()) continue;
    const auto index = static_cast<std::size_t>(known - kNames.begin());
    if (seen[index]) return fail(std::string(name) + ": given more than once");
    seen[index] = true;
    r.paged = true;
    std::string raw{eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1)};
    std::replace(raw.begin(), raw.end(), '+', ' ');
    std::string value;
    if (!http_server::percentDecode(raw, value)) return fail(std::string(name) + ": malformed percent-encoding");

    if (name == "offset") {
      if (!parseCount(value, r.query.offset) || r.query.offset > kMaxOffset) {
        return fail("offset: must be a whole number from 0 to " + std::to_string(kMaxOffset));
      }
    } else if (name == "limit") {
      if (!parseCount(value, r.query.limit) || r.query.limit < 1 || r.query.limit > core::kReportPageMaxLimit) {
        return fail("limit: must be a whole number from 1 to " + std::to_string(core::kReportPageMaxLimit));
      }
    } else if (name == "filter") {
      const auto f = core::parseReportFilter(value);
      if (!f) return fail("filter: must be one of all, attended, no-show, walk-in");
      r.query.filter = *f;
    } else if (name == "q") {
      if (value.size() > core::kReportSearchMaxBytes) {
        return fail("q: at most " + std::to_string(core::kReportSearchMaxBytes) + " bytes");
      }
      r.query.search = std::move(value);
    } else if (name == "sort") {
      const auto s = core::parseReportSort(value);
      if (!s) return fail("sort: must be one of report, name, email, status, firstSeen, lastSeen, scanners");
      r.query.sort = *s;
    } else if (name == "dir") {
      if (value == "asc")
        r.query.descending = false;
      else if (value == "desc")
        r.query.descending = true;
      else
        return fail("dir: must be asc or desc");
    } else {  // buckets
      if (!parseCount(value, r.query.chartBuckets) || r.query.chartBuckets < 1 ||
          r.query.chartBuckets > core::kReportMaxChartBuckets) {
        return fail("buckets: must be a whole number from 1 to " + std::to_string(core::kReportMaxChartBuckets));
      }
    }
  }
  return r;
}

}  // namespace attendance::admin_web

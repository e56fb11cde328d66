#include <attendance/core/report_query.hpp>
#include <attendance/support/json_text.hpp>

#include "report_compute.hpp"
#include "report_json.hpp"

#include <algorithm>
#include <chrono>
#include <cassert>
#include <numeric>
#include <optional>

namespace attendance::core {

std::optional<ReportFilter> parseReportFilter(std::string_view text) {
  if (text == "all") return ReportFilter::all;
  if (text == "attended") return ReportFilter::attended;
  if (text == "no-show") return ReportFilter::no_show;
  if (text == "walk-in") return ReportFilter::walk_in;
  return std::nullopt;
}

std::string_view toString(ReportFilter filter) noexcept {
  switch (filter) {
    case ReportFilter::all: return "all";
    case ReportFilter::attended: return "attended";
    case ReportFilter::no_show: return "no-show";
    case ReportFilter::walk_in: return "walk-in";
  }
  return "all";
}

std::optional<ReportSort> parseReportSort(std::string_view text) {
  if (text == "report") return ReportSort::report;
  if (text == "name") return ReportSort::name;
  if (text == "email") return ReportSort::email;
  if (text == "status") return ReportSort::status;
  if (text == "firstSeen") return ReportSort::first_seen;
  if (text == "lastSeen") return ReportSort::last_seen;
  if (text == "scanners") return ReportSort::scanners;
  return std::nullopt;
}

std::string_view toString(ReportSort sort) noexcept {
  switch (sort) {
    case ReportSort::report: return "report";
    case ReportSort::name: return "name";
    case ReportSort::email: return "email";
    case ReportSort::status: return "status";
    case ReportSort::first_seen: return "firstSeen";
    case ReportSort::last_seen: return "lastSeen";
    case ReportSort::scanners: return "scanners";
  }
  return "report";
}

namespace {

// Only ASCII letters are folded: a UTF-8 sequence never contains bytes below
// 0x80, so multi-byte characters are compared and searched byte for byte.
inline unsigned char fold(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'A' && u <= 'Z') ? static_cast<unsigned char>(u + ('a' - 'A')) : u;
}

// Negative, zero, positive: ASCII letters folded first, then the bytes
// ("ada" < "Bob", and "Ada" < "ada" as a tie-breaker).
int compareText(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto fa = fold(a[i]);
    const auto fb = fold(b[i]);
    if (fa != fb) return fa < fb ? -1 : 1;
  }
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b);
}

bool containsFolded(std::string_view haystack, std::string_view foldedNeedle) noexcept {
  const std::size_t n = foldedNeedle.size();
  if (n == 0) return true;
  if (haystack.size() < n) return false;
  const auto first = static_cast<unsigned char>(foldedNeedle[0]);
  for (std::size_t i = 0; i + n <= haystack.size(); ++i) {
    if (fold(haystack[i]) != first) continue;
    std::size_t k = 1;
    while (k < n && fold(haystack[i + k]) == static_cast<unsigned char>(foldedNeedle[k])) ++k;
    if (k == n) return true;
  }
  return false;
}

bool passesFilter(ParticipantStatus status, ReportFilter filter) noexcept {
  switch (filter) {
    case ReportFilter::all: return true;
    case ReportFilter::attended: return status == ParticipantStatus::attended;
    case ReportFilter::no_show: return status == ParticipantStatus::no_show;
    case ReportFilter::walk_in: return status == ParticipantStatus::walk_in;
  }
  return true;
}

std::string joined(const std::vector<std::string>& scanners) {
  std::string out;
  for (std::size_t i = 0; i < scanners.size(); ++i) {
    if (i != 0) out += ';';
    out += scanners[i];
  }
  return out;
}

// The rows with a value, sorted by `less` (reversed when descending; stable, so
// ties keep the report's order either way), then the rows without one in the
// report's order.
template <class HasValue, class Less>
std::vector<std::uint32_t> orderBy(std::size_t n, bool descending, HasValue hasValue, Less less) {
  std::vector<std::uint32_t> order;
  std::vector<std::uint32_t> empty;
  order.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) (hasValue(i) ? order : empty).push_back(i);
  if (descending) {
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return less(b, a); });
  } else {
    std::stable_sort(order.begin(), order.end(), less);
  }
  order.insert(order.end(), empty.begin(), empty.end());
  return order;
}

}  // namespace

std::vector<std::uint32_t> sortParticipants(const EventReport& report, ReportSort sort, bool descending) {
  const auto& rows = report.participants;
  const std::size_t n = rows.size();
  switch (sort) {
    case ReportSort::report: break;
    case ReportSort::name:
      return orderBy(
          n, descending, [&](std::uint32_t i) { return !rows[i].displayName.empty(); },
          [&](std::uint32_t a, std::uint32_t b) { return compareText(rows[a].displayName, rows[b].displayName) < 0; });
    case ReportSort::email:
      return orderBy(
          n, descending, [&](std::uint32_t i) { return !rows[i].email.empty(); },
          [&](std::uint32_t a, std::uint32_t b) { return compareText(rows[a].email, rows[b].email) < 0; });
    case ReportSort::status:
      return orderBy(
          n, descending, [](std::uint32_t) { return true; },
          [&](std::uint32_t a, std::uint32_t b) { return toString(rows[a].status) < toString(rows[b].status); });
    case ReportSort::first_seen:
      return orderBy(
          n, descending, [&](std::uint32_t i) { return rows[i].seen.firstSeen.has_value(); },
          [&](std::uint32_t a, std::uint32_t b) { return *rows[a].seen.firstSeen < *rows[b].seen.firstSeen; });
    case ReportSort::last_seen:
      return orderBy(
          n, descending, [&](std::uint32_t i) { return rows[i].seen.lastSeen.has_value(); },
          [&](std::uint32_t a, std::uint32_t b) { return *rows[a].seen.lastSeen < *rows[b].seen.lastSeen; });
    case ReportSort::scanners: {
      std::vector<std::string> keys(n);
      for (std::size_t i = 0; i < n; ++i) keys[i] = joined(rows[i].seen.scanners);
      return orderBy(
          n, descending, [&](std::uint32_t i) { return !keys[i].empty(); },
          [&](std::uint32_t a, std::uint32_t b) { return compareText(keys[a], keys[b]) < 0; });
    }
  }
  // The report's own order (every row distinct, so descending is its reverse).
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0U);
  if (descending) std::reverse(order.begin(), order.end());
  return order;
}

ReportSelection selectParticipants(const EventReport& report, const ReportQuery& query,
                                   const std::vector<std::uint32_t>& order) {
  assert(order.size() == report.participants.size());
  ReportSelection selection;
  std::string needle;
  needle.reserve(query.search.size());
  for (const char c : query.search) needle += static_cast<char>(fold(c));

  if (query.filter == ReportFilter::all && needle.empty()) {
    selection.total = order.size();
    if (query.offset < order.size()) {
      const std::size_t end = query.offset + std::min(query.limit, order.size() - query.offset);
      selection.rows.assign(order.begin() + static_cast<std::ptrdiff_t>(query.offset),
                            order.begin() + static_cast<std::ptrdiff_t>(end));
    }
    return selection;
  }
  selection.rows.reserve(std::min<std::size_t>(query.limit, order.size()));
  for (const auto i : order) {
    const ParticipantRow& p = report.participants[i];
    if (!passesFilter(p.status, query.filter)) continue;
    if (!needle.empty() && !containsFolded(p.displayName, needle) && !containsFolded(p.email, needle)) continue;
    if (selection.total >= query.offset && selection.rows.size() < query.limit) selection.rows.push_back(i);
    ++selection.total;
  }
  return selection;
}

ReportSelection selectParticipants(const EventReport& report, const ReportQuery& query) {
  return selectParticipants(report, query, sortParticipants(report, query.sort, query.descending));
}

std::chrono::minutes chartBucketWidth(const EventReport& report, std::size_t maxBuckets) {
  using std::chrono::minutes;
  std::optional<std::int64_t> lo, hi;  // first check-ins, ms since the epoch
  for (const auto& p : report.participants) {
    if (!p.seen.firstSeen) continue;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(p.seen.firstSeen->time_since_epoch()).count();
    lo = lo ? std::min(*lo, ms) : ms;
    hi = hi ? std::max(*hi, ms) : ms;
  }
  if (!lo) return minutes{1};
  const auto limit = static_cast<std::int64_t>(std::max<std::size_t>(1, maxBuckets));
  auto floorDiv = [](std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); };
  auto fits = [&](std::int64_t widthMinutes) {
    const std::int64_t w = widthMinutes * 60'000;
    return floorDiv(*hi, w) - floorDiv(*lo, w) + 1 <= limit;
  };
  for (const std::int64_t m : {1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720}) {
    if (fits(m)) return minutes{m};
  }
  // Whole days: a day more per step reaches any span (one bucket at the latest
  // when the width passes both ends' distance from the epoch).
  std::int64_t days = 1;
  while (!fits(days * 1440)) ++days;
  return minutes{days * 1440};
}

std::string renderReportPageJson(const EventReport& report, const ReportQuery& query,
                                 const ReportSelection& selection) {
  std::vector<ArrivalBucket> chart;
  std::chrono::minutes chartWidth = report.bucketWidth;
  if (query.chartBuckets > 0) {
    chartWidth = chartBucketWidth(report, query.chartBuckets);
    chart = detail::arrivalsOf(report, chartWidth);
  }
  std::size_t bound = detail::reportHeadBound(report) + detail::reportTailBound(report) + 256 +
                      query.search.size() * 6 + chart.size() * 64;
  for (const auto i : selection.rows)
    bound += detail::seenRowBound(&report.participants[i], report.participants[i].seen);
  std::string out;
  out.reserve(bound);
  detail::appendReportHead(out, report);
  out += ",\"page\":{\"offset\":";
  support::appendJsonInt(out, static_cast<std::int64_t>(query.offset));
  out += ",\"limit\":";
  support::appendJsonInt(out, static_cast<std::int64_t>(query.limit));
  out += ",\"total\":";
  support::appendJsonInt(out, static_cast<std::int64_t>(selection.total));
  out += ",\"filter\":\"";
  out += toString(query.filter);
  out += "\",\"sort\":\"";
  out += toString(query.sort);
  out += "\",\"dir\":\"";
  out += query.descending ? "desc" : "asc";
  out += "\",\"q\":";
  support::appendJsonString(out, query.search);
  out += "},\"participants\":[";
  bool first = true;
  for (const auto i : selection.rows) {
    assert(i < report.participants.size());
    if (!first) out += ',';
    first = false;
    const ParticipantRow& p = report.participants[i];
    detail::appendSeenRow(out, &p, p.bleUuid, p.seen);
  }
  out += ']';
  if (query.chartBuckets > 0) {
    detail::appendReportTail(out, report, chart, chartWidth);
  } else {
    detail::appendReportTail(out, report);
  }
  return out;
}

}  // namespace attendance::core

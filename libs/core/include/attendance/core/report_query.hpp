#pragma once

// Selecting one page of a built report: filter, search, sort, offset, limit.
// Pure functions of the report (no database), so a cached report answers every
// page without being rebuilt (docs/check-in-semantics.md, "Report pages").
#include <attendance/core/report.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attendance::core {

enum class ReportFilter { all, attended, no_show, walk_in };  // "all" "attended" "no-show" "walk-in"
// "report" (the report's own order: attended, walk-ins, no-shows; by name) "name" "email" "status"
// "firstSeen" "lastSeen" "scanners"
enum class ReportSort { report, name, email, status, first_seen, last_seen, scanners };

struct ReportQuery {
  ReportFilter filter = ReportFilter::all;
  std::string search;  // case-insensitive (ASCII letters folded) substring of name or email; empty = all
  ReportSort sort = ReportSort::report;
  bool descending = false;
  std::size_t offset = 0;
  std::size_t limit = 50;  // callers enforce 1..kReportPageMaxLimit
  // 0: the page carries the report's own arrival buckets. N: buckets of the
  // narrowest chart width (chartBucketWidth) that shows every arrival in at
  // most N of them, so a short event's chart is not one bar. Callers enforce
  // 0..kReportMaxChartBuckets.
  std::size_t chartBuckets = 0;
};

inline constexpr std::size_t kReportPageMaxLimit = 500;
inline constexpr std::size_t kReportSearchMaxBytes = 200;
inline constexpr std::size_t kReportMaxChartBuckets = 500;

[[nodiscard]] std::optional<ReportFilter> parseReportFilter(std::string_view text);
[[nodiscard]] std::string_view toString(ReportFilter filter) noexcept;
[[nodiscard]] std::optional<ReportSort> parseReportSort(std::string_view text);
[[nodiscard]] std::string_view toString(ReportSort sort) noexcept;

struct ReportSelection {
  std::size_t total = 0;            // participants matching filter + search
  std::vector<std::uint32_t> rows;  // indices into EventReport::participants, the requested page only
};

// Sorting: text compared with ASCII letters folded, then bytewise; times
// numerically; `status` by its label; `scanners` by the joined list. Empty
// values (no time, no scanners) come last in both directions; ties keep the
// report's order in both directions. Offset past the end = no rows.
[[nodiscard]] ReportSelection selectParticipants(const EventReport& report, const ReportQuery& query);

// The participants' positions (indices into EventReport::participants) in the
// order of (sort, descending), all of them; selectParticipants with this order
// precomputed (CachedReport keeps one per sort and direction).
[[nodiscard]] std::vector<std::uint32_t> sortParticipants(const EventReport& report, ReportSort sort, bool descending);
[[nodiscard]] ReportSelection selectParticipants(const EventReport& report, const ReportQuery& query,
                                                 const std::vector<std::uint32_t>& order);

// The narrowest of 1, 2, 5, 10, 15, 30 minutes, 1, 2, 3, 6, 12 hours, then whole
// days, whose buckets (aligned on multiples of the width since the epoch, as the
// report's) hold the participants' first check-ins in at most maxBuckets
// buckets (at least 1). One minute when nobody was seen.
[[nodiscard]] std::chrono::minutes chartBucketWidth(const EventReport& report, std::size_t maxBuckets);

// Same JSON as renderReportJson minus "unknownDevices" (its count stays in
// "summary"), "participants" holding only the selected rows, and a "page"
// object after "summary":
// {"offset":0,"limit":50,"total":10000,"filter":"attended","sort":"name","dir":"asc","q":"ali"}
// With query.chartBuckets > 0, "arrivals" uses chartBucketWidth's width.
[[nodiscard]] std::string renderReportPageJson(const EventReport& report, const ReportQuery& query,
                                               const ReportSelection& selection);

}  // namespace attendance::core

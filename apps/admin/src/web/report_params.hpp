#pragma once

#include <string>
#include <string_view>

#include <attendance/core/report_query.hpp>

// The query string of GET /api/events/{id}/report (docs/admin-web.md, "Report API").
// Pure: text in, a query or a message naming the bad parameter out.
namespace attendance::admin_web {

struct ReportRequest {
  // False when none of offset, limit, filter, q, sort, dir, buckets is present: the full report.
  bool paged = false;
  core::ReportQuery query;
  // Non-empty when a parameter is not acceptable; names the parameter ("limit: ...").
  std::string error;
};

inline constexpr std::size_t kReportPageDefaultLimit = 50;

// The table the event page shows first: by first seen, earliest first, 50 rows.
// The server renders it (pages::event) and names its sort on #report
// (data-sort, data-dir), where app.js starts from.
[[nodiscard]] inline core::ReportQuery eventPageFirstQuery() {
  core::ReportQuery q;
  q.sort = core::ReportSort::first_seen;
  q.limit = kReportPageDefaultLimit;
  return q;
}

// `query` is the part after '?' (may be empty). Parameters other than the seven
// are ignored (cache busters); one of the seven given twice is an error.
[[nodiscard]] ReportRequest parseReportRequest(std::string_view query);

}  // namespace attendance::admin_web

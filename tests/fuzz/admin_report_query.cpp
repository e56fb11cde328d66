// Fuzz target: the report API's query string (apps/admin/src/web/report_params.hpp)
// and the page it selects from a small fixed report (core's
// selectParticipants / renderReportPageJson), all driven by attacker-controlled
// bytes. A query the parser accepts must select a page within its limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <attendance/core/report_query.hpp>

#include "web/report_params.hpp"

namespace {

using attendance::core::EventReport;
using attendance::core::ParticipantStatus;

// Names that exercise the search and sort rules: case, non-ASCII, empty
// sightings, ties.
const EventReport& sampleReport() {
  static const EventReport report = [] {
    EventReport r;
    r.event.id = "fuzz";
    r.event.name = "Fuzz";
    r.synced = true;
    const char* names[] = {"alice", "Bob", "\xC3\x89mile", "bob", "<script>", "", "Zoë", "alice"};
    std::int64_t minute = 0;
    for (const char* name : names) {
      auto& p = r.participants.emplace_back();
      p.userId = std::to_string(minute);
      p.displayName = name;
      p.email = std::string{name} + "@example.com";
      p.status = minute % 3 == 0 ? ParticipantStatus::no_show
                                 : (minute % 3 == 1 ? ParticipantStatus::attended : ParticipantStatus::walk_in);
      if (p.status != ParticipantStatus::no_show) {
        p.seen.firstSeen = attendance::core::TimePoint{std::chrono::minutes{minute}};
        p.seen.lastSeen = attendance::core::TimePoint{std::chrono::minutes{minute + 5}};
        p.seen.scanners = {minute % 2 == 0 ? "door-a" : "door-b"};
        p.seen.count = 2;
      }
      ++minute;
    }
    return r;
  }();
  return report;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto request = attendance::admin_web::parseReportRequest(input);
  if (!request.error.empty()) return 0;
  const auto& q = request.query;
  if (q.limit < 1 || q.limit > attendance::core::kReportPageMaxLimit) std::abort();
  if (q.search.size() > attendance::core::kReportSearchMaxBytes) std::abort();
  const EventReport& report = sampleReport();
  const auto selection = attendance::core::selectParticipants(report, q);
  if (selection.total > report.participants.size() || selection.rows.size() > q.limit) std::abort();
  for (const auto row : selection.rows) {
    if (row >= report.participants.size()) std::abort();
  }
  const std::string json = attendance::core::renderReportPageJson(report, q, selection);
  if (json.empty() || json.front() != '{' || json.back() != '}') std::abort();
  return 0;
}

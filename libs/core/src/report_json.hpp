#pragma once

// The report's JSON pieces, shared by the full report (renderReportJson) and a
// page of it (renderReportPageJson) so both write every field the same way.
// Everything appends into one reserved buffer: no temporary string per field.
#include <attendance/core/report.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attendance::core::detail {

void appendIso(std::string& out, TimePoint t);  // same text as formatIsoUtc
void appendTimeOrNull(std::string& out, const std::optional<TimePoint>& t);

// {"event":{…},"generatedAt":…,"synced":…,"summary":{…}  (the object left open)
void appendReportHead(std::string& out, const EventReport& r);
// One participant object, or with person == nullptr one unknown device's.
void appendSeenRow(std::string& out, const ParticipantRow* person, const support::Uuid& bleUuid, const Sightings& seen);
// ,"scanners":[…],"arrivals":{…}}  (closes the object)
void appendReportTail(std::string& out, const EventReport& r);
// The same with other arrival buckets than the report's own.
void appendReportTail(std::string& out, const EventReport& r, const std::vector<ArrivalBucket>& arrivals,
                      std::chrono::minutes bucketWidth);

// Upper bounds of the bytes the pieces above write (escaping grows a byte to at most 6).
std::size_t reportHeadBound(const EventReport& r);
std::size_t seenRowBound(const ParticipantRow* person, const Sightings& seen);
std::size_t reportTailBound(const EventReport& r);

}  // namespace attendance::core::detail

#include <attendance/core/report.hpp>
#include <attendance/support/json_text.hpp>

#include "report_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <iterator>

namespace attendance::core {
namespace detail {

// The JSON renderer appends into one reserved buffer: no temporary strings per
// field, timestamps and numbers written with to_chars (docs/benchmarks-core.md).

// Same text as formatIsoUtc for years 0000-9999 (every time a system_clock can hold).
void appendIso(std::string& out, TimePoint t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    out += formatIsoUtc(t);
    return;
  }
  auto tod = static_cast<unsigned>((ms - day).count());
  char b[24] = {'0', '0', '0', '0', '-', '0', '0', '-', '0', '0', 'T', '0',
                '0', ':', '0', '0', ':', '0', '0', '.', '0', '0', '0', 'Z'};
  auto put = [&b](std::size_t at, unsigned v, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      b[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, static_cast<unsigned>(year), 4);
  put(5, static_cast<unsigned>(ymd.month()), 2);
  put(8, static_cast<unsigned>(ymd.day()), 2);
  put(20, tod % 1000, 3);
  tod /= 1000;
  put(17, tod % 60, 2);
  tod /= 60;
  put(14, tod % 60, 2);
  put(11, tod / 60, 2);
  out.append(b, sizeof b);
}

void appendTimeOrNull(std::string& out, const std::optional<TimePoint>& t) {
  if (t) {
    out += '"';
    appendIso(out, *t);
    out += '"';
  } else {
    out += "null";
  }
}

namespace {

void appendUuid(std::string& out, const support::Uuid& u) {
  char b[support::Uuid::kTextLength];
  u.formatTo(b);
  out += '"';
  out.append(b, sizeof b);
  out += '"';
}

void appendScannerNames(std::string& out, const std::vector<std::string>& scanners) {
  out += '[';
  for (std::size_t i = 0; i < scanners.size(); ++i) {
    if (i != 0) out += ',';
    support::appendJsonString(out, scanners[i]);
  }
  out += ']';
}

}  // namespace

void appendSeenRow(std::string& out, const ParticipantRow* person, const support::Uuid& bleUuid,
                   const Sightings& seen) {
  out += '{';
  if (person != nullptr) {
    out += "\"userId\":";
    support::appendJsonString(out, person->userId);
    out += ",\"name\":";
    support::appendJsonString(out, person->displayName);
    out += ",\"email\":";
    support::appendJsonString(out, person->email);
    out += ',';
  }
  out += "\"bleUuid\":";
  appendUuid(out, bleUuid);
  if (person != nullptr) {
    out += ",\"status\":\"";
    out += toString(person->status);
    out += "\",\"source\":\"";
    out += sourceOf(*person);
    out += "\",\"manualAt\":";
    if (person->manual) {
      appendTimeOrNull(out, person->manual->at);
    } else {
      out += "null";
    }
  }
  out += ",\"firstSeen\":";
  appendTimeOrNull(out, seen.firstSeen);
  out += ",\"lastSeen\":";
  appendTimeOrNull(out, seen.lastSeen);
  out += ",\"scanners\":";
  appendScannerNames(out, seen.scanners);
  out += ",\"sightings\":";
  support::appendJsonInt(out, seen.count);
  out += '}';
}

std::size_t seenRowBound(const ParticipantRow* person, const Sightings& seen) {
  std::size_t n = 200;
  if (person != nullptr) n += 120 + (person->userId.size() + person->displayName.size() + person->email.size()) * 6;
  for (const auto& name : seen.scanners) n += 3 + name.size() * 6;
  return n;
}

std::size_t reportHeadBound(const EventReport& r) {
  return 1024 + (r.event.id.size() + r.event.name.size() + r.event.venue.size()) * 6;
}

std::size_t reportTailBound(const EventReport& r) {
  std::size_t n = 128 + r.arrivals.size() * 64;
  for (const auto& s : r.scanners) n += 240 + s.scannerId.size() * 6;
  return n;
}

void appendReportHead(std::string& out, const EventReport& r) {
  out += "{\"event\":{\"id\":";
  support::appendJsonString(out, r.event.id);
  out += ",\"name\":";
  support::appendJsonString(out, r.event.name);
  out += ",\"venue\":";
  support::appendJsonString(out, r.event.venue);
  out += ",\"startsAt\":";
  appendTimeOrNull(out, r.event.startsAt);
  out += ",\"endsAt\":";
  appendTimeOrNull(out, r.event.endsAt);
  out += "},\"generatedAt\":";
  appendTimeOrNull(out, r.generatedAt);
  fmt::format_to(std::back_inserter(out),
                 ",\"synced\":{},\"summary\":{{\"registered\":{},\"attended\":{},\"noShows\":{},\"walkIns\":{},"
                 "\"unknownDevices\":{},\"attendanceRate\":{:.4f},\"manualCheckIns\":{},\"revoked\":{},"
                 "\"erasedIds\":{}}}",
                 r.synced, r.registered, r.attended, r.noShows, r.walkIns, r.unknownDevices, r.attendanceRate,
                 r.manualCheckIns, r.revoked, r.erasedIds);
}

void appendReportTail(std::string& out, const EventReport& r) { appendReportTail(out, r, r.arrivals, r.bucketWidth); }

void appendReportTail(std::string& out, const EventReport& r, const std::vector<ArrivalBucket>& arrivals,
                      std::chrono::minutes bucketWidth) {
  out += ",\"scanners\":[";
  for (std::size_t i = 0; i < r.scanners.size(); ++i) {
    const auto& s = r.scanners[i];
    if (i != 0) out += ',';
    out += "{\"scannerId\":";
    support::appendJsonString(out, s.scannerId);
    out += ",\"lastSyncAt\":";
    appendTimeOrNull(out, s.lastSyncAt);
    out += ",\"syncs\":";
    support::appendJsonInt(out, s.syncs);
    out += ",\"recordsReceived\":";
    support::appendJsonInt(out, s.recordsReceived);
    out += ",\"recordsStored\":";
    support::appendJsonInt(out, s.recordsStored);
    out += ",\"recordsResent\":";
    support::appendJsonInt(out, s.recordsResent);
    out += ",\"recordsRefused\":";
    support::appendJsonInt(out, s.recordsRefused);
    out += '}';
  }
  out += "],\"arrivals\":{\"bucketMinutes\":";
  support::appendJsonInt(out, bucketWidth.count());
  out += ",\"buckets\":[";
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    if (i != 0) out += ',';
    out += "{\"start\":\"";
    appendIso(out, arrivals[i].start);
    out += "\",\"arrivals\":";
    support::appendJsonInt(out, arrivals[i].arrivals);
    out += '}';
  }
  out += "]}}";
}

}  // namespace detail

namespace {

// RFC 4180 field; cells that a spreadsheet would run as a formula get a leading
// apostrophe (OWASP CSV injection advice), see docs/check-in-semantics.md.
void appendCsvField(std::string& out, std::string_view v) {
  std::string cell;
  if (!v.empty() && (v.front() == '=' || v.front() == '+' || v.front() == '-' || v.front() == '@' ||
                     v.front() == '\t' || v.front() == '\r')) {
    cell += '\'';
  }
  cell += v;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) {
    out += cell;
    return;
  }
  out += '"';
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string joinScanners(const std::vector<std::string>& scanners) {
  std::string out;
  for (std::size_t i = 0; i < scanners.size(); ++i) {
    if (i != 0) out += ';';
    out += scanners[i];
  }
  return out;
}

std::string shortTime(const std::optional<TimePoint>& t) {
  if (!t) return "-";
  auto iso = formatIsoUtc(*t);  // 2024-07-20T10:30:00.000Z → 2024-07-20 10:30:00
  iso[10] = ' ';
  return iso.substr(0, 19);
}

// Display width of UTF-8 text (code points; good enough for names in a terminal).
std::size_t displayWidth(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; }));
}

std::string pad(std::string_view s, std::size_t width) {
  std::string out{s};
  const auto w = displayWidth(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

}  // namespace

std::string renderReportJson(const EventReport& r) {
  // An upper bound of the size, so the buffer is allocated once.
  std::size_t bound = detail::reportHeadBound(r) + detail::reportTailBound(r) + 64;
  for (const auto& p : r.participants) bound += detail::seenRowBound(&p, p.seen);
  for (const auto& u : r.unknown) bound += detail::seenRowBound(nullptr, u.seen);
  for (const auto& o : r.audit) {
    bound +=
        160 + (o.userId.size() + o.displayName.size() + o.email.size() + o.adminEmail.size() + o.reason.size()) * 6;
  }
  std::string out;
  out.reserve(bound);
  detail::appendReportHead(out, r);
  out += ",\"participants\":[";
  for (std::size_t i = 0; i < r.participants.size(); ++i) {
    if (i != 0) out += ',';
    detail::appendSeenRow(out, &r.participants[i], r.participants[i].bleUuid, r.participants[i].seen);
  }
  out += "],\"unknownDevices\":[";
  for (std::size_t i = 0; i < r.unknown.size(); ++i) {
    if (i != 0) out += ',';
    detail::appendSeenRow(out, nullptr, r.unknown[i].bleUuid, r.unknown[i].seen);
  }
  out += "],\"audit\":[";
  for (std::size_t i = 0; i < r.audit.size(); ++i) {
    const auto& o = r.audit[i];
    if (i != 0) out += ',';
    out += "{\"userId\":";
    support::appendJsonString(out, o.userId);
    out += ",\"name\":";
    support::appendJsonString(out, o.displayName);
    out += ",\"email\":";
    support::appendJsonString(out, o.email);
    out += ",\"action\":\"";
    out += toString(o.action);
    out += "\",\"by\":";
    support::appendJsonString(out, o.adminEmail);
    out += ",\"reason\":";
    support::appendJsonString(out, o.reason);
    out += ",\"at\":";
    detail::appendTimeOrNull(out, o.at);
    out += '}';
  }
  out += ']';
  detail::appendReportTail(out, r);
  return out;
}

std::string renderReportCsv(const EventReport& r) {
  std::string out =
      "status,name,email,bleUuid,firstSeen,lastSeen,scanners,sightings,source,manualAt,manualBy,manualReason\r\n";
  auto row = [&](std::string_view status, std::string_view name, std::string_view email, const support::Uuid& ble,
                 const Sightings& s, const std::optional<ManualState>& manual) {
    appendCsvField(out, status);
    out += ',';
    appendCsvField(out, name);
    out += ',';
    appendCsvField(out, email);
    out += ',';
    out += ble.toString();
    out += ',';
    if (s.firstSeen) out += formatIsoUtc(*s.firstSeen);
    out += ',';
    if (s.lastSeen) out += formatIsoUtc(*s.lastSeen);
    out += ',';
    appendCsvField(out, joinScanners(s.scanners));
    out += ',';
    out += std::to_string(s.count);
    // Appended columns (issue 16): who decided the row, and for a manual one when, by whom and why.
    out += manual ? ",manual," : ",scanner,";
    if (manual) {
      out += formatIsoUtc(manual->at);
      out += ',';
      appendCsvField(out, manual->by);
      out += ',';
      appendCsvField(out, manual->reason);
    } else {
      out += ",,";
    }
    out += "\r\n";
  };
  for (const auto& p : r.participants) row(toString(p.status), p.displayName, p.email, p.bleUuid, p.seen, p.manual);
  for (const auto& u : r.unknown) row("unknown-device", "", "", u.bleUuid, u.seen, std::nullopt);
  return out;
}

std::string renderUnknownDevicesCsv(const EventReport& r) {
  std::string out = "bleUuid,firstSeen,lastSeen,scanners,sightings\r\n";
  for (const auto& u : r.unknown) {
    out += u.bleUuid.toString();
    out += ',';
    if (u.seen.firstSeen) out += formatIsoUtc(*u.seen.firstSeen);
    out += ',';
    if (u.seen.lastSeen) out += formatIsoUtc(*u.seen.lastSeen);
    out += ',';
    appendCsvField(out, joinScanners(u.seen.scanners));
    out += ',';
    out += std::to_string(u.seen.count);
    out += "\r\n";
  }
  return out;
}

std::string renderReportTable(const EventReport& r) {
  std::string out;
  out += fmt::format("Event:      {} ({})\n", r.event.name, r.event.id);
  if (!r.event.venue.empty()) out += fmt::format("Venue:      {}\n", r.event.venue);
  if (r.event.startsAt || r.event.endsAt) {
    out += fmt::format("When:       {} .. {} UTC\n", shortTime(r.event.startsAt), shortTime(r.event.endsAt));
  }
  if (!r.synced) {
    out += "Status:     Attendance data has not been synced.\n";
  } else {
    out += fmt::format("Status:     synced ({} scanner{})\n", r.scanners.size(), r.scanners.size() == 1 ? "" : "s");
  }
  out += fmt::format(
      "Registered: {}   Attended: {}   No-shows: {}   Walk-ins: {}   Unknown devices: {}   Attendance rate: {:.1f}%\n",
      r.registered, r.attended, r.noShows, r.walkIns, r.unknownDevices, r.attendanceRate * 100.0);
  if (r.erasedIds > 0) {
    out += fmt::format("Deleted:    {} id{} of participants who deleted their account (counted only)\n", r.erasedIds,
                       r.erasedIds == 1 ? "" : "s");
  }
  if (!r.audit.empty()) {
    out += fmt::format("Manual:     {} checked in by hand, {} revoked ({} override{} in the audit trail)\n",
                       r.manualCheckIns, r.revoked, r.audit.size(), r.audit.size() == 1 ? "" : "s");
  }

  struct Line {
    std::string cells[6];
  };
  std::vector<Line> lines;
  lines.push_back({{"STATUS", "NAME", "EMAIL", "FIRST SEEN (UTC)", "LAST SEEN (UTC)", "SCANNERS"}});
  for (const auto& p : r.participants) {
    std::string status{toString(p.status)};
    if (p.manual) status += p.manual->action == OverrideAction::revoke ? " (revoked)" : " (manual)";
    lines.push_back({{std::move(status), p.displayName, p.email, shortTime(p.seen.firstSeen),
                      shortTime(p.seen.lastSeen), p.seen.scanners.empty() ? "-" : joinScanners(p.seen.scanners)}});
  }
  for (const auto& u : r.unknown) {
    lines.push_back({{"unknown", "-", u.bleUuid.toString(), shortTime(u.seen.firstSeen), shortTime(u.seen.lastSeen),
                      joinScanners(u.seen.scanners)}});
  }
  std::size_t widths[6] = {};
  for (const auto& l : lines) {
    for (std::size_t c = 0; c < 6; ++c) widths[c] = std::max(widths[c], displayWidth(l.cells[c]));
  }
  out += '\n';
  for (const auto& l : lines) {
    std::string line;
    for (std::size_t c = 0; c < 6; ++c) {
      line += c + 1 == 6 ? l.cells[c] : pad(l.cells[c], widths[c]) + "  ";
    }
    out += line + '\n';
  }
  if (!r.scanners.empty()) {
    out += "\nSCANNER                          LAST SYNC (UTC)      SYNCS  RECEIVED  STORED\n";
    for (const auto& s : r.scanners) {
      out += fmt::format("{:<32} {:<20} {:>5}  {:>8}  {:>6}\n", s.scannerId, shortTime(s.lastSyncAt), s.syncs,
                         s.recordsReceived, s.recordsStored);
    }
  }
  if (!r.audit.empty()) {
    out += "\nMANUAL CHECK-INS AND REVOCATIONS (UTC)\n";
    for (const auto& o : r.audit) {
      out += fmt::format("{}  {:<8}  {}  by {}: {}\n", shortTime(o.at), toString(o.action), o.email, o.adminEmail,
                         o.reason);
    }
  }
  return out;
}

}  // namespace attendance::core

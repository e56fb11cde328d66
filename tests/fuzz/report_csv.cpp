// Fuzz target: the report's CSV writer (renderReportCsv) on participant names,
// emails and scanner ids an attacker chose (a participant names themselves).
// The input is split at NUL bytes into name, email, scanner, name, email, …
//
// Properties: the CSV parses back (RFC 4180) into one header and one row per
// participant, 12 fields each (the manual columns source, manualAt, manualBy,
// manualReason at the end: every other participant was checked in by hand, by
// the next part and for the part after it); every field reads back as written, except that a
// field a spreadsheet would run as a formula (= + - @ TAB CR first) reads back
// with a leading apostrophe, so no cell starts a formula.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <attendance/core/report.hpp>

namespace {

namespace core = attendance::core;
using Rows = std::vector<std::vector<std::string>>;

// A strict RFC 4180 reader with CRLF records; aborts on anything malformed.
Rows parseCsv(std::string_view text) {
  Rows rows;
  std::vector<std::string> row;
  std::string field;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      ++i;
      for (;;) {
        if (i >= text.size()) std::abort();  // unterminated quote
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '\r') {
        if (text[i] == '"' || text[i] == '\n') std::abort();  // must have been quoted
        field += text[i++];
      }
    }
    if (i < text.size() && text[i] == ',') {
      row.push_back(std::move(field));
      field.clear();
      ++i;
    } else if (text.substr(i, 2) == "\r\n") {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      i += 2;
    } else {
      std::abort();  // a record must end with CRLF
    }
  }
  if (!row.empty() || !field.empty()) std::abort();
  return rows;
}

bool startsFormula(std::string_view v) {
  return !v.empty() && (v.front() == '=' || v.front() == '+' || v.front() == '-' || v.front() == '@' ||
                        v.front() == '\t' || v.front() == '\r');
}

void expectCell(const std::string& cell, std::string_view written) {
  if (startsFormula(written)) {
    if (cell.empty() || cell.front() != '\'' || std::string_view{cell}.substr(1) != written) std::abort();
  } else if (cell != written) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> parts;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (;;) {
    const auto nul = rest.find('\0');
    parts.emplace_back(rest.substr(0, nul));
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  core::EventReport report;
  for (std::size_t i = 0; i < parts.size(); i += 3) {
    core::ParticipantRow p;
    p.displayName = parts[i];
    p.email = i + 1 < parts.size() ? parts[i + 1] : "";
    if (i + 2 < parts.size()) p.seen.scanners = {parts[i + 2]};
    p.status = core::ParticipantStatus::attended;
    if ((i / 3) % 2 == 1) {
      p.manual = core::ManualState{core::OverrideAction::check_in, {}, p.email, p.displayName};
    }
    report.participants.push_back(std::move(p));
  }
  const Rows rows = parseCsv(core::renderReportCsv(report));
  if (rows.size() != report.participants.size() + 1) std::abort();
  for (const auto& row : rows) {
    if (row.size() != 12) std::abort();
    for (const auto& cell : row) {
      if (startsFormula(cell)) std::abort();  // a spreadsheet would evaluate it
    }
  }
  for (std::size_t i = 0; i < report.participants.size(); ++i) {
    const auto& p = report.participants[i];
    expectCell(rows[i + 1][1], p.displayName);
    expectCell(rows[i + 1][2], p.email);
    expectCell(rows[i + 1][6], p.seen.scanners.empty() ? "" : p.seen.scanners.front());
    expectCell(rows[i + 1][8], p.manual ? "manual" : "scanner");
    expectCell(rows[i + 1][9], p.manual ? "1970-01-01T00:00:00.000Z" : "");
    expectCell(rows[i + 1][10], p.manual ? p.manual->by : "");
    expectCell(rows[i + 1][11], p.manual ? p.manual->reason : "");
  }
  return 0;
}

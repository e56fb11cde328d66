#include <attendance/jsonl_log/check_in.hpp>

#include <cstring>

#include <attendance/support/json_text.hpp>
#include "line_parser.hpp"

namespace attendance::jsonl_log {
namespace {

// boost::system::error_category deliberately has a protected non-virtual destructor.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class ParseCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "jsonl_log.parse"; }
  std::string message(int ev) const override {
    switch (static_cast<ParseErrc>(ev)) {
      case ParseErrc::empty_line: return "empty line";
      case ParseErrc::line_too_long: return "line longer than 65536 bytes";
      case ParseErrc::syntax_error: return "not valid JSON";
      case ParseErrc::not_an_object: return "not a JSON object";
      case ParseErrc::nesting_too_deep: return "JSON nested too deeply";
      case ParseErrc::duplicate_key: return "a key appears twice";
      case ParseErrc::trailing_data: return "data after the JSON object";
      case ParseErrc::invalid_utf8: return "string is not valid UTF-8";
      case ParseErrc::missing_ble_uuid: return "missing key bleUuid";
      case ParseErrc::bad_ble_uuid: return "bleUuid is not an 8-4-4-4-12 hex UUID string";
      case ParseErrc::missing_check_in_time: return "missing key checkInTime";
      case ParseErrc::bad_check_in_time: return "checkInTime is not a non-negative integer (epoch ms)";
      case ParseErrc::missing_scanner_id: return "missing key scannerId";
      case ParseErrc::bad_scanner_id: return "scannerId is not a non-empty string of at most 256 bytes";
      case ParseErrc::bad_event_id: return "eventId is not a non-empty string of at most 256 bytes";
      case ParseErrc::bad_rssi: return "rssi is not an integer in [-128, 127]";
      case ParseErrc::bad_boot_id: return "bootId is not a non-empty string of at most 256 bytes";
      case ParseErrc::bad_boot_ms: return "bootMs is not a non-negative integer";
      case ParseErrc::unterminated_line: return "last line has no newline (torn write or still being written)";
      case ParseErrc::missing_last_seen: return "missing key lastSeen";
      case ParseErrc::bad_last_seen: return "lastSeen is not a non-negative integer (epoch ms)";
      case ParseErrc::bad_first_seen: return "missing key firstSeen, or not a non-negative integer (epoch ms)";
      case ParseErrc::bad_sightings: return "missing key sightings, or not a non-negative integer";
      case ParseErrc::bad_left: return "missing key left, or not true/false";
    }
    return "unknown parse error";
  }
};
#pragma GCC diagnostic pop

// ---- parser ---------------------------------------------------------------

using detail::Parser;

enum class Key { bleUuid, checkInTime, scannerId, eventId, rssi, bootId, bootMs, other };

Key classify(std::string_view k) noexcept {
  switch (k.size()) {
    case 4: return k == "rssi" ? Key::rssi : Key::other;
    case 6: return k == "bootId" ? Key::bootId : k == "bootMs" ? Key::bootMs : Key::other;
    case 7: return k == "bleUuid" ? Key::bleUuid : k == "eventId" ? Key::eventId : Key::other;
    case 9: return k == "scannerId" ? Key::scannerId : Key::other;
    case 11: return k == "checkInTime" ? Key::checkInTime : Key::other;
    default: return Key::other;
  }
}

}  // namespace

const boost::system::error_category& parseCategory() noexcept {
  static const ParseCategory category;
  return category;
}

void appendLine(std::string& out, const CheckIn& r) {
  out.append("{\"bleUuid\":\"");
  const std::size_t at = out.size();
  out.resize(at + support::Uuid::kTextLength);
  r.bleUuid.formatTo(out.data() + at);
  out.append("\",\"checkInTime\":");
  support::appendJsonInt(out, r.checkInTime);
  out.append(",\"scannerId\":");
  support::appendJsonString(out, r.scannerId);
  if (r.eventId) {
    out.append(",\"eventId\":");
    support::appendJsonString(out, *r.eventId);
  }
  if (r.rssi) {
    out.append(",\"rssi\":");
    support::appendJsonInt(out, *r.rssi);
  }
  if (r.bootId) {
    out.append(",\"bootId\":");
    support::appendJsonString(out, *r.bootId);
  }
  if (r.bootMs) {
    out.append(",\"bootMs\":");
    support::appendJsonInt(out, *r.bootMs);
  }
  out.append("}\n");
}

std::string formatLine(const CheckIn& record) {
  std::string s;
  s.reserve(192);
  appendLine(s, record);
  return s;
}

error_code parseLineInto(std::string_view line, CheckIn& out) {
  if (line.size() > kMaxLineBytes) return ParseErrc::line_too_long;
  Parser ps{line.data(), line.data() + line.size(), {}};
  // Optional members are reset only at the end when absent, so a reused record keeps
  // its eventId and bootId strings (and capacity): no allocation per line in steady state.
  unsigned seen = 0;
  const auto member = [&](Key key) -> ParseErrc {
    switch (key) {
      case Key::bleUuid: return ps.uuid(out.bleUuid);
      case Key::checkInTime: {
        std::int64_t v = 0;
        const auto e = ps.nonNegative(v, ParseErrc::bad_check_in_time);
        out.checkInTime = v;
        return e;
      }
      case Key::scannerId: return ps.idString(out.scannerId, ParseErrc::bad_scanner_id);
      case Key::eventId:
        if (!out.eventId) out.eventId.emplace();
        return ps.idString(*out.eventId, ParseErrc::bad_event_id);
      case Key::rssi: {
        std::int64_t v = 0;
        const auto e = ps.integerIn(v, -128, 127, ParseErrc::bad_rssi);
        out.rssi = static_cast<int>(v);
        return e;
      }
      case Key::bootId:
        if (!out.bootId) out.bootId.emplace();
        return ps.idString(*out.bootId, ParseErrc::bad_boot_id);
      case Key::bootMs: {
        std::int64_t v = 0;
        const auto e = ps.nonNegative(v, ParseErrc::bad_boot_ms);
        out.bootMs = v;
        return e;
      }
      case Key::other: break;
    }
    return ParseErrc{};
  };
  if (const auto e = detail::parseObject<Key>(ps, classify, member, seen); e != ParseErrc{}) return e;
  if (!detail::seenKey(seen, Key::bleUuid)) return ParseErrc::missing_ble_uuid;
  if (!detail::seenKey(seen, Key::checkInTime)) return ParseErrc::missing_check_in_time;
  if (!detail::seenKey(seen, Key::scannerId)) return ParseErrc::missing_scanner_id;
  if (!detail::seenKey(seen, Key::eventId)) out.eventId.reset();
  if (!detail::seenKey(seen, Key::rssi)) out.rssi.reset();
  if (!detail::seenKey(seen, Key::bootId)) out.bootId.reset();
  if (!detail::seenKey(seen, Key::bootMs)) out.bootMs.reset();
  return {};
}

Result<CheckIn> parseLine(std::string_view line) {
  CheckIn c;
  if (const auto e = parseLineInto(line, c)) return e;
  return c;
}

}  // namespace attendance::jsonl_log

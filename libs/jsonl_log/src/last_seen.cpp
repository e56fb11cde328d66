#include <attendance/jsonl_log/last_seen.hpp>

#include <cstring>

#include <attendance/support/json_text.hpp>
#include "line_parser.hpp"

namespace attendance::jsonl_log {
namespace {

enum class Key { lastSeen, bleUuid, scannerId, eventId, firstSeen, sightings, left, other };

Key classify(std::string_view k) noexcept {
  if (k == "lastSeen") return Key::lastSeen;
  if (k == "bleUuid") return Key::bleUuid;
  if (k == "scannerId") return Key::scannerId;
  if (k == "eventId") return Key::eventId;
  if (k == "firstSeen") return Key::firstSeen;
  if (k == "sightings") return Key::sightings;
  if (k == "left") return Key::left;
  return Key::other;
}

}  // namespace

void appendLastSeenLine(std::string& out, const LastSeen& r) {
  out.append("{\"lastSeen\":");
  support::appendJsonInt(out, r.lastSeen);
  out.append(",\"bleUuid\":\"");
  const std::size_t at = out.size();
  out.resize(at + support::Uuid::kTextLength);
  r.bleUuid.formatTo(out.data() + at);
  out.append("\",\"scannerId\":");
  support::appendJsonString(out, r.scannerId);
  if (r.eventId) {
    out.append(",\"eventId\":");
    support::appendJsonString(out, *r.eventId);
  }
  out.append(",\"firstSeen\":");
  support::appendJsonInt(out, r.firstSeen);
  out.append(",\"sightings\":");
  support::appendJsonInt(out, r.sightings);
  out.append(r.left ? ",\"left\":true}\n" : ",\"left\":false}\n");
}

std::string formatLastSeenLine(const LastSeen& record) {
  std::string s;
  s.reserve(192);
  appendLastSeenLine(s, record);
  return s;
}

bool isLastSeenLine(std::string_view line) noexcept {
  detail::Parser ps{line.data(), line.data() + line.size(), {}};
  ps.ws();
  if (ps.p >= ps.end || *ps.p != '{') return false;
  ++ps.p;
  ps.ws();
  constexpr std::string_view key = "\"lastSeen\"";
  return static_cast<std::size_t>(ps.end - ps.p) >= key.size() && std::memcmp(ps.p, key.data(), key.size()) == 0;
}

error_code parseLastSeenLineInto(std::string_view line, LastSeen& out) {
  if (line.size() > kMaxLineBytes) return ParseErrc::line_too_long;
  detail::Parser ps{line.data(), line.data() + line.size(), {}};
  unsigned seen = 0;
  const auto member = [&](Key key) -> ParseErrc {
    switch (key) {
      case Key::lastSeen: return ps.nonNegative(out.lastSeen, ParseErrc::bad_last_seen);
      case Key::firstSeen: return ps.nonNegative(out.firstSeen, ParseErrc::bad_first_seen);
      case Key::sightings: return ps.nonNegative(out.sightings, ParseErrc::bad_sightings);
      case Key::bleUuid: return ps.uuid(out.bleUuid);
      case Key::scannerId: return ps.idString(out.scannerId, ParseErrc::bad_scanner_id);
      case Key::eventId:
        if (!out.eventId) out.eventId.emplace();
        return ps.idString(*out.eventId, ParseErrc::bad_event_id);
      case Key::left: {
        const auto rest = std::string_view(ps.p, static_cast<std::size_t>(ps.end - ps.p));
        if (rest.starts_with("true")) {
          out.left = true;
          ps.p += 4;
          return ParseErrc{};
        }
        if (rest.starts_with("false")) {
          out.left = false;
          ps.p += 5;
          return ParseErrc{};
        }
        const auto e = ps.skipValue(1);
        return e != ParseErrc{} ? e : ParseErrc::bad_left;
      }
      case Key::other: break;
    }
    return ParseErrc{};
  };
  if (const auto e = detail::parseObject<Key>(ps, classify, member, seen); e != ParseErrc{}) return e;
  if (!detail::seenKey(seen, Key::lastSeen)) return ParseErrc::missing_last_seen;
  if (!detail::seenKey(seen, Key::bleUuid)) return ParseErrc::missing_ble_uuid;
  if (!detail::seenKey(seen, Key::scannerId)) return ParseErrc::missing_scanner_id;
  if (!detail::seenKey(seen, Key::firstSeen)) return ParseErrc::bad_first_seen;
  if (!detail::seenKey(seen, Key::sightings)) return ParseErrc::bad_sightings;
  if (!detail::seenKey(seen, Key::left)) return ParseErrc::bad_left;
  if (!detail::seenKey(seen, Key::eventId)) out.eventId.reset();
  return {};
}

Result<LastSeen> parseLastSeenLine(std::string_view line) {
  LastSeen s;
  if (const auto e = parseLastSeenLineInto(line, s)) return e;
  return s;
}

}  // namespace attendance::jsonl_log

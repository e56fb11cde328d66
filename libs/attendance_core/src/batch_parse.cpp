#include <attendance/attendance_core/batch.hpp>
#include <attendance/attendance_core/events.hpp>
#include <attendance/attendance_core/scanners.hpp>
#include <attendance/support/json_text.hpp>
#include <attendance/support/utf8.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <limits>

namespace attendance::core {
namespace {

namespace json = boost::json;

BatchParseResult fail(Errc code, std::string message) {
  BatchParseResult r;
  r.error = code;
  r.message = std::move(message);
  return r;
}

// Empty string = acceptable; otherwise the rejection reason.
std::string_view readTime(const json::value* v, std::int64_t& out) {
  if (v == nullptr) return "checkInTime is missing";
  if (v->is_int64()) {
    out = v->get_int64();
    return {};
  }
  if (v->is_uint64()) return "checkInTime is out of range";
  if (v->is_double()) {
    // JavaScript clients may send 1721471400000.0; accept integral values only.
    const double d = v->get_double();
    if (!std::isfinite(d) || d != std::floor(d)) return "checkInTime must be an integer (epoch milliseconds)";
    if (std::fabs(d) > 9.0e15) return "checkInTime is out of range";
    out = static_cast<std::int64_t>(d);
    return {};
  }
  return "checkInTime must be an integer (epoch milliseconds)";
}

}  // namespace

BatchParseResult parseBatchBody(std::string_view body, const BatchLimits& limits) {
  if (body.size() > limits.maxBodyBytes) {
    return fail(Errc::payload_too_large, "body is larger than " + std::to_string(limits.maxBodyBytes) + " bytes");
  }
  // One arena for the whole document: parsing 100k records allocates nothing per node.
  json::monotonic_resource arena;
  json::parse_options opts;
  opts.max_depth = 16;
  boost::system::error_code ec;
  const json::value doc = json::parse(body, ec, &arena, opts);
  if (ec) {
    // The parser refuses invalid UTF-8 as a plain syntax error; name the real problem
    // (checked only on failure, so a good body is not scanned twice).
    if (!support::isValidUtf8(body)) return fail(Errc::malformed_body, "body is not valid UTF-8");
    return fail(Errc::malformed_body, "malformed JSON: " + ec.message());
  }
  const json::object* envelope = doc.if_object();
  if (envelope == nullptr) return fail(Errc::malformed_body, "body must be a JSON object");

  BatchParseResult result;
  const json::value* eventId = envelope->if_contains("eventId");
  if (eventId == nullptr) return fail(Errc::malformed_body, "eventId is missing");
  if (!eventId->is_string()) return fail(Errc::malformed_body, "eventId must be a string");
  const json::string& eid = eventId->get_string();
  if (eid.size() > limits.maxIdLength || !isValidEventId(eid)) {
    return fail(Errc::malformed_body, "eventId must be 1-128 characters of A-Z a-z 0-9 . _ : -");
  }
  result.batch.eventId.assign(eid.data(), eid.size());

  const json::value* records = envelope->if_contains("records");
  if (records == nullptr) return fail(Errc::malformed_body, "records is missing");
  if (!records->is_array()) return fail(Errc::malformed_body, "records must be an array");
  const json::array& arr = records->get_array();
  if (arr.size() > limits.maxRecords) {
    return fail(Errc::payload_too_large, "more than " + std::to_string(limits.maxRecords) + " records");
  }

  auto& out = result.batch;
  out.received = arr.size();
  out.records.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    auto reject = [&](std::string_view reason) { out.rejected.push_back({i, std::string{reason}}); };
    const json::object* rec = arr[i].if_object();
    if (rec == nullptr) {
      reject("record must be an object");
      continue;
    }
    CheckInRecord parsed;
    parsed.index = i;

    const json::value* ble = rec->if_contains("bleUuid");
    if (ble == nullptr) {
      reject("bleUuid is missing");
      continue;
    }
    if (!ble->is_string()) {
      reject("bleUuid must be a string");
      continue;
    }
    const json::string& bs = ble->get_string();
    auto uuid = support::Uuid::parse(std::string_view{bs.data(), bs.size()});
    if (!uuid) {
      reject("bleUuid is not a UUID (8-4-4-4-12 hex digits)");
      continue;
    }
    parsed.bleUuid = *uuid;

    if (auto reason = readTime(rec->if_contains("checkInTime"), parsed.checkInTimeMs); !reason.empty()) {
      reject(reason);
      continue;
    }

    const json::value* scanner = rec->if_contains("scannerId");
    if (scanner == nullptr) {
      reject("scannerId is missing");
      continue;
    }
    if (!scanner->is_string()) {
      reject("scannerId must be a string");
      continue;
    }
    const json::string& sid = scanner->get_string();
    if (sid.empty() || sid.size() > limits.maxIdLength) {
      reject("scannerId must be 1-128 characters");
      continue;
    }
    parsed.scannerId.assign(sid.data(), sid.size());
    out.records.push_back(std::move(parsed));
  }
  return result;
}

IngestRequest IngestRequest::fromParsed(ParsedBatch&& batch, std::string scannerId) {
  IngestRequest r;
  r.eventId = std::move(batch.eventId);
  r.scannerId = std::move(scannerId);
  r.records = std::move(batch.records);
  r.rejected = std::move(batch.rejected);
  r.received = batch.received;
  return r;
}

std::string renderIngestResultJson(const IngestResult& r) {
  std::string out;
  out.reserve(256 + r.rejected.size() * 64);
  out += "{\"eventId\":";
  support::appendJsonString(out, r.eventId);
  out += ",\"received\":" + std::to_string(r.received);
  out += ",\"inserted\":" + std::to_string(r.inserted);
  out += ",\"duplicates\":" + std::to_string(r.duplicates);
  out += ",\"rejected\":[";
  for (std::size_t i = 0; i < r.rejected.size(); ++i) {
    if (i != 0) out += ',';
    out += "{\"index\":" + std::to_string(r.rejected[i].index) + ",\"reason\":";
    support::appendJsonString(out, r.rejected[i].reason);
    out += '}';
  }
  out += "],\"registered\":" + std::to_string(r.registered);
  out += ",\"walkIns\":" + std::to_string(r.walkIns);
  out += ",\"unknownDevices\":" + std::to_string(r.unknownDevices);
  out += ",\"receiptId\":" + std::to_string(r.receiptId);
  out += '}';
  return out;
}

std::string renderErrorJson(std::string_view message) {
  std::string out = "{\"error\":";
  support::appendJsonString(out, message);
  out += '}';
  return out;
}

}  // namespace attendance::core

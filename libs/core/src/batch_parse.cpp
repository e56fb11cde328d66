#include <attendance/core/batch.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/scanners.hpp>
#include <attendance/support/json_text.hpp>
#include <attendance/support/utf8.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <vector>

namespace attendance::core {
namespace {

namespace json = boost::json;

BatchParseResult fail(Errc code, std::string message) {
  BatchParseResult r;
  r.error = code;
  r.message = std::move(message);
  return r;
}

// One member of interest (eventId, bleUuid, checkInTime, scannerId) as the
// document gave it; a later duplicate key replaces it, as in a JSON DOM.
struct Slot {
  enum class Kind { missing, string, int64, uint64, dbl, other } kind = Kind::missing;
  std::string text;  // strings: at most kMaxKept bytes
  bool overflow = false;
  std::int64_t i = 0;
  double d = 0;

  void reset(Kind k) {
    kind = k;
    text.clear();
    overflow = false;
  }
};

// Strings longer than this are invalid for every slot (ids <= 128, UUIDs 36):
// they are counted, not kept.
constexpr std::size_t kMaxKept = 256;

// Empty string = acceptable; otherwise the rejection reason.
std::string_view readTime(const Slot& v, std::int64_t& out) {
  switch (v.kind) {
    case Slot::Kind::missing: return "checkInTime is missing";
    case Slot::Kind::int64: out = v.i; return {};
    case Slot::Kind::uint64: return "checkInTime is out of range";
    case Slot::Kind::dbl: {
      // JavaScript clients may send 1721471400000.0; accept integral values only.
      const double d = v.d;
      if (!std::isfinite(d) || d != std::floor(d)) return "checkInTime must be an integer (epoch milliseconds)";
      if (std::fabs(d) > 9.0e15) return "checkInTime is out of range";
      out = static_cast<std::int64_t>(d);
      return {};
    }
    default: return "checkInTime must be an integer (epoch milliseconds)";
  }
}

// A streaming (SAX) reader of the body: it keeps the envelope's eventId and
// one record at a time, so memory is bounded by maxRecords records whatever the
// body holds (a DOM of 16 MiB of numbers took ~27x the body). Checks and
// messages are those of the former DOM reader, in the same order.
class BatchHandler {
public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  explicit BatchHandler(const BatchLimits& limits) : limits_(limits) {}

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
  bool on_number_part(json::string_view, json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) {
    const Ctx where = valueStarts(Slot::Kind::other);
    if (where == Ctx::root) {
      rootIsObject_ = true;
      stack_.push_back(Ctx::envelope);
    } else if (where == Ctx::records && elementKept()) {
      record_ = {};
      stack_.push_back(Ctx::record);
    } else {
      stack_.push_back(Ctx::skip);
    }
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    const Ctx closed = pop();
    if (closed == Ctx::record) finishRecord();
    return true;
  }
  bool on_array_begin(json::error_code&) {
    const Ctx where = valueStarts(Slot::Kind::other);
    if (where == Ctx::envelope && key_ == Key::records) {
      startRecords(true);
      stack_.push_back(Ctx::records);
    } else {
      if (where == Ctx::records && elementKept()) reject("record must be an object");
      stack_.push_back(Ctx::skip);
    }
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    (void)pop();
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    appendKey(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    appendKey(s);
    key_ = classify(keyText_, keyOverflow_);
    keyText_.clear();
    keyOverflow_ = false;
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    if (!inString_) {
      target_ = scalarTarget(Slot::Kind::string);
      inString_ = true;
    }
    appendString(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    if (!inString_) target_ = scalarTarget(Slot::Kind::string);
    appendString(s);
    inString_ = false;
    target_ = nullptr;
    return true;
  }
  bool on_int64(std::int64_t v, json::string_view, json::error_code&) {
    if (Slot* t = scalarTarget(Slot::Kind::int64)) t->i = v;
    return true;
  }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) {
    (void)scalarTarget(Slot::Kind::uint64);
    return true;
  }
  bool on_double(double v, json::string_view, json::error_code&) {
    if (Slot* t = scalarTarget(Slot::Kind::dbl)) t->d = v;
    return true;
  }
  bool on_bool(bool, json::error_code&) {
    (void)scalarTarget(Slot::Kind::other);
    return true;
  }
  bool on_null(json::error_code&) {
    (void)scalarTarget(Slot::Kind::other);
    return true;
  }

  // After the whole document parsed: the envelope's checks, in the DOM reader's order.
  BatchParseResult finish() {
    if (!rootIsObject_) return fail(Errc::malformed_body, "body must be a JSON object");
    if (eventId_.kind == Slot::Kind::missing) return fail(Errc::malformed_body, "eventId is missing");
    if (eventId_.kind != Slot::Kind::string) return fail(Errc::malformed_body, "eventId must be a string");
    if (eventId_.overflow || eventId_.text.size() > limits_.maxIdLength || !isValidEventId(eventId_.text)) {
      return fail(Errc::malformed_body, "eventId must be 1-128 characters of A-Z a-z 0-9 . _ : -");
    }
    if (!recordsSeen_) return fail(Errc::malformed_body, "records is missing");
    if (!recordsIsArray_) return fail(Errc::malformed_body, "records must be an array");
    if (received_ > limits_.maxRecords) {
      return fail(Errc::payload_too_large, "more than " + std::to_string(limits_.maxRecords) + " records");
    }
    BatchParseResult result;
    result.batch = std::move(batch_);
    result.batch.eventId = std::move(eventId_.text);
    result.batch.received = received_;
    return result;
  }

private:
  enum class Ctx { root, envelope, records, record, skip };
  enum class Key { other, eventId, records, bleUuid, checkInTime, scannerId };

  static Key classify(std::string_view k, bool overflow) {
    if (overflow) return Key::other;
    if (k == "eventId") return Key::eventId;
    if (k == "records") return Key::records;
    if (k == "bleUuid") return Key::bleUuid;
    if (k == "checkInTime") return Key::checkInTime;
    if (k == "scannerId") return Key::scannerId;
    return Key::other;
  }

  [[nodiscard]] Ctx top() const { return stack_.empty() ? Ctx::root : stack_.back(); }
  Ctx pop() {
    const Ctx c = stack_.back();
    stack_.pop_back();
    return c;
  }

  void appendKey(std::string_view s) {
    if (keyText_.size() + s.size() > 16) {
      keyOverflow_ = true;
      return;
    }
    keyText_.append(s);
  }
  void appendString(std::string_view s) {
    if (target_ == nullptr) return;
    if (target_->text.size() + s.size() > kMaxKept) {
      target_->overflow = true;
      return;
    }
    target_->text.append(s);
  }

  // The slot a value of the current container and key goes to, or nullptr.
  Slot* slotFor(Ctx where) {
    if (where == Ctx::envelope && key_ == Key::eventId) return &eventId_;
    if (where == Ctx::record) {
      if (key_ == Key::bleUuid) return &record_.ble;
      if (key_ == Key::checkInTime) return &record_.time;
      if (key_ == Key::scannerId) return &record_.scanner;
    }
    return nullptr;
  }

  // A value (scalar or container) begins in the current container: note what
  // it replaces and count it as an element of records. Returns the container.
  Ctx valueStarts(Slot::Kind kind) {
    const Ctx where = top();
    if (Slot* s = slotFor(where)) s->reset(kind);
    if (where == Ctx::envelope && key_ == Key::records && kind == Slot::Kind::other) {
      // A later "records" replaces an earlier one (last wins); not an array until proven.
      startRecords(false);
    }
    if (where == Ctx::records) index_ = received_++;
    return where;
  }

  // A scalar value: its slot (nullptr when it is kept nowhere); a scalar
  // element of records is a rejected record.
  Slot* scalarTarget(Slot::Kind kind) {
    const Ctx where = top();
    if (where == Ctx::envelope && key_ == Key::records) {
      startRecords(false);
      return nullptr;
    }
    if (where == Ctx::records) {
      (void)valueStarts(kind);
      if (elementKept()) reject("record must be an object");
      return nullptr;
    }
    Slot* s = slotFor(where);
    if (s != nullptr) s->reset(kind);
    return s;
  }

  void startRecords(bool isArray) {
    recordsSeen_ = true;
    recordsIsArray_ = isArray;
    received_ = 0;
    batch_.records.clear();
    batch_.rejected.clear();
  }

  // Past maxRecords the request fails with 413: later elements are counted only.
  [[nodiscard]] bool elementKept() const { return received_ <= limits_.maxRecords; }

  void reject(std::string_view reason) { batch_.rejected.push_back({index_, std::string{reason}}); }

  void finishRecord() {
    const auto& r = record_;
    if (r.ble.kind == Slot::Kind::missing) return reject("bleUuid is missing");
    if (r.ble.kind != Slot::Kind::string) return reject("bleUuid must be a string");
    auto uuid = r.ble.overflow ? std::nullopt : support::Uuid::parse(r.ble.text);
    if (!uuid) return reject("bleUuid is not a UUID (8-4-4-4-12 hex digits)");
    CheckInRecord parsed;
    parsed.index = index_;
    parsed.bleUuid = *uuid;
    if (auto reason = readTime(r.time, parsed.checkInTimeMs); !reason.empty()) return reject(reason);
    if (r.scanner.kind == Slot::Kind::missing) return reject("scannerId is missing");
    if (r.scanner.kind != Slot::Kind::string) return reject("scannerId must be a string");
    if (r.scanner.overflow || r.scanner.text.empty() || r.scanner.text.size() > limits_.maxIdLength) {
      return reject("scannerId must be 1-128 characters");
    }
    parsed.scannerId = r.scanner.text;
    batch_.records.push_back(std::move(parsed));
  }

  struct Record {
    Slot ble;
    Slot time;
    Slot scanner;
  };

  const BatchLimits& limits_;
  std::vector<Ctx> stack_;
  Key key_ = Key::other;
  std::string keyText_;
  bool keyOverflow_ = false;
  Slot* target_ = nullptr;  // the slot a string in parts goes to
  bool inString_ = false;
  bool rootIsObject_ = false;
  Slot eventId_;
  bool recordsSeen_ = false;
  bool recordsIsArray_ = false;
  std::size_t received_ = 0;
  std::size_t index_ = 0;  // the current element of records
  Record record_;
  ParsedBatch batch_;
};

}  // namespace

BatchParseResult parseBatchBody(std::string_view body, const BatchLimits& limits) {
  if (body.size() > limits.maxBodyBytes) {
    return fail(Errc::payload_too_large, "body is larger than " + std::to_string(limits.maxBodyBytes) + " bytes");
  }
  json::parse_options opts;
  opts.max_depth = 16;
  json::basic_parser<BatchHandler> parser{opts, limits};
  boost::system::error_code ec;
  const std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (!ec && used != body.size()) ec = json::make_error_code(json::error::extra_data);
  if (ec) {
    // The parser refuses invalid UTF-8 as a plain syntax error; name the real problem
    // (checked only on failure, so a good body is not scanned twice).
    if (!support::isValidUtf8(body)) return fail(Errc::malformed_body, "body is not valid UTF-8");
    return fail(Errc::malformed_body, "malformed JSON: " + ec.message());
  }
  return parser.handler().finish();
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
    if (!r.rejected[i].detail.empty()) {
      out += ",\"detail\":";
      support::appendJsonString(out, r.rejected[i].detail);
    }
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

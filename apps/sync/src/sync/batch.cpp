#include "sync/batch.hpp"
#include "sync/json_fields.hpp"
#include "sync/summary.hpp"

#include <attendance/support/json_text.hpp>
#include <attendance/support/utf8.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace attendance::sync {

namespace json = boost::json;

void Batch::add(const support::Uuid& bleUuid, std::int64_t checkInTime, std::string_view scannerId,
                std::uint64_t lineNumber, std::uint64_t startOffset) {
  if (lineNumbers.empty()) {
    body.clear();
    body += "{\"eventId\":";
    support::appendJsonString(body, eventId);
    body += ",\"records\":[";
    firstOffset = startOffset;
    firstLine = lineNumber;
  } else {
    body += ',';
  }
  body += "{\"bleUuid\":\"";
  const std::size_t at = body.size();
  body.resize(at + support::Uuid::kTextLength);
  bleUuid.formatTo(body.data() + at);
  body += "\",\"checkInTime\":";
  body += std::to_string(checkInTime);
  body += ",\"scannerId\":";
  support::appendJsonString(body, scannerId);
  body += '}';
  lineNumbers.push_back(lineNumber);
}

void Batch::finish() {
  if (lineNumbers.empty()) {
    body.clear();
    body += "{\"eventId\":";
    support::appendJsonString(body, eventId);
    body += ",\"records\":[";
  }
  body += "]}";
}

Batcher::Batcher(std::size_t batchSize, std::size_t maxOpenEvents)
    : batchSize_(std::max<std::size_t>(1, batchSize)), maxOpenEvents_(std::max<std::size_t>(1, maxOpenEvents)) {}

std::vector<Batch> Batcher::add(std::string_view eventId, const support::Uuid& bleUuid, std::int64_t checkInTime,
                                std::string_view scannerId, std::uint64_t lineNumber, std::uint64_t startOffset) {
  std::vector<Batch> ready;
  auto it = std::find_if(open_.begin(), open_.end(), [&](const Batch& b) { return b.eventId == eventId; });
  if (it == open_.end()) {
    if (open_.size() >= maxOpenEvents_) {
      ready.push_back(std::move(open_.front()));
      open_.pop_front();
      ready.back().finish();
    }
    Batch b;
    b.eventId = std::string(eventId);
    b.body.reserve(std::min<std::size_t>(batchSize_, 8192) * 110);
    open_.push_back(std::move(b));
    it = std::prev(open_.end());
  }
  it->add(bleUuid, checkInTime, scannerId, lineNumber, startOffset);
  if (it->size() >= batchSize_) {
    Batch full = std::move(*it);
    open_.erase(it);
    full.finish();
    ready.push_back(std::move(full));
  }
  return ready;
}

std::optional<Batch> Batcher::takeOldest() {
  if (open_.empty()) return std::nullopt;
  Batch b = std::move(open_.front());
  open_.pop_front();
  b.finish();
  return b;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> Batcher::earliestPending() const {
  if (open_.empty()) return std::nullopt;
  // open_ is ordered by creation, i.e. by firstOffset.
  return std::pair{open_.front().firstOffset, open_.front().firstLine};
}

RunResult<BatchAck> parseBatchAck(std::string_view body) {
  const auto unusable = [](std::string message) { return RunError{kExitNetwork, std::move(message)}; };
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return unusable("the backend's answer is not a JSON object");
  }
  const auto& o = v.as_object();
  BatchAck ack;
  if (const auto* e = o.if_contains("eventId"); e != nullptr && e->is_string())
    ack.eventId = std::string(e->as_string());
  if (!readUnsigned(o, "received", ack.received) || !readUnsigned(o, "inserted", ack.inserted) ||
      !readUnsigned(o, "duplicates", ack.duplicates)) {
    return unusable("the backend's answer lacks received/inserted/duplicates counts");
  }
  const auto* rejected = o.if_contains("rejected");
  if (rejected == nullptr || !rejected->is_array()) {
    return unusable("the backend's answer lacks the \"rejected\" list");
  }
  for (const auto& r : rejected->as_array()) {
    const auto* ro = r.if_object();
    std::uint64_t index = 0;
    if (ro == nullptr || !readUnsigned(*ro, "index", index)) {
      return unusable("a \"rejected\" entry has no index");
    }
    std::string reason = "unspecified";
    if (const auto* why = ro->if_contains("reason"); why != nullptr && why->is_string()) {
      reason = std::string(why->as_string());
    }
    ack.rejected.push_back(Rejection{static_cast<std::size_t>(index), std::move(reason)});
  }
  if (ack.inserted + ack.duplicates + ack.rejected.size() != ack.received) {
    return unusable("the backend's counts do not add up (inserted + duplicates + rejected != received)");
  }
  return ack;
}

std::string serverErrorText(std::string_view body) {
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (const auto* e = v.as_object().if_contains("error"); e != nullptr && e->is_string()) {
      return std::string(e->as_string());
    }
  }
  std::string raw(support::utf8Prefix(body, 200));
  std::replace_if(
      raw.begin(), raw.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return raw;
}

}  // namespace attendance::sync

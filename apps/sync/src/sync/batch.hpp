#pragma once

#include "sync/run_error.hpp"

#include <attendance/support/uuid.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Grouping log records into /batchCheckIn bodies. Pure (no I/O).
namespace attendance::sync {

// One request body in the original design's shape, built incrementally:
// {"eventId":"...","records":[{"bleUuid":"...","checkInTime":...,"scannerId":"..."},...]}
// Only those three keys per record: the log's extra keys (rssi, bootId, ...) stay on the Pi.
struct Batch {
  std::string eventId;
  std::string body;                        // complete once finish() was called
  std::vector<std::uint64_t> lineNumbers;  // log line of each record, by index
  std::uint64_t firstOffset = 0;           // byte offset of the first record's line
  std::uint64_t firstLine = 0;

  [[nodiscard]] std::size_t size() const noexcept { return lineNumbers.size(); }
  void add(const support::Uuid& bleUuid, std::int64_t checkInTime, std::string_view scannerId, std::uint64_t lineNumber,
           std::uint64_t startOffset);
  void finish();
};

// Collects records per eventId and hands out batches of at most batchSize, keeping
// at most maxOpenEvents partial batches (the oldest is handed out when a new event
// would exceed that), so memory stays bounded whatever the log holds.
class Batcher {
public:
  Batcher(std::size_t batchSize, std::size_t maxOpenEvents = 16);

  // Adds a record; returns the batches ready to send, oldest first (none, a full
  // one, and/or a partial one pushed out by a new event).
  [[nodiscard]] std::vector<Batch> add(std::string_view eventId, const support::Uuid& bleUuid, std::int64_t checkInTime,
                                       std::string_view scannerId, std::uint64_t lineNumber, std::uint64_t startOffset);

  // Hands out the partial batch that started earliest (end of log); nullopt when empty.
  [[nodiscard]] std::optional<Batch> takeOldest();

  // (offset, line) of the earliest record not yet handed out: a checkpoint may not
  // pass it. nullopt when nothing is pending.
  [[nodiscard]] std::optional<std::pair<std::uint64_t, std::uint64_t>> earliestPending() const;

  [[nodiscard]] bool empty() const noexcept { return open_.empty(); }

private:
  std::size_t batchSize_;
  std::size_t maxOpenEvents_;
  std::deque<Batch> open_;  // ordered by firstOffset
};

struct Rejection {
  std::size_t index = 0;
  std::string reason;
};

// The backend's 200 answer to /batchCheckIn.
struct BatchAck {
  std::string eventId;
  std::uint64_t received = 0;
  std::uint64_t inserted = 0;
  std::uint64_t duplicates = 0;
  std::vector<Rejection> rejected;
};

// Strict enough to notice a wrong server: the counts must be present and add up
// (inserted + duplicates + rejected == received). The error says what is wrong (exit 4:
// an unusable answer, like an unavailable backend).
[[nodiscard]] RunResult<BatchAck> parseBatchAck(std::string_view body);

// Extracts "error" from a {"error": "..."} body; the raw (truncated) body otherwise.
[[nodiscard]] std::string serverErrorText(std::string_view body);

}  // namespace attendance::sync

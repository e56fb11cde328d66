#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <attendance/jsonl_log/failure.hpp>

// The durable-offset watermark the log's writer publishes beside the log after every
// fsync, so that a reader that does not hold the lock (attendance-sync --follow) knows
// how much of the log is on stable storage (docs/adr/0053-durable-offset-watermark.md).
namespace attendance::jsonl_log {

struct DurableMark {
  std::uint64_t device = 0;  // the log's st_dev and st_ino: a mark of a replaced log is not this log's
  std::uint64_t inode = 0;
  std::uint64_t offset = 0;  // every byte before it is fsynced and ends a complete line
  std::uint64_t lines = 0;   // '\n'-terminated lines before `offset`
  friend bool operator==(const DurableMark&, const DurableMark&) = default;
};

// "<log>.durable"
[[nodiscard]] std::filesystem::path durableMarkPathFor(const std::filesystem::path& log);

// One line: {"device":2049,"inode":1234,"offset":22110,"lines":201}
[[nodiscard]] std::string formatDurableMark(const DurableMark& mark);
// Strict: exactly what formatDurableMark writes; anything else is nullopt.
[[nodiscard]] std::optional<DurableMark> parseDurableMark(std::string_view text) noexcept;

// Replaces the mark atomically for readers (write "<mark>.tmp", rename over it). Not
// fsynced: the mark only ever names bytes already fsynced, and after a power cut a
// stale (smaller) mark costs a reader a wait, never a wrong answer.
[[nodiscard]] Outcome<void> publishDurableMark(const std::filesystem::path& markPath, const DurableMark& mark);

// Missing file = nullopt; unreadable or malformed = error.
[[nodiscard]] Outcome<std::optional<DurableMark>> readDurableMark(const std::filesystem::path& markPath);

}  // namespace attendance::jsonl_log

#pragma once

#include "sync/clock_correction.hpp"

#include <attendance/support/result.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

// The resumable-sync checkpoint kept beside the log as "<log>.sync-checkpoint".
// docs/sync.md "Checkpoint" describes the format.
namespace attendance::sync {

// Which file the checkpoint's offset refers to. A log that was replaced, rotated or
// truncated no longer matches, and the sync starts again from byte 0 (safe: the
// backend ignores what it already has).
struct LogIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;       // size when the checkpoint was written (the log only grows)
  std::string firstLineSha256;  // hex SHA-256 of the first line (without '\n'); empty for an empty log
  friend bool operator==(const LogIdentity&, const LogIdentity&) = default;
};

struct Checkpoint {
  LogIdentity log;
  std::uint64_t offset = 0;    // every line before this byte has been acknowledged (or reported bad)
  std::uint64_t nextLine = 1;  // line number of the line starting at `offset`
  std::optional<ClockAnchor> clock;
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

[[nodiscard]] std::filesystem::path checkpointPathFor(const std::filesystem::path& log);

// One JSON object, one line: {"version":1,"log":{"device":..,"inode":..,"size":..,"firstLineSha256":".."},
// "offset":..,"nextLine":..,"clock":{"bootId":"..","wallMinusBootMs":..}}
[[nodiscard]] std::string formatCheckpoint(const Checkpoint& checkpoint);
// Strict: anything unexpected is an error (the caller then starts from 0 and says so).
[[nodiscard]] Result<Checkpoint> parseCheckpoint(std::string_view text);

// True when `saved` describes the same log as `current` and its offset is still
// inside the file: same device and inode, same first line, not shrunk.
[[nodiscard]] bool sameLog(const LogIdentity& saved, const LogIdentity& current) noexcept;

// Reads the identity of an open log (fstat + first line).
[[nodiscard]] Result<LogIdentity> identify(int fd);

// Missing file = nullopt; unreadable or malformed = error.
[[nodiscard]] Result<std::optional<Checkpoint>> loadCheckpoint(const std::filesystem::path& path);

// Crash-safe replace: write "<path>.tmp", fsync it, rename over `path`, fsync the directory.
[[nodiscard]] Result<void> saveCheckpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);

// Same protocol for any small file (the roster).
[[nodiscard]] Result<void> writeFileAtomically(const std::filesystem::path& path, std::string_view content);

}  // namespace attendance::sync

#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/jsonl_log/failure.hpp>
#include <attendance/jsonl_log/last_seen.hpp>

namespace attendance::jsonl_log {

// One non-empty line of the log: a record or a bad line with its reason.
struct LogLine {
  enum class Kind { record, bad, last_seen };
  Kind kind = Kind::bad;
  CheckIn record;                 // valid when kind == record
  LastSeen lastSeen;              // valid when kind == last_seen
  error_code error;               // why the line is bad (ParseErrc)
  std::uint64_t lineNumber = 0;   // 1-based, counting every '\n'-terminated line
  std::uint64_t startOffset = 0;  // byte offset of the first byte of the line
  std::uint64_t endOffset = 0;    // one past the '\n' (or end of file when unterminated)
  bool terminated = true;         // false for a last line without '\n' (torn or still being written)
};

struct ReaderOptions {
  // Resume from a byte offset that starts a line (e.g. a sync checkpoint) and the
  // line number that line has.
  std::uint64_t startOffset = 0;
  std::uint64_t startLine = 1;
  // Yield last-seen lines (Kind::last_seen). Off by default: readers of check-ins (the sync, the
  // scanner re-seeding dedup) skip them like empty lines; broken ones are still bad lines.
  bool lastSeenLines = false;
};

// Streams a log in constant memory (a buffer of about 2 * kMaxLineBytes): each
// record with its offsets and line number, each bad line reported and skipped.
// Empty lines are skipped silently (they carry nothing and can appear where a
// recovered unterminated line got its '\n').
class Reader {
public:
  [[nodiscard]] static Outcome<Reader> open(const std::filesystem::path& log, ReaderOptions options = {});
  // Reads through an fd the caller keeps open (not closed by the Reader).
  [[nodiscard]] static Reader fromFd(int fd, ReaderOptions options = {});

  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  // Fills `line` and returns true, or returns false at the end of the file.
  [[nodiscard]] Outcome<bool> next(LogLine& line);

  // Offset just after the last line returned (where a resumed read would start).
  [[nodiscard]] std::uint64_t offset() const noexcept;

private:
  bool classify(std::string_view text, LogLine& line) const;
  struct State;
  explicit Reader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace attendance::jsonl_log

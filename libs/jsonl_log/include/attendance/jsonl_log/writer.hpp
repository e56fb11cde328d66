#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/jsonl_log/failure.hpp>
#include <attendance/jsonl_log/last_seen.hpp>

namespace attendance::jsonl_log {

enum class FsyncPolicy {
  always,    // every commit() syncs (group commit: one fdatasync for all lines appended since)
  interval,  // commit() syncs at once unless it synced less than `syncInterval` ago; then at
             // that deadline (leading-edge group commit: at most one fdatasync per interval, and
             // the first line after a quiet interval is durable at once, not an interval later)
  never,     // only sync() and close; the OS decides
};

[[nodiscard]] std::optional<FsyncPolicy> parseFsyncPolicy(std::string_view text) noexcept;
[[nodiscard]] std::string_view toString(FsyncPolicy policy) noexcept;

struct WriterOptions {
  FsyncPolicy fsync = FsyncPolicy::interval;
  std::chrono::milliseconds syncInterval{1000};
  // How long open() keeps retrying a lock that is held (a reader probing it, or
  // the previous scanner still exiting) before it fails. 0 = fail at once.
  std::chrono::milliseconds lockWait{0};
  // A second copy of every line (a USB stick), same durability rules, its own lock,
  // recovery and durable mark. Empty = none. See Writer.
  std::filesystem::path mirror{};
};

// One copy of the log: not configured, being written, or given up for this run.
enum class CopyState { off, ok, failed };
[[nodiscard]] std::string_view toString(CopyState state) noexcept;

// What open() found and did to the existing file.
struct Recovery {
  bool created = false;            // the file did not exist (the directory was fsynced)
  std::uint64_t keptBytes = 0;     // size of the log after recovery
  std::uint64_t keptLines = 0;     // '\n'-terminated lines in it
  std::uint64_t records = 0;       // valid records in it
  std::uint64_t badLines = 0;      // bad lines kept in the middle (the reader reports them)
  bool completedLastLine = false;  // a valid last line lacked its '\n' and got one
  std::uint64_t quarantinedBytes = 0;
  std::filesystem::path quarantineFile;  // empty when nothing was quarantined
};

struct Appended {
  std::uint64_t lineNumber = 0;
  std::uint64_t startOffset = 0;
  std::uint64_t endOffset = 0;
};

// The single writer of an append-only JSONL log.
//  * O_APPEND, one write() per complete line; a short or failed write is cut back
//    with ftruncate so no torn line is left for later lines to be glued to.
//  * An exclusive flock(2) on the log: a second writer fails with a message naming
//    the holder's PID when it can be found.
//  * Recovery on open: everything after the last valid line (torn line, NUL blocks,
//    garbage) is copied to `<log>.quarantine-<epochms>` (fsynced) before the log is
//    truncated to that line. Valid lines are never dropped.
//  * Durability per FsyncPolicy, driven by the caller's clock (commit(now)).
//    An fsync error is fatal: the writer refuses all further work (after a failed
//    fsync the kernel may have dropped the dirty pages; retrying would lie).
//  * After open and after fsyncs (from commit() at most every 200 ms; syncDue()
//    includes a deferred one) it publishes the durable offset in
//    `<log>.durable` (durable_mark.hpp) for readers that do not hold the lock
//    (attendance-sync --follow). A failure to publish never fails the writer: readers
//    then wait, nothing is lost (markError() says why).
//  * With WriterOptions::mirror every line also goes to the mirror. open() first
//    makes both copies equal to the longest valid one (the shorter is completed from
//    it; a copy that disagrees is quarantined whole and rewritten). A copy whose write
//    or fsync fails while the other one succeeds is given up for the rest of the run
//    (primaryState()/mirrorState() = failed, with the reason), so each copy is always
//    a prefix of the lines written: the event goes on on the other copy. Only when
//    both fail does append() fail (or the writer break), as without a mirror.
// Not thread-safe.
class Writer {
public:
  [[nodiscard]] static Outcome<std::unique_ptr<Writer>> open(const std::filesystem::path& log, WriterOptions options,
                                                             std::int64_t nowEpochMs);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  [[nodiscard]] const Recovery& recovery() const noexcept { return recovery_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  // Appends one line. On error nothing of the line remains in the file (or, if even
  // the cut-back failed, the writer is broken and the next open() recovers).
  [[nodiscard]] Outcome<Appended> append(const CheckIn& record);
  // The same for a last-seen line (last_seen.hpp, ADR 0026).
  [[nodiscard]] Outcome<Appended> append(const LastSeen& record);

  // Group commit per policy. Returns true when it synced.
  [[nodiscard]] Outcome<bool> commit(std::chrono::steady_clock::time_point now);
  // Syncs now if anything is unsynced.
  [[nodiscard]] Outcome<void> sync();
  // When commit() next needs to be called to honour the interval policy (a time in the
  // past when it is due at once: lines appended and no commit() sync within the interval).
  [[nodiscard]] std::optional<std::chrono::steady_clock::time_point> syncDue() const noexcept;

  [[nodiscard]] std::uint64_t lines() const noexcept { return lines_; }
  [[nodiscard]] std::uint64_t endOffset() const noexcept { return end_; }
  [[nodiscard]] std::uint64_t durableLines() const noexcept { return durableLines_; }
  [[nodiscard]] std::uint64_t durableOffset() const noexcept { return durableEnd_; }
  [[nodiscard]] bool broken() const noexcept { return broken_; }
  [[nodiscard]] CopyState primaryState() const noexcept { return primaryState_; }
  [[nodiscard]] CopyState mirrorState() const noexcept { return mirrorState_; }
  [[nodiscard]] const std::string& primaryError() const noexcept { return primaryError_; }
  [[nodiscard]] const std::string& mirrorError() const noexcept { return mirrorError_; }
  // Why the last attempt to publish the durable mark failed; empty once one succeeds.
  [[nodiscard]] const std::string& markError() const noexcept { return markError_; }

private:
  Writer(std::filesystem::path path, int fd, WriterOptions options);
  Outcome<void> recover(std::int64_t nowEpochMs);
  // Formats `record` into buffer_ and writes it to every working copy (the mirror
  // formats its own); refused once the log is broken.
  template <class Record>
  Outcome<Appended> writeRecord(const Record& record);
  [[nodiscard]] Failure unusable() const;
  // `now` from commit(); none from sync(), which publishes the mark at once.
  Outcome<void> doSync(std::optional<std::chrono::steady_clock::time_point> now);
  void publishMark();
  // One write() of buffer_ to the primary, cut back on failure; `torn` when even that failed.
  Outcome<void> writeLine(bool& torn);
  static void giveUp(CopyState& state, std::string& error, const Failure& why);
  static Outcome<void> equalizeCopies(Writer& primary, Writer& mirror, std::int64_t nowEpochMs);

  std::filesystem::path path_;
  int fd_;
  WriterOptions options_;
  Recovery recovery_;
  std::string buffer_;
  std::uint64_t end_ = 0;
  std::uint64_t lines_ = 0;
  std::uint64_t durableEnd_ = 0;
  std::uint64_t durableLines_ = 0;
  // When commit() last synced: the interval policy's next sync is due `syncInterval` after it.
  std::optional<std::chrono::steady_clock::time_point> lastCommitSync_;
  bool dirty_ = false;
  bool broken_ = false;
  std::uint64_t device_ = 0;
  std::uint64_t inode_ = 0;
  std::filesystem::path markPath_;
  std::string markError_;
  // The mark is replaced at most every kMarkEvery from commit(): a rename per fsync
  // would cost `--fsync always` ~1 ms a commit (docs/benchmarks-scanner.md).
  static constexpr std::chrono::milliseconds kMarkEvery{200};
  std::optional<std::chrono::steady_clock::time_point> lastMark_;
  bool markPending_ = false;
  std::unique_ptr<Writer> mirror_;
  CopyState primaryState_ = CopyState::ok;
  CopyState mirrorState_ = CopyState::off;
  std::string primaryError_;
  std::string mirrorError_;
};

}  // namespace attendance::jsonl_log

#include <attendance/jsonl_log/writer.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <ctime>
#include <string>

#include <attendance/jsonl_log/durable_mark.hpp>
#include <attendance/jsonl_log/reader.hpp>
#include "lock_internal.hpp"
#include "sys_failure.hpp"

namespace attendance::jsonl_log {
namespace {

using detail::sysFailure;

Outcome<void> fsyncDirectoryOf(const std::filesystem::path& file) {
  const auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return sysFailure(errno, "cannot open directory " + dir.string() + " to fsync it");
  if (::fsync(dfd) != 0) {
    const int err = errno;
    ::close(dfd);
    return sysFailure(err, "fsync of directory " + dir.string() + " failed");
  }
  ::close(dfd);
  return {};
}

Outcome<void> writeAll(int fd, const char* p, std::size_t n, const std::string& what) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return sysFailure(errno, what);
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

// Appends bytes [from, to) of `src` to `dst` (O_APPEND).
Outcome<void> copyRange(int src, std::uint64_t from, std::uint64_t to, int dst, const std::string& what) {
  std::string chunk(64 * 1024, '\0');
  for (std::uint64_t at = from; at < to;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), to - at));
    const ssize_t n = ::pread(src, chunk.data(), want, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sysFailure(n < 0 ? errno : EIO, "reading for " + what + " failed");
    if (auto r = writeAll(dst, chunk.data(), static_cast<std::size_t>(n), what); !r) return r;
    at += static_cast<std::uint64_t>(n);
  }
  return {};
}

// Copies bytes [from, to) of the log to a new "<log>.quarantine-<ms>[-n]", fsyncs it
// and returns its name (the caller fsyncs the directory before cutting anything).
Outcome<std::string> quarantineCopy(int fd, const std::filesystem::path& log, std::uint64_t from, std::uint64_t to,
                                    std::int64_t nowEpochMs) {
  std::string qpath = log.string() + ".quarantine-" + std::to_string(nowEpochMs);
  int qfd = -1;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string candidate = attempt == 0 ? qpath : qpath + "-" + std::to_string(attempt);
    qfd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
    if (qfd >= 0) {
      qpath = candidate;
      break;
    }
    if (errno != EEXIST) return sysFailure(errno, "cannot create quarantine file " + candidate);
  }
  if (qfd < 0) return sysFailure(EEXIST, "cannot create quarantine file " + qpath);
  if (auto r = copyRange(fd, from, to, qfd, "writing quarantine file " + qpath); !r) {
    ::close(qfd);
    return r.error();
  }
  if (::fsync(qfd) != 0) {
    const int err = errno;
    ::close(qfd);
    return sysFailure(err, "fsync of quarantine file " + qpath + " failed");
  }
  ::close(qfd);
  return qpath;
}

// True when the first `n` bytes of both files are equal.
Outcome<bool> samePrefix(int a, int b, std::uint64_t n) {
  std::string x(64 * 1024, '\0');
  std::string y(64 * 1024, '\0');
  for (std::uint64_t at = 0; at < n;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(x.size(), n - at));
    const ssize_t r1 = ::pread(a, x.data(), want, static_cast<off_t>(at));
    const ssize_t r2 = ::pread(b, y.data(), want, static_cast<off_t>(at));
    if (r1 != static_cast<ssize_t>(want) || r2 != static_cast<ssize_t>(want)) {
      return sysFailure(r1 < 0 || r2 < 0 ? errno : EIO, "comparing the log with its mirror failed");
    }
    if (std::memcmp(x.data(), y.data(), want) != 0) return false;
    at += want;
  }
  return true;
}

Outcome<std::uint64_t> countNewlines(int fd, std::uint64_t from, std::uint64_t to) {
  std::string chunk(64 * 1024, '\0');
  std::uint64_t count = 0;
  for (std::uint64_t at = from; at < to;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), to - at));
    const ssize_t n = ::pread(fd, chunk.data(), want, static_cast<off_t>(at));
    if (n <= 0) return sysFailure(n < 0 ? errno : EIO, "reading the log failed");
    for (ssize_t i = 0; i < n; ++i) count += chunk[static_cast<std::size_t>(i)] == '\n' ? 1 : 0;
    at += static_cast<std::uint64_t>(n);
  }
  return count;
}

// The two kinds of line, for writeRecord.
void formatLine(std::string& out, const CheckIn& r) { appendLine(out, r); }
void formatLine(std::string& out, const LastSeen& r) { appendLastSeenLine(out, r); }

}  // namespace

std::optional<FsyncPolicy> parseFsyncPolicy(std::string_view text) noexcept {
  if (text == "always") return FsyncPolicy::always;
  if (text == "interval") return FsyncPolicy::interval;
  if (text == "never") return FsyncPolicy::never;
  return std::nullopt;
}

std::string_view toString(CopyState state) noexcept {
  switch (state) {
    case CopyState::off: return "off";
    case CopyState::ok: return "ok";
    case CopyState::failed: return "failed";
  }
  return "off";
}

std::string_view toString(FsyncPolicy policy) noexcept {
  switch (policy) {
    case FsyncPolicy::always: return "always";
    case FsyncPolicy::interval: return "interval";
    case FsyncPolicy::never: return "never";
  }
  return "interval";
}

Writer::Writer(std::filesystem::path path, int fd, WriterOptions options)
    : path_(std::move(path)), fd_(fd), options_(options), markPath_(durableMarkPathFor(path_)) {
  buffer_.reserve(512);
}

Writer::~Writer() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

Outcome<std::unique_ptr<Writer>> Writer::open(const std::filesystem::path& log, WriterOptions options,
                                              std::int64_t nowEpochMs) {
  bool created = true;
  int fd = ::open(log.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(log.c_str(), O_RDWR | O_APPEND | O_CLOEXEC | O_NOCTTY);
  }
  if (fd < 0) return sysFailure(errno, "cannot open log " + log.string() + " for appending");
  std::unique_ptr<Writer> w(new Writer(log, fd, options));

  struct stat st {};
  if (::fstat(fd, &st) != 0) return sysFailure(errno, "cannot stat log " + log.string());
  if (!S_ISREG(st.st_mode)) {
    return Failure{{EINVAL, boost::system::system_category()}, "log " + log.string() + " is not a regular file"};
  }
  const long attempts = 1 + options.lockWait.count() / 50;
  int lockResult = -1;
  for (long i = 0; i < attempts; ++i) {
    lockResult = ::flock(fd, LOCK_EX | LOCK_NB);
    if (lockResult == 0 || errno != EWOULDBLOCK || i + 1 == attempts) break;
    const timespec pause{0, 50'000'000};
    ::nanosleep(&pause, nullptr);
  }
  if (lockResult != 0) {
    if (errno != EWOULDBLOCK) return sysFailure(errno, "cannot lock log " + log.string());
    const LockHolder holder = detail::findHolder(st);
    return Failure{
        {EWOULDBLOCK, boost::system::system_category()},
        "log " + log.string() + " is locked by " + holder.describe() + ": another scanner or a sync is using it"};
  }
  w->recovery_.created = created;
  if (created) {
    if (auto r = fsyncDirectoryOf(log); !r) return r.error();
  } else if (auto r = w->recover(nowEpochMs); !r) {
    return r.error();
  }
  w->durableEnd_ = w->end_;
  w->durableLines_ = w->lines_;
  w->device_ = static_cast<std::uint64_t>(st.st_dev);
  w->inode_ = static_cast<std::uint64_t>(st.st_ino);
  if (!options.mirror.empty()) {
    WriterOptions mirrorOptions = options;
    mirrorOptions.mirror.clear();
    auto mirror = Writer::open(options.mirror, mirrorOptions, nowEpochMs);
    if (!mirror) {
      Failure f = mirror.error();
      f.message = "mirror: " + f.message;
      return f;
    }
    w->mirror_ = std::move(*mirror);
    w->mirrorState_ = CopyState::ok;
    if (auto r = equalizeCopies(*w, *w->mirror_, nowEpochMs); !r) return r.error();
  }
  w->publishMark();  // everything kept was fsynced by recover() (or the file is new)
  return w;
}

// Both copies become the longest valid one: the shorter is completed from it when it
// is a prefix of it, else quarantined whole and rewritten (a copy's recovery has
// already cut its own torn tail). Equal lengths but different bytes: the primary wins.
Outcome<void> Writer::equalizeCopies(Writer& primary, Writer& mirror, std::int64_t nowEpochMs) {
  const bool primaryLonger = primary.end_ >= mirror.end_;
  Writer& longer = primaryLonger ? primary : mirror;
  Writer& shorter = primaryLonger ? mirror : primary;
  auto prefix = samePrefix(longer.fd_, shorter.fd_, shorter.end_);
  if (!prefix) return prefix.error();
  if (*prefix && longer.end_ == shorter.end_) return {};
  if (!*prefix) {
    auto qpath = quarantineCopy(shorter.fd_, shorter.path_, 0, shorter.end_, nowEpochMs);
    if (!qpath) return qpath.error();
    if (auto r = fsyncDirectoryOf(shorter.path_); !r) return r;
    if (::ftruncate(shorter.fd_, 0) != 0) {
      return sysFailure(errno, "cannot empty " + shorter.path_.string() + " to rewrite it from its other copy");
    }
    shorter.recovery_.quarantinedBytes += shorter.end_;
    shorter.recovery_.quarantineFile = *qpath;
    shorter.end_ = 0;
    shorter.lines_ = 0;
  }
  auto lines = countNewlines(longer.fd_, shorter.end_, longer.end_);
  if (!lines) return lines.error();
  if (auto r = copyRange(longer.fd_, shorter.end_, longer.end_, shorter.fd_,
                         "copying " + longer.path_.string() + " to " + shorter.path_.string());
      !r) {
    return r;
  }
  if (::fdatasync(shorter.fd_) != 0) return sysFailure(errno, "fsync of " + shorter.path_.string() + " failed");
  shorter.end_ = longer.end_;
  shorter.lines_ = shorter.lines_ + *lines;
  shorter.durableEnd_ = shorter.end_;
  shorter.durableLines_ = shorter.lines_;
  shorter.recovery_.keptBytes = shorter.end_;
  shorter.recovery_.keptLines = shorter.lines_;
  shorter.publishMark();
  return {};
}

Outcome<void> Writer::recover(std::int64_t nowEpochMs) {
  // Find the end of the last valid record; everything after it is the tail.
  // Last-seen lines are valid lines too: a log that ends with one has no tail to cut.
  Reader reader = Reader::fromFd(fd_, ReaderOptions{.lastSeenLines = true});
  LogLine line;
  std::uint64_t keep = 0;
  std::uint64_t keepLines = 0;
  std::uint64_t records = 0;
  std::uint64_t badSinceLastRecord = 0;
  std::uint64_t bad = 0;
  bool lastUnterminated = false;
  while (true) {
    auto more = reader.next(line);
    if (!more) return more.error();
    if (!*more) break;
    if (line.kind != LogLine::Kind::bad) {
      keep = line.endOffset;
      keepLines = line.terminated ? line.lineNumber : line.lineNumber - 1;
      lastUnterminated = !line.terminated;
      if (line.kind == LogLine::Kind::record) ++records;
      bad += badSinceLastRecord;
      badSinceLastRecord = 0;
    } else {
      ++badSinceLastRecord;
    }
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return sysFailure(errno, "cannot stat log " + path_.string());
  const auto size = static_cast<std::uint64_t>(st.st_size);

  if (keep < size) {
    // Copy the tail aside (and make that durable) before cutting it off.
    auto qpath = quarantineCopy(fd_, path_, keep, size, nowEpochMs);
    if (!qpath) return qpath.error();
    if (auto r = fsyncDirectoryOf(path_); !r) return r;
    if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0) {
      return sysFailure(errno, "cannot truncate " + path_.string() + " to its last valid line");
    }
    recovery_.quarantinedBytes = size - keep;
    recovery_.quarantineFile = *qpath;
  }
  if (lastUnterminated) {
    // A complete, valid record whose '\n' never made it: keep it and finish the line.
    if (auto r = writeAll(fd_, "\n", 1, "completing the last line of " + path_.string()); !r) return r;
    ++keep;
    ++keepLines;
    recovery_.completedLastLine = true;
  }
  // Also when nothing needed repair: a writer that crashed before its group commit left lines
  // that may be only in the page cache, and open() counts everything kept as durable.
  if (size > 0) {
    if (::fdatasync(fd_) != 0) return sysFailure(errno, "fsync of " + path_.string() + " after recovery failed");
  }
  end_ = keep;
  lines_ = keepLines;
  recovery_.keptBytes = keep;
  recovery_.keptLines = keepLines;
  recovery_.records = records;
  recovery_.badLines = bad;
  return {};
}

Outcome<Appended> Writer::append(const CheckIn& record) { return writeRecord(record); }

Outcome<Appended> Writer::append(const LastSeen& record) { return writeRecord(record); }

Failure Writer::unusable() const {
  return Failure{{EIO, boost::system::system_category()},
                 "log " + path_.string() + " is unusable after an earlier fatal error"};
}

template <class Record>
Outcome<Appended> Writer::writeRecord(const Record& record) {
  if (broken_) return unusable();
  buffer_.clear();
  formatLine(buffer_, record);
  std::optional<Failure> primaryFailure;
  bool torn = false;
  if (primaryState_ == CopyState::ok) {
    if (auto r = writeLine(torn); !r) primaryFailure = std::move(r.error());
  }
  std::optional<Failure> mirrorFailure;
  if (mirrorState_ == CopyState::ok) {
    if (auto r = mirror_->append(record); !r) mirrorFailure = std::move(r.error());
  }
  const bool primaryWrote = primaryState_ == CopyState::ok && !primaryFailure;
  const bool mirrorWrote = mirrorState_ == CopyState::ok && !mirrorFailure;
  if (!primaryWrote && !mirrorWrote) {
    // No copy took the line: as without a mirror (the caller keeps it and retries).
    if (torn && mirrorState_ != CopyState::ok) broken_ = true;
    if (torn && mirrorState_ == CopyState::ok) giveUp(primaryState_, primaryError_, *primaryFailure);
    return primaryFailure ? *primaryFailure : *mirrorFailure;
  }
  // One copy took it, the other did not: that one is given up for this run, so that
  // each copy stays a prefix of the lines written (docs/log-format.md, "Mirror").
  if (primaryFailure && primaryState_ == CopyState::ok) giveUp(primaryState_, primaryError_, *primaryFailure);
  if (mirrorFailure && mirrorState_ == CopyState::ok) giveUp(mirrorState_, mirrorError_, *mirrorFailure);
  Appended a{lines_ + 1, end_, end_ + buffer_.size()};
  end_ = a.endOffset;
  lines_ = a.lineNumber;
  dirty_ = true;
  return a;
}

void Writer::giveUp(CopyState& state, std::string& error, const Failure& why) {
  state = CopyState::failed;
  error = why.message;
}

Outcome<void> Writer::writeLine(bool& torn) {
  const char* p = buffer_.data();
  std::size_t left = buffer_.size();
  bool retriedShort = false;
  int err = EIO;
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n > 0) {
      p += n;
      left -= static_cast<std::size_t>(n);
      if (left > 0 && retriedShort) break;  // short twice: give up and cut back
      retriedShort = left > 0;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    break;
  }
  if (left == 0) return {};
  const std::size_t written = buffer_.size() - left;
  Failure failure = sysFailure(err, "appending to " + path_.string() + " failed");
  if (written > 0) {
    // Never leave a torn line that the next line would be glued to.
    if (::ftruncate(fd_, static_cast<off_t>(end_)) != 0) {
      torn = true;
      failure.message += "; cutting back the partial line also failed (" + std::string(std::strerror(errno)) +
                         "), the next start will quarantine it";
    }
  }
  return failure;
}

Outcome<void> Writer::doSync(std::optional<std::chrono::steady_clock::time_point> now) {
  std::optional<Failure> primaryFailure;
  if (primaryState_ == CopyState::ok && ::fdatasync(fd_) != 0) {
    primaryFailure = sysFailure(errno, "fsync of " + path_.string() +
                                           " failed; lines since the last sync may be lost and the log is closed "
                                           "for writing");
  }
  std::optional<Failure> mirrorFailure;
  if (mirrorState_ == CopyState::ok) {
    if (auto r = mirror_->sync(); !r) mirrorFailure = std::move(r.error());
  }
  const bool primaryOk = primaryState_ == CopyState::ok && !primaryFailure;
  const bool mirrorOk = mirrorState_ == CopyState::ok && !mirrorFailure;
  if (!primaryOk && !mirrorOk) {
    // Never retried (ADR 0012): no copy is known to hold these lines.
    broken_ = true;
    return primaryFailure ? *primaryFailure : *mirrorFailure;
  }
  if (primaryFailure) giveUp(primaryState_, primaryError_, *primaryFailure);
  if (mirrorFailure) giveUp(mirrorState_, mirrorError_, *mirrorFailure);
  durableEnd_ = end_;
  durableLines_ = lines_;
  dirty_ = false;
  // The mark describes the primary file; a given-up primary gets no more lines.
  if (primaryOk) {
    if (now && lastMark_ && *now - *lastMark_ < kMarkEvery) {
      markPending_ = true;  // commit() publishes it when syncDue() says
    } else {
      publishMark();
      if (now) lastMark_ = *now;
    }
  }
  return {};
}

void Writer::publishMark() {
  markPending_ = false;
  auto published = publishDurableMark(markPath_, DurableMark{device_, inode_, durableEnd_, durableLines_});
  if (published) {
    markError_.clear();
  } else {
    markError_ = std::move(published.error().message);
  }
}

Outcome<void> Writer::sync() {
  if (broken_) return unusable();
  if (!dirty_) {
    if (markPending_) publishMark();
    return {};
  }
  return doSync(std::nullopt);
}

Outcome<bool> Writer::commit(std::chrono::steady_clock::time_point now) {
  if (broken_) return unusable();
  if (markPending_ && lastMark_ && now - *lastMark_ >= kMarkEvery) {
    publishMark();
    lastMark_ = now;
  }
  if (!dirty_) return false;
  switch (options_.fsync) {
    case FsyncPolicy::never: return false;
    case FsyncPolicy::always: break;
    case FsyncPolicy::interval:
      // Leading edge: lines after a quiet interval are synced now; lines within an
      // interval of the last sync wait for its end (at most one fdatasync per interval).
      if (lastCommitSync_ && now - *lastCommitSync_ < options_.syncInterval) return false;
      break;
  }
  if (auto r = doSync(now); !r) return r.error();
  lastCommitSync_ = now;
  return true;
}

std::optional<std::chrono::steady_clock::time_point> Writer::syncDue() const noexcept {
  std::optional<std::chrono::steady_clock::time_point> due;
  if (dirty_ && options_.fsync == FsyncPolicy::interval) {
    // Never synced by commit(): due at once (any past time point does).
    due = lastCommitSync_ ? *lastCommitSync_ + options_.syncInterval : std::chrono::steady_clock::time_point{};
  }
  if (markPending_ && lastMark_ && (!due || *lastMark_ + kMarkEvery < *due)) due = *lastMark_ + kMarkEvery;
  return due;
}

}  // namespace attendance::jsonl_log

#include <attendance/jsonl_log/reader.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace attendance::jsonl_log {

struct Reader::State {
  int fd = -1;
  bool ownsFd = false;
  std::vector<char> buf = std::vector<char>(2 * kMaxLineBytes);
  std::size_t pos = 0;          // next unread byte in buf
  std::size_t len = 0;          // valid bytes in buf
  std::uint64_t bufOffset = 0;  // file offset of buf[0]
  std::uint64_t nextLine = 1;
  bool lastSeenLines = false;
  std::uint64_t fileOffset = 0;  // where the next read() lands in the file
  bool eof = false;
  // Skipping an over-long line: where it began.
  bool skipping = false;
  std::uint64_t skipStart = 0;

  ~State() {
    if (ownsFd && fd >= 0) ::close(fd);
  }

  Outcome<void> fill() {
    if (pos > 0) {
      std::memmove(buf.data(), buf.data() + pos, len - pos);
      bufOffset += pos;
      len -= pos;
      pos = 0;
    }
    while (len < buf.size()) {
      const ssize_t n = ::pread(fd, buf.data() + len, buf.size() - len, static_cast<off_t>(fileOffset));
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        return Failure{{err, boost::system::system_category()},
                       std::string("reading the log failed: ") + std::strerror(err)};
      }
      if (n == 0) {
        eof = true;
        break;
      }
      len += static_cast<std::size_t>(n);
      fileOffset += static_cast<std::uint64_t>(n);
      break;  // hand out what we have; read again when needed
    }
    return {};
  }
};

Reader::Reader(std::unique_ptr<State> state) : state_(std::move(state)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

Outcome<Reader> Reader::open(const std::filesystem::path& log, ReaderOptions options) {
  const int fd = ::open(log.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    return Failure{{err, boost::system::system_category()},
                   "cannot open log " + log.string() + ": " + std::strerror(err)};
  }
  Reader r = fromFd(fd, options);
  r.state_->ownsFd = true;
  return r;
}

Reader Reader::fromFd(int fd, ReaderOptions options) {
  auto s = std::make_unique<State>();
  s->fd = fd;
  s->bufOffset = options.startOffset;
  s->fileOffset = options.startOffset;
  s->nextLine = options.startLine;
  s->lastSeenLines = options.lastSeenLines;
  return Reader(std::move(s));
}

std::uint64_t Reader::offset() const noexcept { return state_->bufOffset + state_->pos; }

// Fills kind/error (and record or lastSeen) from the text of one line; false when the line is
// a valid last-seen line the caller did not ask for.
bool Reader::classify(std::string_view text, LogLine& line) const {
  if (isLastSeenLine(text)) {
    line.error = parseLastSeenLineInto(text, line.lastSeen);
    if (!line.error && !state_->lastSeenLines) return false;
    line.kind = line.error ? LogLine::Kind::bad : LogLine::Kind::last_seen;
    return true;
  }
  line.error = parseLineInto(text, line.record);
  line.kind = line.error ? LogLine::Kind::bad : LogLine::Kind::record;
  return true;
}

Outcome<bool> Reader::next(LogLine& line) {
  State& s = *state_;
  while (true) {
    const char* begin = s.buf.data() + s.pos;
    const std::size_t avail = s.len - s.pos;
    const void* nl = std::memchr(begin, '\n', avail);
    if (nl != nullptr) {
      const auto lineLen = static_cast<std::size_t>(static_cast<const char*>(nl) - begin);
      const std::uint64_t start = s.bufOffset + s.pos;
      s.pos += lineLen + 1;
      const std::uint64_t number = s.nextLine++;
      if (s.skipping) {
        s.skipping = false;
        line.kind = LogLine::Kind::bad;
        line.error = ParseErrc::line_too_long;
        line.lineNumber = number;
        line.startOffset = s.skipStart;
        line.endOffset = start + lineLen + 1;
        line.terminated = true;
        return true;
      }
      if (lineLen == 0) continue;
      line.lineNumber = number;
      line.startOffset = start;
      line.endOffset = start + lineLen + 1;
      line.terminated = true;
      if (classify(std::string_view(begin, lineLen), line)) return true;
      continue;  // a last-seen line nobody asked for
    }
    if (s.skipping || avail > kMaxLineBytes) {
      if (!s.skipping) {
        s.skipping = true;
        s.skipStart = s.bufOffset + s.pos;
      }
      s.pos = s.len;  // drop what we have of the over-long line
    }
    if (s.eof) {
      // s.pos..s.len is an unterminated last piece (or nothing).
      if (s.skipping) {
        s.skipping = false;
        line.kind = LogLine::Kind::bad;
        line.error = ParseErrc::line_too_long;
        line.lineNumber = s.nextLine;
        line.startOffset = s.skipStart;
        line.endOffset = s.bufOffset + s.len;
        line.terminated = false;
        return true;
      }
      if (avail == 0) return false;
      line.lineNumber = s.nextLine;
      line.startOffset = s.bufOffset + s.pos;
      line.endOffset = s.bufOffset + s.len;
      line.terminated = false;
      s.pos = s.len;
      if (!classify(std::string_view(begin, avail), line)) return false;
      if (line.error) line.error = ParseErrc::unterminated_line;
      return true;
    }
    s.eof = false;
    if (auto r = s.fill(); !r) return r.error();
  }
}

}  // namespace attendance::jsonl_log

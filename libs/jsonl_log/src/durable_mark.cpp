#include <attendance/jsonl_log/durable_mark.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "sys_failure.hpp"

namespace attendance::jsonl_log {
namespace {

using detail::sysFailure;

// Consumes `"key":<digits>` followed by `next` from the front of `text`.
bool takeField(std::string_view& text, std::string_view key, char next, std::uint64_t& value) {
  if (text.size() < key.size() + 3 || text[0] != '"' || text.substr(1, key.size()) != key ||
      text.substr(key.size() + 1, 2) != "\":") {
    return false;
  }
  text.remove_prefix(key.size() + 3);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data() || end == text.data() + text.size() || *end != next) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()) + 1);
  return true;
}

}  // namespace

std::filesystem::path durableMarkPathFor(const std::filesystem::path& log) { return log.string() + ".durable"; }

std::string formatDurableMark(const DurableMark& m) {
  std::array<char, 160> buf{};
  const int n =
      std::snprintf(buf.data(), buf.size(), "{\"device\":%llu,\"inode\":%llu,\"offset\":%llu,\"lines\":%llu}\n",
                    static_cast<unsigned long long>(m.device), static_cast<unsigned long long>(m.inode),
                    static_cast<unsigned long long>(m.offset), static_cast<unsigned long long>(m.lines));
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

std::optional<DurableMark> parseDurableMark(std::string_view text) noexcept {
  DurableMark m;
  if (text.empty() || text.front() != '{') return std::nullopt;
  text.remove_prefix(1);
  if (!takeField(text, "device", ',', m.device) || !takeField(text, "inode", ',', m.inode) ||
      !takeField(text, "offset", ',', m.offset) || !takeField(text, "lines", '}', m.lines) || text != "\n") {
    return std::nullopt;
  }
  return m;
}

Outcome<void> publishDurableMark(const std::filesystem::path& markPath, const DurableMark& mark) {
  const std::string tmp = markPath.string() + ".tmp";
  const std::string text = formatDurableMark(mark);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0) return sysFailure(errno, "cannot create " + tmp);
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int writeErr = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return sysFailure(n < 0 ? writeErr : ENOSPC, "cannot write " + tmp);
  }
  if (::rename(tmp.c_str(), markPath.c_str()) != 0) return sysFailure(errno, "cannot rename " + tmp);
  return {};
}

Outcome<std::optional<DurableMark>> readDurableMark(const std::filesystem::path& markPath) {
  const int fd = ::open(markPath.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<DurableMark>{};
    return sysFailure(errno, "cannot open " + markPath.string());
  }
  std::array<char, 256> buf{};
  const ssize_t n = ::read(fd, buf.data(), buf.size());
  const int err = errno;
  ::close(fd);
  if (n < 0) return sysFailure(err, "cannot read " + markPath.string());
  auto mark = parseDurableMark(std::string_view(buf.data(), static_cast<std::size_t>(n)));
  if (!mark) {
    return Failure{{EINVAL, boost::system::system_category()}, markPath.string() + " is not a durable-offset mark"};
  }
  return std::optional<DurableMark>{*mark};
}

}  // namespace attendance::jsonl_log

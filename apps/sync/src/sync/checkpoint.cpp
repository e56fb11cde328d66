#include "sync/checkpoint.hpp"
#include "sync/json_fields.hpp"

#include <attendance/support/json_text.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <openssl/evp.h>

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace attendance::sync {

namespace json = boost::json;

namespace {

error_code lastError() { return error_code(errno, boost::system::system_category()); }

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xF];
  }
  return out;
}

// The hash is hex and a boot id is a UUID (tests use other plain names): anything
// else means the file was not written by us.
bool plainId(std::string_view s) {
  if (s.size() > 128) return false;
  for (const char c : s) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
                    c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

error_code invalid() { return make_error_code(boost::system::errc::invalid_argument); }

Result<void> fsyncDirectoryOf(const std::filesystem::path& path) {
  auto dir = path.parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return lastError();
  const int rc = ::fsync(fd);
  const auto ec = rc == 0 ? error_code{} : lastError();
  ::close(fd);
  if (ec) return ec;
  return {};
}

}  // namespace

std::filesystem::path checkpointPathFor(const std::filesystem::path& log) {
  auto p = log;
  p += ".sync-checkpoint";
  return p;
}

std::string formatCheckpoint(const Checkpoint& c) {
  std::string out = "{\"version\":1,\"log\":{\"device\":" + std::to_string(c.log.device) +
                    ",\"inode\":" + std::to_string(c.log.inode) + ",\"size\":" + std::to_string(c.log.size) +
                    ",\"firstLineSha256\":";
  support::appendJsonString(out, c.log.firstLineSha256);
  out += "},\"offset\":" + std::to_string(c.offset) + ",\"nextLine\":" + std::to_string(c.nextLine);
  if (c.clock) {
    out += ",\"clock\":{\"bootId\":";
    support::appendJsonString(out, c.clock->bootId);
    out += ",\"wallMinusBootMs\":" + std::to_string(c.clock->wallMinusBootMs) + "}";
  }
  out += "}\n";
  return out;
}

Result<Checkpoint> parseCheckpoint(std::string_view text) {
  if (text.size() > 64 * 1024) return invalid();
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec) return ec;
  const auto* root = v.if_object();
  if (root == nullptr) return invalid();
  std::uint64_t version = 0;
  if (!readUnsigned(*root, "version", version) || version != 1) return invalid();
  Checkpoint c;
  const auto* log = root->if_contains("log");
  if (log == nullptr || !log->is_object()) return invalid();
  const auto& lo = log->as_object();
  if (!readUnsigned(lo, "device", c.log.device) || !readUnsigned(lo, "inode", c.log.inode) ||
      !readUnsigned(lo, "size", c.log.size)) {
    return invalid();
  }
  const auto* hash = lo.if_contains("firstLineSha256");
  if (hash == nullptr || !hash->is_string()) return invalid();
  c.log.firstLineSha256 = std::string(hash->as_string());
  if (!plainId(c.log.firstLineSha256)) return invalid();
  if (!readUnsigned(*root, "offset", c.offset) || !readUnsigned(*root, "nextLine", c.nextLine)) return invalid();
  if (c.nextLine == 0 || c.offset > c.log.size) return invalid();
  if (const auto* clock = root->if_contains("clock")) {
    const auto* co = clock->if_object();
    if (co == nullptr) return invalid();
    const auto* boot = co->if_contains("bootId");
    const auto* delta = co->if_contains("wallMinusBootMs");
    if (boot == nullptr || !boot->is_string() || delta == nullptr || !delta->is_int64()) return invalid();
    c.clock = ClockAnchor{std::string(boot->as_string()), delta->as_int64()};
    if (c.clock->bootId.empty() || !plainId(c.clock->bootId)) return invalid();
  }
  return c;
}

bool sameLog(const LogIdentity& saved, const LogIdentity& current) noexcept {
  return saved.device == current.device && saved.inode == current.inode &&
         saved.firstLineSha256 == current.firstLineSha256 && current.size >= saved.size;
}

Result<LogIdentity> identify(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return lastError();
  LogIdentity id;
  id.device = static_cast<std::uint64_t>(st.st_dev);
  id.inode = static_cast<std::uint64_t>(st.st_ino);
  id.size = static_cast<std::uint64_t>(st.st_size);
  if (id.size == 0) return id;

  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return make_error_code(boost::system::errc::not_enough_memory);
  }
  std::array<char, 8192> buf{};
  off_t pos = 0;
  bool done = false;
  // The first line only (bounded: a log line is at most 64 KiB, hash at most 1 MiB).
  while (!done && pos < (1 << 20)) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), pos);
    if (n < 0) {
      if (errno == EINTR) continue;
      EVP_MD_CTX_free(ctx);
      return lastError();
    }
    if (n == 0) break;
    std::size_t take = static_cast<std::size_t>(n);
    for (std::size_t i = 0; i < take; ++i) {
      if (buf[i] == '\n') {
        take = i;
        done = true;
        break;
      }
    }
    EVP_DigestUpdate(ctx, buf.data(), take);
    pos += n;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md.data(), &len);
  EVP_MD_CTX_free(ctx);
  id.firstLineSha256 = hex(md.data(), len);
  return id;
}

Result<std::optional<Checkpoint>> loadCheckpoint(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<Checkpoint>{};
    return lastError();
  }
  std::string text;
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf.data(), static_cast<std::size_t>(n));
    if (text.size() > 64 * 1024) break;
  }
  ::close(fd);
  auto parsed = parseCheckpoint(text);
  if (!parsed) return parsed.error();
  return std::optional<Checkpoint>{std::move(*parsed)};
}

Result<void> writeFileAtomically(const std::filesystem::path& path, std::string_view content) {
  auto tmp = path;
  tmp += ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return lastError();
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const auto ec = lastError();
      ::close(fd);
      ::unlink(tmp.c_str());
      return ec;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const auto ec = lastError();
    ::close(fd);
    ::unlink(tmp.c_str());
    return ec;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const auto ec = lastError();
    ::unlink(tmp.c_str());
    return ec;
  }
  return fsyncDirectoryOf(path);
}

Result<void> saveCheckpoint(const std::filesystem::path& path, const Checkpoint& checkpoint) {
  return writeFileAtomically(path, formatCheckpoint(checkpoint));
}

}  // namespace attendance::sync

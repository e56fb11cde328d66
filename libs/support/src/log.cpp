#include <attendance/support/log.hpp>

#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <attendance/support/json_text.hpp>

namespace attendance::support::log {
namespace {

std::atomic<Level> gMinimum{Level::info};
std::atomic<int> gFd{STDERR_FILENO};
std::mutex gWriteMutex;

std::string_view levelName(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

std::string utcTimestamp() {
  // Log timestamps are an I/O-edge concern, so the real clock is read here.
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 40> text{};
  const int n = std::snprintf(text.data(), text.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return std::string(text.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

}  // namespace

void setMinimumLevel(Level level) { gMinimum.store(level); }
Level minimumLevel() { return gMinimum.load(); }
void setOutputFd(int fd) { gFd.store(fd < 0 ? STDERR_FILENO : fd); }

std::string formatLine(std::string_view timestamp, Level level, std::string_view event,
                       std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(96);
  line += "{\"ts\":";
  appendJsonString(line, timestamp);
  line += ",\"level\":\"";
  line += levelName(level);
  line += "\",\"event\":";
  appendJsonString(line, event);
  for (const Field& f : fields) {
    line.push_back(',');
    // A field may not shadow the envelope's keys: duplicate keys are ambiguous JSON.
    if (f.key == "ts" || f.key == "level" || f.key == "event") {
      appendJsonString(line, std::string("field.") + std::string(f.key));
    } else {
      appendJsonString(line, f.key);
    }
    line.push_back(':');
    std::visit(
        [&line](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string_view>) {
            appendJsonString(line, v);
          } else if constexpr (std::is_same_v<V, bool>) {
            line += v ? "true" : "false";
          } else {
            // Integers in full, doubles in the shortest form that reads back the same.
            std::array<char, 32> text{};
            const auto r = std::to_chars(text.data(), text.data() + text.size(), v);
            line.append(text.data(), r.ptr);
          }
        },
        f.value);
  }
  line.push_back('}');
  return line;
}

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (level < gMinimum.load()) return;
  std::string line = formatLine(utcTimestamp(), level, event, fields);
  line.push_back('\n');
  const std::lock_guard lock(gWriteMutex);
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(gFd.load(), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // Nowhere to report a failing log stream; drop the line.
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace attendance::support::log

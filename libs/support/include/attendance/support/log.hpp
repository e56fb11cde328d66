#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

// Structured logs: one JSON object per line on stderr, e.g.
//   {"ts":"2026-11-24T03:49:15.123Z","level":"info","event":"scanner.started","adapter":"hci0"}
// so journald, jq and log shippers read them without parsing prose.
namespace attendance::support::log {

enum class Level { debug, info, warn, error };

struct Field {
  using Value = std::variant<std::string_view, std::int64_t, double, bool>;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view{v}) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view{v}) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) Field(std::string_view k, I v)
      : key(k), value(static_cast<std::int64_t>(v)) {}

  std::string_view key;
  Value value;
};

void setMinimumLevel(Level level);
[[nodiscard]] Level minimumLevel();
// Redirects output (tests); -1 restores stderr.
void setOutputFd(int fd);

// Formats one line (no trailing newline); exposed for tests. A field named like an
// envelope key (ts, level, event) is written as "field.<name>".
[[nodiscard]] std::string formatLine(std::string_view timestamp, Level level, std::string_view event,
                                     std::initializer_list<Field> fields);

void write(Level level, std::string_view event, std::initializer_list<Field> fields);

inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::debug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::info, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::warn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::error, event, fields);
}

}  // namespace attendance::support::log

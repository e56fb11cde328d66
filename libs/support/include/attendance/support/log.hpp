#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

// Structured logs on stderr, one line per event, in one of two formats:
//   json (the default): one JSON object per line, for jq and log shippers,
//     {"ts":"2026-11-24T03:49:15.123Z","level":"info","event":"scanner.started","adapter":"hci0"}
//   text: the same fields as words, for journald and a terminal,
//     2026-11-24T03:49:15.123Z info scanner.started adapter=hci0
//     and, when stderr is the journal, "<6>scanner.started adapter=hci0": journald
//     stamps the time itself and takes the level from the <N> prefix.
namespace attendance::support::log {

enum class Level { debug, info, warn, error };
enum class Format { json, text };

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
void setFormat(Format format);
[[nodiscard]] Format format();
// True when stderr is the systemd journal's stream (JOURNAL_STREAM names fd 2), as
// under a unit without StandardError=; "auto" log formats pick text then.
[[nodiscard]] bool stderrIsJournal();
// Redirects output (tests); -1 restores stderr.
void setOutputFd(int fd);

// Formats one line (no trailing newline); exposed for tests. A field named like an
// envelope key (ts, level, event) is written as "field.<name>".
[[nodiscard]] std::string formatLine(std::string_view timestamp, Level level, std::string_view event,
                                     std::initializer_list<Field> fields);

// The text format's line (no trailing newline): "<ts> <level> <event> key=value ...",
// or with `journal` "<N><event> key=value ..." (N: the syslog priority of the level).
// A string value with a space, quote, '=' or control character is written as a
// JSON string; other values bare.
[[nodiscard]] std::string formatTextLine(std::string_view timestamp, Level level, std::string_view event,
                                         std::initializer_list<Field> fields, bool journal);

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

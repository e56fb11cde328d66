#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/support/uuid.hpp>
#include <attendance/support/utf8.hpp>

// The strict JSON scanner behind parseLine and parseLastSeenLine: one object per line, values
// checked in place, strings decoded only when they hold escapes. Private to jsonl_log.
namespace attendance::jsonl_log::detail {

inline constexpr int kMaxDepth = 32;

struct Parser {
  const char* p;
  const char* end;
  std::string scratch;  // decoded strings with escapes (rare)

  void ws() noexcept {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) ++p;
  }

  static int hex(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex4(std::uint32_t& v) noexcept {
    if (end - p < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex(p[i]);
      if (h < 0) return false;
      v = (v << 4) | static_cast<std::uint32_t>(h);
    }
    p += 4;
    return true;
  }

  static void putUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // Validates one UTF-8 sequence at p (first byte >= 0x80) and advances.
  bool utf8() noexcept {
    const std::size_t len = support::utf8SequenceLength(std::string_view(p, static_cast<std::size_t>(end - p)), 0);
    if (len == 0) return false;
    p += len;
    return true;
  }

  // At '"'. On success `out` views the decoded content: the input itself when the
  // string has no escapes, else `scratch`.
  ParseErrc string(std::string_view& out) {
    ++p;  // opening quote
    const char* start = p;
    bool escaped = false;
    while (true) {
      if (p >= end) return ParseErrc::syntax_error;
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') break;
      if (c < 0x20) return ParseErrc::syntax_error;
      if (c == '\\') {
        escaped = true;
        break;
      }
      if (c >= 0x80) {
        if (!utf8()) return ParseErrc::invalid_utf8;
        continue;
      }
      ++p;
    }
    if (!escaped) {
      out = std::string_view(start, static_cast<std::size_t>(p - start));
      ++p;
      return ParseErrc{};
    }
    scratch.assign(start, p);
    while (true) {
      if (p >= end) return ParseErrc::syntax_error;
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        ++p;
        break;
      }
      if (c < 0x20) return ParseErrc::syntax_error;
      if (c >= 0x80) {
        const char* s = p;
        if (!utf8()) return ParseErrc::invalid_utf8;
        scratch.append(s, p);
        continue;
      }
      if (c != '\\') {
        scratch.push_back(static_cast<char>(c));
        ++p;
        continue;
      }
      ++p;
      if (p >= end) return ParseErrc::syntax_error;
      const char e = *p++;
      switch (e) {
        case '"': scratch.push_back('"'); break;
        case '\\': scratch.push_back('\\'); break;
        case '/': scratch.push_back('/'); break;
        case 'b': scratch.push_back('\b'); break;
        case 'f': scratch.push_back('\f'); break;
        case 'n': scratch.push_back('\n'); break;
        case 'r': scratch.push_back('\r'); break;
        case 't': scratch.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return ParseErrc::syntax_error;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo = 0;
            if (end - p < 2 || p[0] != '\\' || p[1] != 'u') return ParseErrc::invalid_utf8;
            p += 2;
            if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return ParseErrc::invalid_utf8;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return ParseErrc::invalid_utf8;
          }
          putUtf8(scratch, cp);
          break;
        }
        default: return ParseErrc::syntax_error;
      }
    }
    out = scratch;
    return ParseErrc{};
  }

  // A JSON number. `isInt` tells whether it had neither fraction nor exponent and
  // fit in int64 (value then holds it).
  ParseErrc number(bool& isInt, std::int64_t& value) noexcept {
    const char* start = p;
    if (p < end && *p == '-') ++p;
    if (p >= end) return ParseErrc::syntax_error;
    if (*p == '0') {
      ++p;
    } else if (*p >= '1' && *p <= '9') {
      while (p < end && *p >= '0' && *p <= '9') ++p;
    } else {
      return ParseErrc::syntax_error;
    }
    const char* intEnd = p;
    bool plain = true;
    if (p < end && *p == '.') {
      plain = false;
      ++p;
      if (p >= end || *p < '0' || *p > '9') return ParseErrc::syntax_error;
      while (p < end && *p >= '0' && *p <= '9') ++p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
      plain = false;
      ++p;
      if (p < end && (*p == '+' || *p == '-')) ++p;
      if (p >= end || *p < '0' || *p > '9') return ParseErrc::syntax_error;
      while (p < end && *p >= '0' && *p <= '9') ++p;
    }
    isInt = false;
    if (plain) {
      const auto r = std::from_chars(start, intEnd, value);
      isInt = r.ec == std::errc{} && r.ptr == intEnd;
    }
    return ParseErrc{};
  }

  bool literal(std::string_view word) noexcept {
    if (static_cast<std::size_t>(end - p) < word.size() || std::memcmp(p, word.data(), word.size()) != 0) return false;
    p += word.size();
    return true;
  }

  ParseErrc skipValue(int depth) {
    if (depth > kMaxDepth) return ParseErrc::nesting_too_deep;
    ws();
    if (p >= end) return ParseErrc::syntax_error;
    switch (*p) {
      case '"': {
        std::string_view s;
        return string(s);
      }
      case '{': {
        ++p;
        ws();
        if (p < end && *p == '}') {
          ++p;
          return ParseErrc{};
        }
        while (true) {
          ws();
          if (p >= end || *p != '"') return ParseErrc::syntax_error;
          std::string_view k;
          if (const auto e = string(k); e != ParseErrc{}) return e;
          ws();
          if (p >= end || *p != ':') return ParseErrc::syntax_error;
          ++p;
          if (const auto e = skipValue(depth + 1); e != ParseErrc{}) return e;
          ws();
          if (p < end && *p == ',') {
            ++p;
            continue;
          }
          if (p < end && *p == '}') {
            ++p;
            return ParseErrc{};
          }
          return ParseErrc::syntax_error;
        }
      }
      case '[': {
        ++p;
        ws();
        if (p < end && *p == ']') {
          ++p;
          return ParseErrc{};
        }
        while (true) {
          if (const auto e = skipValue(depth + 1); e != ParseErrc{}) return e;
          ws();
          if (p < end && *p == ',') {
            ++p;
            continue;
          }
          if (p < end && *p == ']') {
            ++p;
            return ParseErrc{};
          }
          return ParseErrc::syntax_error;
        }
      }
      case 't': return literal("true") ? ParseErrc{} : ParseErrc::syntax_error;
      case 'f': return literal("false") ? ParseErrc{} : ParseErrc::syntax_error;
      case 'n': return literal("null") ? ParseErrc{} : ParseErrc::syntax_error;
      default: {
        bool isInt = false;
        std::int64_t v = 0;
        return number(isInt, v);
      }
    }
  }

  // Parses an integer value for a known key; `bad` when the value is another JSON
  // type or not an integer. Syntax errors stay syntax errors.
  ParseErrc integer(std::int64_t& v, ParseErrc bad) noexcept {
    if (p >= end) return ParseErrc::syntax_error;
    if (*p != '-' && (*p < '0' || *p > '9')) {
      const auto e = skipValue(1);
      return e != ParseErrc{} ? e : bad;
    }
    bool isInt = false;
    if (const auto e = number(isInt, v); e != ParseErrc{}) return e;
    return isInt ? ParseErrc{} : bad;
  }

  // integer() within [lo, hi] (the log's times and counts are non-negative, rssi is an int8).
  ParseErrc integerIn(std::int64_t& v, std::int64_t lo, std::int64_t hi, ParseErrc bad) noexcept {
    const auto e = integer(v, bad);
    if (e != ParseErrc{}) return e;
    return v < lo || v > hi ? bad : ParseErrc{};
  }

  // integer() >= 0.
  ParseErrc nonNegative(std::int64_t& v, ParseErrc bad) noexcept { return integerIn(v, 0, INT64_MAX, bad); }

  ParseErrc idString(std::string& out, ParseErrc bad) {
    if (p >= end) return ParseErrc::syntax_error;
    if (*p != '"') {
      const auto e = skipValue(1);
      return e != ParseErrc{} ? e : bad;
    }
    std::string_view s;
    if (const auto e = string(s); e != ParseErrc{}) return e;
    if (s.empty() || s.size() > kMaxIdBytes) return bad;
    out.assign(s.data(), s.size());
    return ParseErrc{};
  }

  // A bleUuid member's value: a string holding a canonical UUID.
  ParseErrc uuid(support::Uuid& out) {
    if (p >= end || *p != '"') {
      const auto e = skipValue(1);
      return e != ParseErrc{} ? e : ParseErrc::bad_ble_uuid;
    }
    std::string_view s;
    if (const auto e = string(s); e != ParseErrc{}) return e;
    const auto u = support::Uuid::parse(s);
    if (!u) return ParseErrc::bad_ble_uuid;
    out = *u;
    return ParseErrc{};
  }
};

// Whether parseObject saw `key` (its bit in `seen`).
template <class Key>
bool seenKey(unsigned seen, Key key) noexcept {
  return (seen & (1u << static_cast<unsigned>(key))) != 0;
}

// One line's JSON object, member by member: the framing every kind of log line shares
// (whitespace, a key seen twice is refused, nothing may follow the closing brace).
// `classify` maps a key's text to the caller's Key enum, whose `other` is every key it
// does not know (skipped, kept by no one); `member(key)` parses that member's value at
// ps.p. Each known key seen sets bit `1 << key` in `seen`.
template <class Key, class Classify, class Member>
ParseErrc parseObject(Parser& ps, Classify classify, Member member, unsigned& seen) {
  ps.ws();
  if (ps.p >= ps.end) return ParseErrc::empty_line;
  if (*ps.p != '{') {
    const auto e = ps.skipValue(0);
    return e != ParseErrc{} ? e : ParseErrc::not_an_object;
  }
  ++ps.p;
  ps.ws();
  if (ps.p < ps.end && *ps.p == '}') {
    ++ps.p;
  } else {
    while (true) {
      ps.ws();
      if (ps.p >= ps.end || *ps.p != '"') return ParseErrc::syntax_error;
      std::string_view keyText;
      if (const auto e = ps.string(keyText); e != ParseErrc{}) return e;
      const Key key = classify(keyText);
      ps.ws();
      if (ps.p >= ps.end || *ps.p != ':') return ParseErrc::syntax_error;
      ++ps.p;
      ps.ws();
      if (key != Key::other) {
        const unsigned bit = 1u << static_cast<unsigned>(key);
        if (seen & bit) return ParseErrc::duplicate_key;
        seen |= bit;
      }
      if (const auto e = key == Key::other ? ps.skipValue(1) : member(key); e != ParseErrc{}) return e;
      ps.ws();
      if (ps.p < ps.end && *ps.p == ',') {
        ++ps.p;
        continue;
      }
      if (ps.p < ps.end && *ps.p == '}') {
        ++ps.p;
        break;
      }
      return ParseErrc::syntax_error;
    }
  }
  ps.ws();
  return ps.p != ps.end ? ParseErrc::trailing_data : ParseErrc{};
}

}  // namespace attendance::jsonl_log::detail

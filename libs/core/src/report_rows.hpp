#pragma once

// Private to the report: reading result fields straight from libpq's buffers
// (no std::string per field), shared by report.cpp and report_incremental.cpp.
#include <attendance/core/report.hpp>

#include <pqxx/pqxx>

#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace attendance::core::detail {

inline std::string_view text(const pqxx::field& f) { return {f.c_str(), f.size()}; }

inline std::int64_t int64(const pqxx::field& f) {
  std::int64_t v = 0;
  const char* begin = f.c_str();
  const auto [ptr, ec] = std::from_chars(begin, begin + f.size(), v);
  if (ec != std::errc{} || ptr != begin + f.size()) throw std::runtime_error("report: not an integer");
  return v;
}

// PostgreSQL prints uuids as 36 lowercase characters, 8-4-4-4-12: decoded
// directly; anything else goes through Uuid::parse.
inline support::Uuid uuid(const pqxx::field& f) {
  const std::string_view t = text(f);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (t.size() == support::Uuid::kTextLength && t[8] == '-' && t[13] == '-' && t[18] == '-' && t[23] == '-') {
    support::Uuid u;
    std::size_t at = 0;
    bool ok = true;
    for (auto& byte : u.bytes) {
      if (at == 8 || at == 13 || at == 18 || at == 23) ++at;
      const int hi = nibble(t[at]);
      const int lo = nibble(t[at + 1]);
      ok = ok && hi >= 0 && lo >= 0;
      byte = static_cast<std::uint8_t>(((hi & 0xF) << 4) | (lo & 0xF));
      at += 2;
    }
    if (ok) return u;
  }
  return support::Uuid::parse(t).value_or(support::Uuid{});
}

inline ReportVersion readVersionRow(const pqxx::row& row) {
  return {int64(row[0]), int64(row[1]), int64(row[2]), int64(row[3])};
}

}  // namespace attendance::core::detail

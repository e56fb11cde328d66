#pragma once

// What the jsonl_log tests write and read back: numbered check-ins (distinct ids and times,
// so a line out of place shows) and a whole log read through the library's Reader.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/jsonl_log/reader.hpp>

namespace attendance::testing {

// The writer's clock at open in these tests (epoch ms, late 2025).
inline constexpr std::int64_t kLogOpenedAt = 1764000000000;

// Check-in number `n` (0..255): bleUuid b2000000-…-0000000000<n>, time 2024-07-20T10:30:00Z + n ms.
inline jsonl_log::CheckIn numberedCheckIn(int n) {
  jsonl_log::CheckIn c;
  c.bleUuid.bytes[0] = 0xb2;
  c.bleUuid.bytes[15] = static_cast<std::uint8_t>(n);
  c.checkInTime = 1721471400000 + n;
  c.scannerId = "S1";
  c.eventId = "evt-1";
  return c;
}

// Every line of the log at `path` from `options.startOffset`; a failure fails the test.
inline std::vector<jsonl_log::LogLine> readAllLines(const std::filesystem::path& path,
                                                    jsonl_log::ReaderOptions options = {}) {
  auto reader = jsonl_log::Reader::open(path, options);
  EXPECT_TRUE(reader);
  std::vector<jsonl_log::LogLine> out;
  if (!reader) return out;
  jsonl_log::LogLine line;
  while (true) {
    auto more = reader->next(line);
    EXPECT_TRUE(more);
    if (!more || !*more) break;
    out.push_back(line);
  }
  return out;
}

}  // namespace attendance::testing

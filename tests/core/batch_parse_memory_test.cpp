// The /batchCheckIn body reader's memory is bounded by maxRecords, not by what
// the body holds. Live heap bytes are counted by replacing the global operator
// new in this test binary (its own executable for that reason).
// GCC 12 at -O2 sees the replaced operator new's malloc through inlining and flags
// the matching free() as mismatched; the pair is consistent by construction.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include <fmt/format.h>

#include <attendance/core/batch.hpp>

namespace {
std::atomic<std::size_t> gLive{0};
std::atomic<std::size_t> gPeak{0};
constexpr std::size_t kHeader = 16;  // keeps the size in front of each block, alignment kept
}  // namespace

void* operator new(std::size_t n) {
  auto* p = static_cast<unsigned char*>(std::malloc(n + kHeader));
  if (p == nullptr) throw std::bad_alloc();
  *reinterpret_cast<std::size_t*>(p) = n;
  const std::size_t live = gLive += n;
  std::size_t peak = gPeak.load();
  while (live > peak && !gPeak.compare_exchange_weak(peak, live)) {
  }
  return p + kHeader;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  auto* block = static_cast<unsigned char*>(p) - kHeader;
  gLive -= *reinterpret_cast<std::size_t*>(block);
  std::free(block);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace core = attendance::core;

namespace {

// Peak live heap bytes while parsing `body` (the body itself not counted).
std::size_t peakWhileParsing(const std::string& body, core::BatchParseResult& out) {
  const std::size_t base = gLive.load();
  gPeak = base;
  out = core::parseBatchBody(body);
  return gPeak.load() - base;
}

constexpr std::size_t kSixteenMiB = 16U * 1024U * 1024U;

}  // namespace

// Attack: a valid key and 16 MiB of numbers. Before, the DOM reader raised the
// backend's RSS by ~430 MiB (~27x the body).
TEST(BatchParseMemory, SixteenMiBOfNumbersIsRefusedWithinLessThanTheBodysSize) {
  std::string body = R"({"eventId":"ev-1","records":[)";
  while (body.size() < kSixteenMiB - 16) body += "1,";
  body += "1]}";
  core::BatchParseResult r;
  const std::size_t peak = peakWhileParsing(body, r);
  EXPECT_EQ(r.error, core::Errc::payload_too_large) << r.message;
  EXPECT_LT(peak, body.size()) << "peak " << peak << " bytes for a body of " << body.size();
  std::cout << "[ measured ] 16 MiB of numbers: peak " << peak / 1024 << " KiB live heap\n";
}

TEST(BatchParseMemory, HundredThousandRecordsTakeLessThanTwiceTheBodysSize) {
  std::string body = R"({"eventId":"ev-1","records":[)";
  for (int i = 0; i < 100'000; ++i) {
    if (i != 0) body += ',';
    body += fmt::format(
        R"({{"bleUuid":"a1b2c3d4-0000-4000-8000-{:012d}","checkInTime":{},"scannerId":"Entrance-Scanner-01"}})", i,
        1721471400000LL + i);
  }
  body += "]}";
  core::BatchParseResult r;
  const std::size_t peak = peakWhileParsing(body, r);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.batch.records.size(), 100'000U);
  // The records themselves (64 bytes each) and the vector's growth; the DOM took ~27x the body.
  EXPECT_LT(peak, 2 * body.size()) << "peak " << peak << " bytes for a body of " << body.size();
  std::cout << "[ measured ] 100,000 records (" << body.size() / 1024 << " KiB): peak " << peak / 1024
            << " KiB live heap\n";
}

// The streaming reader keeps the DOM reader's meaning of odd documents.
TEST(BatchParseMemory, DuplicateKeysNestedValuesAndTrailingDataReadAsADomWould) {
  const char* uuid = "a1b2c3d4-0000-4000-8000-000000000001";
  // A later duplicate key wins, in the envelope and in a record.
  auto r = core::parseBatchBody(fmt::format(
      R"({{"eventId":"old","records":[1,2],"eventId":"ev-1","records":[{{"bleUuid":5,"bleUuid":"{}","checkInTime":"x","checkInTime":7,"scannerId":"S"}}]}})",
      uuid));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.batch.eventId, "ev-1");
  EXPECT_EQ(r.batch.received, 1U);
  ASSERT_EQ(r.batch.records.size(), 1U);
  EXPECT_EQ(r.batch.records[0].checkInTimeMs, 7);
  // Nested containers as values, unknown members with deep values, arrays as records.
  r = core::parseBatchBody(fmt::format(
      R"({{"x":{{"records":[{{"a":[1,{{"b":2}}]}}]}},"eventId":"ev-1","records":[[1],{{"bleUuid":{{"v":"{}"}},"checkInTime":1,"scannerId":"S"}},{{"bleUuid":"{}","checkInTime":[1],"scannerId":"S"}},{{"bleUuid":"{}","checkInTime":1,"scannerId":{{}},"extra":{{"deep":[[[]]]}}}}]}})",
      uuid, uuid, uuid));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.batch.received, 4U);
  const std::vector<core::Rejection> expected{{0, "record must be an object"},
                                              {1, "bleUuid must be a string"},
                                              {2, "checkInTime must be an integer (epoch milliseconds)"},
                                              {3, "scannerId must be a string"}};
  EXPECT_EQ(r.batch.rejected, expected);
  // A records array replaced by a non-array; trailing data; an id longer than any slot keeps.
  EXPECT_NE(core::parseBatchBody(R"({"eventId":"e","records":[],"records":{}})").message.find("must be an array"),
            std::string::npos);
  EXPECT_NE(core::parseBatchBody(R"({"eventId":"e","records":[]} {})").message.find("malformed JSON"),
            std::string::npos);
  EXPECT_NE(core::parseBatchBody(R"({"eventId":")" + std::string(300, 'a') + R"(","records":[]})")
                .message.find("eventId must be 1-128"),
            std::string::npos);
  const auto longScanner = core::parseBatchBody(
      fmt::format(R"({{"eventId":"e","records":[{{"bleUuid":"{}","checkInTime":1,"scannerId":"{}"}}]}})", uuid,
                  std::string(5000, 's')));
  ASSERT_TRUE(longScanner.ok());
  ASSERT_EQ(longScanner.batch.rejected.size(), 1U);
  EXPECT_EQ(longScanner.batch.rejected[0].reason, "scannerId must be 1-128 characters");
}

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <attendance/core/batch.hpp>

// Properties of parseBatchBody on any input: no crash; on success every record
// is either accepted or rejected exactly once, indices are in range and sorted,
// and the answer renders; on failure there is a message.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace core = attendance::core;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  core::BatchLimits limits;
  limits.maxRecords = 1000;
  const auto r = core::parseBatchBody(body, limits);
  if (!r.ok()) {
    if (r.message.empty()) __builtin_trap();
    return 0;
  }
  const auto& b = r.batch;
  if (b.records.size() + b.rejected.size() != b.received) __builtin_trap();
  if (b.received > limits.maxRecords) __builtin_trap();
  std::size_t previous = 0;
  for (std::size_t i = 0; i < b.rejected.size(); ++i) {
    if (b.rejected[i].index >= b.received || b.rejected[i].reason.empty()) __builtin_trap();
    if (i != 0 && b.rejected[i].index <= previous) __builtin_trap();
    previous = b.rejected[i].index;
  }
  for (const auto& rec : b.records) {
    if (rec.index >= b.received || rec.scannerId.empty()) __builtin_trap();
  }
  core::IngestResult res;
  res.eventId = b.eventId;
  res.received = b.received;
  res.rejected = b.rejected;
  if (core::renderIngestResultJson(res).empty()) __builtin_trap();
  return 0;
}

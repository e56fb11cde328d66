// An outside project using the installed attendance libraries: dedup a sighting
// and write/read a log line the way the scanner and the sync do.
#include <chrono>
#include <cstdio>
#include <string>

#include <attendance/dedup_cache/dedup_cache.hpp>
#include <attendance/jsonl_log/check_in.hpp>
#include <attendance/support/clock.hpp>
#include <attendance/support/uuid.hpp>

int main() {
  namespace support = attendance::support;
  const auto id = support::Uuid::parse("A1B2C3D4-E5F6-4789-8ABC-DEF012345678");
  if (!id) return 1;

  support::SimulatedTimeSource clock;
  auto seen = attendance::dedup_cache::DedupCache::create(clock, {std::chrono::minutes{5}, 64}).value();
  if (!seen.admit(*id) || seen.admit(*id)) return 2;

  attendance::jsonl_log::CheckIn record;
  record.bleUuid = *id;
  record.checkInTime = 1721471400000;
  record.scannerId = "Entrance-Scanner-01";
  record.eventId = "ev-1";
  std::string line;
  attendance::jsonl_log::appendLine(line, record);
  const std::string expected = R"({"bleUuid":"a1b2c3d4-e5f6-4789-8abc-def012345678","checkInTime":1721471400000,)"
                               R"("scannerId":"Entrance-Scanner-01","eventId":"ev-1"})";
  if (line.rfind(expected, 0) != 0) return 3;
  const auto back = attendance::jsonl_log::parseLine(line);
  if (!back || back->scannerId != "Entrance-Scanner-01") return 4;

  std::puts("consumer ok");
  return 0;
}

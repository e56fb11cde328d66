// attendance::jsonl_log: the scanner's durable append-only log and the streaming reader the sync uses.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <attendance/jsonl_log/reader.hpp>
#include <attendance/jsonl_log/writer.hpp>
#include <attendance/support/uuid.hpp>

int main() {
  namespace log = attendance::jsonl_log;
  const auto dir = std::filesystem::temp_directory_path() / "attendance-example-jsonl_log";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto path = dir / "attendance_log.jsonl";  // the writer keeps its lock and durable mark beside it
  const std::int64_t now = 1721471400000;          // Unix ms, the unit of checkInTime

  {
    // Locks the file (one writer at a time) and recovers a torn last line from a crash.
    auto writer = log::Writer::open(path, {.fsync = log::FsyncPolicy::always}, now);
    if (!writer) {
      std::fprintf(stderr, "%s\n", writer.error().message.c_str());  // names the cause: which file, which PID
      return 1;
    }
    log::CheckIn record;
    record.bleUuid = *attendance::support::Uuid::parse("0f8fad5b-d9cb-469f-a165-70867728950e");
    record.checkInTime = now;
    record.scannerId = "Entrance-Scanner-01";
    record.eventId = "ev-1";
    if (!(*writer)->append(record)) return 2;  // with FsyncPolicy::always it is on disk when this returns
  }

  auto reader = log::Reader::open(path);
  if (!reader) return 3;
  log::LogLine line;
  int records = 0;
  while (true) {
    auto more = reader->next(line);
    if (!more) return 4;
    if (!*more) break;
    if (line.kind != log::LogLine::Kind::record) continue;  // bad lines are reported with their reason
    std::printf("line %llu: %s at %lld by %s\n", static_cast<unsigned long long>(line.lineNumber),
                line.record.bleUuid.toString().c_str(), static_cast<long long>(line.record.checkInTime),
                line.record.scannerId.c_str());
    ++records;
  }
  std::filesystem::remove_all(dir);
  return records == 1 ? 0 : 5;
}

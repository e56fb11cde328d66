// attendance::core: the schema, ingest, accounts and the report over PostgreSQL (libpqxx). The batch
// parser is pure and runs anywhere; the database part runs when DATABASE_URL names a migrated database.
#include <cstdio>
#include <cstdlib>

#include <attendance/core/batch.hpp>
#include <attendance/core/database.hpp>
#include <attendance/core/migrations.hpp>

int main() {
  namespace core = attendance::core;
  // What the backend does with a /batchCheckIn body before it touches the database: the whole-request
  // checks (a 400 or 413) and per-record rejections by index.
  const auto parsed = core::parseBatchBody(R"({"eventId":"ev-1","records":[
      {"bleUuid":"0f8fad5b-d9cb-469f-a165-70867728950e","checkInTime":1721471400000,"scannerId":"Entrance-Scanner-01"},
      {"bleUuid":"not-a-uuid","checkInTime":1721471400000,"scannerId":"Entrance-Scanner-01"}]})");
  if (!parsed.ok()) return 1;
  std::printf("event %s: %zu received, %zu accepted\n", parsed.batch.eventId.c_str(), parsed.batch.received,
              parsed.batch.records.size());
  for (const auto& r : parsed.batch.rejected) std::printf("record %zu rejected: %s\n", r.index, r.reason.c_str());

  if (std::getenv("DATABASE_URL") != nullptr) {
    core::ConnectionPool pool{core::DatabaseConfig::fromEnvironment()};
    const auto status = core::schemaStatus(pool);
    if (!status) {
      std::fprintf(stderr, "database: %s\n", status.error().message().c_str());
      return 2;
    }
    std::printf("schema version %d of %d\n", status->current, status->expected);
  }
  return parsed.batch.records.size() == 1 && parsed.batch.rejected.size() == 1 ? 0 : 3;
}

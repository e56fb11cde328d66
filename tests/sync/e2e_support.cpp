#include "sync/e2e_support.hpp"

#include <attendance/core/assignments.hpp>
#include <attendance/core/database.hpp>
#include <attendance/core/migrations.hpp>
#include <attendance/core/scanners.hpp>

#include <pqxx/pqxx>

#include <fstream>
#include <sstream>

namespace attendance::testing {

std::vector<std::string> TestDatabase::rows(const std::string& sql) const { return rowsOf(conninfo(), sql); }

std::vector<std::string> rowsOf(const std::string& conninfo, const std::string& sql) {
  pqxx::connection c{conninfo};
  pqxx::nontransaction tx{c};
  std::vector<std::string> out;
  for (const auto& row : tx.exec(sql)) {
    std::string line;
    for (const auto& field : row) {
      if (!line.empty()) line += '|';
      line += field.c_str();
    }
    out.push_back(std::move(line));
  }
  return out;
}

RunResult runToCompletion(std::vector<std::string> args, const std::filesystem::path& scratch) {
  const auto errFile = scratch / "child-stderr.txt";
  RunResult r;
  {
    Child c(std::move(args), {}, errFile);
    r.out = c.readAll();
    r.code = c.wait(std::chrono::seconds{120}).value_or(-1);
  }
  std::ifstream in(errFile);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  return r;
}

std::optional<std::string> prepareSyncEvent(const std::string& conninfo, const core::NewEvent& event,
                                            const std::string& scannerId) {
  const auto now = std::chrono::system_clock::now();
  core::ConnectionPool pool(core::DatabaseConfig{conninfo, 1});
  if (!core::migrate(pool)) return std::nullopt;
  const auto created = core::createEvent(pool, event, now);
  if (!created) return std::nullopt;
  auto scanner = core::createScanner(pool, scannerId, now);
  if (!scanner || !core::assignScanner(pool, scannerId, created->id, now)) return std::nullopt;
  return scanner->apiKey;
}

}  // namespace attendance::testing

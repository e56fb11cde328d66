#include "sync/e2e_support.hpp"

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

}  // namespace attendance::testing

#pragma once

// What the core benchmarks share (attendance-core-bench, attendance-private-ids-bench): the
// command line of positive numbers, a scratch database of their own, and the median.
#include <attendance/core/core.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>
#include <utility>
#include <vector>

namespace attendance::bench {

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// `--name N` (N > 0) into the named ints, `--name` alone into the named flags; false on anything else.
inline bool readOptions(int argc, char** argv, std::initializer_list<std::pair<std::string_view, int*>> numbers,
                        std::initializer_list<std::pair<std::string_view, bool*>> flags = {}) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto flag = std::find_if(flags.begin(), flags.end(), [&](const auto& f) { return f.first == a; });
    if (flag != flags.end()) {
      *flag->second = true;
      continue;
    }
    const auto number = std::find_if(numbers.begin(), numbers.end(), [&](const auto& n) { return n.first == a; });
    if (number == numbers.end() || i + 1 >= argc) return false;
    const int v = std::atoi(argv[++i]);
    if (v <= 0) return false;
    *number->second = v;
  }
  return true;
}

// A database of its own (`<prefix>_<pid>`) in the cluster of `adminConninfo`, migrated, with a
// one-connection pool; dropped (WITH (FORCE)) when it goes. The constructor throws when the
// database cannot be created or migrated.
class ScratchDatabase {
public:
  ScratchDatabase(const std::string& prefix, std::string adminConninfo)
      : admin_(std::move(adminConninfo)), name_(prefix + "_" + std::to_string(::getpid())) {
    {
      pqxx::connection admin{admin_};
      pqxx::nontransaction tx{admin};
      tx.exec("CREATE DATABASE " + tx.quote_name(name_));
    }
    config_.conninfo = "dbname=" + name_;
    config_.poolSize = 1;
    try {
      pool_.emplace(config_);
      if (!core::migrate(*pool_)) throw std::runtime_error("migrate failed");
    } catch (...) {
      drop();
      throw;
    }
  }
  ~ScratchDatabase() {
    pool_.reset();
    drop();
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const core::DatabaseConfig& config() const noexcept { return config_; }
  [[nodiscard]] core::ConnectionPool& pool() { return *pool_; }

private:
  void drop() noexcept {
    try {
      pqxx::connection admin{admin_};
      pqxx::nontransaction tx{admin};
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
    } catch (...) {
    }
  }

  std::string admin_;
  std::string name_;
  core::DatabaseConfig config_;
  std::optional<core::ConnectionPool> pool_;
};

}  // namespace attendance::bench

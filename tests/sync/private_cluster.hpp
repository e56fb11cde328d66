#pragma once

// A PostgreSQL cluster of one test's own, so the test can stop and start the
// server without disturbing the tests that share pg_virtualenv's cluster.
// initdb + pg_ctl from the newest /usr/lib/postgresql/N/bin, trust auth, a Unix
// socket in a private directory and no TCP port (nothing to collide with). As
// root the server runs as the postgres user, as PostgreSQL requires.
#include <filesystem>
#include <string>
#include <vector>

namespace attendance::testing {

class PrivateCluster {
public:
  PrivateCluster();   // initdb and start; throws with the tool's output on failure
  ~PrivateCluster();  // stop (immediate) and remove everything
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;

  // libpq connection string for `database` on this cluster.
  [[nodiscard]] std::string conninfo(const std::string& database = "postgres") const;
  void createDatabase(const std::string& name) const;

  // pg_ctl stop -m <mode> (smart, fast, immediate) and start, each waiting until done.
  void stop(const std::string& mode = "fast");
  void start();
  [[nodiscard]] bool running() const { return running_; }
  // The server's log (pg_ctl -l).
  [[nodiscard]] std::string serverLog() const;

private:
  void pgCtl(std::vector<std::string> args) const;

  std::filesystem::path dir_;
  std::filesystem::path bin_;
  bool running_ = false;
};

}  // namespace attendance::testing

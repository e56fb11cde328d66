#include "sync/private_cluster.hpp"

#include "support/child_process.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>
#include <vector>

namespace attendance::testing {
namespace {

std::filesystem::path newestServerBin() {
  std::vector<std::filesystem::path> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    if (std::filesystem::exists(e.path() / "bin" / "pg_ctl")) found.push_back(e.path() / "bin");
  }
  if (found.empty()) throw std::runtime_error("no PostgreSQL server under /usr/lib/postgresql");
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::stoi(a.parent_path().filename().string()) < std::stoi(b.parent_path().filename().string());
  });
  return found.back();
}

// PostgreSQL refuses to run as root: as root, the tools run as postgres.
std::vector<std::string> asServerUser(std::vector<std::string> args) {
  if (::geteuid() != 0) return args;
  args.insert(args.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  return args;
}

void run(std::vector<std::string> args, const std::filesystem::path& logFile) {
  const std::string what = args.size() > 4 ? args[4] : args[0];
  ChildProcess child(asServerUser(std::move(args)), {}, logFile);
  (void)child.readAll();
  const auto code = child.wait(std::chrono::seconds{90});
  if (code != 0) {
    std::ifstream in(logFile);
    std::stringstream ss;
    ss << in.rdbuf();
    throw std::runtime_error(what + " failed (" + (code ? std::to_string(*code) : "timeout") + "): " + ss.str());
  }
}

}  // namespace

PrivateCluster::PrivateCluster() : bin_(newestServerBin()) {
  std::string pattern = (std::filesystem::temp_directory_path() / "attendance-pg-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  if (::geteuid() == 0) {
    const std::string chown = "chown postgres: " + dir_.string();
    if (std::system(chown.c_str()) != 0) throw std::runtime_error("cannot hand " + dir_.string() + " to postgres");
  }
  run({(bin_ / "initdb").string(), "-D", (dir_ / "data").string(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
       "--no-sync", "--no-instructions"},
      dir_ / "initdb.txt");
  start();
}

PrivateCluster::~PrivateCluster() {
  try {
    if (running_) stop("immediate");
  } catch (...) {  // removing the directory below is all that is left to do
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void PrivateCluster::pgCtl(std::vector<std::string> args) const {
  args.insert(args.begin(), {(bin_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-w", "-t", "60"});
  run(std::move(args), dir_ / "pg_ctl.txt");
}

void PrivateCluster::start() {
  // Only a Unix socket: no port to pick, nothing to collide with the shared cluster.
  pgCtl({"-l", (dir_ / "server.log").string(), "-o",
         "-p 5432 -k " + dir_.string() + " -c listen_addresses='' -c fsync=off -c max_connections=40", "start"});
  running_ = true;
}

void PrivateCluster::stop(const std::string& mode) {
  pgCtl({"-m", mode, "stop"});
  running_ = false;
}

std::string PrivateCluster::conninfo(const std::string& database) const {
  return "host=" + dir_.string() + " port=5432 user=postgres dbname=" + database;
}

void PrivateCluster::createDatabase(const std::string& name) const {
  pqxx::connection c{conninfo()};
  pqxx::nontransaction tx{c};
  tx.exec("CREATE DATABASE " + tx.quote_name(name));
}

std::string PrivateCluster::serverLog() const {
  std::ifstream in(dir_ / "server.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace attendance::testing

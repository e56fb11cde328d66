// Seeds a benchmark database through core (DATABASE_URL or PG*):
// events, one scanner (or, with --scanners N, N scanners SCANNER_ID-001 ...),
// each assigned to every event, and USERS users registered for every event. Prints
// {"apiKey":"...","apiKeys":[...],"scannerIds":[...],"bleUuids":["...",...]} on
// stdout for the load drivers (apiKey is the first scanner's).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <attendance/core/core.hpp>

namespace core = attendance::core;

int main(int argc, char** argv) {
  int scannerCount = 1;
  if (argc >= 3 && std::string{argv[1]} == "--scanners") {
    scannerCount = std::atoi(argv[2]);
    argv += 2;
    argc -= 2;
  }
  if (argc < 4 || scannerCount < 1) {
    std::cerr << "usage: attendance-backend-bench-seed [--scanners N] SCANNER_ID USERS EVENT_ID...\n";
    return 2;
  }
  const std::string scannerPrefix = argv[1];
  const int users = std::atoi(argv[2]);
  core::ConnectionPool pool{core::DatabaseConfig::fromEnvironment()};
  const auto now = std::chrono::system_clock::now();
  std::vector<std::string> events;
  for (int i = 3; i < argc; ++i) {
    core::NewEvent ev;
    ev.id = std::string{argv[i]};
    ev.name = "Benchmark " + *ev.id;
    if (auto r = core::createEvent(pool, ev, now); !r) {
      std::cerr << "createEvent: " << r.error().message() << "\n";
      return 1;
    }
    events.push_back(*ev.id);
  }
  std::vector<std::string> scannerIds;
  std::vector<std::string> keys;
  for (int s = 1; s <= scannerCount; ++s) {
    const std::string scannerId = scannerCount == 1 ? scannerPrefix : fmt::format("{}-{:03}", scannerPrefix, s);
    auto scanner = core::createScanner(pool, scannerId, now);
    if (!scanner) {
      std::cerr << "createScanner: " << scanner.error().message() << "\n";
      return 1;
    }
    for (const auto& eventId : events) {
      if (auto r = core::assignScanner(pool, scannerId, eventId, now); !r) {
        std::cerr << "assignScanner: " << r.error().message() << "\n";
        return 1;
      }
    }
    scannerIds.push_back(scannerId);
    keys.push_back(scanner->apiKey);
  }
  const auto auth = core::AuthConfig::forTests();
  // Keys, scanner ids and event ids are of the base64url / id alphabets: no JSON escaping needed.
  std::string out = fmt::format(R"({{"apiKey":"{}","apiKeys":["{}"],"scannerIds":["{}"],"bleUuids":[)", keys.front(),
                                fmt::join(keys, R"(",")"), fmt::join(scannerIds, R"(",")"));
  for (int i = 0; i < users; ++i) {
    auto u = core::createUser(
        pool, core::NewUser{fmt::format("user{}@bench.example", i), fmt::format("User {}", i), std::nullopt}, auth,
        now);
    if (!u) {
      std::cerr << "createUser: " << u.error().message() << "\n";
      return 1;
    }
    for (const auto& e : events) {
      if (auto r = core::registerForEvent(pool, e, u->id, now); !r) {
        std::cerr << "registerForEvent: " << r.error().message() << "\n";
        return 1;
      }
    }
    out += fmt::format("{}\"{}\"", i == 0 ? "" : ",", u->bleUuid.toString());
  }
  out += "]}";
  std::cout << out << std::endl;
  return 0;
}

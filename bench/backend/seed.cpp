// Seeds a benchmark database through attendance_core (DATABASE_URL or PG*):
// events, one scanner and N registered users. Prints
// {"apiKey":"...","bleUuids":["...",...]} on stdout for the load driver.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <attendance/attendance_core/core.hpp>

namespace core = attendance::core;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: attendance-backend-bench-seed SCANNER_ID USERS EVENT_ID...\n";
    return 2;
  }
  const std::string scannerId = argv[1];
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
  const auto auth = core::AuthConfig::forTests();
  std::string out = fmt::format(R"({{"apiKey":"{}","bleUuids":[)", scanner->apiKey);
  for (int i = 0; i < users; ++i) {
    auto u = core::createUser(pool, core::NewUser{fmt::format("user{}@bench.example", i), fmt::format("User {}", i),
                                                  std::nullopt},
                              auth, now);
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

#pragma once
// Issue 9 §3 "Load": N scanners upload M distinct records each into one event,
// in batches of the sync's size with the sync's retry rules, while R readers poll
// the admin console's report; then every record must be in the database once.

#include <cstdint>
#include <string>

namespace attendance::bench {

struct LoadOptions {
  std::uint16_t backendPort = 0;
  std::uint16_t adminPort = 0;
  int backendPid = 0;  // for its peak RSS and CPU time (0: not measured)
  int adminPid = 0;
  std::string seedFile;  // attendance-backend-bench-seed's output
  std::string eventId;
  std::string adminEmail;
  std::string adminPasswordFile;
  std::string databaseUrl;  // for the final check; empty = the libpq PG* variables
  int scanners = 200;
  int records = 2000;    // per scanner
  int batchSize = 5000;  // attendance-sync's default --batch-size
  int readers = 20;
  bool oneAddress = false;  // every scanner from 127.0.0.1 (one venue behind NAT) instead of one address each
  int readerPauseMs = 250;  // between one reader's requests
  int unknownDevices = 100;
  int timeoutSeconds = 600;  // the whole run, setup and checks included
  int requestTimeoutSeconds = 60;
  std::string jsonOut;  // one JSON object with every figure, for load.sh
};

// Prints the figures and the checks; returns 0 when every check passed.
int runLoad(const LoadOptions& options);

}  // namespace attendance::bench

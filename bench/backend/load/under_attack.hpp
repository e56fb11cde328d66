#pragma once
// Issue 9 §3: a normal client's latency while each attack of §1 runs. For every
// attack, rounds alternate without and with it (A B A B ...); in each round a
// scanner posts small batches and an organizer reads the report page, both at a
// steady pace, and every answer's latency is kept with the round it began in.

#include <cstdint>
#include <string>

namespace attendance::bench {

struct UnderAttackOptions {
  std::uint16_t backendPort = 0;
  std::uint16_t adminPort = 0;
  int backendPid = 0;
  int adminPid = 0;
  std::string seedFile;
  std::string eventId;
  std::string adminEmail;
  std::string adminPasswordFile;
  int pairs = 2;  // A B rounds per attack
  int roundSeconds = 8;
  int rampSeconds = 1;    // an attack runs this long before its round is measured
  int settleSeconds = 2;  // after an attack stops, before the next round
  int batchRecords = 20;  // the normal scanner's batch
  int intervalMs = 125;   // between the starts of its requests (8/s, under the key's 10/s)
  std::string only;       // comma-separated attack names; empty = all
  int requestTimeoutSeconds = 30;
  std::string jsonOut;
};

int runUnderAttack(const UnderAttackOptions& options);

}  // namespace attendance::bench

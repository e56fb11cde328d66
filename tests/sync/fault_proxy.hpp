#pragma once

// A loopback HTTP fault proxy for end-to-end tests: sits between attendance-sync
// and attendance-backend and, per request number, forwards faithfully or injects
// a fault:
//   dropMidBody       forwards the header and half of the body, then cuts both
//                     connections (the backend must not commit a torn body)
//   dropAfterCommit   forwards the whole request, lets the backend answer (so it
//                     committed), then closes the client's connection unanswered
//   unavailable       answers 503 with Retry-After: 1 itself
//   stall             says nothing for `stallFor`, then closes
//   flipDigit         changes the last digit of the first record's checkInTime
//                     (+1 mod 10) and forwards: still valid JSON, another record
//   flipBit           flips the top bit of the body's middle byte and forwards:
//                     no longer valid JSON (nor UTF-8)
//   duplicate         forwards the request, then the same request again, and
//                     answers with the second answer
//   duplicateAtOnce   forwards the request twice at the same moment on two
//                     connections and answers with the first answer to arrive
// Headers other than Authorization, Content-Type and Content-Digest are not forwarded.
#include "batch_client/test_server.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace attendance::testing {

enum class Fault {
  none,
  dropMidBody,
  dropAfterCommit,
  unavailable,
  stall,
  flipDigit,
  flipBit,
  duplicate,
  duplicateAtOnce
};

class FaultProxy {
public:
  // `plan(n)` gives the fault for the n-th request (1-based).
  FaultProxy(std::uint16_t backendPort, std::function<Fault(std::size_t)> plan,
             std::chrono::milliseconds stallFor = std::chrono::milliseconds{3000},
             std::chrono::milliseconds latency = std::chrono::milliseconds{0});
  ~FaultProxy();

  [[nodiscard]] std::string url() const;
  [[nodiscard]] std::size_t requests() const;
  [[nodiscard]] std::size_t faultsInjected() const;
  // Every status the backend answered the proxy with, in order (0: no answer).
  [[nodiscard]] std::vector<unsigned> backendStatuses() const;
  // The bodies of the backend's answers that were not 200, in order.
  [[nodiscard]] std::vector<std::string> backendErrors() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attendance::testing

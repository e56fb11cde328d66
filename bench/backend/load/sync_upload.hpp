#pragma once
// POST /batchCheckIn with attendance-sync's retry rules: the same retryable
// statuses, full-jitter backoff and Retry-After (batch_client's pure helpers),
// with every attempt's answer and latency recorded.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include <attendance/batch_client/retry.hpp>

#include "connection.hpp"
#include "samples.hpp"

namespace attendance::bench {

// Shared by all the uploads of one run (one io_context thread: no locking).
struct UploadStats {
  Samples answered200;                // latency of each attempt answered 200
  Samples sent200;                    // of those, the part until the request was handed to the kernel
  Samples backpressure;               // latency of each attempt answered 429 or 503
  Samples batches;                    // from the first attempt to the 200, retries and waits included
  std::map<unsigned, long> answers;   // status -> attempts so answered
  long networkErrors = 0;             // attempts with no answer (reset, timeout, refused)
  long reconnects = 0;                // kept-alive connections the server had closed (resent at once)
  long gaveUp = 0;                    // batches still failing after the policy's attempts
  std::vector<std::string> problems;  // the first few unexpected answers, for the report

  void problem(std::string what) {
    if (problems.size() < 20) problems.push_back(std::move(what));
  }
  // Every answer 200, 429 or 503, and no attempt without an answer.
  [[nodiscard]] bool onlyBackpressure() const;
  void merge(const UploadStats& other);
};

struct BatchAck {
  std::int64_t received = 0;
  std::int64_t inserted = 0;
  std::int64_t duplicates = 0;
  std::int64_t rejected = 0;
};

// Sends one batch until it is acknowledged (200) or the sync would give up:
// a status it does not retry (401, 403, other 4xx) or `policy.maxAttempts` spent.
asio::awaitable<std::optional<BatchAck>> uploadBatch(Connection& c, const Request& request,
                                                     const batch_client::RetryPolicy& policy,
                                                     std::chrono::milliseconds timeout, std::mt19937& random,
                                                     UploadStats& stats);

}  // namespace attendance::bench

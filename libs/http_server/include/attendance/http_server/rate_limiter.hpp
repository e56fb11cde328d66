#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <attendance/support/clock.hpp>

namespace attendance::http_server {

// Token bucket per key (e.g. per API key): `ratePerSecond` sustained, bursts up
// to `burst`. Time comes from an injected TimeSource so tests drive it. The number
// of tracked keys is bounded: full buckets are forgotten first.
class RateLimiter {
public:
  RateLimiter(const support::TimeSource& clock, double ratePerSecond, double burst, std::size_t maxKeys = 10'000);

  // nullopt: allowed (a token was taken). Otherwise the whole seconds to wait
  // before a token is available (>= 1), for Retry-After.
  [[nodiscard]] std::optional<std::chrono::seconds> acquire(std::string_view key, double cost = 1.0);

  [[nodiscard]] bool enabled() const { return rate_ > 0; }

private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  void refill(Bucket& b, std::chrono::steady_clock::time_point now) const;
  void evict(std::chrono::steady_clock::time_point now);

  const support::TimeSource& clock_;
  double rate_;
  double burst_;
  std::size_t maxKeys_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace attendance::http_server

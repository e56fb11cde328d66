#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

// Pure retry logic, separate from I/O so it is tested without sockets or sleeping.
namespace attendance::batch_client {

struct RetryPolicy {
  // Total attempts including the first one.
  unsigned maxAttempts = 8;
  // Backoff before retry n (n = 1, 2, ...) is uniform in [0, min(cap, base * 2^(n-1))]
  // ("full jitter"), so many scanners retrying after an outage do not stampede together.
  std::chrono::milliseconds baseDelay{250};
  std::chrono::milliseconds maxDelay{30'000};
  // A server asking for a longer Retry-After than this is not waited for: the
  // operation fails (safe to run again later) instead of hanging the operator.
  std::chrono::milliseconds maxRetryAfter{120'000};
};

// HTTP statuses worth another attempt: overload and transient upstream failures.
// Every other 4xx is final: the same request would get the same answer.
[[nodiscard]] constexpr bool isRetryableStatus(unsigned status) noexcept {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// Full-jitter delay before retry number `retry` (1-based). `unitRandom` in [0, 1).
[[nodiscard]] std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, unsigned retry,
                                                     double unitRandom) noexcept;

// Parses a Retry-After header value: delta-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime forms).
// Returns the delay relative to `now` (0 for dates in the past), nullopt if unparseable.
[[nodiscard]] std::optional<std::chrono::milliseconds> parseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) noexcept;

// Parses an HTTP-date into a time point; nullopt if malformed.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> parseHttpDate(std::string_view text) noexcept;

}  // namespace attendance::batch_client

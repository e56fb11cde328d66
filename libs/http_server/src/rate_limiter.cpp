#include <attendance/http_server/rate_limiter.hpp>

#include <algorithm>
#include <cmath>

namespace attendance::http_server {

RateLimiter::RateLimiter(const support::TimeSource& clock, double ratePerSecond, double burst, std::size_t maxKeys)
    : clock_(clock), rate_(ratePerSecond), burst_(std::max(burst, 1.0)), maxKeys_(std::max<std::size_t>(maxKeys, 1)) {}

void RateLimiter::refill(Bucket& b, std::chrono::steady_clock::time_point now) const {
  if (now <= b.last) return;
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.last = now;
}

void RateLimiter::evict(std::chrono::steady_clock::time_point now) {
  // Full buckets carry no state worth keeping; drop them, then anything if still full.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now);
    it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() >= maxKeys_) buckets_.erase(buckets_.begin());
}

std::optional<std::chrono::seconds> RateLimiter::acquire(std::string_view key, double cost) {
  if (!enabled()) return std::nullopt;
  const auto now = clock_.monotonicTime();
  std::lock_guard lock{mutex_};
  auto it = buckets_.find(std::string{key});
  if (it == buckets_.end()) {
    if (buckets_.size() >= maxKeys_) evict(now);
    it = buckets_.emplace(std::string{key}, Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  refill(b, now);
  if (b.tokens >= cost) {
    b.tokens -= cost;
    return std::nullopt;
  }
  const double wait = (cost - b.tokens) / rate_;
  return std::chrono::seconds{std::max<long long>(1, static_cast<long long>(std::ceil(wait)))};
}

}  // namespace attendance::http_server

#pragma once
// Latency samples and their percentiles (nearest rank), in milliseconds.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace attendance::bench {

class Samples {
public:
  void add(std::chrono::steady_clock::duration d) {
    ms_.push_back(std::chrono::duration<double, std::milli>(d).count());
    sorted_ = false;
  }
  void addMs(double ms) {
    ms_.push_back(ms);
    sorted_ = false;
  }
  void merge(const Samples& other) {
    ms_.insert(ms_.end(), other.ms_.begin(), other.ms_.end());
    sorted_ = false;
  }
  [[nodiscard]] std::size_t count() const { return ms_.size(); }
  [[nodiscard]] bool empty() const { return ms_.empty(); }
  // Nearest-rank percentile, q in [0, 1]; NaN when there are no samples.
  [[nodiscard]] double quantile(double q) const {
    if (ms_.empty()) return std::nan("");
    sort();
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ms_.size())));
    return ms_[std::clamp<std::size_t>(rank, 1, ms_.size()) - 1];
  }
  [[nodiscard]] double p50() const { return quantile(0.50); }
  [[nodiscard]] double p99() const { return quantile(0.99); }
  [[nodiscard]] double max() const { return quantile(1.0); }
  // "p50 12.3 ms, p99 45.6 ms, max 78.9 ms (n=200)"
  [[nodiscard]] std::string summary() const {
    if (ms_.empty()) return "no samples";
    return fmt::format("p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms (n={})", p50(), p99(), max(), count());
  }

private:
  void sort() const {
    if (!sorted_) std::sort(ms_.begin(), ms_.end());
    sorted_ = true;
  }
  mutable std::vector<double> ms_;
  mutable bool sorted_ = true;
};

// The median of a few figures (one per run or round); NaN when empty.
inline double median(std::vector<double> xs) {
  if (xs.empty()) return std::nan("");
  std::sort(xs.begin(), xs.end());
  const std::size_t n = xs.size();
  return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

}  // namespace attendance::bench

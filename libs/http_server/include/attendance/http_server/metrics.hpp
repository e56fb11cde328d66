#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attendance::http_server {

using Labels = std::vector<std::pair<std::string, std::string>>;

// A small Prometheus registry: counters, gauges and histograms with labels,
// rendered in the text exposition format 0.0.4. Thread-safe; one mutex is plenty
// at HTTP request rates.
class MetricsRegistry {
public:
  MetricsRegistry();

  void describeCounter(std::string name, std::string help);
  void describeGauge(std::string name, std::string help);
  void describeHistogram(std::string name, std::string help, std::vector<double> upperBounds);

  void increment(std::string_view name, const Labels& labels = {}, double by = 1.0);
  void setGauge(std::string_view name, const Labels& labels, double value);
  void addGauge(std::string_view name, const Labels& labels, double delta);
  void observe(std::string_view name, const Labels& labels, double value);

  // Current value of a counter or gauge series (0 if absent); for tests and readiness.
  [[nodiscard]] double value(std::string_view name, const Labels& labels = {}) const;

  [[nodiscard]] std::string renderPrometheus() const;

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

private:
  enum class Kind { counter, gauge, histogram };
  struct Histogram {
    std::vector<std::uint64_t> buckets;  // non-cumulative counts per bound, +Inf last
    double sum = 0;
    std::uint64_t count = 0;
  };
  struct Family {
    Kind kind = Kind::counter;
    std::string help;
    std::vector<double> bounds;
    std::map<std::string, double> values;         // rendered label set -> value
    std::map<std::string, Histogram> histograms;  // rendered label set -> histogram
  };

  Family& family(std::string_view name, Kind kind);

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
};

// Escapes a label value per the exposition format (\\, \", \n).
[[nodiscard]] std::string renderLabels(const Labels& labels);

}  // namespace attendance::http_server

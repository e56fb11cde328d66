#include <attendance/http_server/metrics.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace attendance::http_server {
namespace {

std::string formatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

std::string withLabel(const std::string& rendered, std::string_view key, std::string_view value) {
  // rendered is "" or "{a=\"b\"}"; add one more label.
  std::string extra = fmt::format("{}=\"{}\"", key, value);
  if (rendered.empty()) return "{" + extra + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

}  // namespace

std::string renderLabels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    for (char c : v) {
      switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        default: out += c;
      }
    }
    out += '"';
  }
  out += '}';
  return out;
}

MetricsRegistry::MetricsRegistry() = default;

MetricsRegistry::Family& MetricsRegistry::family(std::string_view name, Kind kind) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string{name}, Family{}).first;
    it->second.kind = kind;
    if (kind == Kind::histogram) it->second.bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  }
  if (it->second.kind != kind) throw std::logic_error("metric '" + std::string{name} + "' used with another type");
  return it->second;
}

void MetricsRegistry::describeCounter(std::string name, std::string help) {
  std::lock_guard lock{mutex_};
  family(name, Kind::counter).help = std::move(help);
}

void MetricsRegistry::describeGauge(std::string name, std::string help) {
  std::lock_guard lock{mutex_};
  family(name, Kind::gauge).help = std::move(help);
}

void MetricsRegistry::describeHistogram(std::string name, std::string help, std::vector<double> upperBounds) {
  std::sort(upperBounds.begin(), upperBounds.end());
  std::lock_guard lock{mutex_};
  Family& f = family(name, Kind::histogram);
  f.help = std::move(help);
  if (!upperBounds.empty()) f.bounds = std::move(upperBounds);
}

void MetricsRegistry::increment(std::string_view name, const Labels& labels, double by) {
  const std::string key = renderLabels(labels);
  std::lock_guard lock{mutex_};
  family(name, Kind::counter).values[key] += by;
}

void MetricsRegistry::setGauge(std::string_view name, const Labels& labels, double v) {
  const std::string key = renderLabels(labels);
  std::lock_guard lock{mutex_};
  family(name, Kind::gauge).values[key] = v;
}

void MetricsRegistry::addGauge(std::string_view name, const Labels& labels, double delta) {
  const std::string key = renderLabels(labels);
  std::lock_guard lock{mutex_};
  family(name, Kind::gauge).values[key] += delta;
}

void MetricsRegistry::observe(std::string_view name, const Labels& labels, double v) {
  const std::string key = renderLabels(labels);
  std::lock_guard lock{mutex_};
  Family& f = family(name, Kind::histogram);
  Histogram& h = f.histograms[key];
  if (h.buckets.empty()) h.buckets.assign(f.bounds.size() + 1, 0);
  const auto idx = static_cast<std::size_t>(std::lower_bound(f.bounds.begin(), f.bounds.end(), v) - f.bounds.begin());
  ++h.buckets[idx];
  h.sum += v;
  ++h.count;
}

double MetricsRegistry::value(std::string_view name, const Labels& labels) const {
  const std::string key = renderLabels(labels);
  std::lock_guard lock{mutex_};
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto v = it->second.values.find(key);
  return v == it->second.values.end() ? 0 : v->second;
}

std::string MetricsRegistry::renderPrometheus() const {
  std::lock_guard lock{mutex_};
  std::string out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out += fmt::format("# HELP {} {}\n", name, f.help);
    const char* type = f.kind == Kind::counter ? "counter" : f.kind == Kind::gauge ? "gauge" : "histogram";
    out += fmt::format("# TYPE {} {}\n", name, type);
    if (f.kind != Kind::histogram) {
      for (const auto& [labels, v] : f.values) out += fmt::format("{}{} {}\n", name, labels, formatValue(v));
      continue;
    }
    for (const auto& [labels, h] : f.histograms) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < h.buckets.size(); ++i) {
        cumulative += h.buckets[i];
        const std::string le = i < f.bounds.size() ? formatValue(f.bounds[i]) : "+Inf";
        out += fmt::format("{}_bucket{} {}\n", name, withLabel(labels, "le", le), cumulative);
      }
      out += fmt::format("{}_sum{} {}\n", name, labels, formatValue(h.sum));
      out += fmt::format("{}_count{} {}\n", name, labels, h.count);
    }
  }
  return out;
}

}  // namespace attendance::http_server

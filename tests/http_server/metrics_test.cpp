#include <gtest/gtest.h>

#include <attendance/http_server/metrics.hpp>

namespace hs = attendance::http_server;

TEST(Metrics, CountersRenderInPrometheusTextFormat) {
  hs::MetricsRegistry m;
  m.describeCounter("records_ingested_total", "Records stored");
  m.increment("records_ingested_total", {}, 5);
  m.increment("records_ingested_total", {}, 2);
  m.increment("http_requests_total", {{"route", "/a"}, {"status", "200"}});
  m.increment("http_requests_total", {{"route", "/a"}, {"status", "200"}});
  m.increment("http_requests_total", {{"route", "/a\"b\\\n"}, {"status", "404"}});
  const std::string text = m.renderPrometheus();
  EXPECT_NE(text.find("# HELP records_ingested_total Records stored\n# TYPE records_ingested_total counter\n"
                      "records_ingested_total 7\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("http_requests_total{route=\"/a\",status=\"200\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_requests_total{route=\"/a\\\"b\\\\\\n\",status=\"404\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(m.value("records_ingested_total"), 7);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  hs::MetricsRegistry m;
  m.describeHistogram("latency_seconds", "Latency", {0.1, 1});
  m.observe("latency_seconds", {{"route", "/x"}}, 0.05);
  m.observe("latency_seconds", {{"route", "/x"}}, 0.5);
  m.observe("latency_seconds", {{"route", "/x"}}, 3);
  const std::string text = m.renderPrometheus();
  EXPECT_NE(text.find("# TYPE latency_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_sum{route=\"/x\"} 3.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_count{route=\"/x\"} 3\n"), std::string::npos) << text;
}

TEST(Metrics, GaugesGoUpAndDown) {
  hs::MetricsRegistry m;
  m.addGauge("open", {}, 2);
  m.addGauge("open", {}, -1);
  EXPECT_EQ(m.value("open"), 1);
  EXPECT_NE(m.renderPrometheus().find("# TYPE open gauge\nopen 1\n"), std::string::npos);
}

TEST(Metrics, UsingOneNameAsTwoTypesIsAnError) {
  hs::MetricsRegistry m;
  m.increment("x");
  EXPECT_THROW(m.observe("x", {}, 1), std::logic_error);
}

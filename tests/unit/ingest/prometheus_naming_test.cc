#include "ingest/prometheus_naming.h"

#include <cmath>

#include "gtest/gtest.h"

namespace otelbox::ingest {
namespace {

struct NameCase {
  const char* otel;
  const char* unit;
  NameKind kind;
  const char* want;
};

// contracts/otlp-to-prometheus.md §A3, all rows of the table.
TEST(PrometheusNaming, ContractNameTable) {
  const NameCase cases[] = {
      {"http.server.request.duration", "s", NameKind::kOther,
       "http_server_request_duration_seconds"},
      {"http.server.active_requests", "{request}", NameKind::kOther,
       "http_server_active_requests"},
      {"system.cpu.time", "s", NameKind::kCounter, "system_cpu_time_seconds_total"},
      {"system.memory.usage", "By", NameKind::kOther, "system_memory_usage_bytes"},
      {"system.cpu.utilization", "1", NameKind::kGauge, "system_cpu_utilization_ratio"},
      {"requests", "1", NameKind::kCounter, "requests_total"},
      {"network.io", "By", NameKind::kCounter, "network_io_bytes_total"},
      {"disk.throughput", "By/s", NameKind::kGauge, "disk_throughput_bytes_per_second"},
      {"queue.latency", "ms", NameKind::kOther, "queue_latency_milliseconds"},
      {"requests_total", "", NameKind::kCounter, "requests_total"},
      {"9lives", "", NameKind::kGauge, "_9lives"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(BuildMetricName(c.otel, c.unit, c.kind), c.want) << c.otel << " " << c.unit;
  }
}

TEST(PrometheusNaming, MoreNames) {
  EXPECT_EQ(BuildMetricName("foo..bar__baz", "", NameKind::kGauge), "foo_bar_baz");
  EXPECT_EQ(BuildMetricName("_leading.trailing_", "", NameKind::kGauge), "leading_trailing");
  EXPECT_EQ(BuildMetricName("a:b", "", NameKind::kGauge), "a:b");
  EXPECT_EQ(BuildMetricName("latency_seconds", "s", NameKind::kOther), "latency_seconds");
  EXPECT_EQ(BuildMetricName("total.requests", "", NameKind::kCounter), "requests_total");
  EXPECT_EQ(BuildMetricName("ratio.x", "1", NameKind::kGauge), "x_ratio");
  EXPECT_EQ(BuildMetricName("util", "1", NameKind::kOther), "util");  // _ratio only for gauges
  EXPECT_EQ(BuildMetricName("temp", "Cel", NameKind::kGauge), "temp_celsius");
  EXPECT_EQ(BuildMetricName("x", "%", NameKind::kGauge), "x_percent");
  EXPECT_EQ(BuildMetricName("x", "foo bar", NameKind::kGauge), "x_foo_bar");
  EXPECT_EQ(BuildMetricName("rate", "1/s", NameKind::kGauge), "rate_per_second");
  EXPECT_EQ(BuildMetricName("x", "{packets}/s", NameKind::kGauge), "x_per_second");
  EXPECT_EQ(BuildMetricName("x", " ms / mo ", NameKind::kGauge), "x_milliseconds_per_month");
  EXPECT_EQ(BuildMetricName("...", "", NameKind::kGauge), "");
}

TEST(PrometheusNaming, UnitNames) {
  EXPECT_EQ(BuildUnitName("s"), "seconds");
  EXPECT_EQ(BuildUnitName("By/s"), "bytes_per_second");
  EXPECT_EQ(BuildUnitName("{request}"), "");
  EXPECT_EQ(BuildUnitName("1"), "");
  EXPECT_EQ(BuildUnitName(""), "");
  EXPECT_EQ(BuildUnitName("1/h"), "per_hour");
}

TEST(PrometheusNaming, LabelNames) {
  EXPECT_EQ(SanitizeLabelName("http.request.method"), "http_request_method");
  EXPECT_EQ(SanitizeLabelName("a..b"), "a_b");
  EXPECT_EQ(SanitizeLabelName("a__b"), "a_b");
  EXPECT_EQ(SanitizeLabelName("123x"), "key_123x");
  EXPECT_EQ(SanitizeLabelName("_x"), "_x");
  EXPECT_EQ(SanitizeLabelName("__meta__"), "__meta__");
  EXPECT_EQ(SanitizeLabelName("a:b"), "a_b");
  EXPECT_EQ(SanitizeLabelName("ünï"), "_n_");
  EXPECT_EQ(SanitizeLabelName(""), "");
  EXPECT_EQ(SanitizeLabelName("..."), "");
  EXPECT_EQ(SanitizeLabelName("___"), "");
}

TEST(PrometheusNaming, FloatFormats) {
  EXPECT_EQ(FormatPromFloat(0.005), "0.005");
  EXPECT_EQ(FormatPromFloat(0.5), "0.5");
  EXPECT_EQ(FormatPromFloat(1), "1");
  EXPECT_EQ(FormatPromFloat(10), "10");
  EXPECT_EQ(FormatPromFloat(250), "250");
  EXPECT_EQ(FormatPromFloat(1e21), "1000000000000000000000");
  EXPECT_EQ(FormatPromFloat(-2.5), "-2.5");
  EXPECT_EQ(FormatPromFloat(INFINITY), "+Inf");
  EXPECT_EQ(FormatPromFloat(-INFINITY), "-Inf");
  EXPECT_EQ(FormatAttributeDouble(0.5), "0.5");
  EXPECT_EQ(FormatAttributeDouble(1e-7), "1e-07");
  EXPECT_EQ(FormatAttributeDouble(3), "3");
  EXPECT_EQ(FormatAttributeDouble(123456.789), "123456.789");
  EXPECT_EQ(FormatAttributeDouble(1e21), "1e+21");
}

}  // namespace
}  // namespace otelbox::ingest

// Native histograms end to end: remote_write histograms and OTLP exponential histograms in,
// PromQL histogram functions and the raw histogram JSON out, through a kill -9 restart.

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <set>

#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"
#include "tests/integration/test_payloads.h"

namespace otelbox::testing {
namespace {

namespace pbm = opentelemetry::proto::metrics::v1;

// An integer native histogram, schema 0: zero bucket `zero`, buckets (0.5,1], (1,2], (2,4]
// with counts `b` (sent as deltas, as Prometheus does for integer histograms).
void AddHistogram(prometheus::TimeSeries* ts, int64_t t_ms, uint64_t zero, std::vector<int64_t> b,
                  double sum) {
  auto* h = ts->add_histograms();
  uint64_t count = zero;
  for (int64_t c : b) count += c;
  h->set_count_int(count);
  h->set_sum(sum);
  h->set_schema(0);
  h->set_zero_threshold(1e-128);
  h->set_zero_count_int(zero);
  auto* span = h->add_positive_spans();
  span->set_offset(0);
  span->set_length(b.size());
  int64_t prev = 0;
  for (int64_t c : b) {
    h->add_positive_deltas(c - prev);
    prev = c;
  }
  h->set_timestamp(t_ms);
}

prometheus::WriteRequest HistogramRequest(int64_t t0) {
  prometheus::WriteRequest req;
  auto* ts = req.add_timeseries();
  for (auto [n, v] : LabelPairs{{"__name__", "rpc_latency_seconds"}, {"job", "rw"}}) {
    auto* l = ts->add_labels();
    l->set_name(n);
    l->set_value(v);
  }
  AddHistogram(ts, t0, 2, {3, 2, 5}, 15.5);
  AddHistogram(ts, t0 + 15'000, 4, {6, 4, 10}, 31);
  return req;
}

// One exponential histogram point of "req.latency" (unit s) at `t_ms`: scale 1, zero count
// 1, positive OTLP buckets 0..2 with counts 1, 2, 3; count 7, sum 9.5.
std::string OtlpExponentialBody(int64_t t_ms) {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest req;
  auto* rm = req.add_resource_metrics();
  auto* attr = rm->mutable_resource()->add_attributes();
  attr->set_key("service.name");
  attr->mutable_value()->set_string_value("otlp-svc");
  auto* m = rm->add_scope_metrics()->add_metrics();
  m->set_name("req.latency");
  m->set_unit("s");
  auto* eh = m->mutable_exponential_histogram();
  eh->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* pt = eh->add_data_points();
  pt->set_time_unix_nano(static_cast<uint64_t>(t_ms) * 1'000'000);
  pt->set_scale(1);
  pt->set_zero_count(1);
  pt->mutable_positive()->set_offset(0);
  for (uint64_t c : {1, 2, 3}) pt->mutable_positive()->add_bucket_counts(c);
  pt->set_count(7);
  pt->set_sum(9.5);
  return req.SerializeAsString();
}

boost::json::value Query(const OtelboxProcess& p, const std::string& q, int64_t t_ms) {
  auto res = HttpGet(p.http(), "/api/v1/query?query=" + UrlEncode(q) + "&time=" +
                                   std::to_string(t_ms / 1000.0));
  EXPECT_EQ(res.status, 200) << q << ": " << res.body;
  return boost::json::parse(res.body);
}

// The value string of a one-element vector result.
std::string ScalarOf(const boost::json::value& v) {
  const auto& result = v.at("data").at("result").as_array();
  if (result.size() != 1) return "<" + std::to_string(result.size()) + " results>";
  return std::string(result[0].at("value").at(1).as_string());
}

void ExpectRemoteWriteHistograms(const OtelboxProcess& p, int64_t t0) {
  EXPECT_EQ(ScalarOf(Query(p, "histogram_count(rpc_latency_seconds)", t0 + 15'000)), "24");
  EXPECT_EQ(ScalarOf(Query(p, "histogram_sum(rpc_latency_seconds)", t0 + 15'000)), "31");
  EXPECT_EQ(ScalarOf(Query(p, "histogram_count(rpc_latency_seconds)", t0 + 1'000)), "12");
}

TEST(NativeHistogram, RemoteWriteAndOtlpExponentialReadBackThroughPromQL) {
  OtelboxProcess otelbox({"--ephemeral"});
  ASSERT_TRUE(otelbox.ok()) << otelbox.error();
  const int64_t t0 = NowMs() - 60'000;

  auto res = HttpRequest(otelbox.http(), "POST", "/api/v1/write", SnappyBody(HistogramRequest(t0)),
                         RemoteWriteHeaders());
  ASSERT_EQ(res.status, 204) << res.body;
  ExpectRemoteWriteHistograms(otelbox, t0);

  res = HttpRequest(otelbox.otlp_http(), "POST", "/v1/metrics", OtlpExponentialBody(t0),
                    {{"Content-Type", "application/x-protobuf"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(ScalarOf(Query(otelbox, "histogram_count(req_latency_seconds{job=\"otlp-svc\"})", t0)), "7");
  EXPECT_EQ(ScalarOf(Query(otelbox, "histogram_sum(req_latency_seconds)", t0)), "9.5");

  // One native histogram series: no classic _bucket/_sum/_count series.
  auto series = HttpGet(otelbox.http(), "/api/v1/series?match[]=" +
                                            UrlEncode("{__name__=~\"req_latency_seconds.*\"}"));
  ASSERT_EQ(series.status, 200) << series.body;
  std::set<std::string> names;
  const boost::json::value series_json = boost::json::parse(series.body);
  for (auto& s : series_json.at("data").as_array()) {
    names.emplace(s.at("__name__").as_string());
  }
  EXPECT_EQ(names, (std::set<std::string>{"req_latency_seconds"}));

  // The raw histogram, rendered as Prometheus does: count and sum as strings, buckets as
  // [boundary rule, lower, upper, count] (empty buckets left out).
  auto raw = Query(otelbox, "rpc_latency_seconds", t0 + 15'000);
  const auto& result = raw.at("data").at("result").as_array();
  ASSERT_EQ(result.size(), 1u) << raw;
  ASSERT_TRUE(result[0].as_object().contains("histogram")) << raw;
  const auto& h = result[0].at("histogram").at(1);
  EXPECT_EQ(h.at("count"), "24") << raw;
  EXPECT_EQ(h.at("sum"), "31") << raw;
  // The zero bucket (rule 3: closed on both sides) comes first; its bounds are +-1e-128.
  std::vector<std::string> buckets;
  for (auto& b : h.at("buckets").as_array()) {
    const int64_t rule = b.at(0).to_number<int64_t>();
    buckets.push_back(std::to_string(rule) + ":" +
                      (rule == 3 ? std::string("zero") : std::string(b.at(2).as_string())) + "=" +
                      std::string(b.at(3).as_string()));
  }
  EXPECT_EQ(buckets, (std::vector<std::string>{"3:zero=4", "0:1=6", "0:2=4", "0:4=10"})) << raw;
}

TEST(NativeHistogram, SurviveKill9AndRestart) {
  TempDir dir;
  const int64_t t0 = NowMs() - 60'000;
  {
    OtelboxProcess otelbox({"--data-dir", dir.path()});
    ASSERT_TRUE(otelbox.ok()) << otelbox.error();
    auto res = HttpRequest(otelbox.http(), "POST", "/api/v1/write",
                           SnappyBody(HistogramRequest(t0)), RemoteWriteHeaders());
    ASSERT_EQ(res.status, 204) << res.body;
    otelbox.StopWith(SIGKILL);  // acknowledged: only the head log has them
  }
  OtelboxProcess restarted({"--data-dir", dir.path()});
  ASSERT_TRUE(restarted.ok()) << restarted.error();
  ExpectRemoteWriteHistograms(restarted, t0);
}

TEST(NativeHistogram, InvalidHistogramIsBadRequest) {
  OtelboxProcess otelbox({"--ephemeral"});
  ASSERT_TRUE(otelbox.ok()) << otelbox.error();
  prometheus::WriteRequest req = HistogramRequest(NowMs());
  // Spans announce 3 buckets, one delta is missing.
  req.mutable_timeseries(0)->mutable_histograms(0)->mutable_positive_deltas()->RemoveLast();
  auto res = HttpRequest(otelbox.http(), "POST", "/api/v1/write", SnappyBody(req),
                         RemoteWriteHeaders());
  EXPECT_EQ(res.status, 400) << res.body;
  EXPECT_NE(res.body.find("histogram"), std::string::npos) << res.body;
}

}  // namespace
}  // namespace otelbox::testing

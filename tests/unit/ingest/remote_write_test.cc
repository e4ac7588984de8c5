#include "ingest/prometheus/remote_write.h"

#include <cmath>

#include "gtest/gtest.h"
#include "snappy.h"

namespace otelbox::ingest {
namespace {

void AddLabel(::prometheus::TimeSeries* ts, const std::string& n, const std::string& v) {
  auto* l = ts->add_labels();
  l->set_name(n);
  l->set_value(v);
}

::prometheus::WriteRequest OneSeries(std::vector<std::pair<std::string, std::string>> labels) {
  ::prometheus::WriteRequest req;
  auto* ts = req.add_timeseries();
  for (auto& [n, v] : labels) AddLabel(ts, n, v);
  auto* s = ts->add_samples();
  s->set_value(1);
  s->set_timestamp(1000);
  return req;
}

TEST(RemoteWrite, TranslatesSeriesExemplarsAndMetadata) {
  auto req = OneSeries({{"__name__", "up"}, {"job", "api"}, {"empty", ""}});
  auto* ex = req.mutable_timeseries(0)->add_exemplars();
  ex->set_value(0.5);
  ex->set_timestamp(999);
  auto* el = ex->add_labels();
  el->set_name("trace_id");
  el->set_value("abc");
  auto* md = req.add_metadata();
  md->set_type(::prometheus::MetricMetadata::COUNTER);
  md->set_metric_family_name("http_requests_total");
  md->set_help("Requests.");
  md->set_unit("requests");

  auto batch = TranslateWriteRequest(req);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->series.size(), 1u);
  EXPECT_EQ(batch->series[0].labels, (storage::Labels{{"__name__", "up"}, {"job", "api"}}));
  EXPECT_EQ(batch->series[0].samples, (std::vector<storage::Sample>{{1000, 1}}));
  ASSERT_EQ(batch->series[0].exemplars.size(), 1u);
  EXPECT_EQ(batch->series[0].exemplars[0].labels, (storage::Labels{{"trace_id", "abc"}}));
  ASSERT_EQ(batch->metadata.size(), 1u);
  EXPECT_EQ(batch->metadata[0],
            (storage::MetricMetadata{"http_requests_total", storage::MetricType::kCounter,
                                     "Requests.", "requests"}));
}

TEST(RemoteWrite, InvalidSeriesNamed) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> labels;
    std::string want;
  };
  const Case cases[] = {
      {{{"job", "api"}}, "missing or empty __name__"},
      {{{"__name__", ""}, {"job", "api"}}, "missing or empty __name__"},
      {{{"__name__", "up"}, {"1bad", "x"}}, "invalid label name \"1bad\""},
      {{{"__name__", "up"}, {"a.b", "x"}}, "invalid label name \"a.b\""},
      {{{"__name__", "up"}, {"", "x"}}, "invalid label name \"\""},
      {{{"__name__", "up"}, {"job", "a"}, {"job", "b"}}, "duplicate label with name: job"},
      {{{"__name__", "up"}, {"job", "\xff\xfe"}}, "invalid UTF-8"},
  };
  for (const auto& c : cases) {
    auto batch = TranslateWriteRequest(OneSeries(c.labels));
    ASSERT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument) << c.want;
    const std::string msg(batch.status().message());
    EXPECT_NE(msg.find(c.want), std::string::npos) << msg;
    EXPECT_NE(msg.find("in series {"), std::string::npos) << msg;
  }
}

TEST(RemoteWrite, DecodeSnappyRoundTripAndErrors) {
  auto req = OneSeries({{"__name__", "up"}});
  std::string compressed;
  const std::string raw = req.SerializeAsString();
  snappy::Compress(raw.data(), raw.size(), &compressed);
  ::prometheus::WriteRequest decoded;
  auto status = DecodeWriteRequest(compressed, 1 << 20, &decoded);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(decoded.SerializeAsString(), raw);

  EXPECT_EQ(DecodeWriteRequest(compressed, raw.size() - 1, &decoded).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(DecodeWriteRequest(raw + "garbage", 1 << 20, &decoded).code(),
            absl::StatusCode::kInvalidArgument);
  std::string not_proto;
  snappy::Compress("\xff\xff\xff", 3, &not_proto);
  EXPECT_EQ(DecodeWriteRequest(not_proto, 1 << 20, &decoded).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RemoteWrite, IntegerNativeHistogramDeltasBecomeCounts) {
  ::prometheus::WriteRequest req;
  auto* ts = req.add_timeseries();
  AddLabel(ts, "__name__", "latency_seconds");
  auto* h = ts->add_histograms();
  h->set_count_int(15);
  h->set_sum(23.5);
  h->set_schema(2);
  h->set_zero_threshold(1e-128);
  h->set_zero_count_int(1);
  auto* ps = h->add_positive_spans();
  ps->set_offset(-1);
  ps->set_length(2);
  ps = h->add_positive_spans();
  ps->set_offset(3);
  ps->set_length(1);
  for (int64_t d : {4, -1, 2}) h->add_positive_deltas(d);  // counts 4, 3, 5
  auto* ns = h->add_negative_spans();
  ns->set_offset(0);
  ns->set_length(1);
  h->add_negative_deltas(2);
  h->set_reset_hint(::prometheus::Histogram::NO);
  h->set_timestamp(5000);

  auto batch = TranslateWriteRequest(req);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->series.size(), 1u);
  ASSERT_EQ(batch->series[0].histograms.size(), 1u);
  EXPECT_TRUE(batch->series[0].samples.empty());
  const storage::HistogramSample& got = batch->series[0].histograms[0];
  EXPECT_EQ(got.t_ms, 5000);
  EXPECT_EQ(got.h.count, 15);
  EXPECT_EQ(got.h.sum, 23.5);
  EXPECT_EQ(got.h.schema, 2);
  EXPECT_EQ(got.h.zero_threshold, 1e-128);
  EXPECT_EQ(got.h.zero_count, 1);
  EXPECT_EQ(got.h.counter_reset_hint, storage::CounterResetHint::kNotCounterReset);
  EXPECT_EQ(got.h.positive_spans, (std::vector<storage::BucketSpan>{{-1, 2}, {3, 1}}));
  EXPECT_EQ(got.h.positive_buckets, (std::vector<double>{4, 3, 5}));
  EXPECT_EQ(got.h.negative_spans, (std::vector<storage::BucketSpan>{{0, 1}}));
  EXPECT_EQ(got.h.negative_buckets, (std::vector<double>{2}));
  EXPECT_EQ(batch->SampleCount(), 1u);
}

TEST(RemoteWrite, FloatAndCustomBucketHistograms) {
  ::prometheus::WriteRequest req;
  auto* ts = req.add_timeseries();
  AddLabel(ts, "__name__", "request_size");
  auto* h = ts->add_histograms();
  h->set_count_float(6.5);
  h->set_sum(100);
  h->set_schema(-53);
  h->set_zero_count_float(0);
  auto* ps = h->add_positive_spans();
  ps->set_offset(0);
  ps->set_length(3);
  for (double c : {1.5, 0.0, 5.0}) h->add_positive_counts(c);
  for (double b : {10.0, 100.0}) h->add_custom_values(b);
  h->add_positive_deltas(7);  // ignored: a float histogram uses counts
  h->set_reset_hint(::prometheus::Histogram::GAUGE);
  h->set_timestamp(7000);

  auto batch = TranslateWriteRequest(req);
  ASSERT_TRUE(batch.ok()) << batch.status();
  const storage::HistogramSample& got = batch->series.at(0).histograms.at(0);
  EXPECT_EQ(got.h.count, 6.5);
  EXPECT_EQ(got.h.schema, storage::kCustomBucketsSchema);
  EXPECT_EQ(got.h.positive_buckets, (std::vector<double>{1.5, 0, 5}));
  EXPECT_EQ(got.h.custom_values, (std::vector<double>{10, 100}));
  EXPECT_EQ(got.h.counter_reset_hint, storage::CounterResetHint::kGaugeType);

  // The same bytes decode through the wire path (field numbers of prompb).
  std::string compressed;
  const std::string raw = req.SerializeAsString();
  snappy::Compress(raw.data(), raw.size(), &compressed);
  ::prometheus::WriteRequest decoded;
  ASSERT_TRUE(DecodeWriteRequest(compressed, 1 << 20, &decoded).ok());
  EXPECT_EQ(decoded.timeseries(0).histograms(0).custom_values_size(), 2);
}

TEST(RemoteWrite, HistogramFieldNumbersMatchPrompb) {
  // Hand-encoded: TimeSeries.histograms = 4; Histogram.count_int = 1, schema = 4 (sint32),
  // zero_count_int = 6, timestamp = 15, as in Prometheus' prompb/types.proto.
  const std::string label = std::string("\x0a\x08__name__\x12\x01x", 13);
  const std::string hist = std::string("\x08\x03\x20\x02\x30\x03\x78\x09", 8);
  const std::string ts = "\x0a" + std::string(1, char(label.size())) + label + "\x22" +
                         std::string(1, char(hist.size())) + hist;
  const std::string raw = "\x0a" + std::string(1, char(ts.size())) + ts;
  ::prometheus::WriteRequest req;
  ASSERT_TRUE(req.ParseFromString(raw));
  auto batch = TranslateWriteRequest(req);
  ASSERT_TRUE(batch.ok()) << batch.status();
  const storage::HistogramSample& got = batch->series.at(0).histograms.at(0);
  EXPECT_EQ(got.t_ms, 9);
  EXPECT_EQ(got.h.count, 3);
  EXPECT_EQ(got.h.zero_count, 3);
  EXPECT_EQ(got.h.schema, 1);
}

TEST(RemoteWrite, IntegerHistogramCountMustMatchItsBuckets) {
  ::prometheus::WriteRequest req;
  auto* ts = req.add_timeseries();
  AddLabel(ts, "__name__", "h");
  auto* h = ts->add_histograms();
  h->set_count_int(4);  // buckets hold 3
  h->set_sum(333);
  h->set_zero_count_int(2);
  auto* span = h->add_positive_spans();
  span->set_length(1);
  h->add_positive_deltas(1);
  auto batch = TranslateWriteRequest(req);
  ASSERT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(batch.status().message().find(
                "3 observations found in buckets, but the Count field is 4: histogram's "
                "observation count should equal the number of observations found in the buckets "
                "(in absence of NaN)"),
            std::string::npos)
      << batch.status();
  // With a NaN sum (NaN observations are in no bucket) a larger count is fine.
  h->set_sum(std::nan(""));
  EXPECT_TRUE(TranslateWriteRequest(req).ok());
  h->set_count_int(2);
  EXPECT_FALSE(TranslateWriteRequest(req).ok());
  // Float histograms are not checked (rounding), as in Prometheus.
  h->set_count_float(2.5);
  h->clear_positive_deltas();
  h->add_positive_counts(1);
  h->set_zero_count_float(2);
  EXPECT_TRUE(TranslateWriteRequest(req).ok());
}

}  // namespace
}  // namespace otelbox::ingest

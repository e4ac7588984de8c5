#include "ingest/otlp/metrics_translator.h"

#include <cmath>

#include "gtest/gtest.h"

namespace otelbox::ingest::otlp {
namespace {

namespace pbc = opentelemetry::proto::common::v1;
namespace pbm = opentelemetry::proto::metrics::v1;
using Request = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using storage::Labels;
using storage::MetricType;
using storage::SeriesSamples;

constexpr uint64_t kT0Ns = 1700000000123456789ULL;  // → 1700000000123 ms
constexpr int64_t kT0Ms = 1700000000123;

void AddAttr(google::protobuf::RepeatedPtrField<pbc::KeyValue>* attrs, const std::string& key,
             const std::string& value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

// A request with one resource (service.name=svc, service.instance.id=i-1) and one scope.
struct Builder {
  Request req;
  pbm::ResourceMetrics* rm;
  pbm::ScopeMetrics* sm;
  explicit Builder(bool with_service = true) {
    rm = req.add_resource_metrics();
    if (with_service) {
      AddAttr(rm->mutable_resource()->mutable_attributes(), "service.name", "svc");
      AddAttr(rm->mutable_resource()->mutable_attributes(), "service.instance.id", "i-1");
    }
    sm = rm->add_scope_metrics();
    sm->mutable_scope()->set_name("my.scope");
  }
  pbm::Metric* Metric(const std::string& name, const std::string& unit = "") {
    auto* m = sm->add_metrics();
    m->set_name(name);
    m->set_unit(unit);
    m->set_description("help for " + name);
    return m;
  }
};

const SeriesSamples* Find(const storage::MetricBatch& batch, const Labels& labels) {
  for (const auto& s : batch.series) {
    if (s.labels == labels) return &s;
  }
  return nullptr;
}

std::string Dump(const storage::MetricBatch& batch) {
  std::string out;
  for (const auto& s : batch.series) out += s.labels.ToString() + "\n";
  return out;
}

// Value of the only sample of the series with `labels` (NaN-safe comparisons by caller).
double Value(const storage::MetricBatch& batch, const Labels& labels) {
  const SeriesSamples* s = Find(batch, labels);
  EXPECT_NE(s, nullptr) << labels.ToString() << " not in\n" << Dump(batch);
  if (s == nullptr) return -12345;
  EXPECT_EQ(s->samples.size(), 1u);
  EXPECT_EQ(s->samples[0].t_ms, kT0Ms);
  return s->samples[0].value;
}

TEST(MetricsTranslator, GaugeWithJobInstanceAndRatio) {
  Builder b;
  auto* m = b.Metric("system.cpu.utilization", "1");
  auto* pt = m->mutable_gauge()->add_data_points();
  pt->set_time_unix_nano(kT0Ns);
  pt->set_as_double(0.25);
  AddAttr(pt->mutable_attributes(), "cpu", "0");
  AddAttr(pt->mutable_attributes(), "job", "overwritten");
  AddAttr(pt->mutable_attributes(), "__name__", "ignored");
  pt->add_exemplars()->set_as_double(1);  // gauge exemplars are dropped

  auto tr = TranslateMetrics(b.req);
  EXPECT_EQ(tr.rejected_points, 0);
  EXPECT_EQ(tr.accepted_points, 1);
  const Labels want{{"__name__", "system_cpu_utilization_ratio"},
                    {"cpu", "0"},
                    {"job", "svc"},
                    {"instance", "i-1"}};
  EXPECT_EQ(Value(tr.batch, want), 0.25);
  EXPECT_TRUE(Find(tr.batch, want)->exemplars.empty());
  ASSERT_FALSE(tr.batch.metadata.empty());
  EXPECT_EQ(tr.batch.metadata[0],
            (storage::MetricMetadata{"system_cpu_utilization_ratio", MetricType::kGauge,
                                     "help for system.cpu.utilization", ""}));
  // Only identifying resource attributes: no target_info.
  EXPECT_EQ(tr.batch.series.size(), 1u) << Dump(tr.batch);
}

TEST(MetricsTranslator, SumsCounterGaugeAndDeltaRejection) {
  Builder b;
  auto* counter = b.Metric("system.cpu.time", "s");
  counter->mutable_sum()->set_is_monotonic(true);
  counter->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* pt = counter->mutable_sum()->add_data_points();
  pt->set_time_unix_nano(kT0Ns);
  pt->set_as_int(42);
  auto* ex = pt->add_exemplars();
  ex->set_as_int(7);
  ex->set_time_unix_nano(kT0Ns);
  ex->set_trace_id(std::string("\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c", 16));
  ex->set_span_id(std::string("\xb7\xad\x6b\x71\x69\x20\x33\x31", 8));
  AddAttr(ex->mutable_filtered_attributes(), "user.id", "u1");

  auto* updown = b.Metric("http.server.active_requests", "{request}");
  updown->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* p2 = updown->mutable_sum()->add_data_points();
  p2->set_time_unix_nano(kT0Ns);
  p2->set_as_double(3);

  auto* delta = b.Metric("requests", "1");
  delta->mutable_sum()->set_is_monotonic(true);
  delta->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_DELTA);
  delta->mutable_sum()->add_data_points()->set_as_int(1);
  delta->mutable_sum()->add_data_points()->set_as_int(2);

  auto tr = TranslateMetrics(b.req);
  EXPECT_EQ(tr.rejected_points, 2);
  EXPECT_NE(tr.first_error.find("invalid temporality and type combination"), std::string::npos)
      << tr.first_error;
  const Labels c{{"__name__", "system_cpu_time_seconds_total"}, {"job", "svc"}, {"instance", "i-1"}};
  EXPECT_EQ(Value(tr.batch, c), 42);
  const auto& exemplars = Find(tr.batch, c)->exemplars;
  ASSERT_EQ(exemplars.size(), 1u);
  EXPECT_EQ(exemplars[0].value, 7);
  EXPECT_EQ(exemplars[0].t_ms, kT0Ms);
  EXPECT_EQ(exemplars[0].labels, (Labels{{"trace_id", "0af7651916cd43dd8448eb211c80319c"},
                                         {"span_id", "b7ad6b7169203331"},
                                         {"user_id", "u1"}}));
  EXPECT_EQ(Value(tr.batch, Labels{{"__name__", "http_server_active_requests"},
                                   {"job", "svc"},
                                   {"instance", "i-1"}}),
            3);
  bool saw_counter_meta = false;
  for (const auto& md : tr.batch.metadata) {
    if (md.family == "system_cpu_time_seconds_total") {
      saw_counter_meta = true;
      EXPECT_EQ(md.type, MetricType::kCounter);
      EXPECT_EQ(md.unit, "seconds");
    }
    if (md.family == "http_server_active_requests") {
      EXPECT_EQ(md.type, MetricType::kGauge);
    }
    EXPECT_NE(md.family, "requests_total");
  }
  EXPECT_TRUE(saw_counter_meta);
}

TEST(MetricsTranslator, ExemplarAttributesDroppedOverRuneLimit) {
  Builder b;
  auto* m = b.Metric("c");
  m->mutable_sum()->set_is_monotonic(true);
  m->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* pt = m->mutable_sum()->add_data_points();
  auto* ex = pt->add_exemplars();
  ex->set_trace_id(std::string(16, '\x01'));
  AddAttr(ex->mutable_filtered_attributes(), "big", std::string(100, 'x'));
  auto tr = TranslateMetrics(b.req);
  ASSERT_EQ(tr.batch.series.size(), 1u);
  ASSERT_EQ(tr.batch.series[0].exemplars.size(), 1u);
  EXPECT_EQ(tr.batch.series[0].exemplars[0].labels,
            (Labels{{"trace_id", "01010101010101010101010101010101"}}));
}

TEST(MetricsTranslator, LabelSanitisingAndCollisions) {
  Builder b;
  auto* m = b.Metric("g");
  auto* pt = m->mutable_gauge()->add_data_points();
  pt->set_time_unix_nano(kT0Ns);
  AddAttr(pt->mutable_attributes(), "a_b", "second");
  AddAttr(pt->mutable_attributes(), "a.b", "first");
  AddAttr(pt->mutable_attributes(), "123x", "d");
  AddAttr(pt->mutable_attributes(), "http.request.method", "GET");
  auto* num = pt->add_attributes();
  num->set_key("ratio");
  num->mutable_value()->set_double_value(1e-7);
  auto* flag = pt->add_attributes();
  flag->set_key("ok");
  flag->mutable_value()->set_bool_value(true);
  auto* arr = pt->add_attributes();
  arr->set_key("list");
  arr->mutable_value()->mutable_array_value()->add_values()->set_string_value("x");
  arr->mutable_value()->mutable_array_value()->add_values()->set_int_value(2);
  auto* bytes = pt->add_attributes();
  bytes->set_key("raw");
  bytes->mutable_value()->set_bytes_value("hi");

  auto tr = TranslateMetrics(b.req);
  EXPECT_EQ(tr.rejected_points, 0);
  // "a.b" < "a_b" in byte order, so "first" comes first.
  EXPECT_EQ(Value(tr.batch, Labels{{"__name__", "g"},
                                   {"a_b", "first;second"},
                                   {"key_123x", "d"},
                                   {"http_request_method", "GET"},
                                   {"ratio", "1e-07"},
                                   {"ok", "true"},
                                   {"list", "[\"x\",2]"},
                                   {"raw", "aGk="},
                                   {"job", "svc"},
                                   {"instance", "i-1"}}),
            0);
}

TEST(MetricsTranslator, InvalidLabelNameRejectsPoint) {
  Builder b;
  auto* m = b.Metric("g");
  auto* good = m->mutable_gauge()->add_data_points();
  good->set_time_unix_nano(kT0Ns);
  auto* bad = m->mutable_gauge()->add_data_points();
  AddAttr(bad->mutable_attributes(), "...", "v");
  auto tr = TranslateMetrics(b.req);
  EXPECT_EQ(tr.rejected_points, 1);
  EXPECT_EQ(tr.accepted_points, 1);
  EXPECT_NE(tr.first_error.find("\"...\""), std::string::npos) << tr.first_error;
}

TEST(MetricsTranslator, HistogramBucketsCumulativeWithLeFormatting) {
  Builder b;
  auto* m = b.Metric("http.server.request.duration", "s");
  m->mutable_histogram()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* pt = m->mutable_histogram()->add_data_points();
  pt->set_time_unix_nano(kT0Ns);
  for (double bound : {0.005, 0.5, 1.0, 250.0}) pt->add_explicit_bounds(bound);
  for (uint64_t c : {1, 2, 0, 3, 4}) pt->add_bucket_counts(c);
  pt->set_count(10);
  pt->set_sum(123.5);
  for (double v : {0.001, 0.7, 1000.0}) {
    auto* ex = pt->add_exemplars();
    ex->set_as_double(v);
    ex->set_trace_id(std::string(16, '\x02'));
  }

  auto tr = TranslateMetrics(b.req);
  EXPECT_EQ(tr.rejected_points, 0);
  const std::string name = "http_server_request_duration_seconds";
  auto bucket = [&](const char* le) {
    return Labels{{"__name__", name + "_bucket"}, {"le", le}, {"job", "svc"}, {"instance", "i-1"}};
  };
  EXPECT_EQ(Value(tr.batch, bucket("0.005")), 1);
  EXPECT_EQ(Value(tr.batch, bucket("0.5")), 3);
  EXPECT_EQ(Value(tr.batch, bucket("1")), 3);
  EXPECT_EQ(Value(tr.batch, bucket("250")), 6);
  EXPECT_EQ(Value(tr.batch, bucket("+Inf")), 10);
  EXPECT_EQ(Value(tr.batch, Labels{{"__name__", name + "_sum"}, {"job", "svc"}, {"instance", "i-1"}}),
            123.5);
  EXPECT_EQ(
      Value(tr.batch, Labels{{"__name__", name + "_count"}, {"job", "svc"}, {"instance", "i-1"}}),
      10);
  // Exemplars: 0.001 → le=0.005, 0.7 → le=1, 1000 → +Inf.
  EXPECT_EQ(Find(tr.batch, bucket("0.005"))->exemplars.size(), 1u);
  EXPECT_EQ(Find(tr.batch, bucket("0.5"))->exemplars.size(), 0u);
  EXPECT_EQ(Find(tr.batch, bucket("1"))->exemplars.size(), 1u);
  EXPECT_EQ(Find(tr.batch, bucket("1"))->exemplars[0].value, 0.7);
  EXPECT_EQ(Find(tr.batch, bucket("+Inf"))->exemplars.size(), 1u);
  ASSERT_EQ(tr.batch.metadata.size(), 1u);
  EXPECT_EQ(tr.batch.metadata[0],
            (storage::MetricMetadata{name, MetricType::kHistogram,
                                     "help for http.server.request.duration", "seconds"}));
}

TEST(MetricsTranslator, HistogramWithoutSumAndMismatchedBuckets) {
  Builder b(/*with_service=*/false);
  auto* m = b.Metric("h");
  m->mutable_histogram()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* pt = m->mutable_histogram()->add_data_points();
  pt->set_time_unix_nano(kT0Ns);
  pt->set_count(4);  // no buckets at all: only +Inf
  auto* bad = m->mutable_histogram()->add_data_points();
  bad->add_explicit_bounds(1);
  bad->add_bucket_counts(1);  // needs 2
  auto tr = TranslateMetrics(b.req);
  EXPECT_EQ(tr.rejected_points, 1);
  EXPECT_EQ(Value(tr.batch, Labels{{"__name__", "h_bucket"}, {"le", "+Inf"}}), 4);
  EXPECT_EQ(Value(tr.batch, Labels{{"__name__", "h_count"}}), 4);
  EXPECT_EQ(Find(tr.batch, Labels{{"__name__", "h_sum"}}), nullptr);
  EXPECT_EQ(tr.batch.series.size(), 2u) << Dump(tr.batch);
}

// The only native histogram of the series with `labels`.
const storage::HistogramSample* OnlyHistogram(const storage::MetricBatch& batch,
                                              const Labels& labels) {
  const SeriesSamples* s = Find(batch, labels);
  EXPECT_NE(s, nullptr) << labels.ToString() << " not in\n" << Dump(batch);
  if (s == nullptr || s->histograms.size() != 1) {
    ADD_FAILURE() << "expected one histogram sample";
    return nullptr;
  }
  EXPECT_TRUE(s->samples.empty());
  return &s->histograms[0];
}

pbm::ExponentialHistogramDataPoint* ExpPoint(Builder* b, const std::string& name,
                                             const std::string& unit = "") {
  auto* m = b->Metric(name, unit);
  m->mutable_exponential_histogram()->set_aggregation_temporality(
      pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* pt = m->mutable_exponential_histogram()->add_data_points();
  pt->set_time_unix_nano(kT0Ns);
  return pt;
}

TEST(MetricsTranslator, ExponentialHistogramToNativeHistogram) {
  Builder b(/*with_service=*/false);
  auto* pt = ExpPoint(&b, "latency", "ms");
  // scale 0: base 2. OTLP positive index i holds (2^i, 2^(i+1)], Prometheus index i holds
  // (2^(i-1), 2^i]: offset 1 → spans start at index 2. Buckets (2,4] = 0 and (4,8] = 2.
  pt->set_scale(0);
  pt->set_zero_count(1);
  pt->set_zero_threshold(0.5);  // not used: Prometheus fixes 1e-128
  pt->mutable_positive()->set_offset(1);
  pt->mutable_positive()->add_bucket_counts(0);
  pt->mutable_positive()->add_bucket_counts(2);
  pt->mutable_negative()->set_offset(0);
  pt->mutable_negative()->add_bucket_counts(1);
  pt->mutable_negative()->add_bucket_counts(3);
  pt->set_count(7);
  pt->set_sum(-3.5);
  pt->add_exemplars()->set_as_double(5);

  auto tr = TranslateMetrics(b.req);
  EXPECT_EQ(tr.rejected_points, 0);
  EXPECT_EQ(tr.accepted_points, 1);
  // One series: no _bucket, _sum or _count.
  ASSERT_EQ(tr.batch.series.size(), 1u) << Dump(tr.batch);
  const Labels want{{"__name__", "latency_milliseconds"}};
  const storage::HistogramSample* h = OnlyHistogram(tr.batch, want);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->t_ms, kT0Ms);
  EXPECT_EQ(h->h.schema, 0);
  EXPECT_EQ(h->h.zero_threshold, 1e-128);
  EXPECT_EQ(h->h.zero_count, 1);
  EXPECT_EQ(h->h.count, 7);
  EXPECT_EQ(h->h.sum, -3.5);
  EXPECT_EQ(h->h.counter_reset_hint, storage::CounterResetHint::kUnknown);
  EXPECT_EQ(h->h.positive_spans, (std::vector<storage::BucketSpan>{{2, 2}}));
  EXPECT_EQ(h->h.positive_buckets, (std::vector<double>{0, 2}));
  EXPECT_EQ(h->h.negative_spans, (std::vector<storage::BucketSpan>{{1, 2}}));
  EXPECT_EQ(h->h.negative_buckets, (std::vector<double>{1, 3}));
  EXPECT_TRUE(h->h.custom_values.empty());
  EXPECT_EQ(Find(tr.batch, want)->exemplars.size(), 1u);
  ASSERT_EQ(tr.batch.metadata.size(), 1u);
  EXPECT_EQ(tr.batch.metadata[0].type, MetricType::kHistogram);
  EXPECT_EQ(tr.batch.metadata[0].family, "latency_milliseconds");
}

TEST(MetricsTranslator, ExponentialHistogramDownscalesAbove8) {
  Builder b(/*with_service=*/false);
  auto* pt = ExpPoint(&b, "e");
  // scale 10 → schema 8: 4 adjacent OTLP buckets merge into one. OTLP indices -3..2 map to
  // (i >> 2) + 1 = 0,0,0,1,1,1.
  pt->set_scale(10);
  pt->mutable_positive()->set_offset(-3);
  for (uint64_t c : {1, 2, 3, 4, 5, 6}) pt->mutable_positive()->add_bucket_counts(c);
  pt->set_count(21);
  auto tr = TranslateMetrics(b.req);
  const storage::HistogramSample* h = OnlyHistogram(tr.batch, Labels{{"__name__", "e"}});
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->h.schema, 8);
  EXPECT_EQ(h->h.positive_spans, (std::vector<storage::BucketSpan>{{0, 2}}));
  EXPECT_EQ(h->h.positive_buckets, (std::vector<double>{6, 15}));
  EXPECT_TRUE(h->h.negative_spans.empty());
  EXPECT_EQ(h->h.sum, 0);  // no sum set
}

TEST(MetricsTranslator, ExponentialHistogramGapsAndSpans) {
  Builder b(/*with_service=*/false);
  auto* pt = ExpPoint(&b, "g");
  pt->set_scale(3);
  // Gaps of up to two buckets are filled with zeros, longer ones start a new span.
  pt->mutable_positive()->set_offset(0);
  for (uint64_t c : {1, 0, 0, 2, 0, 0, 0, 0, 3}) pt->mutable_positive()->add_bucket_counts(c);
  pt->set_count(6);
  pt->set_sum(10);
  auto tr = TranslateMetrics(b.req);
  const storage::HistogramSample* h = OnlyHistogram(tr.batch, Labels{{"__name__", "g"}});
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->h.schema, 3);
  EXPECT_EQ(h->h.positive_spans, (std::vector<storage::BucketSpan>{{1, 4}, {4, 1}}));
  EXPECT_EQ(h->h.positive_buckets, (std::vector<double>{1, 0, 0, 2, 3}));
}

TEST(MetricsTranslator, ExponentialHistogramScaleBelowMinus4Rejected) {
  Builder b(/*with_service=*/false);
  auto* pt = ExpPoint(&b, "r");
  pt->set_scale(-5);
  pt->set_count(1);
  pt->set_zero_count(1);
  auto* ok = b.Metric("r")->mutable_exponential_histogram();
  ok->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* pt2 = ok->add_data_points();
  pt2->set_time_unix_nano(kT0Ns + 1000000);
  pt2->set_scale(-4);
  pt2->set_count(1);
  pt2->set_zero_count(1);
  auto tr = TranslateMetrics(b.req);
  EXPECT_EQ(tr.rejected_points, 1);
  EXPECT_NE(tr.first_error.find("Scale must be >= -4, was -5"), std::string::npos) << tr.first_error;
  const SeriesSamples* s = Find(tr.batch, Labels{{"__name__", "r"}});
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->histograms.size(), 1u);
  EXPECT_EQ(s->histograms[0].h.schema, -4);
  EXPECT_EQ(s->histograms[0].h.zero_count, 1);
}

TEST(MetricsTranslator, ExponentialHistogramCountMustMatchBuckets) {
  Builder b(/*with_service=*/false);
  auto* pt = ExpPoint(&b, "c");
  pt->set_zero_count(2);
  pt->mutable_positive()->add_bucket_counts(1);
  pt->set_count(4);
  pt->set_sum(333);
  auto tr = TranslateMetrics(b.req);
  EXPECT_EQ(tr.rejected_points, 1);
  EXPECT_NE(tr.first_error.find("3 observations found in buckets, but the Count field is 4"),
            std::string::npos)
      << tr.first_error;
  EXPECT_TRUE(tr.batch.series.empty()) << Dump(tr.batch);
  pt->set_sum(std::nan(""));  // NaN observations fall in no bucket: count may be larger
  tr = TranslateMetrics(b.req);
  EXPECT_EQ(tr.rejected_points, 0) << tr.first_error;
}

TEST(MetricsTranslator, ExponentialHistogramNoRecordedValueIsStale) {
  Builder b(/*with_service=*/false);
  auto* pt = ExpPoint(&b, "s");
  pt->set_flags(pbm::DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK);
  pt->set_sum(5);
  auto tr = TranslateMetrics(b.req);
  const storage::HistogramSample* h = OnlyHistogram(tr.batch, Labels{{"__name__", "s"}});
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(storage::IsStaleNaN(h->h.sum));
}

TEST(MetricsTranslator, SummaryQuantiles) {
  Builder b(/*with_service=*/false);
  auto* m = b.Metric("rpc.duration", "s");
  auto* pt = m->mutable_summary()->add_data_points();
  pt->set_time_unix_nano(kT0Ns);
  pt->set_count(5);
  pt->set_sum(2.5);
  auto* q = pt->add_quantile_values();
  q->set_quantile(0.5);
  q->set_value(0.4);
  q = pt->add_quantile_values();
  q->set_quantile(1);
  q->set_value(0.9);
  auto tr = TranslateMetrics(b.req);
  EXPECT_EQ(Value(tr.batch, Labels{{"__name__", "rpc_duration_seconds"}, {"quantile", "0.5"}}), 0.4);
  EXPECT_EQ(Value(tr.batch, Labels{{"__name__", "rpc_duration_seconds"}, {"quantile", "1"}}), 0.9);
  EXPECT_EQ(Value(tr.batch, Labels{{"__name__", "rpc_duration_seconds_sum"}}), 2.5);
  EXPECT_EQ(Value(tr.batch, Labels{{"__name__", "rpc_duration_seconds_count"}}), 5);
  ASSERT_EQ(tr.batch.metadata.size(), 1u);
  EXPECT_EQ(tr.batch.metadata[0].type, MetricType::kSummary);
}

TEST(MetricsTranslator, NoRecordedValueBecomesStaleNaNEverywhere) {
  Builder b(/*with_service=*/false);
  auto* g = b.Metric("g");
  auto* gp = g->mutable_gauge()->add_data_points();
  gp->set_time_unix_nano(kT0Ns);
  gp->set_as_double(5);
  gp->set_flags(pbm::DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK);
  auto* h = b.Metric("h");
  h->mutable_histogram()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* hp = h->mutable_histogram()->add_data_points();
  hp->set_time_unix_nano(kT0Ns);
  hp->set_flags(1);
  hp->add_explicit_bounds(1);
  hp->add_bucket_counts(1);
  hp->add_bucket_counts(1);
  hp->set_count(2);
  hp->set_sum(3);
  auto* s = b.Metric("s");
  auto* sp = s->mutable_summary()->add_data_points();
  sp->set_time_unix_nano(kT0Ns);
  sp->set_flags(1);
  sp->add_quantile_values()->set_quantile(0.5);

  auto tr = TranslateMetrics(b.req);
  // g, h_bucket{1}, h_bucket{+Inf}, h_sum, h_count, s{0.5}, s_sum, s_count
  ASSERT_EQ(tr.batch.series.size(), 8u) << Dump(tr.batch);
  for (const auto& series : tr.batch.series) {
    ASSERT_EQ(series.samples.size(), 1u);
    EXPECT_TRUE(storage::IsStaleNaN(series.samples[0].value)) << series.labels.ToString();
  }
}

TEST(MetricsTranslator, TargetInfoFromResource) {
  Request req;
  auto* rm = req.add_resource_metrics();
  auto* attrs = rm->mutable_resource()->mutable_attributes();
  AddAttr(attrs, "service.name", "api");
  AddAttr(attrs, "service.namespace", "shop");
  AddAttr(attrs, "service.instance.id", "pod-7");
  AddAttr(attrs, "k8s.pod.name", "api-7");
  AddAttr(attrs, "host.name", "node1");
  auto* m = rm->add_scope_metrics()->add_metrics();
  m->set_name("g");
  auto* p1 = m->mutable_gauge()->add_data_points();
  p1->set_time_unix_nano(kT0Ns);
  auto* p2 = m->mutable_gauge()->add_data_points();
  p2->set_time_unix_nano(kT0Ns + 60'000'000'000ULL);
  AddAttr(p2->mutable_attributes(), "x", "y");

  auto tr = TranslateMetrics(req);
  const Labels info{{"__name__", "target_info"},
                    {"job", "shop/api"},
                    {"instance", "pod-7"},
                    {"k8s_pod_name", "api-7"},
                    {"host_name", "node1"}};
  const SeriesSamples* s = Find(tr.batch, info);
  ASSERT_NE(s, nullptr) << Dump(tr.batch);
  ASSERT_EQ(s->samples.size(), 1u);
  EXPECT_EQ(s->samples[0], (storage::Sample{kT0Ms + 60'000, 1.0}));
  bool meta = false;
  for (const auto& md : tr.batch.metadata) {
    if (md.family == "target_info") {
      meta = true;
      EXPECT_EQ(md.help, "Target metadata");
      EXPECT_EQ(md.type, MetricType::kGauge);
    }
  }
  EXPECT_TRUE(meta);
  EXPECT_NE(Find(tr.batch, Labels{{"__name__", "g"}, {"job", "shop/api"}, {"instance", "pod-7"}}),
            nullptr);
}

TEST(MetricsTranslator, NoJobWithoutServiceName) {
  Builder b(/*with_service=*/false);
  AddAttr(b.rm->mutable_resource()->mutable_attributes(), "host.name", "n1");
  auto* pt = b.Metric("g")->mutable_gauge()->add_data_points();
  pt->set_time_unix_nano(kT0Ns);
  AddAttr(pt->mutable_attributes(), "job", "from-point");
  auto tr = TranslateMetrics(b.req);
  // Data-point job stays when the resource has none; no job/instance → no target_info.
  EXPECT_EQ(tr.batch.series.size(), 1u) << Dump(tr.batch);
  EXPECT_EQ(Value(tr.batch, Labels{{"__name__", "g"}, {"job", "from-point"}}), 0);
}

TEST(MetricsTranslator, SameSeriesMergedAndTimestampsTruncated) {
  Builder b(/*with_service=*/false);
  auto* m = b.Metric("g");
  auto* p1 = m->mutable_gauge()->add_data_points();
  p1->set_time_unix_nano(1999999);  // 1.999999 ms → 1
  p1->set_as_double(1);
  auto* p2 = m->mutable_gauge()->add_data_points();
  p2->set_time_unix_nano(3000000);
  p2->set_as_double(2);
  auto tr = TranslateMetrics(b.req);
  ASSERT_EQ(tr.batch.series.size(), 1u);
  EXPECT_EQ(tr.batch.series[0].samples,
            (std::vector<storage::Sample>{{1, 1.0}, {3, 2.0}}));
}

}  // namespace
}  // namespace otelbox::ingest::otlp

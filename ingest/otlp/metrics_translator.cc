#include "ingest/otlp/metrics_translator.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ingest/otlp/otlp_json.h"
#include "ingest/prometheus_naming.h"

namespace otelbox::ingest::otlp {
namespace {

namespace pbc = opentelemetry::proto::common::v1;
namespace pbm = opentelemetry::proto::metrics::v1;
using google::protobuf::RepeatedPtrField;
using storage::Label;
using storage::Labels;
using storage::MetricType;

constexpr uint32_t kNoRecordedValue = pbm::DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK;
// Prometheus' limit on exemplar label runes (keys and values, ids included).
constexpr size_t kMaxExemplarRunes = 128;

int64_t NanosToMillis(uint64_t ns) { return static_cast<int64_t>(ns / 1000000); }

size_t RuneCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

boost::json::value AnyValueToJson(const pbc::AnyValue& v, int depth) {
  if (depth > 64) return nullptr;
  switch (v.value_case()) {
    case pbc::AnyValue::kStringValue: return boost::json::string(v.string_value());
    case pbc::AnyValue::kBoolValue: return v.bool_value();
    case pbc::AnyValue::kIntValue: return v.int_value();
    case pbc::AnyValue::kDoubleValue: return v.double_value();
    case pbc::AnyValue::kBytesValue:
      return boost::json::string(absl::Base64Escape(v.bytes_value()));
    case pbc::AnyValue::kArrayValue: {
      boost::json::array arr;
      for (const auto& e : v.array_value().values()) arr.push_back(AnyValueToJson(e, depth + 1));
      return arr;
    }
    case pbc::AnyValue::kKvlistValue: {
      boost::json::object obj;
      for (const auto& kv : v.kvlist_value().values()) {
        obj[kv.key()] = AnyValueToJson(kv.value(), depth + 1);
      }
      return obj;
    }
    default: return nullptr;
  }
}

// §A4 values: string as-is, int decimal, double shortest round-trip, bool true/false,
// bytes base64, arrays and maps as JSON, empty "" (the label is then absent).
std::string AnyValueToString(const pbc::AnyValue& v) {
  switch (v.value_case()) {
    case pbc::AnyValue::kStringValue: return v.string_value();
    case pbc::AnyValue::kBoolValue: return v.bool_value() ? "true" : "false";
    case pbc::AnyValue::kIntValue: return absl::StrCat(v.int_value());
    case pbc::AnyValue::kDoubleValue: return FormatAttributeDouble(v.double_value());
    case pbc::AnyValue::kBytesValue: return absl::Base64Escape(v.bytes_value());
    case pbc::AnyValue::kArrayValue:
    case pbc::AnyValue::kKvlistValue: return boost::json::serialize(AnyValueToJson(v, 0));
    default: return "";  // empty, or the profiles-only string_value_strindex
  }
}

const pbc::AnyValue* FindAttribute(const RepeatedPtrField<pbc::KeyValue>& attrs,
                                   std::string_view key) {
  for (const auto& kv : attrs) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

bool IsIdentifyingResourceKey(std::string_view key) {
  return key == "service.name" || key == "service.namespace" || key == "service.instance.id";
}

// Attributes → labels (§A4). Keys that collide after sanitising become one label with the
// values joined by ';' in lexical order of the original keys. With `skip_invalid`, keys that
// sanitise to nothing are dropped; otherwise they are an error (the point is rejected).
std::optional<std::string> AttributesToLabels(const RepeatedPtrField<pbc::KeyValue>& attrs,
                                              bool skip_identifying, bool skip_invalid,
                                              std::vector<Label>* out) {
  std::map<std::string, std::vector<std::pair<std::string_view, std::string>>> by_name;
  for (const auto& kv : attrs) {
    if (kv.key() == storage::kMetricNameLabel) continue;
    if (skip_identifying && IsIdentifyingResourceKey(kv.key())) continue;
    std::string name = SanitizeLabelName(kv.key());
    if (name.empty() || name == storage::kMetricNameLabel) {
      if (skip_invalid) continue;
      return absl::StrCat("invalid attribute name \"", kv.key(),
                          "\": empty after sanitising to a label name");
    }
    by_name[std::move(name)].emplace_back(kv.key(), AnyValueToString(kv.value()));
  }
  for (auto& [name, values] : by_name) {
    if (values.size() == 1) {
      out->push_back({name, std::move(values[0].second)});
      continue;
    }
    std::stable_sort(values.begin(), values.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string joined;
    for (const auto& v : values) {
      if (v.second.empty()) continue;
      if (!joined.empty()) joined.push_back(';');
      joined += v.second;
    }
    out->push_back({name, std::move(joined)});
  }
  return std::nullopt;
}

double ExemplarValue(const pbm::Exemplar& e) {
  return e.value_case() == pbm::Exemplar::kAsInt ? static_cast<double>(e.as_int()) : e.as_double();
}

bool IsZeroOrEmpty(const std::string& id) {
  return std::all_of(id.begin(), id.end(), [](char c) { return c == 0; });
}

storage::Exemplar ConvertExemplar(const pbm::Exemplar& e) {
  std::vector<Label> labels;
  size_t runes = 0;
  if (!IsZeroOrEmpty(e.trace_id())) {
    labels.push_back({"trace_id", HexEncode(e.trace_id())});
    runes += RuneCount(labels.back().name) + RuneCount(labels.back().value);
  }
  if (!IsZeroOrEmpty(e.span_id())) {
    labels.push_back({"span_id", HexEncode(e.span_id())});
    runes += RuneCount(labels.back().name) + RuneCount(labels.back().value);
  }
  std::vector<Label> attrs;
  AttributesToLabels(e.filtered_attributes(), false, true, &attrs);
  for (const auto& l : attrs) runes += RuneCount(l.name) + RuneCount(l.value);
  // Attributes only when everything fits, as Prometheus does (ids always kept).
  if (runes <= kMaxExemplarRunes) {
    for (auto& l : attrs) {
      if (l.name != "trace_id" && l.name != "span_id") labels.push_back(std::move(l));
    }
  }
  storage::Exemplar out;
  out.labels = Labels(std::move(labels));
  out.t_ms = NanosToMillis(e.time_unix_nano());
  out.value = ExemplarValue(e);
  return out;
}

// OTLP dense buckets (offset + counts) → native histogram spans and absolute counts, as
// Prometheus' OTLP receiver lays them out (its convertBucketsLayout, after client_golang):
// 2^scale_down adjacent buckets are merged; OTLP index i holds (base^i, base^(i+1)] and
// Prometheus index i holds (base^(i-1), base^i], so indexes move up by one; gaps of up to
// two buckets are filled with empty buckets, longer gaps start a new span. False when an
// index does not fit a span offset.
bool DenseToSpans(const pbm::ExponentialHistogramDataPoint::Buckets& in, int scale_down,
                  std::vector<storage::BucketSpan>* spans, std::vector<double>* counts) {
  const int n = in.bucket_counts_size();
  if (n == 0) return true;
  const int shift = std::min(scale_down, 63);  // Go's shifts saturate; C++'s must not overflow
  const int64_t offset = in.offset();
  auto index_of = [&](int64_t otlp_index) { return (otlp_index >> shift) + 1; };
  auto fits = [](int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; };
  int64_t bucket_index = index_of(offset);
  if (!fits(bucket_index) || !fits(index_of(offset + n - 1))) return false;
  spans->push_back({static_cast<int32_t>(bucket_index), 0});
  auto append = [&](uint64_t count) {
    ++spans->back().length;
    counts->push_back(static_cast<double>(count));
  };
  auto close_gap = [&](int64_t gap) {
    if (gap > 2) {
      spans->push_back({static_cast<int32_t>(gap), 0});
    } else {
      for (int64_t j = 0; j < gap; ++j) append(0);
    }
  };
  uint64_t count = 0;
  for (int i = 0; i < n; ++i) {
    const int64_t next_index = index_of(offset + i);
    if (next_index == bucket_index) {  // still merging into the current bucket
      count += in.bucket_counts(i);
      continue;
    }
    if (count == 0) {
      // Prometheus starts over without moving the current index: the skipped empty
      // buckets come back as gap filling below.
      count = in.bucket_counts(i);
      continue;
    }
    close_gap(next_index - bucket_index - 1);
    append(count);
    count = in.bucket_counts(i);
    bucket_index = next_index;
  }
  close_gap(index_of(offset + n - 1) - bucket_index);
  append(count);
  return true;
}

// One exponential histogram point → a native histogram sample (contracts/
// otlp-to-prometheus.md §A5.1): schema = scale, scales above 8 downscaled to 8, below -4
// rejected; zero threshold fixed at 1e-128 as Prometheus does (the OTLP zero_threshold is
// not used); counter reset hint unknown; no recorded value → sum StaleNaN (the staleness
// marker of a histogram series).
absl::StatusOr<storage::HistogramSample> ExponentialToNative(
    const pbm::ExponentialHistogramDataPoint& pt) {
  constexpr double kZeroThreshold = 1e-128;
  int scale = pt.scale();
  if (scale < -4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot convert exponential to native histogram. Scale must be >= -4, was ", scale));
  }
  int scale_down = 0;
  if (scale > 8) {
    scale_down = scale - 8;
    scale = 8;
  }
  storage::HistogramSample out;
  out.t_ms = NanosToMillis(pt.time_unix_nano());
  storage::FloatHistogram& h = out.h;
  h.counter_reset_hint = storage::CounterResetHint::kUnknown;
  h.schema = scale;
  h.zero_threshold = kZeroThreshold;
  h.zero_count = static_cast<double>(pt.zero_count());
  if (!DenseToSpans(pt.positive(), scale_down, &h.positive_spans, &h.positive_buckets) ||
      !DenseToSpans(pt.negative(), scale_down, &h.negative_spans, &h.negative_buckets)) {
    return absl::InvalidArgumentError("bucket offset out of range");
  }
  h.count = static_cast<double>(pt.count());
  if (pt.flags() & kNoRecordedValue) {
    h.sum = storage::StaleNaN();
    return out;
  }
  if (pt.has_sum()) h.sum = pt.sum();
  // Prometheus validates the integer histogram it makes: the buckets must hold `count`
  // observations (at most `count` when the sum is NaN: NaN observations are in no bucket).
  uint64_t in_buckets = pt.zero_count();
  for (uint64_t c : pt.positive().bucket_counts()) in_buckets += c;
  for (uint64_t c : pt.negative().bucket_counts()) in_buckets += c;
  if (std::isnan(h.sum) ? in_buckets > pt.count() : in_buckets != pt.count()) {
    return absl::InvalidArgumentError(absl::StrCat(
        in_buckets, " observations found in buckets, but the Count field is ", pt.count(),
        ": histogram's observation count should ",
        std::isnan(h.sum) ? "be at least the number of observations found in the buckets"
                          : "equal the number of observations found in the buckets (in absence of NaN)"));
  }
  return out;
}

// Resource-level facts shared by all of its data points (§A6).
struct ResourceContext {
  std::optional<std::string> job;
  std::optional<std::string> instance;
  std::optional<int64_t> latest_ms;  // latest accepted data-point time
};

ResourceContext MakeResourceContext(const RepeatedPtrField<pbc::KeyValue>& attrs) {
  ResourceContext ctx;
  const pbc::AnyValue* name = FindAttribute(attrs, "service.name");
  const pbc::AnyValue* ns = FindAttribute(attrs, "service.namespace");
  const pbc::AnyValue* id = FindAttribute(attrs, "service.instance.id");
  if (name != nullptr) {
    std::string job = AnyValueToString(*name);
    if (ns != nullptr) {
      if (std::string n = AnyValueToString(*ns); !n.empty()) job = n + "/" + job;
    }
    ctx.job = std::move(job);
  }
  if (id != nullptr) ctx.instance = AnyValueToString(*id);
  return ctx;
}

class Translator {
 public:
  MetricsTranslation Run(
      const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& req) {
    for (const auto& rm : req.resource_metrics()) {
      ResourceContext ctx = MakeResourceContext(rm.resource().attributes());
      for (const auto& sm : rm.scope_metrics()) {
        for (const auto& m : sm.metrics()) TranslateMetric(m, &ctx);
      }
      AddTargetInfo(rm.resource().attributes(), ctx);
    }
    return std::move(result_);
  }

 private:
  void Reject(int64_t points, std::string reason) {
    if (points <= 0) return;
    result_.rejected_points += points;
    if (result_.first_error.empty()) result_.first_error = std::move(reason);
  }

  void AddMetadata(const std::string& family, MetricType type, const pbm::Metric& m) {
    if (!families_.insert(family).second) return;
    result_.batch.metadata.push_back({family, type, m.description(), BuildUnitName(m.unit())});
  }

  // Position of the series with these labels in the batch, created when new. References
  // into the batch are invalidated by the next new series; positions are not.
  size_t SeriesIndex(std::vector<Label> labels) {
    Labels ls(std::move(labels));
    auto [it, inserted] = index_.try_emplace(ls, result_.batch.series.size());
    if (inserted) {
      result_.batch.series.emplace_back();
      result_.batch.series.back().labels = std::move(ls);
    }
    return it->second;
  }
  storage::SeriesSamples& Series(std::vector<Label> labels) {
    return result_.batch.series[SeriesIndex(std::move(labels))];
  }

  // `base` plus __name__ (and an optional extra label such as le or quantile).
  storage::SeriesSamples& DerivedSeries(const std::vector<Label>& base, std::string name,
                                        std::string_view extra_name = {},
                                        std::string extra_value = {}) {
    return result_.batch.series[DerivedIndex(base, std::move(name), extra_name,
                                             std::move(extra_value))];
  }
  size_t DerivedIndex(const std::vector<Label>& base, std::string name,
                      std::string_view extra_name = {}, std::string extra_value = {}) {
    std::vector<Label> labels = base;
    // Data-point attributes named like our extra label are overridden by it.
    if (!extra_name.empty()) {
      std::erase_if(labels, [&](const Label& l) { return l.name == extra_name; });
      labels.push_back({std::string(extra_name), std::move(extra_value)});
    }
    labels.push_back({std::string(storage::kMetricNameLabel), std::move(name)});
    return SeriesIndex(std::move(labels));
  }

  // Data-point labels, or nullopt after counting the point as rejected.
  template <typename Point>
  std::optional<std::vector<Label>> PointLabels(const Point& pt, const ResourceContext& ctx) {
    std::vector<Label> labels;
    if (auto err = AttributesToLabels(pt.attributes(), false, false, &labels)) {
      Reject(1, *std::move(err));
      return std::nullopt;
    }
    // Resource-derived job/instance win over data-point attributes of the same name.
    auto set = [&](std::string_view name, const std::optional<std::string>& v) {
      if (!v) return;
      std::erase_if(labels, [&](const Label& l) { return l.name == name; });
      labels.push_back({std::string(name), *v});
    };
    set("job", ctx.job);
    set("instance", ctx.instance);
    return labels;
  }

  void Accepted(int64_t t_ms, ResourceContext* ctx) {
    ++result_.accepted_points;
    if (!ctx->latest_ms || *ctx->latest_ms < t_ms) ctx->latest_ms = t_ms;
  }

  static bool CumulativeOrReject(pbm::AggregationTemporality t) {
    return t == pbm::AGGREGATION_TEMPORALITY_CUMULATIVE;
  }

  void RejectTemporality(const pbm::Metric& m, int points) {
    Reject(points, absl::StrCat("invalid temporality and type combination for metric \"",
                                m.name(), "\""));
  }

  void TranslateMetric(const pbm::Metric& m, ResourceContext* ctx) {
    switch (m.data_case()) {
      case pbm::Metric::kGauge: return Gauge(m, ctx);
      case pbm::Metric::kSum: return Sum(m, ctx);
      case pbm::Metric::kHistogram: return Histogram(m, ctx);
      case pbm::Metric::kExponentialHistogram: return ExpHistogram(m, ctx);
      case pbm::Metric::kSummary: return Summary(m, ctx);
      default: return;  // no data: nothing to write, nothing to count
    }
  }

  bool CheckName(const pbm::Metric& m, const std::string& family, int points) {
    if (!family.empty()) return true;
    Reject(points, absl::StrCat("invalid metric name \"", m.name(), "\""));
    return false;
  }

  static double NumberValue(const pbm::NumberDataPoint& pt) {
    return pt.value_case() == pbm::NumberDataPoint::kAsInt ? static_cast<double>(pt.as_int())
                                                           : pt.as_double();
  }

  void NumberPoints(const pbm::Metric& m, const RepeatedPtrField<pbm::NumberDataPoint>& points,
                    const std::string& family, bool keep_exemplars, ResourceContext* ctx) {
    for (const auto& pt : points) {
      auto labels = PointLabels(pt, *ctx);
      if (!labels) continue;
      const int64_t t = NanosToMillis(pt.time_unix_nano());
      const double v = (pt.flags() & kNoRecordedValue) ? storage::StaleNaN() : NumberValue(pt);
      auto& s = DerivedSeries(*labels, family);
      s.samples.push_back({t, v});
      if (keep_exemplars) {
        for (const auto& e : pt.exemplars()) s.exemplars.push_back(ConvertExemplar(e));
      }
      Accepted(t, ctx);
    }
  }

  void Gauge(const pbm::Metric& m, ResourceContext* ctx) {
    const auto& points = m.gauge().data_points();
    if (points.empty()) return;
    const std::string family = BuildMetricName(m.name(), m.unit(), NameKind::kGauge);
    if (!CheckName(m, family, points.size())) return;
    AddMetadata(family, MetricType::kGauge, m);
    NumberPoints(m, points, family, /*keep_exemplars=*/false, ctx);  // §A7: gauge exemplars dropped
  }

  void Sum(const pbm::Metric& m, ResourceContext* ctx) {
    const auto& sum = m.sum();
    if (sum.data_points().empty()) return;
    if (!CumulativeOrReject(sum.aggregation_temporality())) {
      return RejectTemporality(m, sum.data_points().size());
    }
    const bool counter = sum.is_monotonic();
    const std::string family =
        BuildMetricName(m.name(), m.unit(), counter ? NameKind::kCounter : NameKind::kOther);
    if (!CheckName(m, family, sum.data_points().size())) return;
    AddMetadata(family, counter ? MetricType::kCounter : MetricType::kGauge, m);
    NumberPoints(m, sum.data_points(), family, /*keep_exemplars=*/true, ctx);
  }

  // Writes cumulative `_bucket` series for (upper bound, per-bucket count) pairs sorted by
  // bound, then +Inf = count, and attaches exemplars to the first bucket with bound >= value.
  void WriteBuckets(const std::vector<Label>& base, const std::string& family,
                    const std::vector<std::pair<double, uint64_t>>& buckets, uint64_t count,
                    int64_t t, bool stale, const RepeatedPtrField<pbm::Exemplar>& exemplars) {
    const std::string bucket_name = family + "_bucket";
    auto& all = result_.batch.series;
    std::vector<size_t> series;
    series.reserve(buckets.size() + 1);
    uint64_t cumulative = 0;
    for (const auto& [bound, n] : buckets) {
      cumulative += n;
      series.push_back(DerivedIndex(base, bucket_name, "le", FormatPromFloat(bound)));
      all[series.back()].samples.push_back(
          {t, stale ? storage::StaleNaN() : static_cast<double>(cumulative)});
    }
    series.push_back(DerivedIndex(base, bucket_name, "le", "+Inf"));
    all[series.back()].samples.push_back(
        {t, stale ? storage::StaleNaN() : static_cast<double>(count)});
    for (const auto& e : exemplars) {
      const double v = ExemplarValue(e);
      size_t i = 0;
      while (i < buckets.size() && !(buckets[i].first >= v)) ++i;
      all[series[i]].exemplars.push_back(ConvertExemplar(e));
    }
  }

  void SumAndCount(const std::vector<Label>& base, const std::string& family, bool has_sum,
                   double sum, uint64_t count, int64_t t, bool stale) {
    if (has_sum) {
      DerivedSeries(base, family + "_sum").samples.push_back({t, stale ? storage::StaleNaN() : sum});
    }
    DerivedSeries(base, family + "_count")
        .samples.push_back({t, stale ? storage::StaleNaN() : static_cast<double>(count)});
  }

  void Histogram(const pbm::Metric& m, ResourceContext* ctx) {
    const auto& h = m.histogram();
    if (h.data_points().empty()) return;
    if (!CumulativeOrReject(h.aggregation_temporality())) {
      return RejectTemporality(m, h.data_points().size());
    }
    const std::string family = BuildMetricName(m.name(), m.unit(), NameKind::kOther);
    if (!CheckName(m, family, h.data_points().size())) return;
    AddMetadata(family, MetricType::kHistogram, m);
    for (const auto& pt : h.data_points()) {
      const auto& counts = pt.bucket_counts();
      const auto& bounds = pt.explicit_bounds();
      if (!(counts.empty() && bounds.empty()) && counts.size() != bounds.size() + 1) {
        Reject(1, absl::StrCat("histogram \"", m.name(), "\": ", counts.size(),
                               " bucket counts for ", bounds.size(), " explicit bounds"));
        continue;
      }
      auto labels = PointLabels(pt, *ctx);
      if (!labels) continue;
      const int64_t t = NanosToMillis(pt.time_unix_nano());
      const bool stale = pt.flags() & kNoRecordedValue;
      std::vector<std::pair<double, uint64_t>> buckets;
      buckets.reserve(bounds.size());
      for (int i = 0; i < bounds.size(); ++i) buckets.emplace_back(bounds[i], counts[i]);
      WriteBuckets(*labels, family, buckets, pt.count(), t, stale, pt.exemplars());
      SumAndCount(*labels, family, pt.has_sum(), pt.sum(), pt.count(), t, stale);
      Accepted(t, ctx);
    }
  }

  void ExpHistogram(const pbm::Metric& m, ResourceContext* ctx) {
    const auto& h = m.exponential_histogram();
    if (h.data_points().empty()) return;
    if (!CumulativeOrReject(h.aggregation_temporality())) {
      return RejectTemporality(m, h.data_points().size());
    }
    const std::string family = BuildMetricName(m.name(), m.unit(), NameKind::kOther);
    if (!CheckName(m, family, h.data_points().size())) return;
    AddMetadata(family, MetricType::kHistogram, m);
    for (const auto& pt : h.data_points()) {
      auto native = ExponentialToNative(pt);
      if (!native.ok()) {
        Reject(1, absl::StrCat("exponential histogram \"", m.name(), "\": ", native.status().message()));
        continue;
      }
      auto labels = PointLabels(pt, *ctx);
      if (!labels) continue;
      auto& s = DerivedSeries(*labels, family);
      s.histograms.push_back(*std::move(native));
      for (const auto& e : pt.exemplars()) s.exemplars.push_back(ConvertExemplar(e));
      Accepted(s.histograms.back().t_ms, ctx);
    }
  }

  void Summary(const pbm::Metric& m, ResourceContext* ctx) {
    const auto& points = m.summary().data_points();
    if (points.empty()) return;
    const std::string family = BuildMetricName(m.name(), m.unit(), NameKind::kOther);
    if (!CheckName(m, family, points.size())) return;
    AddMetadata(family, MetricType::kSummary, m);
    for (const auto& pt : points) {
      auto labels = PointLabels(pt, *ctx);
      if (!labels) continue;
      const int64_t t = NanosToMillis(pt.time_unix_nano());
      const bool stale = pt.flags() & kNoRecordedValue;
      for (const auto& q : pt.quantile_values()) {
        DerivedSeries(*labels, family, "quantile", FormatPromFloat(q.quantile()))
            .samples.push_back({t, stale ? storage::StaleNaN() : q.value()});
      }
      SumAndCount(*labels, family, /*has_sum=*/true, pt.sum(), pt.count(), t, stale);
      Accepted(t, ctx);
    }
  }

  // §A6: one target_info sample per resource that has job or instance and at least one
  // non-identifying attribute, at the latest accepted data-point time of that resource.
  void AddTargetInfo(const RepeatedPtrField<pbc::KeyValue>& attrs, const ResourceContext& ctx) {
    if (!ctx.latest_ms || (!ctx.job && !ctx.instance)) return;
    std::vector<Label> labels;
    AttributesToLabels(attrs, /*skip_identifying=*/true, /*skip_invalid=*/true, &labels);
    std::erase_if(labels, [](const Label& l) {
      return l.value.empty() || l.name == "job" || l.name == "instance";
    });
    if (labels.empty()) return;
    if (ctx.job) labels.push_back({"job", *ctx.job});
    if (ctx.instance) labels.push_back({"instance", *ctx.instance});
    labels.push_back({std::string(storage::kMetricNameLabel), "target_info"});
    Series(std::move(labels)).samples.push_back({*ctx.latest_ms, 1.0});
    if (families_.insert("target_info").second) {
      result_.batch.metadata.push_back({"target_info", MetricType::kGauge, "Target metadata", ""});
    }
  }

  MetricsTranslation result_;
  std::map<Labels, size_t> index_;  // series labels → position in result_.batch.series
  std::set<std::string> families_;
};

}  // namespace

MetricsTranslation TranslateMetrics(
    const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& request) {
  return Translator().Run(request);
}

}  // namespace otelbox::ingest::otlp

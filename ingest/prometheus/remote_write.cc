#include "ingest/prometheus/remote_write.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/escaping.h"
#include "common/utf8.h"
#include "ingest/compression.h"
#include "ingest/string_util.h"

namespace otelbox::ingest {
namespace {


bool ValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  if (!(absl::ascii_isalpha(name[0]) || name[0] == '_')) return false;
  for (char c : name) {
    if (!(absl::ascii_isalnum(c) || c == '_')) return false;
  }
  return true;
}

// {a="b", ...} in wire order, for error messages (values may be invalid UTF-8: escaped).
std::string SeriesString(const google::protobuf::RepeatedPtrField<::prometheus::Label>& labels) {
  std::string out = "{";
  for (int i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    absl::StrAppend(&out, absl::CEscape(labels[i].name()), "=\"",
                    absl::CEscape(labels[i].value()), "\"");
  }
  out += "}";
  return out;
}

absl::Status ValidateSeries(const ::prometheus::TimeSeries& ts) {
  bool has_name = false;
  std::vector<std::string_view> names;
  names.reserve(ts.labels_size());
  for (const auto& l : ts.labels()) {
    if (!IsValidUtf8(l.name()) || !ValidLabelName(l.name())) {
      return absl::InvalidArgumentError(absl::StrCat("invalid label name \"",
                                                     absl::CEscape(l.name()),
                                                     "\" in series ", SeriesString(ts.labels())));
    }
    if (!IsValidUtf8(l.value())) {
      return absl::InvalidArgumentError(absl::StrCat("invalid UTF-8 in the value of label \"",
                                                     l.name(), "\" in series ",
                                                     SeriesString(ts.labels())));
    }
    if (l.name() == storage::kMetricNameLabel && !l.value().empty()) has_name = true;
    names.push_back(l.name());
  }
  std::sort(names.begin(), names.end());
  if (auto dup = std::adjacent_find(names.begin(), names.end()); dup != names.end()) {
    return absl::InvalidArgumentError(absl::StrCat("duplicate label with name: ", AbslView(*dup),
                                                   " in series ", SeriesString(ts.labels())));
  }
  if (!has_name) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing or empty __name__ label in series ", SeriesString(ts.labels())));
  }
  return absl::OkStatus();
}

storage::Labels ToLabels(const google::protobuf::RepeatedPtrField<::prometheus::Label>& in) {
  std::vector<storage::Label> labels;
  labels.reserve(in.size());
  for (const auto& l : in) labels.push_back({l.name(), l.value()});
  return storage::Labels(std::move(labels));
}

// Bucket counts of one side: integer histograms carry deltas (each bucket against the
// previous one, the first against 0), float histograms absolute counts.
std::vector<double> BucketCounts(bool float_histogram,
                                 const google::protobuf::RepeatedField<int64_t>& deltas,
                                 const google::protobuf::RepeatedField<double>& counts) {
  if (float_histogram) return std::vector<double>(counts.begin(), counts.end());
  std::vector<double> out;
  out.reserve(deltas.size());
  int64_t count = 0;
  for (int64_t d : deltas) {
    // Wrapping: a corrupt delta chain gives a wrong count, not undefined behaviour.
    count = static_cast<int64_t>(static_cast<uint64_t>(count) + static_cast<uint64_t>(d));
    out.push_back(static_cast<double>(count));
  }
  return out;
}

std::vector<storage::BucketSpan> Spans(
    const google::protobuf::RepeatedPtrField<::prometheus::BucketSpan>& in) {
  std::vector<storage::BucketSpan> out;
  out.reserve(in.size());
  for (const auto& s : in) out.push_back({s.offset(), s.length()});
  return out;
}

// Prometheus' check of integer histograms (its float histograms skip it: rounding): the
// buckets must hold `count` observations, or at most `count` when the sum is NaN (NaN
// observations fall in no bucket). A staleness marker (sum StaleNaN) is not checked.
std::string IntegerCountError(const storage::FloatHistogram& h) {
  if (storage::IsStaleNaN(h.sum)) return "";
  double in_buckets = h.zero_count;
  for (double c : h.positive_buckets) in_buckets += c;
  for (double c : h.negative_buckets) in_buckets += c;
  if (std::isnan(h.sum) ? in_buckets <= h.count : in_buckets == h.count) return "";
  auto count = [](double v) {
    return v >= 0 && v < 0x1p63 ? absl::StrCat(static_cast<int64_t>(v)) : absl::StrCat(v);
  };
  return absl::StrCat(
      count(in_buckets), " observations found in buckets, but the Count field is ",
      count(h.count), ": histogram's observation count should ",
      std::isnan(h.sum) ? "be at least the number of observations found in the buckets"
                        : "equal the number of observations found in the buckets (in absence of NaN)");
}

}  // namespace

storage::HistogramSample ToHistogramSample(const ::prometheus::Histogram& in) {
  // Prometheus decides by the count field alone: count_float means a float histogram.
  const bool is_float = in.count_case() == ::prometheus::Histogram::kCountFloat;
  storage::HistogramSample out;
  out.t_ms = in.timestamp();
  storage::FloatHistogram& h = out.h;
  h.counter_reset_hint = static_cast<storage::CounterResetHint>(in.reset_hint() & 3);
  h.schema = in.schema();
  h.zero_threshold = in.zero_threshold();
  h.count = is_float ? in.count_float() : static_cast<double>(in.count_int());
  h.zero_count = in.zero_count_case() == ::prometheus::Histogram::kZeroCountFloat
                     ? in.zero_count_float()
                     : static_cast<double>(in.zero_count_int());
  h.sum = in.sum();
  h.positive_spans = Spans(in.positive_spans());
  h.negative_spans = Spans(in.negative_spans());
  h.positive_buckets = BucketCounts(is_float, in.positive_deltas(), in.positive_counts());
  h.negative_buckets = BucketCounts(is_float, in.negative_deltas(), in.negative_counts());
  h.custom_values.assign(in.custom_values().begin(), in.custom_values().end());
  return out;
}

absl::StatusOr<storage::MetricBatch> TranslateWriteRequest(const ::prometheus::WriteRequest& req) {
  storage::MetricBatch batch;
  batch.series.reserve(req.timeseries_size());
  for (const auto& ts : req.timeseries()) {
    if (auto st = ValidateSeries(ts); !st.ok()) return st;
    if (ts.samples().empty() && ts.exemplars().empty() && ts.histograms().empty()) continue;
    storage::SeriesSamples s;
    s.labels = ToLabels(ts.labels());
    s.samples.reserve(ts.samples_size());
    for (const auto& smp : ts.samples()) s.samples.push_back({smp.timestamp(), smp.value()});
    // Storage validates the histograms (spans against bucket counts, schema, bounds).
    s.histograms.reserve(ts.histograms_size());
    for (const auto& h : ts.histograms()) {
      s.histograms.push_back(ToHistogramSample(h));
      if (h.count_case() == ::prometheus::Histogram::kCountFloat) continue;
      if (std::string e = IntegerCountError(s.histograms.back().h); !e.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(e, " for series ", SeriesString(ts.labels())));
      }
    }
    for (const auto& e : ts.exemplars()) {
      // Exemplar labels are advisory: drop the ones that are not valid label names.
      std::vector<storage::Label> labels;
      for (const auto& l : e.labels()) {
        if (ValidLabelName(l.name()) && IsValidUtf8(l.value())) labels.push_back({l.name(), l.value()});
      }
      s.exemplars.push_back({storage::Labels(std::move(labels)), e.timestamp(), e.value()});
    }
    batch.series.push_back(std::move(s));
  }
  for (const auto& md : req.metadata()) {
    if (md.metric_family_name().empty()) continue;
    const int type = md.type();
    batch.metadata.push_back({md.metric_family_name(),
                              (type >= 0 && type <= 7) ? static_cast<storage::MetricType>(type)
                                                       : storage::MetricType::kUnknown,
                              md.help(), md.unit()});
  }
  return batch;
}

absl::Status DecodeWriteRequest(std::string_view body, size_t max_bytes,
                                ::prometheus::WriteRequest* out) {
  auto raw = SnappyUncompress(body, max_bytes);
  if (!raw.ok()) return raw.status();
  if (!out->ParseFromString(*raw)) {
    return absl::InvalidArgumentError("cannot decode the WriteRequest protobuf");
  }
  return absl::OkStatus();
}

}  // namespace otelbox::ingest

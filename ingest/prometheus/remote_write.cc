#include "ingest/prometheus/remote_write.h"

#include <algorithm>
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

}  // namespace

absl::StatusOr<storage::MetricBatch> TranslateWriteRequest(const ::prometheus::WriteRequest& req) {
  storage::MetricBatch batch;
  batch.series.reserve(req.timeseries_size());
  for (const auto& ts : req.timeseries()) {
    if (auto st = ValidateSeries(ts); !st.ok()) return st;
    if (ts.samples().empty() && ts.exemplars().empty()) continue;
    storage::SeriesSamples s;
    s.labels = ToLabels(ts.labels());
    s.samples.reserve(ts.samples_size());
    for (const auto& smp : ts.samples()) s.samples.push_back({smp.timestamp(), smp.value()});
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

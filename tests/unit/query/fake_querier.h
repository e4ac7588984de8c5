#pragma once
// An in-memory SeriesQuerier for unit tests of query/ and web/ (a fake at the seam,
// STYLE.md 3.4). Not thread-safe beyond concurrent reads.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "storage/querier.h"

namespace otelbox::testing {

class FakeQuerier : public storage::SeriesQuerier {
 public:
  void Add(storage::Labels labels, std::vector<storage::Sample> samples) {
    series_.push_back({std::move(labels), std::move(samples), {}});
    std::sort(series_.begin(), series_.end(),
              [](const auto& a, const auto& b) { return a.labels < b.labels; });
  }

  // A series of native histograms (ascending, unique timestamps).
  void AddHistograms(storage::Labels labels, std::vector<storage::HistogramSample> histograms) {
    series_.push_back({std::move(labels), {}, std::move(histograms)});
    std::sort(series_.begin(), series_.end(),
              [](const auto& a, const auto& b) { return a.labels < b.labels; });
  }

  static bool MatchesAll(const storage::Labels& labels, const storage::MatcherSet& ms) {
    for (const auto& m : ms) {
      if (!m.Matches(labels.Get(m.name()))) return false;
    }
    return true;
  }
  bool MatchesAny(const storage::Labels& labels, const std::vector<storage::MatcherSet>& sets) {
    if (sets.empty()) return true;
    for (const auto& s : sets) {
      if (MatchesAll(labels, s)) return true;
    }
    return false;
  }

  absl::StatusOr<std::vector<storage::SeriesData>> Select(std::string_view tenant,
                                                          const storage::MatcherSet& matchers,
                                                          int64_t start_ms, int64_t end_ms) override {
    ++select_calls;
    last_tenant = std::string(tenant);
    last_start_ms = start_ms;
    last_end_ms = end_ms;
    if (!select_error.ok()) return select_error;
    std::vector<storage::SeriesData> out;
    for (const auto& s : series_) {
      if (!MatchesAll(s.labels, matchers)) continue;
      storage::SeriesData d{s.labels, {}, {}};
      for (const auto& p : s.samples) {
        if (p.t_ms >= start_ms && p.t_ms <= end_ms) d.samples.push_back(p);
      }
      for (const auto& p : s.histograms) {
        if (p.t_ms >= start_ms && p.t_ms <= end_ms) d.histograms.push_back(p);
      }
      if (!d.samples.empty() || !d.histograms.empty()) out.push_back(std::move(d));
    }
    return out;
  }

  absl::StatusOr<std::vector<storage::Labels>> Series(std::string_view tenant,
                                                      const std::vector<storage::MatcherSet>& sets,
                                                      int64_t start_ms, int64_t end_ms,
                                                      size_t limit) override {
    last_tenant = std::string(tenant);
    last_start_ms = start_ms;
    last_end_ms = end_ms;
    last_limit = limit;
    std::vector<storage::Labels> out;
    for (const auto& s : series_) {
      if (MatchesAny(s.labels, sets)) out.push_back(s.labels);
      if (limit && out.size() == limit) break;
    }
    return out;
  }

  absl::StatusOr<std::vector<std::string>> LabelNames(std::string_view tenant,
                                                      const std::vector<storage::MatcherSet>& sets,
                                                      int64_t start_ms, int64_t end_ms,
                                                      size_t limit) override {
    last_tenant = std::string(tenant);
    last_start_ms = start_ms;
    last_end_ms = end_ms;
    last_limit = limit;
    std::vector<std::string> out;
    for (const auto& s : series_) {
      if (!MatchesAny(s.labels, sets)) continue;
      for (const auto& l : s.labels) {
        if (std::find(out.begin(), out.end(), l.name) == out.end()) out.push_back(l.name);
      }
    }
    std::sort(out.begin(), out.end());
    if (limit && out.size() > limit) out.resize(limit);
    return out;
  }

  absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view tenant,
                                                       std::string_view name,
                                                       const std::vector<storage::MatcherSet>& sets,
                                                       int64_t start_ms, int64_t end_ms,
                                                       size_t limit) override {
    last_tenant = std::string(tenant);
    last_label_name = std::string(name);
    last_limit = limit;
    std::vector<std::string> out;
    for (const auto& s : series_) {
      if (!MatchesAny(s.labels, sets)) continue;
      std::string v(s.labels.Get(name));
      if (!v.empty() && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
    std::sort(out.begin(), out.end());
    if (limit && out.size() > limit) out.resize(limit);
    return out;
  }

  absl::StatusOr<std::vector<storage::MetricMetadata>> Metadata(std::string_view tenant,
                                                                std::string_view metric,
                                                                size_t limit) override {
    std::vector<storage::MetricMetadata> out;
    for (const auto& m : metadata) {
      if (!metric.empty() && m.family != metric) continue;
      out.push_back(m);
      if (limit && out.size() == limit) break;
    }
    return out;
  }

  absl::StatusOr<std::vector<storage::SeriesExemplars>> Exemplars(
      std::string_view tenant, const storage::MatcherSet& matchers, int64_t start_ms,
      int64_t end_ms) override {
    std::vector<storage::SeriesExemplars> out;
    for (const auto& e : exemplars) {
      if (MatchesAll(e.series_labels, matchers)) out.push_back(e);
    }
    return out;
  }

  std::vector<storage::MetricMetadata> metadata;
  std::vector<storage::SeriesExemplars> exemplars;
  absl::Status select_error;
  int select_calls = 0;
  std::string last_tenant;
  std::string last_label_name;
  int64_t last_start_ms = 0;
  int64_t last_end_ms = 0;
  size_t last_limit = 0;

 private:
  std::vector<storage::SeriesData> series_;
};

}  // namespace otelbox::testing

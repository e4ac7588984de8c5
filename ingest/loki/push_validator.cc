#include "ingest/loki/push_validator.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "ingest/loki/detected_level.h"
#include "ingest/loki/stream_labels.h"
#include "ingest/prometheus_naming.h"
#include "ingest/string_util.h"

namespace otelbox::ingest::loki {
namespace {

constexpr std::string_view kServiceName = "service_name";
constexpr std::string_view kUnknownService = "unknown_service";

// Loki's -validation.discover-service-name default list.
constexpr std::string_view kServiceNameSources[] = {
    "service",   "app",       "application",    "app_name",           "name",
    "app_kubernetes_io_name", "container", "container_name", "k8s_container_name",
    "component", "workload",  "job",            "k8s_job_name"};

// Go's time.Format(time.RFC3339) of a UTC instant: 2006-01-02T15:04:05Z.
std::string Rfc3339(int64_t t_ns) {
  time_t secs = static_cast<time_t>(t_ns / 1000000000);
  if (t_ns < 0 && t_ns % 1000000000 != 0) --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Structured metadata names go through Loki's label namer; a name that sanitises to
// nothing is kept as sent (Loki would fail the whole request; we prefer keeping the data).
void NormalizeMetadata(std::vector<storage::Label>* metadata) {
  for (auto& l : *metadata) {
    if (IsLegacyLabelName(l.name)) continue;
    std::string sanitized = SanitizeLabelName(l.name);
    if (!sanitized.empty()) l.name = std::move(sanitized);
  }
  // Names must be unique (LogEntry's contract): the first occurrence wins.
  for (size_t i = 1; i < metadata->size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if ((*metadata)[j].name == (*metadata)[i].name) {
        metadata->erase(metadata->begin() + static_cast<ptrdiff_t>(i));
        --i;
        break;
      }
    }
  }
}

}  // namespace

void DiscoverServiceName(std::vector<storage::Label>* labels) {
  auto find = [&](std::string_view name) -> const storage::Label* {
    for (const auto& l : *labels) {
      if (l.name == name && !l.value.empty()) return &l;
    }
    return nullptr;
  };
  if (find(kServiceName) != nullptr) return;
  std::string value(kUnknownService);
  for (std::string_view source : kServiceNameSources) {
    if (const storage::Label* l = find(source)) {
      value = l->value;
      break;
    }
  }
  std::erase_if(*labels, [](const storage::Label& l) { return l.name == kServiceName; });
  labels->push_back({std::string(kServiceName), std::move(value)});
}

ValidatedPush ValidatePush(std::vector<PushStream> streams, const PushLimits& limits,
                           int64_t now_ns) {
  ValidatedPush out;
  const int64_t newest_ok_ns = now_ns + limits.creation_grace_period_ns;
  for (PushStream& stream : streams) {
    if (stream.entries.empty()) continue;  // Loki skips entry-less streams silently
    std::vector<storage::Label>& labels = stream.labels;
    std::erase_if(labels, [](const storage::Label& l) { return l.value.empty(); });
    std::stable_sort(labels.begin(), labels.end(),
                     [](const storage::Label& a, const storage::Label& b) { return a.name < b.name; });
    const std::string labels_text = LabelsString(labels);
    const int64_t n_entries = static_cast<int64_t>(stream.entries.size());
    auto reject_stream = [&](std::string message) {
      out.errors.push_back(std::move(message));
      out.rejected_entries += n_entries;
    };

    if (labels.empty()) {
      reject_stream("error at least one label pair is required per stream");
      continue;
    }
    std::string bad_name;
    for (const auto& l : labels) {
      if (l.name.empty() || !IsValidUtf8(l.name) || !IsValidUtf8(l.value)) {
        bad_name = l.name;
        break;
      }
    }
    if (!bad_name.empty() || (labels.front().name.empty())) {
      reject_stream(absl::StrCat("Error parsing labels '", labels_text,
                                 "' with error: invalid label name or value"));
      continue;
    }
    int names = static_cast<int>(labels.size());
    for (const auto& l : labels) names -= l.name == kServiceName;
    if (names > limits.max_label_names_per_series) {
      reject_stream(absl::StrCat("entry for stream '", labels_text, "' has ", names,
                                 " label names; limit ", limits.max_label_names_per_series));
      continue;
    }
    std::string label_error;
    for (size_t i = 0; i < labels.size() && label_error.empty(); ++i) {
      const auto& l = labels[i];
      if (l.name.size() > limits.max_label_name_length) {
        label_error = absl::StrCat("stream '", labels_text, "' has label name too long: '", l.name, "'");
      } else if (l.value.size() > limits.max_label_value_length) {
        label_error = absl::StrCat("stream '", labels_text, "' has label value too long: '", l.value, "'");
      } else if (i > 0 && labels[i - 1].name == l.name) {
        label_error = absl::StrCat("stream '", labels_text, "' has duplicate label name: '", l.name, "'");
      }
    }
    if (!label_error.empty()) {
      reject_stream(std::move(label_error));
      continue;
    }

    storage::LogStream accepted;
    accepted.labels = storage::Labels(std::move(labels));
    accepted.entries.reserve(stream.entries.size());
    const std::string stream_level =
        limits.discover_log_levels ? LevelFromStreamLabels(accepted.labels) : "";
    for (storage::LogEntry& entry : stream.entries) {
      if (entry.t_ns > newest_ok_ns) {
        out.errors.push_back(absl::StrCat("entry for stream '", labels_text,
                                          "' has timestamp too new: ", Rfc3339(entry.t_ns)));
        ++out.rejected_entries;
        continue;
      }
      if (limits.max_line_size != 0 && entry.line.size() > limits.max_line_size) {
        out.errors.push_back(absl::StrCat("Max entry size '", limits.max_line_size,
                                          "' bytes exceeded for stream '", labels_text,
                                          "' while adding an entry with length '",
                                          entry.line.size(), "' bytes"));
        ++out.rejected_entries;
        continue;
      }
      NormalizeMetadata(&entry.metadata);
      if (limits.discover_log_levels) AddDetectedLevel(stream_level, entry.line, &entry.metadata);
      accepted.entries.push_back(std::move(entry));
    }
    if (accepted.entries.empty()) continue;
    out.accepted_entries += static_cast<int64_t>(accepted.entries.size());
    out.batch.streams.push_back(std::move(accepted));
  }
  return out;
}

std::string GroupedErrorText(const std::vector<std::string>& errors) {
  std::vector<std::pair<std::string_view, int>> counts;
  std::map<std::string_view, size_t> index;
  for (const auto& e : errors) {
    auto [it, inserted] = index.emplace(e, counts.size());
    if (inserted) {
      counts.emplace_back(e, 1);
    } else {
      ++counts[it->second].second;
    }
  }
  std::string out;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (i) out += "; ";
    if (counts.size() > 1 || counts[i].second > 1) {
      absl::StrAppend(&out, counts[i].second, " errors like: ");
    }
    absl::StrAppend(&out, AbslView(counts[i].first));
  }
  return out;
}

}  // namespace otelbox::ingest::loki

#include "ingest/otlp/logs_translator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <string_view>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "ingest/otlp/otlp_json.h"
#include "ingest/prometheus_naming.h"
#include "ingest/string_util.h"

namespace otelbox::ingest::otlp {
namespace {

namespace pbc = opentelemetry::proto::common::v1;
namespace pbl = opentelemetry::proto::logs::v1;
using google::protobuf::RepeatedPtrField;

// Loki's -distributor.otlp.default_resource_attributes_as_index_labels.
constexpr std::string_view kIndexLabelAttributes[] = {
    "service.name",          "service.namespace",       "service.instance.id",
    "deployment.environment", "deployment.environment.name", "cloud.region",
    "cloud.availability_zone", "k8s.cluster.name",      "k8s.namespace.name",
    "k8s.pod.name",          "k8s.container.name",      "container.name",
    "k8s.replicaset.name",   "k8s.deployment.name",     "k8s.statefulset.name",
    "k8s.daemonset.name",    "k8s.cronjob.name",        "k8s.job.name"};

// Loki's -validation.discover-service-name list, over the sanitised index labels.
constexpr std::string_view kServiceNameSources[] = {
    "service",   "app",       "application",    "app_name",           "name",
    "app_kubernetes_io_name", "container", "container_name", "k8s_container_name",
    "component", "workload",  "job",            "k8s_job_name"};

bool IsIndexLabelAttribute(std::string_view key) {
  return std::find(std::begin(kIndexLabelAttributes), std::end(kIndexLabelAttributes), key) !=
         std::end(kIndexLabelAttributes);
}

// Go's encoding/json float formatting (ES6 number-to-string).
void AppendEs6Double(std::string* out, double v) {
  if (std::isnan(v) || std::isinf(v)) {
    // pdata prints "json: unsupported value: NaN" here; a plain word is more useful.
    out->append(std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"));
    return;
  }
  char buf[64];
  const double a = std::fabs(v);
  const bool exp = a != 0 && (a < 1e-6 || a >= 1e21);
  auto res = std::to_chars(buf, buf + sizeof buf, v,
                           exp ? std::chars_format::scientific : std::chars_format::fixed);
  std::string_view s(buf, static_cast<size_t>(res.ptr - buf));
  // to_chars pads the exponent to two digits ("1e-07"); Go does not ("1e-7").
  if (exp && s.size() >= 4 && s[s.size() - 4] == 'e' && s[s.size() - 2] == '0') {
    out->append(s.substr(0, s.size() - 2));
    out->push_back(s.back());
    return;
  }
  out->append(s);
}

// A JSON string as Go's encoding/json writes it (HTML-safe escaping, invalid UTF-8 as
// U+FFFD, U+2028/U+2029 escaped).
void AppendGoJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out->append("\\u00");
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 15]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    uint32_t rune = 0;
    const size_t n = DecodeUtf8(s, i, &rune);
    if (n == 0) {
      out->append("\\ufffd");
      ++i;
      continue;
    }
    if (rune == 0x2028 || rune == 0x2029) {
      out->append(rune == 0x2028 ? "\\u2028" : "\\u2029");
    } else {
      out->append(s.substr(i, n));
    }
    i += n;
  }
  out->push_back('"');
}

void AppendAnyValueJson(std::string* out, const pbc::AnyValue& v, int depth) {
  if (depth > 64) {
    out->append("null");
    return;
  }
  switch (v.value_case()) {
    case pbc::AnyValue::kStringValue: AppendGoJsonString(out, v.string_value()); return;
    case pbc::AnyValue::kBoolValue: out->append(v.bool_value() ? "true" : "false"); return;
    case pbc::AnyValue::kIntValue: absl::StrAppend(out, v.int_value()); return;
    case pbc::AnyValue::kDoubleValue: AppendEs6Double(out, v.double_value()); return;
    case pbc::AnyValue::kBytesValue:
      AppendGoJsonString(out, absl::Base64Escape(v.bytes_value()));
      return;
    case pbc::AnyValue::kArrayValue: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : v.array_value().values()) {
        if (!first) out->push_back(',');
        first = false;
        AppendAnyValueJson(out, e, depth + 1);
      }
      out->push_back(']');
      return;
    }
    case pbc::AnyValue::kKvlistValue: {
      // Go marshals map[string]any with sorted keys; a repeated key keeps its last value.
      std::map<std::string_view, const pbc::AnyValue*> sorted;
      for (const auto& kv : v.kvlist_value().values()) sorted[kv.key()] = &kv.value();
      out->push_back('{');
      bool first = true;
      for (const auto& [key, value] : sorted) {
        if (!first) out->push_back(',');
        first = false;
        AppendGoJsonString(out, key);
        out->push_back(':');
        AppendAnyValueJson(out, *value, depth + 1);
      }
      out->push_back('}');
      return;
    }
    default: out->append("null"); return;
  }
}

// An attribute as labels (Loki's AttributeToLabels): maps are flattened recursively into
// prefix_key names; every name goes through the label namer.
void AttributeToLabels(std::string_view key, const pbc::AnyValue& value, std::string_view prefix,
                       std::vector<storage::Label>* out, int depth = 0) {
  std::string name = prefix.empty() ? std::string(key) : absl::StrCat(AbslView(prefix), "_", AbslView(key));
  std::string sanitized = SanitizeLabelName(name);
  if (sanitized.empty()) return;  // Loki fails the request; dropping one attribute is kinder
  if (value.value_case() == pbc::AnyValue::kKvlistValue && depth < 32) {
    for (const auto& kv : value.kvlist_value().values()) {
      AttributeToLabels(kv.key(), kv.value(), sanitized, out, depth + 1);
    }
    return;
  }
  out->push_back({std::move(sanitized), AnyValueAsString(value)});
}

void AttributesToLabels(const RepeatedPtrField<pbc::KeyValue>& attrs,
                        std::vector<storage::Label>* out) {
  for (const auto& kv : attrs) AttributeToLabels(kv.key(), kv.value(), "", out);
}

// Stream labels and resource-level structured metadata of one ResourceLogs.
struct ResourceLabels {
  std::vector<storage::Label> stream;  // sorted, unique names
  std::vector<storage::Label> metadata;
};

ResourceLabels FromResource(const RepeatedPtrField<pbc::KeyValue>& attrs) {
  ResourceLabels out;
  std::map<std::string, std::string> stream;  // later attributes win, as Loki's LabelSet map
  bool has_service_name = false;
  for (const auto& kv : attrs) {
    if (kv.key() == "service.name" && !AnyValueAsString(kv.value()).empty()) {
      has_service_name = true;
    }
    if (IsIndexLabelAttribute(kv.key())) {
      std::vector<storage::Label> labels;
      AttributeToLabels(kv.key(), kv.value(), "", &labels);
      for (auto& l : labels) stream[l.name] = std::move(l.value);
    } else {
      AttributeToLabels(kv.key(), kv.value(), "", &out.metadata);
    }
  }
  if (!has_service_name) {
    std::string service = "unknown_service";
    for (std::string_view source : kServiceNameSources) {
      auto it = stream.find(std::string(source));
      if (it != stream.end() && !it->second.empty()) {
        service = it->second;
        break;
      }
    }
    stream["service_name"] = std::move(service);
  }
  for (auto& [name, value] : stream) {
    if (!value.empty()) out.stream.push_back({name, std::move(value)});
  }
  return out;
}

std::vector<storage::Label> FromScope(const pbc::InstrumentationScope& scope) {
  std::vector<storage::Label> out;
  AttributesToLabels(scope.attributes(), &out);
  if (!scope.name().empty()) out.push_back({"scope_name", scope.name()});
  if (!scope.version().empty()) out.push_back({"scope_version", scope.version()});
  if (scope.dropped_attributes_count() != 0) {
    out.push_back({"scope_dropped_attributes_count", absl::StrCat(scope.dropped_attributes_count())});
  }
  return out;
}

// The record's own metadata, in Loki's order.
void FromRecord(const pbl::LogRecord& r, std::vector<storage::Label>* out) {
  for (const auto& kv : r.attributes()) {
    if (kv.key() == "event_name" && !r.event_name().empty()) continue;
    AttributeToLabels(kv.key(), kv.value(), "", out);
  }
  if (r.time_unix_nano() != 0 && r.observed_time_unix_nano() != 0) {
    out->push_back({"observed_timestamp", absl::StrCat(r.observed_time_unix_nano())});
  }
  if (r.severity_number() != pbl::SEVERITY_NUMBER_UNSPECIFIED) {
    out->push_back({"severity_number", absl::StrCat(static_cast<int>(r.severity_number()))});
  }
  if (!r.severity_text().empty()) out->push_back({"severity_text", r.severity_text()});
  if (r.dropped_attributes_count() != 0) {
    out->push_back({"dropped_attributes_count", absl::StrCat(r.dropped_attributes_count())});
  }
  if (r.flags() != 0) out->push_back({"flags", absl::StrCat(r.flags())});
  // pdata treats an all-zero id as absent; so does Loki.
  auto non_zero = [](const std::string& id) {
    return std::any_of(id.begin(), id.end(), [](char c) { return c != 0; });
  };
  if (r.trace_id().size() == 16 && non_zero(r.trace_id())) {
    out->push_back({"trace_id", HexEncode(r.trace_id())});
  }
  if (r.span_id().size() == 8 && non_zero(r.span_id())) {
    out->push_back({"span_id", HexEncode(r.span_id())});
  }
  if (!r.event_name().empty()) out->push_back({"event_name", r.event_name()});
}

}  // namespace

std::string AnyValueAsString(const pbc::AnyValue& value) {
  switch (value.value_case()) {
    case pbc::AnyValue::kStringValue: return value.string_value();
    case pbc::AnyValue::kBoolValue: return value.bool_value() ? "true" : "false";
    case pbc::AnyValue::kIntValue: return absl::StrCat(value.int_value());
    case pbc::AnyValue::kDoubleValue: {
      std::string out;
      AppendEs6Double(&out, value.double_value());
      return out;
    }
    case pbc::AnyValue::kBytesValue: return absl::Base64Escape(value.bytes_value());
    case pbc::AnyValue::kArrayValue:
    case pbc::AnyValue::kKvlistValue: {
      std::string out;
      AppendAnyValueJson(&out, value, 0);
      return out;
    }
    default: return "";
  }
}

std::vector<loki::PushStream> TranslateLogs(
    const opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& request,
    int64_t now_ns) {
  std::vector<loki::PushStream> streams;
  std::map<std::vector<storage::Label>, size_t> index;  // stream labels → position
  for (const auto& rl : request.resource_logs()) {
    ResourceLabels resource = FromResource(rl.resource().attributes());
    auto [it, inserted] = index.emplace(resource.stream, streams.size());
    if (inserted) streams.push_back(loki::PushStream{resource.stream, {}});
    for (const auto& sl : rl.scope_logs()) {
      const std::vector<storage::Label> scope = FromScope(sl.scope());
      for (const auto& r : sl.log_records()) {
        storage::LogEntry entry;
        entry.t_ns = r.time_unix_nano() != 0            ? static_cast<int64_t>(r.time_unix_nano())
                     : r.observed_time_unix_nano() != 0 ? static_cast<int64_t>(r.observed_time_unix_nano())
                                                        : now_ns;
        entry.line = AnyValueAsString(r.body());
        entry.metadata.reserve(r.attributes_size() + resource.metadata.size() + scope.size() + 6);
        FromRecord(r, &entry.metadata);
        entry.metadata.insert(entry.metadata.end(), resource.metadata.begin(), resource.metadata.end());
        entry.metadata.insert(entry.metadata.end(), scope.begin(), scope.end());
        streams[it->second].entries.push_back(std::move(entry));
      }
    }
  }
  std::erase_if(streams, [](const loki::PushStream& s) { return s.entries.empty(); });
  return streams;
}

}  // namespace otelbox::ingest::otlp

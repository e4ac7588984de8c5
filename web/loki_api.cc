#include "web/loki_api.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <variant>

#include "absl/status/status.h"
#include "web/json_writer.h"
#include "web/loki_errors.h"
#include "web/loki_json.h"
#include "web/loki_params.h"
#include "web/loki_tail.h"

namespace otelbox::web {
namespace {

namespace logql = query::logql;

constexpr int64_t kNanosPerSecond = 1000000000;
// Loki's maxDelayForInTailing.
constexpr int64_t kMaxTailDelaySeconds = 5;

HttpResponse Success(std::string_view data) {
  std::string body = "{\"status\":\"success\",\"data\":";
  body.append(data);
  body.push_back('}');
  return HttpResponse::Json(200, std::move(body));
}

HttpResponse Raw(std::string body) { return HttpResponse::Json(200, std::move(body)); }

bool WantsCategorizedLabels(const HttpRequest& request) {
  std::string_view flags = request.Header("X-Loki-Response-Encoding-Flags");
  while (!flags.empty()) {
    const size_t comma = flags.find(',');
    std::string_view flag = flags.substr(0, comma);
    while (!flag.empty() && flag.front() == ' ') flag.remove_prefix(1);
    while (!flag.empty() && flag.back() == ' ') flag.remove_suffix(1);
    if (flag == "categorize-labels") return true;
    if (comma == std::string_view::npos) break;
    flags.remove_prefix(comma + 1);
  }
  return false;
}

// Labels Grafana hides or that are internal (contracts/loki.md §5.14).
bool IsHiddenLabel(std::string_view name) { return name.starts_with("__"); }

// The optional `query` selector of metadata endpoints (labels, label values,
// detected_labels): empty means every stream.
absl::StatusOr<storage::LogMatcherSet> OptionalSelector(const HttpRequest& request) {
  std::string_view q = request.Param("query");
  if (q.empty()) return storage::LogMatcherSet{};
  return logql::QueryMatchers(q);
}

// The step of query_range and volume_range: `step` or Loki's default for the range.
absl::StatusOr<int64_t> StepNs(const HttpRequest& request, const LokiBounds& b) {
  std::string_view step = request.Param("step");
  if (step.empty()) {
    const int64_t secs = std::max<int64_t>((b.end_ns - b.start_ns) / kNanosPerSecond / 250, 1);
    return secs * kNanosPerSecond;
  }
  return ParseLokiDurationNs(step);
}

// Matrix / vector rendering for the volume endpoints (no stats object, as Loki).
void AppendVolumeSample(std::string* out, int64_t t_ns, int64_t bytes) {
  out->push_back('[');
  AppendLokiSampleTime(out, t_ns);
  out->append(",\"");
  out->append(std::to_string(bytes));
  out->append("\"]");
}

logql::LabelList ToLabelList(const storage::Labels& labels) {
  return logql::LabelList(labels.items().begin(), labels.items().end());
}

// Type of a detected field value, as Loki's detected_fields reports it.
std::string_view FieldType(std::string_view v) {
  if (v == "true" || v == "false") return "boolean";
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::string_view body = v;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) body.remove_prefix(1);
  if (!body.empty() && std::all_of(body.begin(), body.end(), digit)) return "int";
  if (!body.empty() && std::count(body.begin(), body.end(), '.') == 1 &&
      std::all_of(body.begin(), body.end(), [&](char c) { return digit(c) || c == '.'; }) &&
      body.size() > 1) {
    return "float";
  }
  // Go durations (1.5s, 200ms, 3h2m) and byte sizes (10KB, 1.5MiB).
  static constexpr std::string_view kDurationUnits[] = {"ns", "us", "µs", "ms", "s", "m", "h"};
  static constexpr std::string_view kByteUnits[] = {"B",  "KB", "MB", "GB", "TB", "KiB",
                                                    "MiB", "GiB", "TiB", "kB"};
  size_t num_end = 0;
  while (num_end < body.size() && (digit(body[num_end]) || body[num_end] == '.')) ++num_end;
  if (num_end > 0 && num_end < body.size()) {
    std::string_view unit = body.substr(num_end);
    for (auto u : kByteUnits) {
      if (unit == u) return "bytes";
    }
    for (auto u : kDurationUnits) {
      if (unit.ends_with(u) && unit.size() <= 4) return "duration";
    }
  }
  return "string";
}

}  // namespace

// Shared by the tail route and the sessions it creates (which may outlive a request).
struct LokiApi::TailState {
  std::shared_ptr<std::atomic<int>> open = std::make_shared<std::atomic<int>>(0);
};

LokiApi::LokiApi(storage::LogQuerier* querier, logql::Engine* engine, storage::LogTailer* tailer,
                 std::function<int64_t()> now_ns, LokiApiOptions options)
    : querier_(querier),
      engine_(engine),
      tailer_(tailer),
      now_ns_(std::move(now_ns)),
      options_(std::move(options)),
      tail_state_(std::make_shared<TailState>()) {
  if (!now_ns_) {
    now_ns_ = [] {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

LokiApi::~LokiApi() = default;

void LokiApi::Register(Router* router) {
  const std::vector<std::string> kGetPost = {"GET", "POST"};
  auto bind = [this](HttpResponse (LokiApi::*fn)(const HttpRequest&)) {
    return [this, fn](const HttpRequest& r) { return (this->*fn)(r); };
  };
  router->Handle("/loki/api/v1/query", kGetPost, bind(&LokiApi::Query));
  router->Handle("/loki/api/v1/query_range", kGetPost, bind(&LokiApi::QueryRange));
  router->Handle("/loki/api/v1/labels", kGetPost, bind(&LokiApi::Labels));
  router->Handle("/loki/api/v1/label", kGetPost, bind(&LokiApi::Labels));  // Loki's alias
  router->HandlePrefix("/loki/api/v1/label/", "/values", "name", kGetPost,
                       bind(&LokiApi::LabelValues));
  router->Handle("/loki/api/v1/series", kGetPost, bind(&LokiApi::Series));
  router->Handle("/loki/api/v1/index/stats", kGetPost, bind(&LokiApi::IndexStats));
  router->Handle("/loki/api/v1/index/volume", kGetPost, bind(&LokiApi::IndexVolume));
  router->Handle("/loki/api/v1/index/volume_range", kGetPost, bind(&LokiApi::IndexVolumeRange));
  router->Handle("/loki/api/v1/detected_labels", kGetPost, bind(&LokiApi::DetectedLabels));
  router->Handle("/loki/api/v1/detected_fields", kGetPost, bind(&LokiApi::DetectedFields));
  router->HandlePrefix("/loki/api/v1/detected_field/", "/values", "name", kGetPost,
                       bind(&LokiApi::DetectedFieldValues));
  router->Handle("/loki/api/v1/patterns", kGetPost, bind(&LokiApi::Patterns));
  router->Handle("/loki/api/v1/drilldown-limits", kGetPost, bind(&LokiApi::DrilldownLimits));
  router->Handle("/loki/api/v1/status/buildinfo", kGetPost, bind(&LokiApi::BuildInfo));
  router->Handle("/loki/api/v1/format_query", kGetPost, bind(&LokiApi::FormatQuery));
  // A plain GET (no Upgrade header) on the tail path: what Loki's websocket upgrader says.
  router->Handle("/loki/api/v1/tail", {"GET"}, [](const HttpRequest&) {
    return LokiBadRequest(
        "websocket: the client is not using the websocket protocol: 'upgrade' token not found "
        "in 'Connection' header");
  });
  // Grafana's alerting lists data-source-managed rules (contracts/loki.md §2 #16).
  router->Handle("/prometheus/api/v1/rules", kGetPost,
                 [](const HttpRequest&) { return Success("{\"groups\":[]}"); });
}

HttpResponse LokiApi::Query(const HttpRequest& request) {
  auto limit = ParseLokiLimit(request);
  if (!limit.ok()) return LokiErrorResponse(limit.status());
  int64_t t_ns = now_ns_();
  if (std::string_view t = request.Param("time"); !t.empty()) {
    auto parsed = ParseLokiTimeNs(t);
    if (!parsed.ok()) return LokiErrorResponse(parsed.status());
    t_ns = *parsed;
  }
  auto forward = ParseLokiDirectionForward(request);
  if (!forward.ok()) return LokiErrorResponse(forward.status());
  logql::QueryParams params;
  params.tenant = TenantOf(request);
  params.query = request.Param("query");
  params.start_ns = t_ns;
  params.end_ns = t_ns;
  params.step_ns = 0;
  params.direction = *forward ? logql::Direction::kForward : logql::Direction::kBackward;
  params.limit = *limit;
  auto result = engine_->Query(params);
  if (!result.ok()) return LokiErrorResponse(result.status());
  return Success(RenderLokiQueryData(*result, WantsCategorizedLabels(request), *forward));
}

HttpResponse LokiApi::QueryRange(const HttpRequest& request) {
  auto b = ParseLokiBounds(request, now_ns_());
  if (!b.ok()) return LokiErrorResponse(b.status());
  if (b->end_ns < b->start_ns) {
    return LokiBadRequest("end timestamp must not be before or equal to start time");
  }
  auto limit = ParseLokiLimit(request);
  if (!limit.ok()) return LokiErrorResponse(limit.status());
  auto forward = ParseLokiDirectionForward(request);
  if (!forward.ok()) return LokiErrorResponse(forward.status());
  auto step = StepNs(request, *b);
  if (!step.ok()) return LokiErrorResponse(step.status());
  if (*step <= 0) {
    return LokiBadRequest(
        "zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  if ((b->end_ns - b->start_ns) / *step > 11000) {
    return LokiBadRequest(
        "exceeded maximum resolution of 11,000 points per time series. Try increasing the value "
        "of the step parameter");
  }
  int64_t interval_ns = 0;
  if (std::string_view iv = request.Param("interval"); !iv.empty()) {
    auto parsed = ParseLokiDurationNs(iv);
    if (!parsed.ok()) return LokiErrorResponse(parsed.status());
    if (*parsed < 0) return LokiBadRequest("interval must be >= 0");
    interval_ns = *parsed;
  }
  logql::QueryParams params;
  params.tenant = TenantOf(request);
  params.query = request.Param("query");
  params.start_ns = b->start_ns;
  params.end_ns = b->end_ns;
  params.step_ns = *step;
  params.interval_ns = interval_ns;
  params.direction = *forward ? logql::Direction::kForward : logql::Direction::kBackward;
  params.limit = *limit;
  auto result = engine_->Query(params);
  if (!result.ok()) return LokiErrorResponse(result.status());
  return Success(RenderLokiQueryData(*result, WantsCategorizedLabels(request), *forward));
}

HttpResponse LokiApi::Labels(const HttpRequest& request) {
  auto b = ParseLokiBounds(request, now_ns_());
  if (!b.ok()) return LokiErrorResponse(b.status());
  auto matchers = OptionalSelector(request);
  if (!matchers.ok()) return LokiErrorResponse(matchers.status());
  auto names = querier_->LabelNames(TenantOf(request), *matchers, b->start_ns, b->end_ns);
  if (!names.ok()) return LokiErrorResponse(names.status());
  std::erase_if(*names, [](const std::string& n) { return IsHiddenLabel(n); });
  std::string data;
  AppendStringArray(&data, *names);
  return Success(data);
}

HttpResponse LokiApi::LabelValues(const HttpRequest& request) {
  const std::string& name = request.path_tail;
  auto b = ParseLokiBounds(request, now_ns_());
  if (!b.ok()) return LokiErrorResponse(b.status());
  auto matchers = OptionalSelector(request);
  if (!matchers.ok()) return LokiErrorResponse(matchers.status());
  // No stream sharding here: Grafana then runs unsharded queries (contracts/loki.md §3).
  if (IsHiddenLabel(name)) return Success("[]");
  auto values =
      querier_->LabelValues(TenantOf(request), name, *matchers, b->start_ns, b->end_ns);
  if (!values.ok()) return LokiErrorResponse(values.status());
  std::string data;
  AppendStringArray(&data, *values);
  return Success(data);
}

HttpResponse LokiApi::Series(const HttpRequest& request) {
  auto b = ParseLokiBounds(request, now_ns_());
  if (!b.ok()) return LokiErrorResponse(b.status());
  std::vector<storage::LogMatcherSet> sets;
  for (const std::string& m : LokiSeriesMatchers(request)) {
    auto matchers = logql::ParseSelector(m);
    if (!matchers.ok()) return LokiErrorResponse(matchers.status());
    sets.push_back(*std::move(matchers));
  }
  auto series = querier_->Series(TenantOf(request), sets, b->start_ns, b->end_ns);
  if (!series.ok()) return LokiErrorResponse(series.status());
  std::string data = "[";
  for (size_t i = 0; i < series->size(); ++i) {
    if (i) data.push_back(',');
    AppendLabelMap(&data, ToLabelList((*series)[i]));
  }
  data.push_back(']');
  return Success(data);
}

HttpResponse LokiApi::IndexStats(const HttpRequest& request) {
  auto b = ParseLokiBounds(request, now_ns_());
  if (!b.ok()) return LokiErrorResponse(b.status());
  auto matchers = logql::QueryMatchers(request.Param("query"));
  if (!matchers.ok()) return LokiErrorResponse(matchers.status());
  auto stats = querier_->IndexStats(TenantOf(request), *matchers, b->start_ns, b->end_ns);
  if (!stats.ok()) return LokiErrorResponse(stats.status());
  return Raw("{\"streams\":" + std::to_string(stats->streams) +
             ",\"chunks\":" + std::to_string(stats->chunks) +
             ",\"entries\":" + std::to_string(stats->entries) +
             ",\"bytes\":" + std::to_string(stats->bytes) + "}");
}

HttpResponse LokiApi::IndexVolume(const HttpRequest& request) { return Volume(request, false); }
HttpResponse LokiApi::IndexVolumeRange(const HttpRequest& request) { return Volume(request, true); }

HttpResponse LokiApi::Volume(const HttpRequest& request, bool range) {
  auto b = ParseLokiBounds(request, now_ns_());
  if (!b.ok()) return LokiErrorResponse(b.status());
  auto matchers = logql::QueryMatchers(request.Param("query"));
  if (!matchers.ok()) return LokiErrorResponse(matchers.status());
  auto limit = ParseLokiLimit(request, 100);
  if (!limit.ok()) return LokiErrorResponse(limit.status());
  // aggregateBy=series (the default): one row per label set; =labels: one row per label
  // name, {"<name>":""}, the bytes of every matching stream carrying it.
  const std::string_view aggregate_by = request.Param("aggregateBy");
  if (!aggregate_by.empty() && aggregate_by != "series" && aggregate_by != "labels") {
    return LokiBadRequest("invalid aggregateBy: " + std::string(aggregate_by));
  }
  const bool by_label_names = aggregate_by == "labels";
  std::vector<std::string> targets;
  for (std::string_view rest = request.Param("targetLabels"); !rest.empty();) {
    const size_t comma = rest.find(',');
    std::string_view t = rest.substr(0, comma);
    if (!t.empty()) targets.emplace_back(t);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  // Series: group by targetLabels, else by the label names the selector mentions (Loki's
  // default). Label names: per stream, then folded below.
  std::vector<std::string> by;
  if (!by_label_names) {
    by = targets;
    if (by.empty()) {
      std::set<std::string> names;
      for (const auto& m : *matchers) names.insert(m.name());
      by.assign(names.begin(), names.end());
    }
  }
  int64_t step_ns = 0;
  if (range) {
    auto step = StepNs(request, *b);
    if (!step.ok()) return LokiErrorResponse(step.status());
    if (*step <= 0) {
      return LokiBadRequest(
          "zero or negative query resolution step widths are not accepted. Try a positive "
          "integer");
    }
    step_ns = *step;
  }
  auto volumes = querier_->Volume(TenantOf(request), *matchers, b->start_ns, b->end_ns, by,
                                  step_ns, by_label_names ? 0 : static_cast<size_t>(*limit));
  if (!volumes.ok()) return LokiErrorResponse(volumes.status());
  // Rows of the answer, largest total first.
  struct Row {
    logql::LabelList metric;
    int64_t t_ns;
    int64_t bytes;
  };
  std::vector<Row> rows;
  if (!by_label_names) {
    for (const auto& v : *volumes) rows.push_back(Row{ToLabelList(v.labels), v.t_ns, v.bytes});
  } else {
    std::map<std::string, std::map<int64_t, int64_t>, std::less<>> per_name;  // name -> t -> bytes
    for (const auto& v : *volumes) {
      for (const storage::Label& l : v.labels) {
        if (!targets.empty() && std::find(targets.begin(), targets.end(), l.name) == targets.end()) continue;
        per_name[l.name][v.t_ns] += v.bytes;
      }
    }
    std::vector<std::pair<int64_t, const std::string*>> ranked;
    for (const auto& [name, buckets] : per_name) {
      int64_t total = 0;
      for (const auto& [t, bytes] : buckets) total += bytes;
      ranked.emplace_back(total, &name);
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first > y.first : *x.second < *y.second;
    });
    if (*limit > 0 && ranked.size() > static_cast<size_t>(*limit)) ranked.resize(static_cast<size_t>(*limit));
    for (const auto& [total, name] : ranked) {
      for (const auto& [t, bytes] : per_name.find(*name)->second) {
        rows.push_back(Row{{storage::Label{*name, ""}}, t, bytes});
      }
    }
  }
  std::string data;
  if (!range) {
    data = "{\"resultType\":\"vector\",\"result\":[";
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i) data.push_back(',');
      data.append("{\"metric\":");
      AppendLabelMap(&data, rows[i].metric);
      data.append(",\"value\":");
      AppendVolumeSample(&data, b->end_ns, rows[i].bytes);
      data.push_back('}');
    }
  } else {
    // One series per metric, buckets ascending.
    std::map<logql::LabelList, std::vector<std::pair<int64_t, int64_t>>> series;
    for (const Row& r : rows) series[r.metric].emplace_back(r.t_ns, r.bytes);
    data = "{\"resultType\":\"matrix\",\"result\":[";
    bool first = true;
    for (auto& [metric, points] : series) {
      std::sort(points.begin(), points.end());
      if (!first) data.push_back(',');
      first = false;
      data.append("{\"metric\":");
      AppendLabelMap(&data, metric);
      data.append(",\"values\":[");
      for (size_t i = 0; i < points.size(); ++i) {
        if (i) data.push_back(',');
        AppendVolumeSample(&data, points[i].first, points[i].second);
      }
      data.append("]}");
    }
  }
  data.append("]}");
  return Success(data);
}

HttpResponse LokiApi::DetectedLabels(const HttpRequest& request) {
  auto b = ParseLokiBounds(request, now_ns_());
  if (!b.ok()) return LokiErrorResponse(b.status());
  auto matchers = OptionalSelector(request);
  if (!matchers.ok()) return LokiErrorResponse(matchers.status());
  std::vector<storage::LogMatcherSet> sets;
  if (!matchers->empty()) sets.push_back(*matchers);
  auto series = querier_->Series(TenantOf(request), sets, b->start_ns, b->end_ns);
  if (!series.ok()) return LokiErrorResponse(series.status());
  std::map<std::string, std::set<std::string>> values;
  for (const auto& labels : *series) {
    for (const auto& l : labels) {
      if (!IsHiddenLabel(l.name)) values[l.name].insert(l.value);
    }
  }
  std::string out = "{\"detectedLabels\":[";
  bool first = true;
  for (const auto& [name, vals] : values) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"label\":");
    AppendJsonString(&out, name);
    out.append(",\"cardinality\":");
    out.append(std::to_string(vals.size()));
    out.push_back('}');
  }
  out.append("]}");
  return Raw(std::move(out));
}

namespace {

// Structured metadata and parsed labels seen in a sample of the query's lines.
struct FieldStats {
  std::set<std::string> values;
  std::string type;
  bool parsed = false;  // from a parser stage (else structured metadata)
};

absl::StatusOr<std::map<std::string, FieldStats>> SampleFields(logql::Engine* engine,
                                                              const HttpRequest& request,
                                                              int64_t now_ns, int64_t* limit) {
  auto b = ParseLokiBounds(request, now_ns);
  if (!b.ok()) return b.status();
  // `limit` (alias `field_limit`) caps the fields returned; `line_limit` the lines sampled.
  int64_t field_limit = 1000;
  for (std::string_view name : {"limit", "field_limit"}) {
    std::string_view text = request.Param(name);
    if (text.empty()) continue;
    char* end = nullptr;
    std::string s(text);
    field_limit = std::strtoll(s.c_str(), &end, 10);
    if (end != s.c_str() + s.size() || field_limit <= 0) {
      return absl::InvalidArgumentError("limit must be a positive value");
    }
    break;
  }
  *limit = field_limit;
  int64_t line_limit = 1000;
  if (std::string_view text = request.Param("line_limit"); !text.empty()) {
    char* end = nullptr;
    std::string s(text);
    line_limit = std::strtoll(s.c_str(), &end, 10);
    if (end != s.c_str() + s.size() || line_limit <= 0) {
      return absl::InvalidArgumentError("limit must be a positive value");
    }
  }
  logql::QueryParams params;
  params.tenant = TenantOf(request);
  params.query = request.Param("query");
  params.start_ns = b->start_ns;
  params.end_ns = std::max(b->end_ns, b->start_ns + 1);
  params.step_ns = kNanosPerSecond;
  params.limit = std::min<int64_t>(line_limit, 5000);
  auto result = engine->Query(params);
  if (!result.ok()) return result.status();
  std::map<std::string, FieldStats> fields;
  const auto* streams = std::get_if<logql::Streams>(&result->value);
  if (streams == nullptr) return fields;
  auto note = [&](const storage::Label& l, bool parsed) {
    if (IsHiddenLabel(l.name) || l.name == "detected_level") return;
    FieldStats& f = fields[l.name];
    f.parsed = f.parsed || parsed;
    f.values.insert(l.value);
    const std::string_view t = FieldType(l.value);
    if (f.type.empty()) {
      f.type = std::string(t);
    } else if (f.type != t) {
      f.type = (f.type == "int" && t == "float") || (f.type == "float" && t == "int") ? "float"
                                                                                      : "string";
    }
  };
  for (const auto& s : *streams) {
    for (const auto& e : s.entries) {
      for (const auto& l : e.structured_metadata) note(l, false);
      for (const auto& l : e.parsed) note(l, true);
    }
  }
  return fields;
}

}  // namespace

HttpResponse LokiApi::DetectedFields(const HttpRequest& request) {
  int64_t limit = 1000;
  auto fields = SampleFields(engine_, request, now_ns_(), &limit);
  if (!fields.ok()) return LokiErrorResponse(fields.status());
  std::string out = "{\"fields\":[";
  bool first = true;
  int64_t emitted = 0;
  for (const auto& [name, f] : *fields) {
    if (emitted++ >= limit) break;
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"label\":");
    AppendJsonString(&out, name);
    out.append(",\"type\":\"");
    out.append(f.type);
    out.append("\",\"cardinality\":");
    out.append(std::to_string(f.values.size()));
    out.append(",\"parsers\":");
    // The pipeline's parser is not reported by the engine; structured metadata has none.
    out.append(f.parsed ? "[\"logfmt\"]" : "null");
    out.push_back('}');
  }
  out.append("],\"limit\":");
  out.append(std::to_string(limit));
  out.push_back('}');
  return Raw(std::move(out));
}

HttpResponse LokiApi::DetectedFieldValues(const HttpRequest& request) {
  int64_t limit = 1000;
  auto fields = SampleFields(engine_, request, now_ns_(), &limit);
  if (!fields.ok()) return LokiErrorResponse(fields.status());
  std::vector<std::string> values;
  if (auto it = fields->find(request.path_tail); it != fields->end()) {
    values.assign(it->second.values.begin(), it->second.values.end());
  }
  if (static_cast<int64_t>(values.size()) > limit) values.resize(static_cast<size_t>(limit));
  std::string out = "{\"values\":";
  AppendStringArray(&out, values);
  out.append(",\"limit\":");
  out.append(std::to_string(limit));
  out.push_back('}');
  return Raw(std::move(out));
}

HttpResponse LokiApi::Patterns(const HttpRequest&) {
  // No pattern ingester: Logs Drilldown then hides its Patterns tab.
  return Success("[]");
}

HttpResponse LokiApi::DrilldownLimits(const HttpRequest&) {
  std::string out =
      "{\"limits\":{\"discover_log_levels\":true,\"discover_service_name\":[\"service\",\"app\","
      "\"application\",\"app_name\",\"name\",\"app_kubernetes_io_name\",\"container\","
      "\"container_name\",\"k8s_container_name\",\"component\",\"workload\",\"job\","
      "\"k8s_job_name\"],\"log_level_fields\":[\"level\",\"LEVEL\",\"Level\",\"log.level\","
      "\"severity\",\"SEVERITY\",\"Severity\",\"SeverityText\",\"lvl\",\"LVL\",\"Lvl\","
      "\"severity_text\",\"Severity_Text\",\"SEVERITY_TEXT\"],\"max_entries_limit_per_query\":"
      "5000,\"max_line_size_truncate\":false,\"max_query_bytes_read\":\"0B\",\"max_query_length\":"
      "\"30d1h\",\"max_query_lookback\":\"0s\",\"max_query_range\":\"0s\",\"max_query_series\":"
      "500,\"metric_aggregation_enabled\":false,\"otlp_config\":{},\"pattern_persistence_enabled\":"
      "false,\"query_timeout\":\"2m\",\"retention_period\":\"0s\",\"retention_stream\":null,"
      "\"volume_enabled\":true,\"volume_max_series\":1000},\"pattern_ingester_enabled\":false,"
      "\"version\":";
  AppendJsonString(&out, options_.version);
  out.push_back('}');
  return Raw(std::move(out));
}

HttpResponse LokiApi::BuildInfo(const HttpRequest&) {
  std::string out = "{\"version\":";
  AppendJsonString(&out, options_.version);
  out.append(",\"revision\":\"otelbox\",\"branch\":\"HEAD\",\"buildUser\":\"otelbox\","
             "\"buildDate\":\"unknown\",\"goVersion\":\"n/a\"}");
  return Raw(std::move(out));
}

HttpResponse LokiApi::FormatQuery(const HttpRequest& request) {
  auto formatted = logql::FormatQuery(request.Param("query"));
  if (!formatted.ok()) return LokiErrorResponse(formatted.status());
  std::string data;
  AppendJsonString(&data, *formatted);
  return Success(data);
}

WebSocketRoute LokiApi::TailRoute() {
  return [this, state = tail_state_](const HttpRequest& request)
             -> std::variant<std::unique_ptr<WebSocketHandler>, HttpResponse> {
    if (tailer_ == nullptr) return LokiBadRequest("live tail is not available");
    auto tail_query = logql::TailQuery::Create(request.Param("query"));
    if (!tail_query.ok()) return LokiErrorResponse(tail_query.status());
    auto limit = ParseLokiLimit(request);
    if (!limit.ok()) return LokiErrorResponse(limit.status());
    auto b = ParseLokiBounds(request, now_ns_());
    if (!b.ok()) return LokiErrorResponse(b.status());
    int64_t delay_s = 0;
    if (std::string_view d = request.Param("delay_for"); !d.empty()) {
      char* end = nullptr;
      std::string s(d);
      delay_s = std::strtoll(s.c_str(), &end, 10);
      if (end != s.c_str() + s.size()) {
        return LokiBadRequest("strconv.Atoi: parsing \"" + s + "\": invalid syntax");
      }
      if (delay_s < 0) {
        return LokiBadRequest("delay_for value " + s + " is out of range [0, 4294967295]");
      }
      if (delay_s > kMaxTailDelaySeconds) {
        return LokiBadRequest("delay_for can't be greater than " +
                              std::to_string(kMaxTailDelaySeconds));
      }
    }
    const int open = state->open->fetch_add(1) + 1;
    if (open > options_.max_tail_connections) {
      state->open->fetch_sub(1);
      return LokiBadRequest("max concurrent tail requests limit exceeded, count > limit (" +
                            std::to_string(open) + " > " +
                            std::to_string(options_.max_tail_connections) + ")");
    }
    LokiTailRequest tail;
    tail.tenant = std::string(TenantOf(request));
    tail.query = std::string(request.Param("query"));
    tail.start_ns = b->start_ns;
    tail.limit = *limit;
    tail.delay_ns = delay_s * kNanosPerSecond;
    tail.max_frame_lines = options_.max_tail_frame_lines;
    return std::make_unique<LokiTailSession>(std::move(tail), *std::move(tail_query), engine_,
                                             tailer_, state->open);
  };
}

}  // namespace otelbox::web

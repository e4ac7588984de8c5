#include "web/prometheus_api.h"

#include "common/utf8.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>

#include "absl/status/status.h"
#include "query/promql/ast_printer.h"
#include "query/promql/parser.h"
#include "web/api_errors.h"
#include "web/json_writer.h"
#include "web/params.h"

namespace otelbox::web {
namespace {

// Prometheus >= 2.51 truncates metadata lists at `limit` and says so.
constexpr char kTruncatedWarning[] = "results truncated due to limit";

HttpResponse Success(std::string_view data, const std::vector<std::string>& warnings = {},
                     const std::vector<std::string>& infos = {}) {
  return HttpResponse::Json(200, RenderSuccess(data, warnings, infos));
}

HttpResponse Error(const absl::Status& s) { return PrometheusErrorResponse(s); }

HttpResponse BadData(std::string message) {
  return Error(absl::InvalidArgumentError(std::move(message)));
}

// Seconds as Go's encoding/json writes a float64: shortest round-trip digits, exponent
// form only below 1e-6 ("1e-07" becomes "1e-7").
void AppendGoFloat(std::string* out, double v) {
  char buf[64];
  const bool tiny = v != 0 && std::fabs(v) < 1e-6;
  auto r = std::to_chars(buf, buf + sizeof buf, v,
                         tiny ? std::chars_format::scientific : std::chars_format::fixed);
  std::string text(buf, r.ptr);
  if (size_t e = text.find("e-0"); e != std::string::npos) text.erase(e + 2, 1);
  *out += text;
}

// Counts the samples Select hands to the engine, for `stats`. One per query; thread-safe.
class CountingQuerier final : public storage::SeriesQuerier {
 public:
  explicit CountingQuerier(storage::SeriesQuerier* inner) : inner_(inner) {}
  int64_t samples() const { return samples_.load(); }

  absl::StatusOr<std::vector<storage::SeriesData>> Select(std::string_view tenant,
                                                          const storage::MatcherSet& matchers,
                                                          int64_t start_ms,
                                                          int64_t end_ms) override {
    auto r = inner_->Select(tenant, matchers, start_ms, end_ms);
    if (r.ok()) {
      for (const auto& s : *r) samples_ += static_cast<int64_t>(s.samples.size() + s.histograms.size());
    }
    return r;
  }
  absl::StatusOr<std::vector<storage::Labels>> Series(std::string_view tenant,
                                                      const std::vector<storage::MatcherSet>& sets,
                                                      int64_t start_ms, int64_t end_ms,
                                                      size_t limit) override {
    return inner_->Series(tenant, sets, start_ms, end_ms, limit);
  }
  absl::StatusOr<std::vector<std::string>> LabelNames(std::string_view tenant,
                                                      const std::vector<storage::MatcherSet>& sets,
                                                      int64_t start_ms, int64_t end_ms,
                                                      size_t limit) override {
    return inner_->LabelNames(tenant, sets, start_ms, end_ms, limit);
  }
  absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view tenant,
                                                       std::string_view name,
                                                       const std::vector<storage::MatcherSet>& sets,
                                                       int64_t start_ms, int64_t end_ms,
                                                       size_t limit) override {
    return inner_->LabelValues(tenant, name, sets, start_ms, end_ms, limit);
  }
  absl::StatusOr<std::vector<storage::MetricMetadata>> Metadata(std::string_view tenant,
                                                                std::string_view metric,
                                                                size_t limit) override {
    return inner_->Metadata(tenant, metric, limit);
  }
  absl::StatusOr<std::vector<storage::SeriesExemplars>> Exemplars(
      std::string_view tenant, const storage::MatcherSet& matchers, int64_t start_ms,
      int64_t end_ms) override {
    return inner_->Exemplars(tenant, matchers, start_ms, end_ms);
  }

 private:
  storage::SeriesQuerier* inner_;
  std::atomic<int64_t> samples_{0};
};

template <typename T>
void Truncate(std::vector<T>* items, size_t limit, std::vector<std::string>* warnings) {
  if (limit > 0 && items->size() > limit) {
    items->resize(limit);
    warnings->push_back(kTruncatedWarning);
  }
}

}  // namespace

// The parameters shared by /series, /labels and /label/<name>/values.
struct MetadataParams {
  size_t limit = 0;
  int64_t start_ms = storage::kMinTimeMs;
  int64_t end_ms = storage::kMaxTimeMs;
  std::vector<storage::MatcherSet> sets;
  // What to ask storage for: one more than the limit, to know whether to warn.
  size_t fetch_limit() const { return limit ? limit + 1 : 0; }
};

absl::StatusOr<MetadataParams> ParseMetadataParams(const HttpRequest& request) {
  MetadataParams p;
  auto limit = LimitParam(request);
  if (!limit.ok()) return limit.status();
  p.limit = *limit;
  auto start = TimeParam(request, "start", storage::kMinTimeMs);
  if (!start.ok()) return start.status();
  p.start_ms = *start;
  auto end = TimeParam(request, "end", storage::kMaxTimeMs);
  if (!end.ok()) return end.status();
  p.end_ms = *end;
  auto sets = MatchParams(request);
  if (!sets.ok()) return sets.status();
  p.sets = *std::move(sets);
  return p;
}

struct PrometheusApi::QueryOptions {
  size_t limit = 0;               // series returned at most; 0: all
  int64_t timeout_ms = -1;        // < 0: the server's
  int64_t lookback_delta_ms = 0;  // 0: the server's
  bool stats = false;             // any non-empty `stats` (Prometheus renders the same
                                  // for "true" and "all" without per-step statistics)
};

namespace {

// `limit` is checked before the times (Prometheus' query/queryRange); the rest after them.
absl::StatusOr<size_t> QueryLimitParam(const HttpRequest& request) { return LimitParam(request); }

absl::Status ParseQueryTail(const HttpRequest& request, int64_t* timeout_ms,
                            int64_t* lookback_delta_ms, bool* stats) {
  if (!request.Param("timeout").empty()) {
    auto t = DurationParam(request, "timeout");
    if (!t.ok()) return t.status();
    *timeout_ms = std::max<int64_t>(*t, 0);
  }
  if (std::string_view lb = request.Param("lookback_delta"); !lb.empty()) {
    auto d = ParseDurationMs(lb);
    if (!d.ok()) {
      return absl::InvalidArgumentError("error parsing lookback delta duration: " +
                                        std::string(d.status().message()));
    }
    *lookback_delta_ms = *d;
  }
  *stats = !request.Param("stats").empty();
  return absl::OkStatus();
}

}  // namespace

PrometheusApi::PrometheusApi(storage::SeriesQuerier* querier, query::promql::Engine* engine,
                             BuildInfo info, std::function<int64_t()> now_ms,
                             query::promql::EngineOptions engine_options)
    : querier_(querier),
      engine_(engine),
      info_(std::move(info)),
      now_ms_(std::move(now_ms)),
      engine_options_(engine_options) {}

HttpResponse PrometheusApi::Execute(
    const QueryOptions& options,
    const std::function<absl::StatusOr<query::QueryResult>(query::promql::Engine&)>& run) {
  const bool own_timeout = options.timeout_ms >= 0 && options.timeout_ms < engine_options_.timeout_ms;
  const bool own_lookback = options.lookback_delta_ms > 0;
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<query::QueryResult> result;
  CountingQuerier counting(querier_);
  if (own_timeout || own_lookback || options.stats) {
    // Engines hold no per-query state, so one per request costs a copy of the options.
    query::promql::EngineOptions eo = engine_options_;
    if (own_timeout) eo.timeout_ms = options.timeout_ms;
    if (own_lookback) eo.lookback_delta_ms = options.lookback_delta_ms;
    query::promql::Engine engine(options.stats ? &counting : querier_, eo);
    result = run(engine);
  } else {
    result = run(*engine_);
  }
  const double exec_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!result.ok()) return Error(result.status());
  // `limit` truncates vectors and matrices (after sorting), never scalars or strings.
  if (options.limit > 0) {
    bool truncated = false;
    if (auto* v = std::get_if<query::Vector>(&result->value); v && v->size() > options.limit) {
      v->resize(options.limit);
      truncated = true;
    } else if (auto* m = std::get_if<query::Matrix>(&result->value); m && m->size() > options.limit) {
      m->resize(options.limit);
      truncated = true;
    }
    if (truncated) result->warnings.push_back(kTruncatedWarning);
  }
  std::string data = RenderQueryData(result->value);
  if (options.stats && !data.empty() && data.back() == '}') {
    // Prometheus' stats.BuiltinStats. The engine runs a query in one pass without a queue,
    // so the evaluation timings are the whole execution; the sample counts are those read
    // from storage (Prometheus counts samples per step and the peak in memory).
    data.pop_back();
    data += ",\"stats\":{\"timings\":{";
    const std::pair<const char*, double> timings[] = {
        {"evalTotalTime", exec_s}, {"resultSortTime", 0},   {"queryPreparationTime", 0},
        {"innerEvalTime", exec_s}, {"execQueueTime", 0},    {"execTotalTime", exec_s}};
    for (size_t i = 0; i < std::size(timings); ++i) {
      if (i) data += ',';
      data += '"';
      data += timings[i].first;
      data += "\":";
      AppendGoFloat(&data, timings[i].second);
    }
    data += "},\"samples\":{\"totalQueryableSamples\":" + std::to_string(counting.samples()) +
            ",\"peakSamples\":" + std::to_string(counting.samples()) + "}}}";
  }
  return Success(data, result->warnings, result->infos);
}

void PrometheusApi::Register(Router* router) {
  const std::vector<std::string> kGetPost = {"GET", "POST"};
  auto bind = [this](HttpResponse (PrometheusApi::*fn)(const HttpRequest&)) {
    return [this, fn](const HttpRequest& r) { return (this->*fn)(r); };
  };
  router->Handle("/api/v1/query", kGetPost, bind(&PrometheusApi::Query));
  router->Handle("/api/v1/query_range", kGetPost, bind(&PrometheusApi::QueryRange));
  router->Handle("/api/v1/series", kGetPost, bind(&PrometheusApi::Series));
  router->Handle("/api/v1/labels", kGetPost, bind(&PrometheusApi::Labels));
  router->HandlePrefix("/api/v1/label/", "/values", "name", kGetPost,
                       bind(&PrometheusApi::LabelValues));
  router->Handle("/api/v1/metadata", kGetPost, bind(&PrometheusApi::Metadata));
  router->Handle("/api/v1/query_exemplars", kGetPost, bind(&PrometheusApi::QueryExemplars));
  router->Handle("/api/v1/status/buildinfo", kGetPost, bind(&PrometheusApi::BuildInfoHandler));
  router->Handle("/api/v1/rules", kGetPost, bind(&PrometheusApi::Rules));
  router->Handle("/api/v1/format_query", kGetPost, bind(&PrometheusApi::FormatQuery));
  // A 200 here makes Grafana's alerting believe we are Thanos (contract §5.10).
  router->Handle("/api/v1/status/flags", kGetPost, [](const HttpRequest&) {
    return HttpResponse::Text(404, "404 page not found\n");
  });
}

HttpResponse PrometheusApi::Query(const HttpRequest& request) {
  QueryOptions options;
  auto limit = QueryLimitParam(request);
  if (!limit.ok()) return Error(limit.status());
  options.limit = *limit;
  auto t = TimeParam(request, "time", now_ms_());
  if (!t.ok()) return Error(t.status());
  if (auto s = ParseQueryTail(request, &options.timeout_ms, &options.lookback_delta_ms,
                              &options.stats);
      !s.ok()) {
    return Error(s);
  }
  return Execute(options, [&](query::promql::Engine& engine) {
    return engine.Instant(TenantOf(request), request.Param("query"), *t);
  });
}

HttpResponse PrometheusApi::QueryRange(const HttpRequest& request) {
  QueryOptions options;
  auto limit = QueryLimitParam(request);
  if (!limit.ok()) return Error(limit.status());
  options.limit = *limit;
  auto start = RequiredTimeParam(request, "start");
  if (!start.ok()) return Error(start.status());
  auto end = RequiredTimeParam(request, "end");
  if (!end.ok()) return Error(end.status());
  if (*end < *start) return BadData("end timestamp must not be before start time");
  auto step = DurationParam(request, "step");
  if (!step.ok()) return Error(step.status());
  if (*step <= 0) {
    return BadData(
        "zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  // For safety, limit the number of returned points per timeseries (as Prometheus).
  if ((static_cast<uint64_t>(*end) - static_cast<uint64_t>(*start)) / static_cast<uint64_t>(*step) >
      11000) {
    return BadData(
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
        "resolution (?step=XX)");
  }
  if (auto s = ParseQueryTail(request, &options.timeout_ms, &options.lookback_delta_ms,
                              &options.stats);
      !s.ok()) {
    return Error(s);
  }
  return Execute(options, [&](query::promql::Engine& engine) {
    return engine.Range(TenantOf(request), request.Param("query"), *start, *end, *step);
  });
}

HttpResponse PrometheusApi::Series(const HttpRequest& request) {
  if (!request.HasParam("match[]")) return BadData("no match[] parameter provided");
  auto p = ParseMetadataParams(request);
  if (!p.ok()) return Error(p.status());
  auto series = querier_->Series(TenantOf(request), p->sets, p->start_ms, p->end_ms, p->fetch_limit());
  if (!series.ok()) return Error(series.status());
  std::vector<std::string> warnings;
  Truncate(&*series, p->limit, &warnings);
  std::string data = "[";
  for (size_t i = 0; i < series->size(); ++i) {
    if (i) data += ',';
    AppendLabels(&data, (*series)[i]);
  }
  data += ']';
  return Success(data, warnings);
}

HttpResponse PrometheusApi::Labels(const HttpRequest& request) {
  auto p = ParseMetadataParams(request);
  if (!p.ok()) return Error(p.status());
  auto names =
      querier_->LabelNames(TenantOf(request), p->sets, p->start_ms, p->end_ms, p->fetch_limit());
  if (!names.ok()) return Error(names.status());
  std::sort(names->begin(), names->end());
  std::vector<std::string> warnings;
  Truncate(&*names, p->limit, &warnings);
  std::string data;
  AppendStringArray(&data, *names);
  return Success(data, warnings);
}

HttpResponse PrometheusApi::LabelValues(const HttpRequest& request) {
  // Grafana escapes non-legacy names as U__… (contract §5.7).
  std::string name = UnescapeLabelName(request.path_tail);
  if (name.empty() || !IsValidUtf8(name)) {
    std::string quoted;
    AppendJsonString(&quoted, name);
    return BadData("invalid label name: " + quoted);
  }
  auto p = ParseMetadataParams(request);
  if (!p.ok()) return Error(p.status());
  auto values = querier_->LabelValues(TenantOf(request), name, p->sets, p->start_ms, p->end_ms,
                                      p->fetch_limit());
  if (!values.ok()) return Error(values.status());
  std::sort(values->begin(), values->end());
  std::vector<std::string> warnings;
  Truncate(&*values, p->limit, &warnings);
  std::string data;
  AppendStringArray(&data, *values);
  return Success(data, warnings);
}

HttpResponse PrometheusApi::Metadata(const HttpRequest& request) {
  auto limit = LimitParam(request);
  if (!limit.ok()) return Error(limit.status());
  auto md = querier_->Metadata(TenantOf(request), request.Param("metric"), *limit);
  if (!md.ok()) return Error(md.status());
  return Success(RenderMetadata(*md));
}

HttpResponse PrometheusApi::QueryExemplars(const HttpRequest& request) {
  auto start = TimeParam(request, "start", storage::kMinTimeMs);
  if (!start.ok()) return Error(start.status());
  auto end = TimeParam(request, "end", storage::kMaxTimeMs);
  if (!end.ok()) return Error(end.status());
  if (*end < *start) return BadData("end timestamp must not be before start timestamp");
  auto expr = query::promql::ParseExpr(request.Param("query"));
  if (!expr.ok()) return Error(expr.status());
  // Exemplars of every selector in the query, merged by series.
  std::map<storage::Labels, std::vector<storage::Exemplar>> merged;
  for (const auto* vs : query::promql::ExtractSelectors(**expr)) {
    auto found = querier_->Exemplars(TenantOf(request), vs->matchers, *start, *end);
    if (!found.ok()) return Error(found.status());
    for (auto& se : *found) {
      auto& dst = merged[se.series_labels];
      if (dst.empty()) dst = std::move(se.exemplars);
    }
  }
  std::vector<storage::SeriesExemplars> out;
  for (auto& [labels, ex] : merged) out.push_back({labels, std::move(ex)});
  return Success(RenderExemplars(out));
}

HttpResponse PrometheusApi::BuildInfoHandler(const HttpRequest&) {
  // No "features" key: a non-empty one makes Grafana treat us as Mimir (contract §5.4).
  std::string data = "{\"version\":";
  AppendJsonString(&data, info_.version);
  data += ",\"revision\":";
  AppendJsonString(&data, info_.revision);
  data += ",\"branch\":";
  AppendJsonString(&data, info_.branch);
  data += ",\"buildUser\":";
  AppendJsonString(&data, info_.build_user);
  data += ",\"buildDate\":";
  AppendJsonString(&data, info_.build_date);
  data += ",\"goVersion\":";
  AppendJsonString(&data, info_.go_version);
  data += '}';
  return Success(data);
}

HttpResponse PrometheusApi::Rules(const HttpRequest&) {
  return Success("{\"groups\":[]}");
}

HttpResponse PrometheusApi::FormatQuery(const HttpRequest& request) {
  auto expr = query::promql::ParseExpr(request.Param("query"));
  if (!expr.ok()) return Error(expr.status());
  std::string data;
  AppendJsonString(&data, query::promql::Print(**expr));
  return Success(data);
}

}  // namespace otelbox::web

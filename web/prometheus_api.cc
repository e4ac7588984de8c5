#include "web/prometheus_api.h"

#include "common/utf8.h"

#include <algorithm>
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

// `timeout` is accepted (Grafana sends it) and validated, but queries are not yet bounded
// by it; the query pool with deadlines comes with the full engine.
absl::Status CheckTimeout(const HttpRequest& request) {
  if (request.Param("timeout").empty()) return absl::OkStatus();
  return DurationParam(request, "timeout").status();
}

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

PrometheusApi::PrometheusApi(storage::SeriesQuerier* querier, query::promql::Engine* engine,
                             BuildInfo info, std::function<int64_t()> now_ms)
    : querier_(querier), engine_(engine), info_(std::move(info)), now_ms_(std::move(now_ms)) {}

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
  auto t = TimeParam(request, "time", now_ms_());
  if (!t.ok()) return Error(t.status());
  if (auto s = CheckTimeout(request); !s.ok()) return Error(s);
  auto result = engine_->Instant(TenantOf(request), request.Param("query"), *t);
  if (!result.ok()) return Error(result.status());
  return Success(RenderQueryData(result->value), result->warnings, result->infos);
}

HttpResponse PrometheusApi::QueryRange(const HttpRequest& request) {
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
  if (auto s = CheckTimeout(request); !s.ok()) return Error(s);
  auto result = engine_->Range(TenantOf(request), request.Param("query"), *start, *end, *step);
  if (!result.ok()) return Error(result.status());
  return Success(RenderQueryData(result->value), result->warnings, result->infos);
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

#include "query/promql/engine.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "query/promql/ast.h"
#include "query/promql/evaluator.h"
#include "query/promql/parser.h"

namespace otelbox::query::promql {
namespace {

// Removes the names marked for delayed removal (Prometheus' cleanupMetricLabels).
void FinishNames(std::vector<Series>* series) {
  bool any = false;
  for (auto& s : *series) {
    if (!s.drop_name) continue;
    s.labels = DropMetricName(s.labels);
    s.drop_name = false;
    any = true;
  }
  if (any) MergeSameLabels(series);
}

// Instant results keep the evaluator's order where the query asked for one.
bool KeepsOrder(const Expr& e) {
  if (auto* p = e.As<ParenExpr>()) return KeepsOrder(*p->expr);
  if (auto* c = e.As<Call>()) {
    return c->func == "sort" || c->func == "sort_desc" || c->func == "sort_by_label" ||
           c->func == "sort_by_label_desc";
  }
  if (auto* a = e.As<AggregateExpr>()) return a->op == "topk" || a->op == "bottomk";
  return false;
}

struct Evaluation {
  QueryContext ctx;
  EvalValue value;
};

// Runs the evaluation; throws EvalError.
void Run(std::string_view query, const Expr& expr, storage::SeriesQuerier* querier,
         const EngineOptions& options, std::string_view tenant, Steps steps, Evaluation* out) {
  QueryContext& ctx = out->ctx;
  ctx.query = query;
  ctx.querier = querier;
  ctx.options = &options;
  ctx.tenant = tenant;
  ctx.start_ms = steps.start_ms;
  ctx.end_ms = steps.end_ms();
  ctx.step_ms = steps.step_ms;
  ctx.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  PreloadSelectors(expr, &ctx);
  Evaluator ev(&ctx, steps);
  out->value = ev.Eval(expr);
  FinishNames(&out->value.series);
}

void AddAnnotations(const QueryContext& ctx, QueryResult* result) {
  for (const auto& w : ctx.warnings) {
    if (std::find(result->warnings.begin(), result->warnings.end(), w) == result->warnings.end()) {
      result->warnings.push_back(w);
    }
  }
  for (const auto& i : ctx.infos) {
    if (std::find(result->infos.begin(), result->infos.end(), i) == result->infos.end()) {
      result->infos.push_back(i);
    }
  }
}

}  // namespace

Engine::Engine(storage::SeriesQuerier* querier, EngineOptions options)
    : querier_(querier), options_(options) {}

absl::StatusOr<QueryResult> Engine::Instant(std::string_view tenant, std::string_view expr,
                                            int64_t t_ms) {
  auto parsed = ParseExpr(expr);
  if (!parsed.ok()) return parsed.status();
  t_ms = std::clamp(t_ms, storage::kMinTimeMs, storage::kMaxTimeMs);
  try {
    Evaluation ev;
    Run(expr, **parsed, querier_, options_, tenant, Steps{t_ms, 0, 1}, &ev);
    EvalValue& v = ev.value;
    QueryResult result;
    switch (v.type) {
      case ValueType::kScalar: result.value = Scalar{t_ms, v.scalars[0]}; break;
      case ValueType::kString: result.value = String{t_ms, v.str}; break;
      case ValueType::kVector: {
        Vector out;
        for (auto& s : v.series) {
          if (!s.samples.empty()) {
            out.push_back(VectorElement{std::move(s.labels), t_ms, s.samples[0].value, {}});
          } else {
            out.push_back(VectorElement{std::move(s.labels), t_ms, 0, std::move(s.histograms[0].h)});
          }
        }
        if (!KeepsOrder(**parsed)) {
          std::sort(out.begin(), out.end(), [](const VectorElement& a, const VectorElement& b) {
            return a.labels < b.labels;
          });
        }
        result.value = std::move(out);
        break;
      }
      case ValueType::kMatrix: {
        Matrix out;
        for (auto& s : v.series) {
          out.push_back(
              MatrixSeries{std::move(s.labels), std::move(s.samples), std::move(s.histograms)});
        }
        std::sort(out.begin(), out.end(),
                  [](const MatrixSeries& a, const MatrixSeries& b) { return a.labels < b.labels; });
        result.value = std::move(out);
        break;
      }
      case ValueType::kNone: return absl::InternalError("BUG: expression without a type");
    }
    AddAnnotations(ev.ctx, &result);
    return result;
  } catch (const EvalError& e) {
    return e.status;
  }
}

absl::StatusOr<QueryResult> Engine::Range(std::string_view tenant, std::string_view expr,
                                          int64_t start_ms, int64_t end_ms, int64_t step_ms) {
  if (end_ms < start_ms) {
    return absl::InvalidArgumentError("end timestamp must not be before start time");
  }
  if (step_ms <= 0) {
    return absl::InvalidArgumentError(
        "zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  start_ms = std::clamp(start_ms, storage::kMinTimeMs, storage::kMaxTimeMs);
  end_ms = std::clamp(end_ms, storage::kMinTimeMs, storage::kMaxTimeMs);
  uint64_t span = static_cast<uint64_t>(end_ms) - static_cast<uint64_t>(start_ms);
  if (span / static_cast<uint64_t>(step_ms) > static_cast<uint64_t>(options_.max_points_per_series)) {
    return absl::InvalidArgumentError(
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
        "resolution (?step=XX)");
  }
  auto parsed = ParseExpr(expr);
  if (!parsed.ok()) return parsed.status();
  ValueType type = TypeOf(**parsed);
  if (type != ValueType::kScalar && type != ValueType::kVector) {
    return absl::InvalidArgumentError("invalid expression type \"" +
                                      std::string(ValueTypeDescription(type)) +
                                      "\" for range query, must be Scalar or instant Vector");
  }
  Steps steps{start_ms, step_ms, static_cast<size_t>(span / static_cast<uint64_t>(step_ms)) + 1};
  try {
    Evaluation ev;
    Run(expr, **parsed, querier_, options_, tenant, steps, &ev);
    EvalValue& v = ev.value;
    QueryResult result;
    Matrix out;
    if (v.type == ValueType::kScalar) {
      MatrixSeries s;
      for (size_t i = 0; i < steps.count; ++i) s.samples.push_back({steps.At(i), v.scalars[i]});
      out.push_back(std::move(s));
    } else {
      for (auto& s : v.series) {
        out.push_back(
            MatrixSeries{std::move(s.labels), std::move(s.samples), std::move(s.histograms)});
      }
      std::sort(out.begin(), out.end(),
                [](const MatrixSeries& a, const MatrixSeries& b) { return a.labels < b.labels; });
    }
    result.value = std::move(out);
    AddAnnotations(ev.ctx, &result);
    return result;
  } catch (const EvalError& e) {
    return e.status;
  }
}

}  // namespace otelbox::query::promql

#include "query/promql/engine.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/status/status.h"
#include "query/promql/ast.h"
#include "query/promql/parser.h"

namespace otelbox::query::promql {
namespace {

int64_t SatSub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return b > 0 ? storage::kMinTimeMs : storage::kMaxTimeMs;
  return std::clamp(r, storage::kMinTimeMs, storage::kMaxTimeMs);
}

// Thrown inside the evaluator only, caught at the Engine's entry (STYLE.md 3.3).
struct EvalError {
  absl::Status status;
};

// The evaluation steps: start, start+step, ..., <= end. An instant query is one step.
struct Steps {
  int64_t start_ms;
  int64_t step_ms;
  size_t count;
  int64_t At(size_t i) const { return start_ms + static_cast<int64_t>(i) * step_ms; }
};

// A value at every step. Instant vectors are a Matrix whose samples sit at step times.
struct EvalValue {
  ValueType type = ValueType::kNone;
  std::vector<double> scalars;  // kScalar: one per step
  std::string str;              // kString
  Matrix series;                // kVector (per step) / kMatrix (raw samples, instant only)
};

storage::Labels DropMetricName(const storage::Labels& labels) {
  std::vector<storage::Label> out;
  for (const auto& l : labels) {
    if (l.name != storage::kMetricNameLabel) out.push_back(l);
  }
  return storage::Labels(std::move(out));
}

double ScalarBinop(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kAdd: return l + r;
    case BinaryOp::kSub: return l - r;
    case BinaryOp::kMul: return l * r;
    case BinaryOp::kDiv: return l / r;
    case BinaryOp::kMod: return std::fmod(l, r);
    case BinaryOp::kPow: return std::pow(l, r);
    case BinaryOp::kAtan2: return std::atan2(l, r);
    case BinaryOp::kEqlc: return l == r;
    case BinaryOp::kNeq: return l != r;
    case BinaryOp::kGtr: return l > r;
    case BinaryOp::kLss: return l < r;
    case BinaryOp::kGte: return l >= r;
    case BinaryOp::kLte: return l <= r;
    default: return std::nan("");
  }
}

class Evaluator {
 public:
  Evaluator(storage::SeriesQuerier* querier, const EngineOptions& options, std::string_view tenant,
            Steps steps)
      : querier_(querier), options_(options), tenant_(tenant), steps_(steps) {}

  EvalValue Eval(const Expr& e) {
    if (auto* n = e.As<NumberLiteral>()) {
      EvalValue v;
      v.type = ValueType::kScalar;
      v.scalars.assign(steps_.count, n->value);
      return v;
    }
    if (auto* s = e.As<StringLiteral>()) {
      EvalValue v;
      v.type = ValueType::kString;
      v.str = s->value;
      return v;
    }
    if (auto* p = e.As<ParenExpr>()) return Eval(*p->expr);
    if (auto* u = e.As<UnaryExpr>()) return EvalUnary(*u);
    if (auto* b = e.As<BinaryExpr>()) return EvalBinary(*b);
    if (auto* vs = e.As<VectorSelector>()) return EvalVectorSelector(*vs);
    if (auto* ms = e.As<MatrixSelector>()) return EvalMatrixSelector(*ms);
    if (auto* c = e.As<Call>()) Unsupported("function \"" + c->func + "\" is not supported yet");
    if (auto* a = e.As<AggregateExpr>()) {
      Unsupported("aggregation \"" + a->op + "\" is not supported yet");
    }
    if (e.As<SubqueryExpr>()) Unsupported("subqueries are not supported yet");
    Unsupported("expression is not supported yet");
  }

 private:
  [[noreturn]] static void Unsupported(std::string message) {
    throw EvalError{absl::UnimplementedError(std::move(message))};
  }

  EvalValue EvalUnary(const UnaryExpr& u) {
    EvalValue v = Eval(*u.expr);
    if (!u.negate) return v;
    if (v.type == ValueType::kScalar) {
      for (double& x : v.scalars) x = -x;
      return v;
    }
    for (auto& s : v.series) {
      s.labels = DropMetricName(s.labels);
      for (auto& p : s.samples) p.value = -p.value;
    }
    CheckUniqueLabels(v.series);
    return v;
  }

  EvalValue EvalBinary(const BinaryExpr& b) {
    EvalValue l = Eval(*b.lhs);
    EvalValue r = Eval(*b.rhs);
    if (l.type == ValueType::kScalar && r.type == ValueType::kScalar) {
      for (size_t i = 0; i < l.scalars.size(); ++i) {
        l.scalars[i] = ScalarBinop(b.op, l.scalars[i], r.scalars[i]);
      }
      return l;
    }
    if (l.type == ValueType::kVector && r.type == ValueType::kVector) {
      Unsupported("binary operations between two vectors are not supported yet");
    }
    // One vector, one scalar.
    bool vector_left = l.type == ValueType::kVector;
    EvalValue& vec = vector_left ? l : r;
    const std::vector<double>& sc = vector_left ? r.scalars : l.scalars;
    bool comparison = IsComparison(b.op);
    Matrix out;
    for (auto& s : vec.series) {
      MatrixSeries o;
      o.labels = (!comparison || b.return_bool) ? DropMetricName(s.labels) : s.labels;
      for (const auto& p : s.samples) {
        size_t i = StepIndex(p.t_ms);
        double lv = vector_left ? p.value : sc[i];
        double rv = vector_left ? sc[i] : p.value;
        double res = ScalarBinop(b.op, lv, rv);
        if (comparison) {
          if (b.return_bool) {
            o.samples.push_back({p.t_ms, res});
          } else if (res != 0) {
            o.samples.push_back({p.t_ms, p.value});  // filter: keep the vector's value
          }
        } else {
          o.samples.push_back({p.t_ms, res});
        }
      }
      if (!o.samples.empty()) out.push_back(std::move(o));
    }
    CheckUniqueLabels(out);
    EvalValue v;
    v.type = ValueType::kVector;
    v.series = std::move(out);
    return v;
  }

  size_t StepIndex(int64_t t_ms) const {
    return steps_.step_ms == 0 ? 0 : static_cast<size_t>((t_ms - steps_.start_ms) / steps_.step_ms);
  }

  // Prometheus refuses a vector in which two elements have the same labels (that
  // happens once __name__ is dropped).
  static void CheckUniqueLabels(Matrix& m) {
    std::sort(m.begin(), m.end(),
              [](const MatrixSeries& a, const MatrixSeries& b) { return a.labels < b.labels; });
    for (size_t i = 1; i < m.size(); ++i) {
      if (m[i].labels != m[i - 1].labels) continue;
      // Only a problem when both have a value at the same step.
      const auto& a = m[i - 1].samples;
      const auto& b = m[i].samples;
      size_t x = 0, y = 0;
      while (x < a.size() && y < b.size()) {
        if (a[x].t_ms == b[y].t_ms) {
          throw EvalError{absl::FailedPreconditionError(
              "vector cannot contain metrics with the same labelset")};
        }
        if (a[x].t_ms < b[y].t_ms) {
          ++x;
        } else {
          ++y;
        }
      }
      // Merge the two so that later operations see one series.
      std::vector<storage::Sample> merged;
      std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(merged),
                 [](const storage::Sample& p, const storage::Sample& q) { return p.t_ms < q.t_ms; });
      m[i].samples = std::move(merged);
      m.erase(m.begin() + static_cast<std::ptrdiff_t>(i - 1));
      --i;
    }
  }

  std::vector<storage::SeriesData> Select(const VectorSelector& vs, int64_t start_ms,
                                          int64_t end_ms) {
    if (vs.at) Unsupported("the @ modifier is not supported yet");
    auto data = querier_->Select(tenant_, vs.matchers, start_ms, end_ms);
    if (!data.ok()) throw EvalError{data.status()};
    return std::move(*data);
  }

  EvalValue EvalVectorSelector(const VectorSelector& vs) {
    int64_t first = SatSub(steps_.At(0), vs.offset_ms);
    int64_t last = SatSub(steps_.At(steps_.count - 1), vs.offset_ms);
    auto data = Select(vs, SatSub(first, options_.lookback_delta_ms - 1), last);
    EvalValue v;
    v.type = ValueType::kVector;
    for (auto& sd : data) {
      MatrixSeries out;
      const auto& samples = sd.samples;
      size_t idx = 0;  // first sample after the current reference time
      for (size_t i = 0; i < steps_.count; ++i) {
        int64_t t = steps_.At(i);
        int64_t ref = SatSub(t, vs.offset_ms);
        while (idx < samples.size() && samples[idx].t_ms <= ref) ++idx;
        if (idx == 0) continue;
        const auto& s = samples[idx - 1];
        // Window (ref - lookback, ref]; a stale marker as newest sample means "no value".
        if (s.t_ms <= SatSub(ref, options_.lookback_delta_ms) || storage::IsStaleNaN(s.value)) {
          continue;
        }
        out.samples.push_back({t, s.value});
      }
      if (out.samples.empty()) continue;
      out.labels = std::move(sd.labels);
      v.series.push_back(std::move(out));
    }
    return v;
  }

  EvalValue EvalMatrixSelector(const MatrixSelector& ms) {
    const auto& vs = *ms.vector_selector->As<VectorSelector>();
    // A range vector is only a query result for instant queries; Range() rejects it up
    // front, and functions that would take one are not supported yet.
    int64_t ref = SatSub(steps_.At(0), vs.offset_ms);
    int64_t from = SatSub(ref, ms.range_ms - 1);
    auto data = Select(vs, from, ref);
    EvalValue v;
    v.type = ValueType::kMatrix;
    for (auto& sd : data) {
      MatrixSeries out;
      for (const auto& s : sd.samples) {
        if (s.t_ms < from || s.t_ms > ref || storage::IsStaleNaN(s.value)) continue;
        out.samples.push_back(s);
      }
      if (out.samples.empty()) continue;
      out.labels = std::move(sd.labels);
      v.series.push_back(std::move(out));
    }
    return v;
  }

  storage::SeriesQuerier* querier_;
  const EngineOptions& options_;
  std::string_view tenant_;
  Steps steps_;
};

}  // namespace

Engine::Engine(storage::SeriesQuerier* querier, EngineOptions options)
    : querier_(querier), options_(options) {}

absl::StatusOr<QueryResult> Engine::Instant(std::string_view tenant, std::string_view expr,
                                            int64_t t_ms) {
  auto parsed = ParseExpr(expr);
  if (!parsed.ok()) return parsed.status();
  t_ms = std::clamp(t_ms, storage::kMinTimeMs, storage::kMaxTimeMs);
  try {
    Evaluator ev(querier_, options_, tenant, Steps{t_ms, 0, 1});
    EvalValue v = ev.Eval(**parsed);
    QueryResult result;
    switch (v.type) {
      case ValueType::kScalar: result.value = Scalar{t_ms, v.scalars[0]}; break;
      case ValueType::kString: result.value = String{t_ms, v.str}; break;
      case ValueType::kVector: {
        Vector out;
        for (auto& s : v.series) {
          out.push_back(VectorElement{std::move(s.labels), t_ms, s.samples[0].value});
        }
        std::sort(out.begin(), out.end(), [](const VectorElement& a, const VectorElement& b) {
          return a.labels < b.labels;
        });
        result.value = std::move(out);
        break;
      }
      case ValueType::kMatrix:
        std::sort(v.series.begin(), v.series.end(),
                  [](const MatrixSeries& a, const MatrixSeries& b) { return a.labels < b.labels; });
        result.value = std::move(v.series);
        break;
      case ValueType::kNone: return absl::InternalError("BUG: expression without a type");
    }
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
    Evaluator ev(querier_, options_, tenant, steps);
    EvalValue v = ev.Eval(**parsed);
    QueryResult result;
    Matrix out;
    if (v.type == ValueType::kScalar) {
      MatrixSeries s;
      for (size_t i = 0; i < steps.count; ++i) s.samples.push_back({steps.At(i), v.scalars[i]});
      out.push_back(std::move(s));
    } else {
      out = std::move(v.series);
      std::sort(out.begin(), out.end(),
                [](const MatrixSeries& a, const MatrixSeries& b) { return a.labels < b.labels; });
    }
    result.value = std::move(out);
    return result;
  } catch (const EvalError& e) {
    return e.status;
  }
}

}  // namespace otelbox::query::promql

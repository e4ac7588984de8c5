#include "query/promql/evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string_view>

#include "query/promql/ast_printer.h"
#include "query/promql/histogram_math.h"

namespace otelbox::query::promql {

void ThrowInvalid(std::string message) {
  throw EvalError{absl::InvalidArgumentError(std::move(message))};
}
void ThrowExecution(std::string message) {
  throw EvalError{absl::FailedPreconditionError(std::move(message))};
}
void ThrowUnsupported(std::string message) {
  throw EvalError{absl::UnimplementedError(std::move(message))};
}

int64_t SatSub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return b > 0 ? storage::kMinTimeMs : storage::kMaxTimeMs;
  return std::clamp(r, storage::kMinTimeMs, storage::kMaxTimeMs);
}

int64_t SatAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? storage::kMaxTimeMs : storage::kMinTimeMs;
  return std::clamp(r, storage::kMinTimeMs, storage::kMaxTimeMs);
}

bool IsNameLabel(std::string_view name) {
  return name == storage::kMetricNameLabel || name == "__type__" || name == "__unit__";
}

storage::Labels DropMetricName(const storage::Labels& labels) {
  std::vector<storage::Label> out;
  out.reserve(labels.size());
  for (const auto& l : labels) {
    if (!IsNameLabel(l.name)) out.push_back(l);
  }
  return storage::Labels(std::move(out));
}

std::string MetricNameOf(const storage::Labels& labels) {
  return std::string(labels.Get(storage::kMetricNameLabel));
}

double KahanSumInc(double inc, double sum, double* c) {
  double t = sum + inc;
  if (std::isinf(t)) {
    *c = 0;
  } else if (std::fabs(sum) >= std::fabs(inc)) {
    *c += (sum - t) + inc;
  } else {
    *c += (inc - t) + sum;
  }
  return t;
}

double Quantile(double q, std::vector<double> values) {
  if (values.empty() || std::isnan(q)) return std::nan("");
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  // NaNs sort first, as Prometheus' vectorByValueHeap.
  std::sort(values.begin(), values.end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    return a < b;
  });
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

std::string FormatValue(double v) { return FormatFloat(v); }

namespace {

// Merges two ascending point lists; equal timestamps are a duplicate labelset.
template <typename P>
std::vector<P> MergePoints(std::vector<P>* a, std::vector<P>* b) {
  std::vector<P> merged;
  merged.reserve(a->size() + b->size());
  size_t i = 0, j = 0;
  while (i < a->size() || j < b->size()) {
    if (j == b->size() || (i < a->size() && (*a)[i].t_ms < (*b)[j].t_ms)) {
      merged.push_back(std::move((*a)[i++]));
    } else if (i == a->size() || (*b)[j].t_ms < (*a)[i].t_ms) {
      merged.push_back(std::move((*b)[j++]));
    } else {
      ThrowExecution("vector cannot contain metrics with the same labelset");
    }
  }
  return merged;
}

// A float and a histogram at the same time in one series.
void CheckKindsDisjoint(const Series& s) {
  if (s.samples.empty() || s.histograms.empty()) return;
  size_t i = 0, j = 0;
  while (i < s.samples.size() && j < s.histograms.size()) {
    if (s.samples[i].t_ms == s.histograms[j].t_ms) {
      ThrowExecution("vector cannot contain metrics with the same labelset");
    }
    if (s.samples[i].t_ms < s.histograms[j].t_ms) {
      ++i;
    } else {
      ++j;
    }
  }
}

}  // namespace

void MergeSameLabels(std::vector<Series>* series) {
  if (series->size() < 2) return;
  {
    // Distinct hashes prove distinct label sets, which is the common case; a tree of
    // thousands of label sets compared string by string cost more than the function
    // it follows (bench/promql_bench).
    std::vector<size_t> hashes;
    hashes.reserve(series->size());
    for (const Series& s : *series) {
      size_t h = s.labels.size();
      for (const storage::Label& l : s.labels) {
        h = h * 1000003 ^ std::hash<std::string_view>{}(l.name);
        h = h * 1000003 ^ std::hash<std::string_view>{}(l.value);
      }
      hashes.push_back(h);
    }
    std::sort(hashes.begin(), hashes.end());
    if (std::adjacent_find(hashes.begin(), hashes.end()) == hashes.end()) return;
  }
  std::map<storage::Labels, size_t> first;
  bool dup = false;
  for (size_t i = 0; i < series->size() && !dup; ++i) {
    dup = !first.try_emplace((*series)[i].labels, i).second;
  }
  if (!dup) return;
  first.clear();
  std::vector<Series> out;
  for (auto& s : *series) {
    auto [it, inserted] = first.try_emplace(s.labels, out.size());
    if (inserted) {
      out.push_back(std::move(s));
      continue;
    }
    Series& into = out[it->second];
    into.samples = MergePoints(&into.samples, &s.samples);
    into.histograms = MergePoints(&into.histograms, &s.histograms);
    CheckKindsDisjoint(into);
  }
  *series = std::move(out);
}

// ---- QueryContext ----

std::string QueryContext::Position(int32_t pos) const {
  if (pos < 0 || static_cast<size_t>(pos) > query.size()) return "invalid position";
  int line = 1;
  int32_t last_break = -1;
  for (int32_t i = 0; i < pos; ++i) {
    if (query[static_cast<size_t>(i)] == '\n') {
      last_break = i;
      ++line;
    }
  }
  return std::to_string(line) + ":" + std::to_string(pos - last_break);
}

void QueryContext::Warn(std::string message, int32_t pos) {
  warnings.push_back(std::move(message) + " (" + Position(pos) + ")");
}

void QueryContext::Info(std::string message, int32_t pos) {
  infos.push_back(std::move(message) + " (" + Position(pos) + ")");
}

void QueryContext::CheckDeadline() {
  if ((++deadline_counter & 63) == 0) CheckDeadlineNow();
}

void QueryContext::CheckDeadlineNow() {
  if (std::chrono::steady_clock::now() > deadline) {
    throw EvalError{absl::DeadlineExceededError("query timed out in expression evaluation")};
  }
}

void QueryContext::CheckSamples(int64_t n) const {
  if (loaded_samples + n > options->max_samples) {
    throw EvalError{absl::ResourceExhaustedError(
        "query processing would load too many samples into memory in query execution")};
  }
}

int64_t QueryContext::AtTime(const AtModifier& at) const {
  switch (at.kind) {
    case AtModifier::Kind::kStart: return start_ms;
    case AtModifier::Kind::kEnd: return end_ms;
    case AtModifier::Kind::kTimestamp: return at.t_ms;
  }
  return at.t_ms;
}

// ---- SeriesBuilder ----

Series& SeriesBuilder::Slot(size_t step, const storage::Labels& labels, bool drop_name) {
  int64_t t = steps_.At(step);
  auto [it, inserted] = index_.try_emplace(labels, out_.size());
  if (inserted) {
    out_.push_back(Series{labels, {}, {}, drop_name});
  } else {
    Series& s = out_[it->second];
    if ((!s.samples.empty() && s.samples.back().t_ms == t) ||
        (!s.histograms.empty() && s.histograms.back().t_ms == t)) {
      ThrowExecution("vector cannot contain metrics with the same labelset");
    }
    if (drop_name) s.drop_name = true;
  }
  return out_[it->second];
}

void SeriesBuilder::Add(size_t step, const storage::Labels& labels, double v, bool drop_name) {
  Slot(step, labels, drop_name).samples.push_back({steps_.At(step), v});
}

void SeriesBuilder::AddHistogram(size_t step, const storage::Labels& labels,
                                 storage::FloatHistogram h, bool drop_name) {
  Slot(step, labels, drop_name).histograms.push_back({steps_.At(step), std::move(h)});
}

// ---- Evaluator ----

std::vector<StepVector> Evaluator::ByStep(const EvalValue& v) const {
  std::vector<StepVector> out(steps_.count);
  for (uint32_t i = 0; i < v.series.size(); ++i) {
    for (const auto& p : v.series[i].samples) out[steps_.Index(p.t_ms)].push_back({i, p.value});
    for (const auto& p : v.series[i].histograms) {
      out[steps_.Index(p.t_ms)].push_back({i, 0, &p.h});
    }
  }
  return out;
}

void Evaluator::DropName(Series* s) const {
  if (delayed_names()) {
    s->drop_name = true;
  } else {
    s->labels = DropMetricName(s->labels);
  }
}

namespace {

// Prometheus' Matrix.ContainsSameLabelset, checked after operations that drop names.
void CheckDistinctLabels(const std::vector<Series>& series) {
  if (series.size() < 2) return;
  std::vector<const storage::Labels*> ls;
  ls.reserve(series.size());
  for (const auto& s : series) ls.push_back(&s.labels);
  std::sort(ls.begin(), ls.end(), [](auto* a, auto* b) { return *a < *b; });
  for (size_t i = 1; i < ls.size(); ++i) {
    if (*ls[i] == *ls[i - 1]) ThrowExecution("vector cannot contain metrics with the same labelset");
  }
}

const Expr& Unwrap(const Expr& e) {
  if (auto* p = e.As<ParenExpr>()) return Unwrap(*p->expr);
  return e;
}

}  // namespace

EvalValue Evaluator::Eval(const Expr& e) {
  ctx_->CheckDeadlineNow();
  EvalValue out;
  if (auto* n = e.As<NumberLiteral>()) {
    out.type = ValueType::kScalar;
    out.scalars.assign(steps_.count, n->value);
    return out;
  }
  if (auto* s = e.As<StringLiteral>()) {
    out.type = ValueType::kString;
    out.str = s->value;
    return out;
  }
  if (auto* p = e.As<ParenExpr>()) return Eval(*p->expr);
  if (auto* u = e.As<UnaryExpr>()) {
    out = EvalUnary(*u);
  } else if (auto* b = e.As<BinaryExpr>()) {
    out = EvalBinary(*b);
  } else if (auto* vs = e.As<VectorSelector>()) {
    return EvalVectorSelector(*vs);
  } else if (auto* ms = e.As<MatrixSelector>()) {
    return EvalMatrixSelector(*ms);
  } else if (auto* sq = e.As<SubqueryExpr>()) {
    out = EvalSubqueryTop(*sq);
  } else if (auto* c = e.As<Call>()) {
    if ((c->func == "sort" || c->func == "sort_desc" || c->func == "sort_by_label" ||
         c->func == "sort_by_label_desc") &&
        ctx_->start_ms != ctx_->end_ms) {
      ctx_->Warn("PromQL warning: sort is ineffective for range queries since results are "
                 "always ordered by labels", e.pos);
    }
    out = EvalCall(*c);
  } else if (auto* a = e.As<AggregateExpr>()) {
    out = EvalAggregate(*a, e.pos);
  } else {
    ThrowUnsupported("expression is not supported yet");
  }
  int64_t points = 0;
  for (const auto& s : out.series) {
    points += static_cast<int64_t>(s.samples.size() + s.histograms.size());
  }
  ctx_->CheckSamples(points);
  return out;
}

EvalValue Evaluator::EvalUnary(const UnaryExpr& u) {
  EvalValue v = Eval(*u.expr);
  if (!u.negate) return v;
  if (v.type == ValueType::kScalar) {
    for (double& x : v.scalars) x = -x;
    return v;
  }
  for (auto& s : v.series) {
    DropName(&s);
    for (auto& p : s.samples) p.value = -p.value;
    for (auto& p : s.histograms) HistogramMul(&p.h, -1);
  }
  if (!delayed_names()) CheckDistinctLabels(v.series);
  return v;
}

EvalValue Evaluator::EvalVectorSelector(const VectorSelector& vs, bool timestamps) {
  auto it = ctx_->selected.find(&vs);
  if (it == ctx_->selected.end()) ThrowExecution("BUG: selector was not preloaded");
  std::optional<int64_t> at;
  if (vs.at) at = ctx_->AtTime(*vs.at);
  int64_t lookback = ctx_->options->lookback_delta_ms;
  EvalValue v;
  v.type = ValueType::kVector;
  for (const auto& sd : it->second) {
    Series out;
    const auto& samples = sd.samples;
    const auto& hists = sd.histograms;
    for (size_t i = 0; i < steps_.count; ++i) {
      int64_t t = steps_.At(i);
      int64_t ref = SatSub(at.value_or(t), vs.offset_ms);
      auto next = std::upper_bound(samples.begin(), samples.end(), ref,
                                   [](int64_t r, const storage::Sample& s) { return r < s.t_ms; });
      auto hnext = std::upper_bound(
          hists.begin(), hists.end(), ref,
          [](int64_t r, const storage::HistogramSample& s) { return r < s.t_ms; });
      const storage::Sample* f = next == samples.begin() ? nullptr : &*(next - 1);
      const storage::HistogramSample* h = hnext == hists.begin() ? nullptr : &*(hnext - 1);
      if (f != nullptr && h != nullptr) {
        if (f->t_ms > h->t_ms) {
          h = nullptr;
        } else {
          f = nullptr;
        }
      }
      int64_t st = f != nullptr ? f->t_ms : h != nullptr ? h->t_ms : 0;
      if (f == nullptr && h == nullptr) continue;
      // Window (ref - lookback, ref]; a stale marker as newest sample means "no value".
      if (st <= SatSub(ref, lookback) || (f != nullptr && storage::IsStaleNaN(f->value))) continue;
      if (timestamps) {
        out.samples.push_back({t, static_cast<double>(st) / 1000.0});
      } else if (f != nullptr) {
        out.samples.push_back({t, f->value});
      } else {
        out.histograms.push_back({t, h->h});
      }
    }
    if (out.samples.empty() && out.histograms.empty()) continue;
    out.labels = sd.labels;
    v.series.push_back(std::move(out));
  }
  return v;
}

Evaluator::RangeSource Evaluator::SelectorSource(const MatrixSelector& ms) {
  const auto& vs = *ms.vector_selector->As<VectorSelector>();
  RangeSource src;
  src.is_selector = true;
  src.range_ms = ms.range_ms;
  src.offset_ms = vs.offset_ms;
  if (vs.at) src.at_ms = ctx_->AtTime(*vs.at);
  auto it = ctx_->selected.find(&vs);
  if (it == ctx_->selected.end()) ThrowExecution("BUG: selector was not preloaded");
  for (const auto& sd : it->second) {
    Series s;
    s.labels = sd.labels;
    s.samples.reserve(sd.samples.size());
    for (const auto& p : sd.samples) {
      if (!storage::IsStaleNaN(p.value)) s.samples.push_back(p);
    }
    s.histograms = sd.histograms;
    if (!s.samples.empty() || !s.histograms.empty()) src.series.push_back(std::move(s));
  }
  return src;
}

Evaluator::RangeSource Evaluator::EvalRangeSource(const Expr& expr) {
  const Expr& e = Unwrap(expr);
  if (auto* ms = e.As<MatrixSelector>()) return SelectorSource(*ms);
  if (auto* sq = e.As<SubqueryExpr>()) {
    RangeSource src;
    src.range_ms = sq->range_ms;
    src.offset_ms = sq->offset_ms;
    if (sq->at) src.at_ms = ctx_->AtTime(*sq->at);
    int64_t ignored;
    src.series = EvalSubquerySeries(*sq, &ignored);
    // As Prometheus' evalSubquery: explicit (not_)reset hints become unknown, since the
    // subquery may skip or repeat the samples they were about.
    for (auto& ser : src.series) {
      for (auto& p : ser.histograms) {
        auto& hint = p.h.counter_reset_hint;
        if (hint == storage::CounterResetHint::kNotCounterReset ||
            hint == storage::CounterResetHint::kCounterReset) {
          hint = storage::CounterResetHint::kUnknown;
        }
      }
    }
    return src;
  }
  ThrowInvalid("expected a range vector");
}

EvalValue Evaluator::EvalMatrixSelector(const MatrixSelector& ms) {
  // A range vector as an instant query's result: the window at the evaluation time.
  RangeSource src = SelectorSource(ms);
  int64_t ref = src.Ref(steps_.At(0));
  int64_t from = SatSub(ref, src.range_ms);
  EvalValue v;
  v.type = ValueType::kMatrix;
  for (auto& s : src.series) {
    Series o;
    o.labels = std::move(s.labels);
    for (const auto& p : s.samples) {
      if (p.t_ms > from && p.t_ms <= ref) o.samples.push_back(p);
    }
    for (auto& p : s.histograms) {
      if (p.t_ms > from && p.t_ms <= ref) o.histograms.push_back(std::move(p));
    }
    if (!o.samples.empty() || !o.histograms.empty()) v.series.push_back(std::move(o));
  }
  return v;
}

std::vector<Series> Evaluator::EvalSubquerySeries(const SubqueryExpr& sq, int64_t* eval_start) {
  int64_t step = sq.step_ms > 0 ? sq.step_ms : ctx_->options->default_evaluation_interval_ms;
  if (step <= 0) ThrowInvalid("subquery step must be positive");
  int64_t outer_start = steps_.start_ms, outer_end = steps_.end_ms();
  if (sq.at) outer_start = outer_end = ctx_->AtTime(*sq.at);
  int64_t end = SatSub(outer_end, sq.offset_ms);
  int64_t x = SatSub(SatSub(outer_start, sq.offset_ms), sq.range_ms);
  // The first multiple of the step after x (Go's truncating division, as Prometheus).
  int64_t start = step * (x / step);
  if (start <= x) start += step;
  *eval_start = start;
  if (end < start) return {};
  uint64_t count = static_cast<uint64_t>(end - start) / static_cast<uint64_t>(step) + 1;
  ctx_->CheckSamples(static_cast<int64_t>(std::min<uint64_t>(count, INT64_MAX / 2)));
  Evaluator inner(ctx_, Steps{start, step, static_cast<size_t>(count)});
  EvalValue v = inner.Eval(*sq.expr);
  if (v.type == ValueType::kScalar) {
    Series s;
    for (size_t i = 0; i < inner.steps().count; ++i) {
      s.samples.push_back({inner.steps().At(i), v.scalars[i]});
    }
    std::vector<Series> out;
    out.push_back(std::move(s));
    return out;
  }
  return std::move(v.series);
}

EvalValue Evaluator::EvalSubqueryTop(const SubqueryExpr& sq) {
  // A subquery as the result of an instant query: its points in (t-range, t].
  int64_t ignored;
  std::vector<Series> all = EvalSubquerySeries(sq, &ignored);
  int64_t ref = SatSub(sq.at ? ctx_->AtTime(*sq.at) : steps_.At(0), sq.offset_ms);
  int64_t from = SatSub(ref, sq.range_ms);
  EvalValue v;
  v.type = ValueType::kMatrix;
  for (auto& s : all) {
    Series o;
    o.labels = std::move(s.labels);
    o.drop_name = s.drop_name;
    for (const auto& p : s.samples) {
      if (p.t_ms > from && p.t_ms <= ref) o.samples.push_back(p);
    }
    for (auto& p : s.histograms) {
      if (p.t_ms > from && p.t_ms <= ref) o.histograms.push_back(std::move(p));
    }
    if (!o.samples.empty() || !o.histograms.empty()) v.series.push_back(std::move(o));
  }
  return v;
}

// ---- Preloading ----

namespace {

struct Preloader {
  QueryContext* ctx;

  void Walk(const Expr& e, int64_t lo, int64_t hi) {
    if (auto* vs = e.As<VectorSelector>()) {
      Load(*vs, lo, hi, 0);
    } else if (auto* ms = e.As<MatrixSelector>()) {
      Load(*ms->vector_selector->As<VectorSelector>(), lo, hi, ms->range_ms);
    } else if (auto* sq = e.As<SubqueryExpr>()) {
      int64_t step = sq->step_ms > 0 ? sq->step_ms : ctx->options->default_evaluation_interval_ms;
      if (step <= 0) ThrowInvalid("subquery step must be positive");
      if (sq->at) lo = hi = ctx->AtTime(*sq->at);
      int64_t end = SatSub(hi, sq->offset_ms);
      int64_t x = SatSub(SatSub(lo, sq->offset_ms), sq->range_ms);
      int64_t start = step * (x / step);
      if (start <= x) start += step;
      if (end >= start) Walk(*sq->expr, start, end);
    } else if (auto* p = e.As<ParenExpr>()) {
      Walk(*p->expr, lo, hi);
    } else if (auto* u = e.As<UnaryExpr>()) {
      Walk(*u->expr, lo, hi);
    } else if (auto* b = e.As<BinaryExpr>()) {
      Walk(*b->lhs, lo, hi);
      Walk(*b->rhs, lo, hi);
    } else if (auto* c = e.As<Call>()) {
      for (const auto& a : c->args) Walk(*a, lo, hi);
    } else if (auto* a = e.As<AggregateExpr>()) {
      if (a->param) Walk(*a->param, lo, hi);
      Walk(*a->expr, lo, hi);
    }
  }

  void Load(const VectorSelector& vs, int64_t lo, int64_t hi, int64_t range_ms) {
    if (vs.at) lo = hi = ctx->AtTime(*vs.at);
    int64_t window = range_ms > 0 ? range_ms : ctx->options->lookback_delta_ms;
    // Left-open windows: (ref - window, ref].
    int64_t start = SatAdd(SatSub(SatSub(lo, vs.offset_ms), window), 1);
    int64_t end = SatSub(hi, vs.offset_ms);
    auto data = ctx->querier->Select(ctx->tenant, vs.matchers, start, end);
    if (!data.ok()) throw EvalError{data.status()};
    for (const auto& s : *data) {
      ctx->loaded_samples += static_cast<int64_t>(s.samples.size() + s.histograms.size());
    }
    ctx->CheckSamples(0);
    ctx->selected[&vs] = std::move(*data);
  }
};

}  // namespace

// Prometheus' detectHistogramStatsDecoding: walking up from a selector, a
// histogram_count/sum/avg marks it unless a subquery, a function needing buckets or a
// trim comes first.
void MarkStatsDecoding(const Expr& e, std::vector<const Expr*>* path, QueryContext* ctx) {
  if (auto* vs = e.As<VectorSelector>()) {
    bool skip = false;
    for (auto it = path->rbegin(); it != path->rend(); ++it) {
      const Expr& p = **it;
      if (p.As<SubqueryExpr>()) {
        skip = false;
        break;
      }
      if (auto* c = p.As<Call>()) {
        if (c->func == "histogram_count" || c->func == "histogram_sum" ||
            c->func == "histogram_avg") {
          skip = true;
        } else if (c->func == "histogram_quantile" || c->func == "histogram_quantiles" ||
                   c->func == "histogram_fraction") {
          skip = false;
          break;
        }
      }
      if (auto* b = p.As<BinaryExpr>()) {
        if (b->op == BinaryOp::kTrimUpper || b->op == BinaryOp::kTrimLower) {
          skip = false;
          break;
        }
      }
    }
    if (skip) ctx->stats_decoding.insert(vs);
    return;
  }
  path->push_back(&e);
  if (auto* ms = e.As<MatrixSelector>()) {
    MarkStatsDecoding(*ms->vector_selector, path, ctx);
  } else if (auto* sq = e.As<SubqueryExpr>()) {
    MarkStatsDecoding(*sq->expr, path, ctx);
  } else if (auto* p = e.As<ParenExpr>()) {
    MarkStatsDecoding(*p->expr, path, ctx);
  } else if (auto* u = e.As<UnaryExpr>()) {
    MarkStatsDecoding(*u->expr, path, ctx);
  } else if (auto* b = e.As<BinaryExpr>()) {
    MarkStatsDecoding(*b->lhs, path, ctx);
    MarkStatsDecoding(*b->rhs, path, ctx);
  } else if (auto* c = e.As<Call>()) {
    for (const auto& a : c->args) MarkStatsDecoding(*a, path, ctx);
  } else if (auto* a = e.As<AggregateExpr>()) {
    if (a->param) MarkStatsDecoding(*a->param, path, ctx);
    MarkStatsDecoding(*a->expr, path, ctx);
  }
  path->pop_back();
}

void PreloadSelectors(const Expr& expr, QueryContext* ctx) {
  std::vector<const Expr*> path;
  MarkStatsDecoding(expr, &path, ctx);
  Preloader p{ctx};
  p.Walk(expr, ctx->start_ms, ctx->end_ms);
  for (const VectorSelector* vs : ctx->stats_decoding) {
    auto it = ctx->selected.find(vs);
    if (it == ctx->selected.end()) continue;
    for (auto& sd : it->second) {
      auto& hs = sd.histograms;
      for (size_t i = 0; i < hs.size(); ++i) {
        auto& hint = hs[i].h.counter_reset_hint;
        if (hint != storage::CounterResetHint::kUnknown || i == 0) continue;
        hint = HistogramDetectReset(hs[i].h, hs[i - 1].h) ? storage::CounterResetHint::kCounterReset
                                                          : storage::CounterResetHint::kNotCounterReset;
      }
    }
  }
}

}  // namespace otelbox::query::promql

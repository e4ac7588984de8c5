// Binary operators: scalar/scalar, vector/scalar, vector/vector with Prometheus' vector
// matching (on/ignoring, group_left/group_right) and the set operators, as
// engine.go's VectorBinop, VectorscalarBinop, VectorAnd/Or/Unless.

#include <cmath>
#include <optional>
#include <tuple>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "query/promql/evaluator.h"
#include "query/promql/histogram_math.h"

namespace otelbox::query::promql {
namespace {

// Arithmetic drops the metric name; comparisons (without bool) and set operators keep it.
bool IsTrim(BinaryOp op) { return op == BinaryOp::kTrimUpper || op == BinaryOp::kTrimLower; }

// Arithmetic drops the metric name; comparisons (without bool), trims and set operators keep it.
bool ShouldDropMetricName(BinaryOp op) {
  return !IsComparison(op) && !IsSetOperator(op) && !IsTrim(op);
}

// Returns the value and whether a comparison holds (always true for arithmetic).
std::pair<double, bool> ElemBinop(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kAdd: return {l + r, true};
    case BinaryOp::kSub: return {l - r, true};
    case BinaryOp::kMul: return {l * r, true};
    case BinaryOp::kDiv: return {l / r, true};
    case BinaryOp::kMod: return {std::fmod(l, r), true};
    case BinaryOp::kPow: return {std::pow(l, r), true};
    case BinaryOp::kAtan2: return {std::atan2(l, r), true};
    case BinaryOp::kEqlc: return {l, l == r};
    case BinaryOp::kNeq: return {l, l != r};
    case BinaryOp::kGtr: return {l, l > r};
    case BinaryOp::kLss: return {l, l < r};
    case BinaryOp::kGte: return {l, l >= r};
    case BinaryOp::kLte: return {l, l <= r};
    default: ThrowExecution("BUG: not an element operator");
  }
}

bool Contains(const std::vector<std::string>& names, std::string_view n) {
  for (const auto& x : names) {
    if (x == n) return true;
  }
  return false;
}

// The matching key of a series: the `on` labels, or all but the `ignoring` ones and __name__.
std::string Signature(const storage::Labels& labels, const VectorMatching& m) {
  std::string sig;
  for (const auto& l : labels) {
    bool use = m.on ? Contains(m.labels, l.name)
                    : !Contains(m.labels, l.name) && l.name != storage::kMetricNameLabel;
    if (!use) continue;
    sig += l.name;
    sig += '\xff';
    sig += l.value;
    sig += '\xff';
  }
  return sig;
}

storage::Labels MatchedLabels(const storage::Labels& labels, const VectorMatching& m) {
  std::vector<storage::Label> out;
  for (const auto& l : labels) {
    bool use = m.on ? Contains(m.labels, l.name)
                    : !Contains(m.labels, l.name) && l.name != storage::kMetricNameLabel;
    if (use) out.push_back(l);
  }
  return storage::Labels(std::move(out));
}

// Prometheus' resultMetric.
storage::Labels ResultMetric(const storage::Labels& lhs, const storage::Labels& rhs, BinaryOp op,
                             const VectorMatching& m, bool delayed) {
  std::vector<storage::Label> out;
  bool drop_name = ShouldDropMetricName(op) && !delayed;
  for (const auto& l : lhs) {
    if (drop_name && IsNameLabel(l.name)) continue;
    if (m.card == VectorMatching::Card::kOneToOne) {
      bool listed = Contains(m.labels, l.name);
      if (m.on ? !listed : listed) continue;
    }
    if (Contains(m.include, l.name)) continue;  // taken from the "one" side below
    out.push_back(l);
  }
  for (const auto& name : m.include) {
    std::string_view v = rhs.Get(name);
    if (!v.empty()) out.push_back({name, std::string(v)});
  }
  return storage::Labels(std::move(out));
}

// The result of an operator on two elements of which at least one is a histogram
// (Prometheus' vectorElemBinop). `info`/`warn` are annotation texts without position;
// `layout_error` is Prometheus' ErrHistogramsIncompatibleSchema.
struct HistResult {
  double v = 0;
  std::optional<storage::FloatHistogram> h;
  bool keep = false;
  std::string info;
  std::string warn;
  bool layout_error = false;
};

HistResult HistogramBinop(BinaryOp op, double l, double r, const storage::FloatHistogram* hl,
                          const storage::FloatHistogram* hr) {
  HistResult out;
  if (hl == nullptr && hr == nullptr) {  // only trims get here with two floats
    out.info = std::string("PromQL info: incompatible sample types encountered for binary operator \"") +
               BinaryOpSymbol(op) + "\": float " + BinaryOpSymbol(op) + " float";
    return out;
  }
  auto incompatible = [&](const char* lt, const char* rt) {
    out.info = std::string("PromQL info: incompatible sample types encountered for binary operator \"") +
               BinaryOpSymbol(op) + "\": " + lt + " " + BinaryOpSymbol(op) + " " + rt;
    return out;
  };
  if (hl == nullptr) {  // float op histogram
    if (op == BinaryOp::kMul) {
      out.h = *hr;
      HistogramMul(&*out.h, l);
      out.keep = true;
      return out;
    }
    return incompatible("float", "histogram");
  }
  if (hr == nullptr) {  // histogram op float
    if (IsTrim(op)) {
      out.h = *hl;
      HistogramTrimBuckets(&*out.h, r, op == BinaryOp::kTrimUpper);
      out.keep = true;
      return out;
    }
    if (op == BinaryOp::kMul || op == BinaryOp::kDiv) {
      out.h = *hl;
      if (op == BinaryOp::kMul) {
        HistogramMul(&*out.h, r);
      } else {
        HistogramDiv(&*out.h, r);
      }
      out.keep = true;
      return out;
    }
    return incompatible("histogram", "float");
  }
  switch (op) {
    case BinaryOp::kAdd:
    case BinaryOp::kSub: {
      out.h = *hl;
      HistogramOpNotes notes;
      bool sub = op == BinaryOp::kSub;
      if (!HistogramAdd(&*out.h, *hr, sub, &notes)) {
        out.h.reset();
        out.layout_error = true;
        return out;
      }
      if (sub) out.h->counter_reset_hint = storage::CounterResetHint::kGaugeType;
      const char* what = sub ? "subtraction" : "addition";
      if (notes.counter_reset_collision) {
        out.warn = std::string("PromQL warning: conflicting counter resets during histogram ") + what;
      }
      if (notes.custom_bounds_reconciled) {
        out.info = std::string("PromQL info: mismatched custom buckets were reconciled during ") + what;
      }
      out.keep = true;
      return out;
    }
    case BinaryOp::kEqlc:
    case BinaryOp::kNeq:
      out.h = *hl;
      out.keep = HistogramEquals(*hl, *hr) == (op == BinaryOp::kEqlc);
      return out;
    default:
      return incompatible("histogram", "histogram");
  }
}

double ScalarBinop(BinaryOp op, double l, double r) {
  auto [v, keep] = ElemBinop(op, l, r);
  if (IsComparison(op)) return keep ? 1 : 0;
  return v;
}

}  // namespace

EvalValue Evaluator::EvalBinary(const BinaryExpr& b) {
  EvalValue l = Eval(*b.lhs);
  EvalValue r = Eval(*b.rhs);
  EvalValue out;
  out.type = ValueType::kVector;
  if (l.type == ValueType::kScalar && r.type == ValueType::kScalar) {
    for (size_t i = 0; i < l.scalars.size(); ++i) {
      l.scalars[i] = ScalarBinop(b.op, l.scalars[i], r.scalars[i]);
    }
    return l;
  }
  bool comparison = IsComparison(b.op);
  if (l.type == ValueType::kScalar || r.type == ValueType::kScalar) {
    if (IsSetOperator(b.op)) ThrowInvalid("set operator not allowed in binary scalar expression");
    bool swap = l.type == ValueType::kScalar;  // scalar on the left
    EvalValue& vec = swap ? r : l;
    const std::vector<double>& sc = swap ? l.scalars : r.scalars;
    SeriesBuilder builder(steps_);
    for (auto& s : vec.series) {
      ctx_->CheckDeadline();
      bool drop = ShouldDropMetricName(b.op) || b.return_bool;
      storage::Labels labels = s.labels;
      bool drop_flag = s.drop_name;
      if (drop) {
        if (delayed_names()) {
          drop_flag = true;
        } else {
          labels = DropMetricName(labels);
        }
      }
      for (const auto& p : s.samples) {
        size_t i = steps_.Index(p.t_ms);
        double lv = swap ? sc[i] : p.value;
        double rv = swap ? p.value : sc[i];
        if (IsTrim(b.op)) {
          ctx_->Info(HistogramBinop(b.op, lv, rv, nullptr, nullptr).info, b.lhs->pos);
          continue;
        }
        auto [v, keep] = ElemBinop(b.op, lv, rv);
        // A comparison keeps the vector element's value, whichever side it is on.
        if (comparison && swap) v = rv;
        if (b.return_bool) {
          v = keep ? 1 : 0;
          keep = true;
        }
        if (keep) builder.Add(i, labels, v, drop_flag);
      }
      for (const auto& p : s.histograms) {
        size_t i = steps_.Index(p.t_ms);
        HistResult res = swap ? HistogramBinop(b.op, sc[i], 0, nullptr, &p.h)
                              : HistogramBinop(b.op, 0, sc[i], &p.h, nullptr);
        if (!res.info.empty() && !res.keep) {
          ctx_->Info(res.info, b.lhs->pos);
          continue;
        }
        if (comparison && swap) res.h = p.h;
        if (b.return_bool) {
          builder.Add(i, labels, res.keep ? 1 : 0, drop_flag);
        } else if (res.keep) {
          builder.AddHistogram(i, labels, std::move(*res.h), drop_flag);
        }
      }
    }
    out.series = builder.Take();
    return out;
  }

  // Vector / vector.
  VectorMatching matching;
  if (b.matching) matching = *b.matching;
  if (IsSetOperator(b.op)) matching.card = VectorMatching::Card::kManyToMany;
  std::vector<std::string> lsig, rsig;
  for (const auto& s : l.series) lsig.push_back(Signature(s.labels, matching));
  for (const auto& s : r.series) rsig.push_back(Signature(s.labels, matching));
  std::vector<StepVector> lsteps = ByStep(l), rsteps = ByStep(r);
  SeriesBuilder builder(steps_);

  if (IsSetOperator(b.op)) {
    for (size_t i = 0; i < steps_.count; ++i) {
      ctx_->CheckDeadline();
      const StepVector& lv = lsteps[i];
      const StepVector& rv = rsteps[i];
      switch (b.op) {
        case BinaryOp::kAnd: {
          if (lv.empty() || rv.empty()) break;
          std::unordered_set<std::string_view> rs;
          for (const auto& e : rv) rs.insert(rsig[e.series]);
          for (const auto& e : lv) {
            if (rs.count(lsig[e.series])) {
              builder.AddPoint(i, l.series[e.series].labels, e.v, e.h, l.series[e.series].drop_name);
            }
          }
          break;
        }
        case BinaryOp::kOr: {
          std::unordered_set<std::string_view> ls;
          for (const auto& e : lv) {
            ls.insert(lsig[e.series]);
            builder.AddPoint(i, l.series[e.series].labels, e.v, e.h, l.series[e.series].drop_name);
          }
          for (const auto& e : rv) {
            if (!ls.count(rsig[e.series])) {
              builder.AddPoint(i, r.series[e.series].labels, e.v, e.h, r.series[e.series].drop_name);
            }
          }
          break;
        }
        default: {  // unless
          std::unordered_set<std::string_view> rs;
          for (const auto& e : rv) rs.insert(rsig[e.series]);
          for (const auto& e : lv) {
            if (!rs.count(lsig[e.series])) {
              builder.AddPoint(i, l.series[e.series].labels, e.v, e.h, l.series[e.series].drop_name);
            }
          }
        }
      }
    }
    out.series = builder.Take();
    return out;
  }

  // One-to-one and many-to-one; one-to-many swaps the sides and swaps them back for values.
  bool one_to_many = matching.card == VectorMatching::Card::kOneToMany;
  const EvalValue& many = one_to_many ? r : l;
  const EvalValue& one = one_to_many ? l : r;
  const std::vector<std::string>& many_sig = one_to_many ? rsig : lsig;
  const std::vector<std::string>& one_sig = one_to_many ? lsig : rsig;
  std::map<std::pair<uint32_t, uint32_t>, storage::Labels> label_cache;
  for (size_t i = 0; i < steps_.count; ++i) {
    ctx_->CheckDeadline();
    const StepVector& mv = one_to_many ? rsteps[i] : lsteps[i];
    const StepVector& ov = one_to_many ? lsteps[i] : rsteps[i];
    if (mv.empty() || ov.empty()) continue;
    std::unordered_map<std::string_view, const Elem*> one_by_sig;
    for (const auto& e : ov) {
      auto [it, inserted] = one_by_sig.try_emplace(one_sig[e.series], &e);
      if (!inserted) {
        const char* side = one_to_many ? "left" : "right";
        const auto& cur = one.series[e.series].labels;
        // Ordered, so the message is the same from run to run (as Prometheus).
        std::string dup1 = cur.ToString(), dup2 = one.series[it->second->series].labels.ToString();
        if (dup1 > dup2) std::swap(dup1, dup2);
        ThrowExecution("found duplicate series for the match group " +
                       MatchedLabels(cur, matching).ToString() + " on the " + side +
                       " hand-side of the operation: [" + dup1 + ", " + dup2 +
                       "];many-to-many matching not allowed: matching labels must be unique "
                       "on one side");
      }
    }
    // Per match group: the result label sets produced (many-to-one) or just presence.
    std::unordered_map<std::string_view, std::vector<const storage::Labels*>> matched;
    for (const auto& e : mv) {
      auto it = one_by_sig.find(many_sig[e.series]);
      if (it == one_by_sig.end()) continue;
      const Elem& oe = *it->second;
      double fl = e.v, fr = oe.v;
      const storage::FloatHistogram* hl = e.h;
      const storage::FloatHistogram* hr = oe.h;
      if (one_to_many) {
        std::swap(fl, fr);
        std::swap(hl, hr);
      }
      double v = 0;
      bool keep = false;
      std::optional<storage::FloatHistogram> hv;
      bool skip = false;
      if (hl == nullptr && hr == nullptr && !IsTrim(b.op)) {
        std::tie(v, keep) = ElemBinop(b.op, fl, fr);
      } else {
        HistResult res = HistogramBinop(b.op, fl, fr, hl, hr);
        // As Prometheus' VectorBinop: an error or warning drops the element, an info
        // keeps it; the last one of a step is reported.
        if (res.layout_error) {
          ctx_->Warn(std::string("PromQL warning: incompatible bucket layout encountered for "
                                 "binary operator ") + BinaryOpSymbol(b.op), b.lhs->pos);
          skip = true;
        } else if (!res.warn.empty()) {
          ctx_->Warn(res.warn, b.lhs->pos);
          skip = true;
        } else if (!res.info.empty()) {
          ctx_->Info(res.info, b.lhs->pos);
          skip = !res.keep && res.info.find("incompatible sample types") != std::string::npos;
        }
        v = res.v;
        keep = res.keep;
        hv = std::move(res.h);
      }
      if (skip) continue;
      if (b.return_bool) {
        v = keep ? 1 : 0;
        hv.reset();
      }
      // Matching errors count every pair, also those a comparison then filters out.
      auto key = std::make_pair(e.series, oe.series);
      auto lc = label_cache.find(key);
      if (lc == label_cache.end()) {
        storage::Labels labels = ResultMetric(many.series[e.series].labels,
                                              one.series[oe.series].labels, b.op, matching,
                                              delayed_names());
        if (b.return_bool && !delayed_names()) labels = DropMetricName(labels);
        lc = label_cache.emplace(key, std::move(labels)).first;
      }
      const storage::Labels& labels = lc->second;
      auto& group = matched[many_sig[e.series]];
      if (matching.card == VectorMatching::Card::kOneToOne) {
        if (!group.empty()) {
          ThrowExecution(
              "multiple matches for labels: many-to-one matching must be explicit "
              "(group_left/group_right)");
        }
      } else {
        for (const auto* g : group) {
          if (*g == labels) {
            ThrowExecution(
                "multiple matches for labels: grouping labels must ensure unique matches");
          }
        }
      }
      group.push_back(&labels);
      if (!keep && !b.return_bool) continue;
      bool drop_flag = many.series[e.series].drop_name ||
                       (delayed_names() && (ShouldDropMetricName(b.op) || b.return_bool));
      if (hv) {
        builder.AddHistogram(i, labels, std::move(*hv), drop_flag);
      } else {
        builder.Add(i, labels, v, drop_flag);
      }
    }
  }
  out.series = builder.Take();
  return out;
}

}  // namespace otelbox::query::promql

#include "query/traceql/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"

namespace otelbox::query::traceql {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The measured value of a span for *_over_time: numbers as they are, durations in seconds.
bool Measure(const Value& v, double* out) {
  switch (v.type) {
    case StaticType::kInt: *out = static_cast<double>(v.i); return true;
    case StaticType::kFloat: *out = v.f; return true;
    case StaticType::kDuration: *out = static_cast<double>(v.i) / 1e9; return true;
    default: return false;
  }
}

void AppendKey(std::string* key, const storage::AttributeValue& v) {
  key->push_back(static_cast<char>('0' + v.value.index()));
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          key->append(x);
        } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, int64_t> ||
                             std::is_same_v<T, double>) {
          key->append(absl::StrCat(x));
        }
      },
      v.value);
  key->push_back('\0');
}

std::string LabelsKey(const std::vector<storage::KeyValue>& labels, bool skip_name) {
  std::string key;
  for (const auto& kv : labels) {
    if (skip_name && kv.key == "__name__") continue;
    key += kv.key;
    key.push_back('=');
    AppendKey(&key, kv.value);
  }
  return key;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, v.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

// Tempo's log2 buckets: the smallest power of two >= v (values <= 0 go to bucket 0).
double Log2Bucket(double v) {
  if (v <= 0) return 0;
  return std::exp2(std::ceil(std::log2(v)));
}

bool Compare(Op op, double v, double t) {
  switch (op) {
    case Op::kEqual: return v == t;
    case Op::kNotEqual: return v != t;
    case Op::kLess: return v < t;
    case Op::kLessEqual: return v <= t;
    case Op::kGreater: return v > t;
    case Op::kGreaterEqual: return v >= t;
    default: return false;
  }
}

double ArithOp(Op op, double a, double b) {
  switch (op) {
    case Op::kAdd: return a + b;
    case Op::kSub: return a - b;
    case Op::kMult: return a * b;
    case Op::kDiv: return b == 0 ? kNaN : a / b;
    default: return kNaN;
  }
}

void DropEmpty(std::vector<DenseSeries>* series) {
  series->erase(std::remove_if(series->begin(), series->end(),
                               [](const DenseSeries& s) {
                                 return std::all_of(s.values.begin(), s.values.end(),
                                                    [](double v) { return std::isnan(v); });
                               }),
                series->end());
}

}  // namespace

Intervals Intervals::Make(uint64_t start_ns, uint64_t end_ns, uint64_t step_ns, bool instant) {
  Intervals iv;
  iv.start_ns = start_ns;
  iv.end_ns = end_ns;
  if (instant || step_ns == 0) {
    iv.aligned_start_ns = start_ns;
    iv.step_ns = end_ns > start_ns ? end_ns - start_ns : 1;
    iv.count = 1;
    iv.instant = true;
    return iv;
  }
  iv.step_ns = step_ns;
  iv.aligned_start_ns = start_ns - start_ns % step_ns;
  uint64_t aligned_end = end_ns % step_ns == 0 ? end_ns : end_ns + (step_ns - end_ns % step_ns);
  iv.end_ns = aligned_end;
  iv.count = static_cast<size_t>((aligned_end - iv.aligned_start_ns) / step_ns);
  if (iv.count == 0) iv.count = 1;
  return iv;
}

int64_t Intervals::IndexOf(uint64_t ts) const {
  if (instant) return ts >= start_ns && ts <= end_ns ? 0 : -1;
  // Range: right-closed intervals (start; start+step], as Tempo's IntervalMapper.
  if (ts <= aligned_start_ns || ts > end_ns) return -1;
  uint64_t offset = ts - aligned_start_ns;
  uint64_t i = offset / step_ns;
  if (i * step_ns == offset) --i;
  return i < count ? static_cast<int64_t>(i) : -1;
}

storage::AttributeValue LabelValue(const Value& v) {
  storage::AttributeValue out;
  switch (v.type) {
    case StaticType::kString: out.value = std::string(v.str()); break;
    case StaticType::kInt: out.value = v.i; break;
    case StaticType::kFloat: out.value = v.f; break;
    case StaticType::kBool: out.value = v.b; break;
    case StaticType::kDuration:
    case StaticType::kStatus:
    case StaticType::kKind:
      out.value = v.ToStatic().ToString();
      break;
    default:
      break;  // nil: empty value
  }
  return out;
}

FirstStageAccumulator::FirstStageAccumulator(const MetricsFirstStage& stage,
                                             const Intervals& intervals, size_t max_exemplars)
    : stage_(stage), intervals_(intervals), max_exemplars_(max_exemplars) {}

FirstStageAccumulator::Acc& FirstStageAccumulator::SeriesFor(
    std::string key, std::vector<storage::KeyValue> labels) {
  auto it = series_.find(key);
  if (it != series_.end()) return it->second;
  Acc& a = series_[std::move(key)];
  a.labels = std::move(labels);
  const size_t n = intervals_.count;
  a.count.assign(n, 0);
  a.sum.assign(n, 0);
  a.min.assign(n, std::numeric_limits<double>::infinity());
  a.max.assign(n, -std::numeric_limits<double>::infinity());
  if (stage_.op == MetricsOp::kQuantileOverTime) a.values.resize(n);
  return a;
}

void FirstStageAccumulator::Observe(const Evaluator& eval, const TraceView& trace, uint32_t i) {
  const storage::Span& span = trace.span(i);
  int64_t idx = intervals_.IndexOf(span.start_time_unix_nano);
  if (idx < 0) return;
  double value = static_cast<double>(span.end_time_unix_nano - span.start_time_unix_nano) / 1e9;
  // Histogram buckets are powers of two of the raw number (nanoseconds for durations).
  double bucket = Log2Bucket(static_cast<double>(span.end_time_unix_nano - span.start_time_unix_nano)) / 1e9;
  if (stage_.has_attribute) {
    Value v = eval.EvalAttribute(stage_.attribute, trace, i);
    if (!Measure(v, &value)) return;
    bucket = v.type == StaticType::kDuration ? Log2Bucket(static_cast<double>(v.i)) / 1e9
                                             : Log2Bucket(value);
  }
  // The series key first; labels are built only for a new series (the common case of
  // many spans per series costs one map lookup).
  std::string key;
  std::vector<Value> by_values;
  by_values.reserve(stage_.by.size());
  for (const auto& a : stage_.by) {
    by_values.push_back(eval.EvalAttribute(a, trace, i));
    const Value& v = by_values.back();
    key.push_back(static_cast<char>('a' + static_cast<int>(v.type)));
    switch (v.type) {
      case StaticType::kString: key.append(v.str()); break;
      case StaticType::kFloat: key.append(absl::StrCat(v.f)); break;
      case StaticType::kBool: key.push_back(v.b ? '1' : '0'); break;
      case StaticType::kNil: break;
      default: key.append(absl::StrCat(v.i)); break;
    }
    key.push_back('\0');
  }
  storage::AttributeValue bucket_value;
  if (stage_.op == MetricsOp::kHistogramOverTime) {
    bucket_value.value = bucket;
    AppendKey(&key, bucket_value);
  }
  Acc* acc = nullptr;
  if (auto it = series_.find(key); it != series_.end()) {
    acc = &it->second;
  } else {
    std::vector<storage::KeyValue> labels;
    for (size_t k = 0; k < stage_.by.size(); ++k)
      labels.push_back({stage_.by[k].ToString(), LabelValue(by_values[k])});
    if (stage_.op == MetricsOp::kHistogramOverTime) {
      labels.push_back({"__bucket", bucket_value});
    } else if (stage_.by.empty() && stage_.op != MetricsOp::kQuantileOverTime) {
      // Ungrouped series carry the aggregation's name, as Tempo's engine names them.
      storage::KeyValue kv;
      kv.key = "__name__";
      kv.value.value = std::string(MetricsOpName(stage_.op));
      labels.push_back(std::move(kv));
    }
    acc = &SeriesFor(key, std::move(labels));
  }
  Acc& a = *acc;
  ++a.count[idx];
  a.sum[idx] += value;
  a.min[idx] = std::min(a.min[idx], value);
  a.max[idx] = std::max(a.max[idx], value);
  if (stage_.op == MetricsOp::kQuantileOverTime) a.values[idx].push_back(value);
  if (exemplars_ < max_exemplars_) {
    int64_t ts_ms = static_cast<int64_t>(span.start_time_unix_nano / 1000000);
    bool have = false;
    for (const auto& e : a.exemplars) {
      if (intervals_.IndexOf(static_cast<uint64_t>(e.timestamp_ms) * 1000000) == idx) {
        have = true;
        break;
      }
    }
    if (!have) {
      SeriesExemplar e;
      e.trace_id_hex = HexId(span.trace_id.data(), span.trace_id.size());
      e.span_id_hex = HexId(span.span_id.data(), span.span_id.size());
      e.value = value;
      e.timestamp_ms = ts_ms;
      a.exemplars.push_back(std::move(e));
      ++exemplars_;
    }
  }
}

std::vector<DenseSeries> FirstStageAccumulator::Finish() const {
  std::vector<DenseSeries> out;
  const size_t n = intervals_.count;
  const double step_s = static_cast<double>(intervals_.step_ns) / 1e9;
  for (const auto& [key, a] : series_) {
    auto emit = [&](std::vector<storage::KeyValue> labels, std::vector<double> values) {
      DenseSeries s;
      s.labels = std::move(labels);
      s.values = std::move(values);
      s.exemplars = a.exemplars;
      out.push_back(std::move(s));
    };
    if (stage_.op == MetricsOp::kQuantileOverTime) {
      for (double q : stage_.quantiles) {
        std::vector<double> values(n, kNaN);
        for (size_t i = 0; i < n; ++i) values[i] = Quantile(a.values[i], q);
        auto labels = a.labels;
        storage::KeyValue p;
        p.key = "p";
        p.value.value = q;
        labels.push_back(std::move(p));
        emit(std::move(labels), std::move(values));
      }
      continue;
    }
    std::vector<double> values(n, kNaN);
    for (size_t i = 0; i < n; ++i) {
      bool any = a.count[i] > 0;
      switch (stage_.op) {
        case MetricsOp::kRate: values[i] = static_cast<double>(a.count[i]) / step_s; break;
        case MetricsOp::kCountOverTime:
        case MetricsOp::kHistogramOverTime:
          values[i] = static_cast<double>(a.count[i]);
          break;
        case MetricsOp::kSumOverTime: values[i] = any ? a.sum[i] : kNaN; break;
        case MetricsOp::kAvgOverTime:
          values[i] = any ? a.sum[i] / static_cast<double>(a.count[i]) : kNaN;
          break;
        case MetricsOp::kMinOverTime: values[i] = any ? a.min[i] : kNaN; break;
        case MetricsOp::kMaxOverTime: values[i] = any ? a.max[i] : kNaN; break;
        default: break;
      }
    }
    emit(a.labels, std::move(values));
  }
  return out;
}

CompareAccumulator::CompareAccumulator(const MetricsFirstStage& stage, const Intervals& intervals)
    : stage_(stage), intervals_(intervals) {}

int64_t CompareAccumulator::series_count() const {
  int64_t n = 0;
  for (const Side* side : {&baseline_, &selection_})
    for (const auto& [attr, values] : side->values)
      n += std::min<int64_t>(static_cast<int64_t>(values.size()), stage_.compare_top_n) + 1;
  return n;
}

void CompareAccumulator::Add(Side* side, const std::string& attr, storage::AttributeValue value,
                             size_t idx) {
  std::string key;
  AppendKey(&key, value);
  auto& per_attr = side->values[attr];
  auto it = per_attr.find(key);
  if (it == per_attr.end()) {
    it = per_attr.emplace(key, Counts{std::move(value), std::vector<double>(intervals_.count, 0)})
             .first;
  }
  it->second.counts[idx] += 1;
  auto& totals = side->totals[attr];
  if (totals.empty()) totals.assign(intervals_.count, 0);
  totals[idx] += 1;
}

void CompareAccumulator::Observe(const Evaluator& eval, const TraceView& trace, uint32_t i) {
  const storage::Span& span = trace.span(i);
  const uint64_t ts = span.start_time_unix_nano;
  int64_t idx = intervals_.IndexOf(ts);
  if (idx < 0) return;
  bool selected = false;
  bool in_window = stage_.compare_start <= 0 || stage_.compare_end <= 0 ||
                   (ts > static_cast<uint64_t>(stage_.compare_start) &&
                    ts <= static_cast<uint64_t>(stage_.compare_end));
  if (in_window) selected = eval.Matches(*stage_.compare_filter->expr, trace, i);
  Side* side = selected ? &selection_ : &baseline_;
  auto add_list = [&](AttributeScope scope, const storage::AttributeList& list) {
    for (const auto& kv : list) {
      const auto& v = kv.value.value;
      if (!std::holds_alternative<std::string>(v) && !std::holds_alternative<int64_t>(v) &&
          !std::holds_alternative<double>(v) && !std::holds_alternative<bool>(v))
        continue;
      Add(side, Attribute::Make(scope, false, kv.key).ToString(), kv.value, idx);
    }
  };
  add_list(AttributeScope::kSpan, span.attributes);
  if (span.resource) add_list(AttributeScope::kResource, span.resource->attributes);
  // The intrinsics Tempo groups by (durations and ids are left out: their cardinality is
  // not useful).
  for (Intrinsic in : {Intrinsic::kName, Intrinsic::kStatus, Intrinsic::kKind,
                       Intrinsic::kStatusMessage}) {
    Value v = eval.EvalAttribute(Attribute::MakeIntrinsic(in), trace, i);
    if (v.IsNil() || (v.type == StaticType::kString && v.str().empty())) continue;
    Add(side, IntrinsicName(in), LabelValue(v), idx);
  }
}

std::vector<DenseSeries> CompareAccumulator::Finish() const {
  std::vector<DenseSeries> out;
  std::set<std::string> too_many;
  auto label = [](const std::string& k, storage::AttributeValue v) {
    storage::KeyValue kv;
    kv.key = k;
    kv.value = std::move(v);
    return kv;
  };
  auto str = [](const char* s) {
    storage::AttributeValue v;
    v.value = std::string(s);
    return v;
  };
  auto add_side = [&](const Side& side, const char* type, const char* total_type) {
    for (const auto& [attr, values] : side.values) {
      std::vector<const Counts*> ranked;
      for (const auto& [k, c] : values) ranked.push_back(&c);
      std::stable_sort(ranked.begin(), ranked.end(), [](const Counts* a, const Counts* b) {
        double sa = 0, sb = 0;
        for (double v : a->counts) sa += v;
        for (double v : b->counts) sb += v;
        return sa > sb;
      });
      if (static_cast<int64_t>(ranked.size()) > stage_.compare_top_n) {
        ranked.resize(static_cast<size_t>(stage_.compare_top_n));
        too_many.insert(attr);
      }
      for (const Counts* c : ranked) {
        DenseSeries s;
        s.labels = {label("__meta_type", str(type)), label(attr, c->value)};
        s.values = c->counts;
        out.push_back(std::move(s));
      }
    }
    for (const auto& [attr, counts] : side.totals) {
      DenseSeries s;
      s.labels = {label("__meta_type", str(total_type)), label(attr, storage::AttributeValue{})};
      s.values = counts;
      out.push_back(std::move(s));
    }
  };
  add_side(baseline_, "baseline", "baseline_total");
  add_side(selection_, "selection", "selection_total");
  for (const auto& attr : too_many) {
    DenseSeries s;
    s.labels = {label("__meta_error", str("__too_many_values__")),
                label(attr, storage::AttributeValue{})};
    s.values.assign(intervals_.count, 0);
    out.push_back(std::move(s));
  }
  return out;
}

void ApplySecondStages(const std::vector<SecondStage>& stages, std::vector<DenseSeries>* series) {
  for (const auto& st : stages) {
    switch (st.kind) {
      case SecondStage::Kind::kScalarOp:
        for (auto& s : *series)
          for (double& v : s.values)
            if (!std::isnan(v)) v = st.scalar_on_left ? ArithOp(st.op, st.value, v)
                                                      : ArithOp(st.op, v, st.value);
        break;
      case SecondStage::Kind::kFilter:
        for (auto& s : *series)
          for (double& v : s.values)
            if (!std::isnan(v) && !Compare(st.op, v, st.value)) v = kNaN;
        DropEmpty(series);
        break;
      case SecondStage::Kind::kTopK:
      case SecondStage::Kind::kBottomK: {
        if (series->size() <= static_cast<size_t>(st.limit)) break;
        size_t n = series->empty() ? 0 : (*series)[0].values.size();
        std::vector<std::vector<char>> keep(series->size(), std::vector<char>(n, 0));
        for (size_t i = 0; i < n; ++i) {
          std::vector<size_t> idx;
          for (size_t k = 0; k < series->size(); ++k)
            if (!std::isnan((*series)[k].values[i])) idx.push_back(k);
          std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
            double va = (*series)[a].values[i], vb = (*series)[b].values[i];
            return st.kind == SecondStage::Kind::kTopK ? va > vb : va < vb;
          });
          for (size_t r = 0; r < idx.size() && r < static_cast<size_t>(st.limit); ++r)
            keep[idx[r]][i] = 1;
        }
        for (size_t k = 0; k < series->size(); ++k)
          for (size_t i = 0; i < n; ++i)
            if (!keep[k][i]) (*series)[k].values[i] = kNaN;
        DropEmpty(series);
        break;
      }
    }
  }
}

std::vector<DenseSeries> ApplyMath(Op op, const std::vector<DenseSeries>& lhs,
                                   const std::vector<DenseSeries>& rhs) {
  std::vector<DenseSeries> out;
  std::map<std::string, const DenseSeries*> by_key;
  for (const auto& s : rhs) by_key[LabelsKey(s.labels, true)] = &s;
  for (const auto& l : lhs) {
    auto it = by_key.find(LabelsKey(l.labels, true));
    if (it == by_key.end()) continue;
    const DenseSeries& r = *it->second;
    DenseSeries s;
    for (const auto& kv : l.labels)
      if (kv.key != "__name__") s.labels.push_back(kv);
    s.values.resize(l.values.size(), kNaN);
    for (size_t i = 0; i < l.values.size() && i < r.values.size(); ++i) {
      if (!std::isnan(l.values[i]) && !std::isnan(r.values[i]))
        s.values[i] = ArithOp(op, l.values[i], r.values[i]);
    }
    s.exemplars = l.exemplars;
    out.push_back(std::move(s));
  }
  DropEmpty(&out);
  return out;
}

}  // namespace otelbox::query::traceql

// Function dispatch and the functions over instant vectors and scalars: math, trig,
// clamp, round, date parts, sort, absent, scalar/vector/time/timestamp, as Prometheus'
// functions.go. Range-vector functions live in functions_range.cc, label functions in
// functions_label.cc, histogram_quantile in functions_histogram.cc.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>

#include "query/promql/evaluator.h"

namespace otelbox::query::promql {
namespace {

bool IsExperimental(std::string_view fn) {
  return fn == "sort_by_label" || fn == "sort_by_label_desc" || fn == "mad_over_time" ||
         fn == "double_exponential_smoothing" || fn == "holt_winters" ||
         fn.starts_with("ts_of_") || fn == "start" || fn == "end" || fn == "range" ||
         fn == "step" || fn == "histogram_quantiles";
}

bool IsNativeHistogramFunction(std::string_view fn) {
  return fn == "histogram_avg" || fn == "histogram_count" || fn == "histogram_stddev" ||
         fn == "histogram_stdvar" || fn == "histogram_sum";
}

// Go's math.Max / math.Min: NaN wins.
double GoMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  return std::max(a, b);
}
double GoMin(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  return std::min(a, b);
}

using MathFn = double (*)(double);
MathFn LookupMath(std::string_view fn) {
  struct Entry {
    std::string_view name;
    MathFn f;
  };
  static const Entry kMath[] = {
      {"abs", [](double x) { return std::fabs(x); }},
      {"ceil", [](double x) { return std::ceil(x); }},
      {"floor", [](double x) { return std::floor(x); }},
      {"exp", [](double x) { return std::exp(x); }},
      {"sqrt", [](double x) { return std::sqrt(x); }},
      {"ln", [](double x) { return std::log(x); }},
      {"log2", [](double x) { return std::log2(x); }},
      {"log10", [](double x) { return std::log10(x); }},
      {"sin", [](double x) { return std::sin(x); }},
      {"cos", [](double x) { return std::cos(x); }},
      {"tan", [](double x) { return std::tan(x); }},
      {"asin", [](double x) { return std::asin(x); }},
      {"acos", [](double x) { return std::acos(x); }},
      {"atan", [](double x) { return std::atan(x); }},
      {"sinh", [](double x) { return std::sinh(x); }},
      {"cosh", [](double x) { return std::cosh(x); }},
      {"tanh", [](double x) { return std::tanh(x); }},
      {"asinh", [](double x) { return std::asinh(x); }},
      {"acosh", [](double x) { return std::acosh(x); }},
      {"atanh", [](double x) { return std::atanh(x); }},
      {"deg", [](double x) { return x * 180 / std::numbers::pi; }},
      {"rad", [](double x) { return x * std::numbers::pi / 180; }},
      {"sgn", [](double x) { return x < 0 ? -1.0 : x > 0 ? 1.0 : x; }},
  };
  for (const auto& e : kMath) {
    if (e.name == fn) return e.f;
  }
  return nullptr;
}

bool IsDateFunction(std::string_view fn) {
  return fn == "day_of_month" || fn == "day_of_week" || fn == "day_of_year" ||
         fn == "days_in_month" || fn == "hour" || fn == "minute" || fn == "month" ||
         fn == "year";
}

// A date part of Unix seconds `f` in UTC, as Go's time.Unix(int64(f), 0).UTC().
double DatePart(std::string_view fn, double f) {
  if (!std::isfinite(f) || std::fabs(f) > 9.2e18) return std::nan("");
  using namespace std::chrono;
  int64_t secs = static_cast<int64_t>(f);
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  sys_days d{std::chrono::days{days}};
  year_month_day ymd{d};
  if (fn == "hour") return static_cast<double>(sod / 3600);
  if (fn == "minute") return static_cast<double>(sod / 60 % 60);
  if (fn == "year") return static_cast<int>(ymd.year());
  if (fn == "month") return static_cast<unsigned>(ymd.month());
  if (fn == "day_of_month") return static_cast<unsigned>(ymd.day());
  if (fn == "day_of_week") return weekday{d}.c_encoding();
  if (fn == "day_of_year") {
    sys_days jan1{ymd.year() / January / 1};
    return static_cast<double>((d - jan1).count() + 1);
  }
  // days_in_month
  year_month_day_last last{ymd.year() / ymd.month() / std::chrono::last};
  return static_cast<unsigned>(last.day());
}

}  // namespace

EvalValue Evaluator::EvalCall(const Call& c) {
  const std::string& fn = c.func;
  const FunctionInfo* info = LookupFunction(fn);
  if (info == nullptr) ThrowInvalid("unknown function with name \"" + fn + "\"");
  if (IsExperimental(fn) && !ctx_->options->enable_experimental) {
    ThrowInvalid("function \"" + fn + "\" is not enabled");
  }
  if (fn == "info") ThrowUnsupported("function \"info\" is not supported yet");
  for (size_t i = 0; i < info->arg_types.size() && i < c.args.size(); ++i) {
    if (info->arg_types[i] == ValueType::kMatrix) return EvalRangeFunction(c);
  }
  if (fn == "histogram_quantile" || fn == "histogram_fraction" || fn == "histogram_quantiles") {
    return EvalHistogramQuantile(c);
  }
  if (IsNativeHistogramFunction(fn)) return EvalHistogramFunction(c);
  if (fn == "label_replace" || fn == "label_join" || fn == "sort_by_label" ||
      fn == "sort_by_label_desc") {
    return EvalLabelFunction(c);
  }

  EvalValue out;
  if (fn == "time" || fn == "pi") {
    out.type = ValueType::kScalar;
    for (size_t i = 0; i < steps_.count; ++i) {
      out.scalars.push_back(fn == "pi" ? std::numbers::pi
                                       : static_cast<double>(steps_.At(i)) / 1000.0);
    }
    return out;
  }
  if (fn == "start" || fn == "end" || fn == "range" || fn == "step") {
    // The query's own parameters in seconds, the same at every step (also inside
    // subqueries).
    int64_t ms = fn == "start" ? ctx_->start_ms
                 : fn == "end" ? ctx_->end_ms
                 : fn == "range" ? ctx_->end_ms - ctx_->start_ms
                                 : ctx_->step_ms;
    out.type = ValueType::kScalar;
    out.scalars.assign(steps_.count, static_cast<double>(ms) / 1000.0);
    return out;
  }
  if (fn == "timestamp") {
    const Expr* arg = c.args[0].get();
    while (auto* p = arg->As<ParenExpr>()) arg = p->expr.get();
    EvalValue v;
    if (auto* vs = arg->As<VectorSelector>()) {
      v = EvalVectorSelector(*vs, /*timestamps=*/true);
    } else {
      v = Eval(*arg);
      for (auto& s : v.series) {
        for (auto& p : s.samples) p.value = static_cast<double>(p.t_ms) / 1000.0;
        for (const auto& p : s.histograms) {
          s.samples.push_back({p.t_ms, static_cast<double>(p.t_ms) / 1000.0});
        }
        s.histograms.clear();
        std::sort(s.samples.begin(), s.samples.end(),
                  [](const storage::Sample& a, const storage::Sample& b) { return a.t_ms < b.t_ms; });
      }
    }
    for (auto& s : v.series) DropName(&s);
    MergeSameLabels(&v.series);
    return v;
  }
  if (fn == "vector") {
    EvalValue s = Eval(*c.args[0]);
    out.type = ValueType::kVector;
    Series ser;
    for (size_t i = 0; i < steps_.count; ++i) ser.samples.push_back({steps_.At(i), s.scalars[i]});
    out.series.push_back(std::move(ser));
    return out;
  }
  if (fn == "scalar") {
    EvalValue v = Eval(*c.args[0]);
    out.type = ValueType::kScalar;
    out.scalars.assign(steps_.count, std::nan(""));
    std::vector<int> count(steps_.count);
    for (const auto& s : v.series) {
      for (const auto& p : s.samples) {
        size_t i = steps_.Index(p.t_ms);
        out.scalars[i] = ++count[i] == 1 ? p.value : std::nan("");
      }
    }
    return out;
  }
  if (fn == "absent") {
    EvalValue v = Eval(*c.args[0]);
    out.type = ValueType::kVector;
    std::vector<char> present(steps_.count);
    for (const auto& s : v.series) {
      for (const auto& p : s.samples) present[steps_.Index(p.t_ms)] = 1;
      for (const auto& p : s.histograms) present[steps_.Index(p.t_ms)] = 1;
    }
    Series ser;
    if (auto* vs = c.args[0]->As<VectorSelector>()) {
      // Prometheus' createLabelsForAbsentFunction: equality matchers, except names
      // given more than once.
      std::vector<storage::Label> ls;
      std::vector<std::string> seen;
      for (const auto& m : vs->matchers) {
        if (m.name() == storage::kMetricNameLabel) continue;
        bool dup = std::find(seen.begin(), seen.end(), m.name()) != seen.end();
        std::erase_if(ls, [&](const storage::Label& l) { return l.name == m.name(); });
        if (m.type() == storage::MatchType::kEqual && !dup) ls.push_back({m.name(), m.value()});
        seen.push_back(m.name());
      }
      ser.labels = storage::Labels(std::move(ls));
    }
    for (size_t i = 0; i < steps_.count; ++i) {
      if (!present[i]) ser.samples.push_back({steps_.At(i), 1});
    }
    if (!ser.samples.empty()) out.series.push_back(std::move(ser));
    return out;
  }
  if (IsDateFunction(fn) && c.args.empty()) {
    out.type = ValueType::kVector;
    Series ser;
    for (size_t i = 0; i < steps_.count; ++i) {
      ser.samples.push_back({steps_.At(i), DatePart(fn, static_cast<double>(steps_.At(i)) / 1000)});
    }
    out.series.push_back(std::move(ser));
    return out;
  }
  if (fn == "sort" || fn == "sort_desc") {
    EvalValue v = Eval(*c.args[0]);
    // Histograms have no order: sort drops them (Prometheus' filterFloats).
    for (auto& s : v.series) s.histograms.clear();
    std::erase_if(v.series, [](const Series& s) { return s.samples.empty(); });
    if (steps_.count != 1) return v;  // order only matters for instant queries
    std::vector<size_t> idx(v.series.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    bool desc = fn == "sort_desc";
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      double x = v.series[a].samples[0].value, y = v.series[b].samples[0].value;
      if (std::isnan(x)) return false;  // NaN last either way
      if (std::isnan(y)) return true;
      return desc ? x > y : x < y;
    });
    std::vector<Series> sorted;
    for (size_t i : idx) sorted.push_back(std::move(v.series[i]));
    v.series = std::move(sorted);
    return v;
  }

  // Element-wise functions over the first argument, with scalar parameters.
  EvalValue v = Eval(*c.args[0]);
  std::vector<EvalValue> params;
  for (size_t i = 1; i < c.args.size(); ++i) params.push_back(Eval(*c.args[i]));
  MathFn math = LookupMath(fn);
  out.type = ValueType::kVector;
  for (auto& s : v.series) {
    ctx_->CheckDeadline();
    Series o;
    for (const auto& p : s.samples) {
      size_t i = steps_.Index(p.t_ms);
      double x = p.value;
      if (math != nullptr) {
        x = math(x);
      } else if (fn == "clamp") {
        double lo = params[0].scalars[i], hi = params[1].scalars[i];
        if (hi < lo) continue;
        x = GoMax(lo, GoMin(hi, x));
      } else if (fn == "clamp_max") {
        x = GoMin(params[0].scalars[i], x);
      } else if (fn == "clamp_min") {
        x = GoMax(params[0].scalars[i], x);
      } else if (fn == "round") {
        double to_nearest = params.empty() ? 1 : params[0].scalars[i];
        double inv = 1.0 / to_nearest;
        x = std::floor(x * inv + 0.5) / inv;
      } else if (IsDateFunction(fn)) {
        x = DatePart(fn, x);
      } else {
        ThrowUnsupported("function \"" + fn + "\" is not supported yet");
      }
      o.samples.push_back({p.t_ms, x});
    }
    if (o.samples.empty()) continue;
    o.labels = std::move(s.labels);
    o.drop_name = s.drop_name;
    DropName(&o);
    out.series.push_back(std::move(o));
  }
  MergeSameLabels(&out.series);
  return out;
}

}  // namespace otelbox::query::promql

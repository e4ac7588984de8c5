#include "query/promql/ast.h"

#include <algorithm>
#include <array>

namespace otelbox::query::promql {

const char* ValueTypeDescription(ValueType type) {
  switch (type) {
    case ValueType::kNone: return "none";
    case ValueType::kScalar: return "scalar";
    case ValueType::kString: return "string";
    case ValueType::kVector: return "instant vector";
    case ValueType::kMatrix: return "range vector";
  }
  return "none";
}

const char* BinaryOpSymbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kMod: return "%";
    case BinaryOp::kPow: return "^";
    case BinaryOp::kAtan2: return "atan2";
    case BinaryOp::kEqlc: return "==";
    case BinaryOp::kNeq: return "!=";
    case BinaryOp::kGtr: return ">";
    case BinaryOp::kLss: return "<";
    case BinaryOp::kGte: return ">=";
    case BinaryOp::kLte: return "<=";
    case BinaryOp::kAnd: return "and";
    case BinaryOp::kOr: return "or";
    case BinaryOp::kUnless: return "unless";
    case BinaryOp::kTrimUpper: return "</";
    case BinaryOp::kTrimLower: return ">/";
  }
  return "?";
}

bool IsComparison(BinaryOp op) {
  return op == BinaryOp::kEqlc || op == BinaryOp::kNeq || op == BinaryOp::kGtr ||
         op == BinaryOp::kLss || op == BinaryOp::kGte || op == BinaryOp::kLte;
}

bool IsSetOperator(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

ValueType TypeOf(const Expr& expr) {
  struct Visitor {
    ValueType operator()(const NumberLiteral&) const { return ValueType::kScalar; }
    ValueType operator()(const StringLiteral&) const { return ValueType::kString; }
    ValueType operator()(const VectorSelector&) const { return ValueType::kVector; }
    ValueType operator()(const MatrixSelector&) const { return ValueType::kMatrix; }
    ValueType operator()(const SubqueryExpr&) const { return ValueType::kMatrix; }
    ValueType operator()(const ParenExpr& e) const { return TypeOf(*e.expr); }
    ValueType operator()(const UnaryExpr& e) const { return TypeOf(*e.expr); }
    ValueType operator()(const BinaryExpr& e) const {
      if (TypeOf(*e.lhs) == ValueType::kScalar && TypeOf(*e.rhs) == ValueType::kScalar) {
        return ValueType::kScalar;
      }
      return ValueType::kVector;
    }
    ValueType operator()(const Call& e) const {
      const FunctionInfo* f = LookupFunction(e.func);
      return f ? f->return_type : ValueType::kNone;
    }
    ValueType operator()(const AggregateExpr&) const { return ValueType::kVector; }
  };
  return std::visit(Visitor{}, expr.node);
}

namespace {
void Collect(const Expr& e, std::vector<const VectorSelector*>* out) {
  if (auto* v = e.As<VectorSelector>()) {
    out->push_back(v);
  } else if (auto* m = e.As<MatrixSelector>()) {
    Collect(*m->vector_selector, out);
  } else if (auto* s = e.As<SubqueryExpr>()) {
    Collect(*s->expr, out);
  } else if (auto* p = e.As<ParenExpr>()) {
    Collect(*p->expr, out);
  } else if (auto* u = e.As<UnaryExpr>()) {
    Collect(*u->expr, out);
  } else if (auto* b = e.As<BinaryExpr>()) {
    Collect(*b->lhs, out);
    Collect(*b->rhs, out);
  } else if (auto* c = e.As<Call>()) {
    for (const auto& a : c->args) Collect(*a, out);
  } else if (auto* a = e.As<AggregateExpr>()) {
    if (a->param) Collect(*a->param, out);
    Collect(*a->expr, out);
  }
}
}  // namespace

std::vector<const VectorSelector*> ExtractSelectors(const Expr& expr) {
  std::vector<const VectorSelector*> out;
  Collect(expr, &out);
  return out;
}

const FunctionInfo* LookupFunction(std::string_view name) {
  using V = ValueType;
  constexpr V s = V::kScalar, v = V::kVector, m = V::kMatrix, str = V::kString;
  // Prometheus 3.x promql/parser/functions.go (experimental ones included).
  static const FunctionInfo kFunctions[] = {
      {"abs", {v}, 0, v},
      {"absent", {v}, 0, v},
      {"absent_over_time", {m}, 0, v},
      {"acos", {v}, 0, v},
      {"acosh", {v}, 0, v},
      {"asin", {v}, 0, v},
      {"asinh", {v}, 0, v},
      {"atan", {v}, 0, v},
      {"atanh", {v}, 0, v},
      {"avg_over_time", {m}, 0, v},
      {"ceil", {v}, 0, v},
      {"changes", {m}, 0, v},
      {"clamp", {v, s, s}, 0, v},
      {"clamp_max", {v, s}, 0, v},
      {"clamp_min", {v, s}, 0, v},
      {"cos", {v}, 0, v},
      {"cosh", {v}, 0, v},
      {"count_over_time", {m}, 0, v},
      {"days_in_month", {v}, 1, v},
      {"day_of_month", {v}, 1, v},
      {"day_of_week", {v}, 1, v},
      {"day_of_year", {v}, 1, v},
      {"deg", {v}, 0, v},
      {"delta", {m}, 0, v},
      {"deriv", {m}, 0, v},
      {"double_exponential_smoothing", {m, s, s}, 0, v},
      {"end", {}, 0, s},
      {"exp", {v}, 0, v},
      {"first_over_time", {m}, 0, v},
      {"floor", {v}, 0, v},
      {"histogram_avg", {v}, 0, v},
      {"histogram_count", {v}, 0, v},
      {"histogram_fraction", {s, s, v}, 0, v},
      {"histogram_quantile", {s, v}, 0, v},
      {"histogram_quantiles", {v, str, s, s}, 9, v},
      {"histogram_stddev", {v}, 0, v},
      {"histogram_stdvar", {v}, 0, v},
      {"histogram_sum", {v}, 0, v},
      {"holt_winters", {m, s, s}, 0, v},
      {"hour", {v}, 1, v},
      {"idelta", {m}, 0, v},
      {"increase", {m}, 0, v},
      {"info", {v, v}, 1, v},
      {"irate", {m}, 0, v},
      {"label_join", {v, str, str, str}, -1, v},
      {"label_replace", {v, str, str, str, str}, 0, v},
      {"last_over_time", {m}, 0, v},
      {"ln", {v}, 0, v},
      {"log10", {v}, 0, v},
      {"log2", {v}, 0, v},
      {"mad_over_time", {m}, 0, v},
      {"max_over_time", {m}, 0, v},
      {"min_over_time", {m}, 0, v},
      {"minute", {v}, 1, v},
      {"month", {v}, 1, v},
      {"pi", {}, 0, s},
      {"predict_linear", {m, s}, 0, v},
      {"present_over_time", {m}, 0, v},
      {"quantile_over_time", {s, m}, 0, v},
      {"rad", {v}, 0, v},
      {"range", {}, 0, s},
      {"rate", {m}, 0, v},
      {"resets", {m}, 0, v},
      {"round", {v, s}, 1, v},
      {"scalar", {v}, 0, s},
      {"sgn", {v}, 0, v},
      {"sin", {v}, 0, v},
      {"sinh", {v}, 0, v},
      {"sort", {v}, 0, v},
      {"sort_by_label", {v, str}, -1, v},
      {"sort_by_label_desc", {v, str}, -1, v},
      {"sort_desc", {v}, 0, v},
      {"sqrt", {v}, 0, v},
      {"start", {}, 0, s},
      {"stddev_over_time", {m}, 0, v},
      {"stdvar_over_time", {m}, 0, v},
      {"step", {}, 0, s},
      {"sum_over_time", {m}, 0, v},
      {"tan", {v}, 0, v},
      {"tanh", {v}, 0, v},
      {"time", {}, 0, s},
      {"timestamp", {v}, 0, v},
      {"ts_of_first_over_time", {m}, 0, v},
      {"ts_of_last_over_time", {m}, 0, v},
      {"ts_of_max_over_time", {m}, 0, v},
      {"ts_of_min_over_time", {m}, 0, v},
      {"vector", {s}, 0, v},
      {"year", {v}, 1, v},
  };
  for (const auto& f : kFunctions) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

namespace {
constexpr std::array<std::string_view, 14> kAggregators = {
    "avg", "bottomk", "count", "count_values", "group", "limitk", "limit_ratio",
    "max", "min", "quantile", "stddev", "stdvar", "sum", "topk"};
}  // namespace

bool IsAggregator(std::string_view name) {
  return std::find(kAggregators.begin(), kAggregators.end(), name) != kAggregators.end();
}

bool AggregatorHasParam(std::string_view name) {
  return name == "topk" || name == "bottomk" || name == "quantile" || name == "count_values" ||
         name == "limitk" || name == "limit_ratio";
}

}  // namespace otelbox::query::promql

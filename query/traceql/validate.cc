// Tempo's validate() (pkg/traceql ast_validate.go): type rules per operator, regexes,
// aggregates and group-bys that must reference the span, metrics parameters. Constructs
// Tempo recognises but does not execute are Unimplemented ("... not yet supported"), the
// same split Tempo makes between its plain errors and unsupportedError.

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "query/traceql/parser.h"

namespace otelbox::query::traceql {
namespace {

constexpr size_t kMaxGroupBys = 5;
constexpr int64_t kMaxCompareTopN = 1000;

bool IsNumeric(StaticType t) {
  return t == StaticType::kInt || t == StaticType::kFloat || t == StaticType::kDuration;
}

bool MatchingOperands(StaticType a, StaticType b) {
  if (a == StaticType::kAttribute || b == StaticType::kAttribute) return true;
  if (a == b) return true;
  if (IsNumeric(a) && IsNumeric(b)) return true;
  return a == StaticType::kNil || b == StaticType::kNil;
}

bool BinaryTypeValid(Op op, StaticType t) {
  switch (t) {
    case StaticType::kAttribute:
      return true;
    case StaticType::kBool:
      return op == Op::kAnd || op == Op::kOr || op == Op::kEqual || op == Op::kNotEqual;
    case StaticType::kInt: case StaticType::kFloat: case StaticType::kDuration:
      return op == Op::kAdd || op == Op::kSub || op == Op::kMult || op == Op::kDiv ||
             op == Op::kMod || op == Op::kPower || op == Op::kEqual || op == Op::kNotEqual ||
             op == Op::kGreater || op == Op::kGreaterEqual || op == Op::kLess ||
             op == Op::kLessEqual;
    case StaticType::kString:
      return op == Op::kEqual || op == Op::kNotEqual || op == Op::kRegex ||
             op == Op::kNotRegex || op == Op::kGreater || op == Op::kGreaterEqual ||
             op == Op::kLess || op == Op::kLessEqual;
    case StaticType::kNil: case StaticType::kStatus: case StaticType::kKind:
      return op == Op::kEqual || op == Op::kNotEqual;
    default:
      return false;
  }
}

bool UnaryTypeValid(Op op, StaticType t) {
  if (t == StaticType::kAttribute) return true;
  switch (op) {
    case Op::kSub: return IsNumeric(t);
    case Op::kNot: return t == StaticType::kBool;
    case Op::kExists: case Op::kNotExists: return true;
    default: return false;
  }
}

absl::Status Unsupported(const std::string& feature) {
  return absl::UnimplementedError(feature + " not yet supported");
}

absl::Status ValidateAttribute(const Attribute& a) {
  if (a.parent) return Unsupported("parent");
  if (a.intrinsic == Intrinsic::kParent) return Unsupported("intrinsic (parent)");
  return absl::OkStatus();
}

absl::Status ValidateField(const FieldExpr& e) {
  switch (e.kind) {
    case FieldExpr::Kind::kStatic:
      return absl::OkStatus();
    case FieldExpr::Kind::kAttribute:
      return ValidateAttribute(e.attr);
    case FieldExpr::Kind::kUnary: {
      if (auto st = ValidateField(*e.lhs); !st.ok()) return st;
      if (e.op == Op::kNotExists && e.lhs->kind == FieldExpr::Kind::kAttribute) {
        const Attribute& a = e.lhs->attr;
        if (a.intrinsic != Intrinsic::kNone) {
          return absl::InvalidArgumentError(
              a.ToString() + "=nil is not valid because intrinsics cannot be nil");
        }
        if (a.scope == AttributeScope::kResource && !a.parent && a.name == "service.name") {
          return absl::InvalidArgumentError(
              a.ToString() + "=nil is not valid because resource.service.name cannot be nil");
        }
      }
      StaticType t = e.lhs->ImpliedType();
      if (!UnaryTypeValid(e.op, t)) {
        return absl::InvalidArgumentError("illegal operation for the given type: " + e.ToString());
      }
      return absl::OkStatus();
    }
    case FieldExpr::Kind::kBinary: {
      if (auto st = ValidateField(*e.lhs); !st.ok()) return st;
      if (auto st = ValidateField(*e.rhs); !st.ok()) return st;
      StaticType l = e.lhs->ImpliedType(), r = e.rhs->ImpliedType();
      if (!MatchingOperands(l, r)) {
        return absl::InvalidArgumentError("binary operations must operate on the same type: " +
                                          e.ToString());
      }
      if (!BinaryTypeValid(e.op, l) || !BinaryTypeValid(e.op, r)) {
        return absl::InvalidArgumentError("illegal operation for the given types: " + e.ToString());
      }
      if (e.op == Op::kRegex || e.op == Op::kNotRegex) {
        if (e.rhs->kind != FieldExpr::Kind::kStatic || r != StaticType::kString) {
          return absl::InvalidArgumentError(
              absl::StrCat("invalid type for =~ or !~: ", e.rhs->ToString()));
        }
        if (!e.regex) return absl::InvalidArgumentError("invalid regex: " + e.rhs->ToString());
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAggregate(const Aggregate& a) {
  if (!a.expr) return absl::OkStatus();
  if (auto st = ValidateField(*a.expr); !st.ok()) return st;
  StaticType t = a.expr->ImpliedType();
  if (t != StaticType::kAttribute && !IsNumeric(t)) {
    return absl::InvalidArgumentError("aggregate field expressions must resolve to a number type: " +
                                      a.ToString());
  }
  if (!a.expr->ReferencesSpan()) {
    return absl::InvalidArgumentError("aggregate field expressions must reference the span: " +
                                      a.ToString());
  }
  return absl::OkStatus();
}

absl::Status ValidateElement(const Element& e);

absl::Status ValidateScalar(const ScalarExpr& s) {
  switch (s.kind) {
    case ScalarExpr::Kind::kStatic:
      return absl::OkStatus();
    case ScalarExpr::Kind::kAggregate:
      return ValidateAggregate(s.aggregate);
    case ScalarExpr::Kind::kPipeline:
      return ValidateElement(*s.pipeline);
    case ScalarExpr::Kind::kBinary: {
      if (auto st = ValidateScalar(*s.lhs); !st.ok()) return st;
      if (auto st = ValidateScalar(*s.rhs); !st.ok()) return st;
      StaticType l = s.lhs->ImpliedType(), r = s.rhs->ImpliedType();
      if (!MatchingOperands(l, r)) {
        return absl::InvalidArgumentError("binary operations must operate on the same type: " +
                                          s.ToString());
      }
      if (!BinaryTypeValid(s.op, l) || !BinaryTypeValid(s.op, r)) {
        return absl::InvalidArgumentError("illegal operation for the given types: " + s.ToString());
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateElement(const Element& e) {
  switch (e.kind) {
    case Element::Kind::kFilter: {
      if (auto st = ValidateField(*e.expr); !st.ok()) return st;
      StaticType t = e.expr->ImpliedType();
      if (t != StaticType::kAttribute && t != StaticType::kBool) {
        return absl::InvalidArgumentError(
            "span filter field expressions must resolve to a boolean: " + e.ToString());
      }
      return absl::OkStatus();
    }
    case Element::Kind::kSpansetOp:
      if (auto st = ValidateElement(*e.lhs); !st.ok()) return st;
      return ValidateElement(*e.rhs);
    case Element::Kind::kScalarFilter: {
      if (auto st = ValidateScalar(*e.scalar_lhs); !st.ok()) return st;
      if (auto st = ValidateScalar(*e.scalar_rhs); !st.ok()) return st;
      StaticType l = e.scalar_lhs->ImpliedType(), r = e.scalar_rhs->ImpliedType();
      if (!MatchingOperands(l, r)) {
        return absl::InvalidArgumentError("binary operations must operate on the same type: " +
                                          e.ToString());
      }
      if (!BinaryTypeValid(e.op, l) || !BinaryTypeValid(e.op, r)) {
        return absl::InvalidArgumentError("illegal operation for the given types: " + e.ToString());
      }
      if (e.scalar_lhs->kind != ScalarExpr::Kind::kAggregate) {
        return Unsupported("scalar filter lhs of type (%v)");
      }
      if (e.scalar_rhs->kind != ScalarExpr::Kind::kStatic) {
        return Unsupported("scalar filter rhs of type (%v)");
      }
      return absl::OkStatus();
    }
    case Element::Kind::kGroup:
      if (!e.expr->ReferencesSpan()) {
        return absl::InvalidArgumentError("grouping field expressions must reference the span: " +
                                          e.ToString());
      }
      return ValidateField(*e.expr);
    case Element::Kind::kCoalesce:
      return absl::OkStatus();
    case Element::Kind::kSelect:
      for (const auto& a : e.attributes) {
        if (auto st = ValidateAttribute(a); !st.ok()) return st;
      }
      return absl::OkStatus();
    case Element::Kind::kAggregate:
      return ValidateAggregate(e.aggregate);
    case Element::Kind::kPipeline:
      for (const auto& el : e.elements) {
        if (auto st = ValidateElement(*el); !st.ok()) return st;
      }
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status ValidateFirstStage(const MetricsFirstStage& m) {
  switch (m.op) {
    case MetricsOp::kQuantileOverTime:
      if (m.by.size() >= kMaxGroupBys) {
        return Unsupported(absl::StrCat("metrics group by ", m.by.size(), " values"));
      }
      for (double q : m.quantiles) {
        if (q < 0 || q > 1) {
          return absl::InvalidArgumentError(absl::StrCat("quantile must be between 0 and 1: ", q));
        }
      }
      break;
    case MetricsOp::kHistogramOverTime:
    case MetricsOp::kAvgOverTime:
      if (m.by.size() >= kMaxGroupBys) {
        return Unsupported(absl::StrCat("metrics group by ", m.by.size(), " values"));
      }
      break;
    case MetricsOp::kCompare: {
      if (auto st = ValidateElement(*m.compare_filter); !st.ok()) return st;
      if (m.compare_top_n <= 0 || m.compare_top_n > kMaxCompareTopN) {
        return absl::InvalidArgumentError(absl::StrCat(
            "compare() top number of values must be an integer between 1 and ", kMaxCompareTopN));
      }
      if (m.compare_start == 0 && m.compare_end == 0) break;
      if (m.compare_start <= 0 || m.compare_end <= 0) {
        return absl::InvalidArgumentError(
            "compare() timestamps must be positive integer unix nanoseconds");
      }
      if (m.compare_end <= m.compare_start) {
        return absl::InvalidArgumentError(
            "compare() end timestamp must be greater than start timestamp");
      }
      break;
    }
    default:
      break;
  }
  if (m.by.size() > kMaxGroupBys) {
    return Unsupported(absl::StrCat("metrics group by ", m.by.size(), " values"));
  }
  return absl::OkStatus();
}

// Pipelines first, then first stages, then second stages (Tempo's RootExpr.validate order).
absl::Status ValidateMetrics(const MetricsExpr& m, int pass) {
  if (m.kind == MetricsExpr::Kind::kMath) {
    if (auto st = ValidateMetrics(*m.lhs, pass); !st.ok()) return st;
    if (auto st = ValidateMetrics(*m.rhs, pass); !st.ok()) return st;
  } else if (pass == 0) {
    if (auto st = ValidateElement(*m.pipeline); !st.ok()) return st;
  } else if (pass == 1) {
    if (auto st = ValidateFirstStage(m.first_stage); !st.ok()) return st;
  }
  if (pass == 2) {
    for (const auto& s : m.second_stages) {
      if ((s.kind == SecondStage::Kind::kTopK || s.kind == SecondStage::Kind::kBottomK) &&
          s.limit <= 0) {
        return absl::InvalidArgumentError("limit must be greater than 0");
      }
    }
  }
  return absl::OkStatus();
}

bool HasCompare(const MetricsExpr& m) {
  if (m.kind == MetricsExpr::Kind::kMath) return HasCompare(*m.lhs) || HasCompare(*m.rhs);
  return m.first_stage.op == MetricsOp::kCompare;
}

}  // namespace

absl::Status Validate(const RootExpr& root) {
  if (!root.metrics) return ValidateElement(*root.pipeline);
  for (int pass = 0; pass < 3; ++pass) {
    if (auto st = ValidateMetrics(*root.metrics, pass); !st.ok()) return st;
  }
  const MetricsExpr& m = *root.metrics;
  if ((m.kind == MetricsExpr::Kind::kMath || !m.second_stages.empty()) && HasCompare(m)) {
    return absl::InvalidArgumentError("`compare()` cannot be used with second stage functions");
  }
  return absl::OkStatus();
}

}  // namespace otelbox::query::traceql

#pragma once
// The TraceQL syntax tree, shaped like Tempo's (pkg/traceql ast.go): a root holds either a
// spanset pipeline (filters, spanset operators, scalar filters, by/select/coalesce) or a
// metrics expression (first stage over a pipeline, second stages, math between queries).
// Nodes are immutable after parsing and shared (shared_ptr<const>), so one parsed query
// can be evaluated by several threads.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "re2/re2.h"

namespace otelbox::query::traceql {

enum class Op : uint8_t {
  kNone,
  kAdd, kSub, kDiv, kMod, kMult, kPower,
  kEqual, kNotEqual, kRegex, kNotRegex, kGreater, kGreaterEqual, kLess, kLessEqual,
  kAnd, kOr, kNot, kExists, kNotExists,
  // Spanset operators.
  kSpansetAnd, kSpansetUnion, kSpansetChild, kSpansetParent, kSpansetDescendant,
  kSpansetAncestor, kSpansetSibling, kSpansetNotChild, kSpansetNotParent,
  kSpansetNotDescendant, kSpansetNotAncestor, kSpansetNotSibling, kSpansetUnionChild,
  kSpansetUnionParent, kSpansetUnionDescendant, kSpansetUnionAncestor, kSpansetUnionSibling,
};
const char* OpString(Op op);
bool IsBooleanOp(Op op);
bool IsArithmeticOp(Op op);

enum class StaticType : uint8_t {
  kNil, kSpanset, kAttribute, kInt, kFloat, kString, kBool, kDuration, kStatus, kKind,
};

// TraceQL status/kind literals (status numbering is Tempo's: error=0, ok=1, unset=2).
enum class StatusValue : uint8_t { kError = 0, kOk = 1, kUnset = 2 };
enum class KindValue : uint8_t {
  kUnspecified = 0, kInternal, kClient, kServer, kProducer, kConsumer,
};

struct Static {
  StaticType type = StaticType::kNil;
  int64_t i = 0;       // int; duration in ns; status / kind value
  double f = 0;        // float
  bool b = false;
  std::string s;

  static Static Nil() { return {}; }
  static Static Int(int64_t v) { Static s; s.type = StaticType::kInt; s.i = v; return s; }
  static Static Float(double v) { Static s; s.type = StaticType::kFloat; s.f = v; return s; }
  static Static Bool(bool v) { Static s; s.type = StaticType::kBool; s.b = v; return s; }
  static Static Str(std::string v) { Static s; s.type = StaticType::kString; s.s = std::move(v); return s; }
  static Static Duration(int64_t ns) { Static s; s.type = StaticType::kDuration; s.i = ns; return s; }
  static Static Status(StatusValue v) { Static s; s.type = StaticType::kStatus; s.i = static_cast<int64_t>(v); return s; }
  static Static Kind(KindValue v) { Static s; s.type = StaticType::kKind; s.i = static_cast<int64_t>(v); return s; }

  bool IsNumeric() const {
    return type == StaticType::kInt || type == StaticType::kFloat || type == StaticType::kDuration;
  }
  // Numbers as double (durations in ns).
  double AsFloat() const {
    return type == StaticType::kFloat ? f : static_cast<double>(i);
  }
  bool operator==(const Static& o) const;
  std::string ToString() const;  // as TraceQL prints it
};

enum class Intrinsic : uint8_t {
  kNone, kDuration, kName, kStatus, kStatusMessage, kKind, kChildCount, kParent,
  kTraceRootService, kTraceRootSpan, kTraceDuration, kTraceId, kSpanId, kParentId,
  kNestedSetLeft, kNestedSetRight, kNestedSetParent, kEventName, kEventTimeSinceStart,
  kLinkTraceId, kLinkSpanId, kInstrumentationName, kInstrumentationVersion,
};
const char* IntrinsicName(Intrinsic i);
StaticType IntrinsicType(Intrinsic i);

enum class AttributeScope : uint8_t { kNone, kSpan, kResource, kEvent, kLink, kInstrumentation };

struct Attribute {
  std::string name;
  AttributeScope scope = AttributeScope::kNone;
  bool parent = false;
  Intrinsic intrinsic = Intrinsic::kNone;

  static Attribute Make(AttributeScope scope, bool parent, std::string name) {
    Attribute a;
    a.scope = scope;
    a.parent = parent;
    a.name = std::move(name);
    return a;
  }
  static Attribute MakeIntrinsic(Intrinsic i) {
    Attribute a;
    a.intrinsic = i;
    a.name = IntrinsicName(i);
    return a;
  }
  StaticType ImpliedType() const {
    return intrinsic == Intrinsic::kNone ? StaticType::kAttribute : IntrinsicType(intrinsic);
  }
  bool operator==(const Attribute&) const = default;
  std::string ToString() const;  // "span.foo", ".\"a b\"", "duration", "span:id"
};

// ---- field expressions (inside { }, aggregates, by()) ----

struct FieldExpr;
using FieldExprPtr = std::shared_ptr<const FieldExpr>;

struct FieldExpr {
  enum class Kind : uint8_t { kStatic, kAttribute, kBinary, kUnary } kind = Kind::kStatic;
  Op op = Op::kNone;
  Static value;      // kStatic
  Attribute attr;    // kAttribute
  FieldExprPtr lhs;  // kBinary, kUnary (operand)
  FieldExprPtr rhs;  // kBinary
  // =~ / !~ with a string literal on the right: compiled once, fully anchored (Tempo's
  // regexes match the whole value). Null when invalid (validation reports it).
  std::shared_ptr<const RE2> regex;

  StaticType ImpliedType() const;
  bool ReferencesSpan() const;
  std::string ToString() const;
};

// ---- spanset pipelines ----

enum class AggregateOp : uint8_t { kCount, kMax, kMin, kAvg, kSum };

struct Element;
using ElementPtr = std::shared_ptr<const Element>;
struct ScalarExpr;
using ScalarExprPtr = std::shared_ptr<const ScalarExpr>;

// count() | max(e) | ... (e is null for count()).
struct Aggregate {
  AggregateOp op = AggregateOp::kCount;
  FieldExprPtr expr;
  StaticType ImpliedType() const {
    return op == AggregateOp::kCount || !expr ? StaticType::kInt : expr->ImpliedType();
  }
  std::string ToString() const;
};

// Operands of scalar filters: aggregates, literals, arithmetic, and (outside pipelines)
// parenthesised pipelines that end in an aggregate.
struct ScalarExpr {
  enum class Kind : uint8_t { kStatic, kAggregate, kBinary, kPipeline } kind = Kind::kStatic;
  Static value;
  Aggregate aggregate;
  Op op = Op::kNone;
  ScalarExprPtr lhs, rhs;
  ElementPtr pipeline;  // kPipeline: an Element of kind kPipeline ending in kAggregate
  StaticType ImpliedType() const;
  std::string ToString() const;
};

struct Element {
  enum class Kind : uint8_t {
    kFilter,        // { expr }
    kSpansetOp,     // lhs op rhs (operands: filters, spanset ops, or pipelines)
    kScalarFilter,  // scalar op scalar (count() > 2)
    kGroup,         // by(expr)
    kCoalesce,      // coalesce()
    kSelect,        // select(attrs)
    kAggregate,     // last element of a scalar pipeline `({ } | count())`
    kPipeline,      // elements joined by |
  } kind = Kind::kFilter;
  FieldExprPtr expr;                 // kFilter, kGroup
  Op op = Op::kNone;                 // kSpansetOp, kScalarFilter
  ElementPtr lhs, rhs;               // kSpansetOp
  ScalarExprPtr scalar_lhs, scalar_rhs;  // kScalarFilter
  std::vector<Attribute> attributes;     // kSelect
  Aggregate aggregate;                   // kAggregate
  std::vector<ElementPtr> elements;      // kPipeline
  std::string ToString() const;
};

// ---- metrics ----

enum class MetricsOp : uint8_t {
  kRate, kCountOverTime, kMinOverTime, kMaxOverTime, kAvgOverTime, kSumOverTime,
  kQuantileOverTime, kHistogramOverTime, kCompare,
};
const char* MetricsOpName(MetricsOp op);

struct MetricsFirstStage {
  MetricsOp op = MetricsOp::kRate;
  bool has_attribute = false;
  Attribute attribute;              // the measured value (duration, span.size ...)
  std::vector<Attribute> by;
  std::vector<double> quantiles;    // quantile_over_time
  ElementPtr compare_filter;        // compare(): the selection filter
  int64_t compare_top_n = 10, compare_start = 0, compare_end = 0;
  std::string ToString() const;
};

struct SecondStage {
  enum class Kind : uint8_t { kTopK, kBottomK, kFilter, kScalarOp } kind = Kind::kTopK;
  int64_t limit = 0;             // topk/bottomk
  Op op = Op::kNone;             // filter comparison or scalar arithmetic
  double value = 0;              // filter threshold / scalar operand
  bool scalar_on_left = false;   // `5 - (q)` vs `(q) - 5`
  std::string ToString() const;
};

struct MetricsExpr;
using MetricsExprPtr = std::shared_ptr<const MetricsExpr>;

struct MetricsExpr {
  enum class Kind : uint8_t { kQuery, kMath } kind = Kind::kQuery;
  ElementPtr pipeline;            // kQuery (an Element of kind kPipeline)
  MetricsFirstStage first_stage;  // kQuery
  Op op = Op::kNone;              // kMath: + - * /
  MetricsExprPtr lhs, rhs;        // kMath
  std::vector<SecondStage> second_stages;  // applied in order after the above
  std::string ToString() const;
};

struct Hint {
  std::string name;
  Static value;
};

struct RootExpr {
  ElementPtr pipeline;    // search queries (an Element of kind kPipeline), else null
  MetricsExprPtr metrics; // metrics queries, else null
  std::vector<Hint> hints;
  bool IsMetrics() const { return metrics != nullptr; }
  // Hint value by name (last wins), or null.
  const Static* FindHint(const std::string& name) const;
  std::string ToString() const;
};

}  // namespace otelbox::query::traceql

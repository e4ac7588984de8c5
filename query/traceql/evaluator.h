#pragma once
// Evaluates a validated spanset pipeline over one trace, as Tempo's engine does
// (ast_execute.go): the trace is one input spanset; filters keep matching spans;
// spanset operators evaluate both sides on the same input and combine (&&, ||, and the
// structural > < >> << ~ with their !/& forms, by nested sets); scalar filters compute an
// aggregate per spanset; by() splits spansets, coalesce() merges them. Spans are never
// copied: spansets hold indices into the TraceView.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "query/traceql/ast.h"
#include "query/traceql/trace_view.h"

namespace otelbox::query::traceql {

// A value computed from a span: a literal's type, with strings either borrowed from the
// span (no copy) or owned (hex ids).
struct Value {
  StaticType type = StaticType::kNil;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string_view s;
  std::string owned;
  bool use_owned = false;
  // An array attribute (type stays kNil): comparisons look at its elements, as Tempo's
  // array attributes match when an element does.
  const storage::AttributeArray* array = nullptr;

  std::string_view str() const { return use_owned ? std::string_view(owned) : s; }
  bool IsNil() const { return type == StaticType::kNil && array == nullptr; }
  bool IsNumeric() const {
    return type == StaticType::kInt || type == StaticType::kFloat || type == StaticType::kDuration;
  }
  double AsFloat() const { return type == StaticType::kFloat ? f : static_cast<double>(i); }
  static Value FromStatic(const Static& s);
  Static ToStatic() const;
};

struct Spanset {
  std::vector<uint32_t> spans;  // indices into the TraceView, in trace order
  std::vector<std::pair<std::string, Static>> attributes;  // by(), aggregates
  Static scalar;
};

// Per-query evaluation. Thread-compatible: use one per thread (it holds no mutable state
// after construction, but callers should not share it across threads without need).
class Evaluator {
 public:
  explicit Evaluator(const ElementPtr& pipeline) : pipeline_(pipeline) {}

  // The spansets the pipeline yields for `trace`.
  std::vector<Spanset> Run(const TraceView& trace) const;

  // A field expression on one span (event/link scoped parts see no event/link).
  Value EvalField(const FieldExpr& e, const TraceView& t, uint32_t span) const;

  // Attribute value on one span (event/link scoped: of the first event/link that has it).
  Value EvalAttribute(const Attribute& a, const TraceView& t, uint32_t span) const;

  // Whether the filter expression is true for the span (for event./link. conditions: for
  // some event / link of the span, as Tempo matches them).
  bool Matches(const FieldExpr& e, const TraceView& t, uint32_t span) const;
  // The same with the expression's event/link reference mask computed once by the caller.
  bool MatchesWithMask(const FieldExpr& e, uint8_t mask, const TraceView& t,
                       uint32_t span) const;

 private:
  std::vector<Spanset> EvalElement(const Element& e, const TraceView& t,
                                   std::vector<Spanset> input) const;
  std::vector<Spanset> EvalSpansetOp(const Element& e, const TraceView& t,
                                     std::vector<Spanset> input) const;
  bool Aggregate(const traceql::Aggregate& a, const TraceView& t, const Spanset& ss,
                 Static* out) const;

  ElementPtr pipeline_;
};

// Comparison of two values with TraceQL semantics (nil or mismatched types: false).
bool CompareValues(Op op, const Value& l, const Value& r, const RE2* regex);

}  // namespace otelbox::query::traceql

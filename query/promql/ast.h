#pragma once
// The PromQL syntax tree, shaped like Prometheus' promql/parser/ast.go.
// An Expr owns its children; positions are byte offsets into the query text.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "storage/model/labels.h"
#include "storage/model/matcher.h"

namespace otelbox::query::promql {

enum class ValueType { kNone, kScalar, kString, kVector, kMatrix };
// "scalar", "string", "instant vector", "range vector" as Prometheus' messages name them.
const char* ValueTypeDescription(ValueType type);

enum class BinaryOp {
  kAdd, kSub, kMul, kDiv, kMod, kPow, kAtan2,         // arithmetic
  kEqlc, kNeq, kGtr, kLss, kGte, kLte,                // comparison
  kAnd, kOr, kUnless,                                 // set
  kTrimUpper, kTrimLower,                             // </ and >/ on native histograms
};
const char* BinaryOpSymbol(BinaryOp op);
bool IsComparison(BinaryOp op);
bool IsSetOperator(BinaryOp op);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// `@ 1700000000`, `@ start()`, `@ end()`.
struct AtModifier {
  enum class Kind { kTimestamp, kStart, kEnd };
  Kind kind = Kind::kTimestamp;
  int64_t t_ms = 0;
};

struct NumberLiteral {
  double value = 0;
};

struct StringLiteral {
  std::string value;
};

struct VectorSelector {
  std::string name;                       // "" when only given through matchers
  std::vector<storage::Matcher> matchers; // source order; includes __name__="<name>" last
  int64_t offset_ms = 0;                  // `offset 5m` (negative allowed)
  bool has_offset = false;
  std::optional<AtModifier> at;
};

// `selector[range]`: offset and @ live on the inner VectorSelector, as in Prometheus.
struct MatrixSelector {
  ExprPtr vector_selector;  // always a VectorSelector
  int64_t range_ms = 0;
};

// `expr[range:step]` (step 0 = the default evaluation interval).
struct SubqueryExpr {
  ExprPtr expr;
  int64_t range_ms = 0;
  int64_t step_ms = 0;
  int64_t offset_ms = 0;
  bool has_offset = false;
  std::optional<AtModifier> at;
};

struct ParenExpr {
  ExprPtr expr;
};

struct UnaryExpr {
  bool negate = true;  // '-' (false: '+')
  ExprPtr expr;
};

struct VectorMatching {
  enum class Card { kOneToOne, kManyToOne, kOneToMany, kManyToMany };
  Card card = Card::kOneToOne;
  bool on = false;                    // on(...) vs ignoring(...)
  bool explicit_matching = false;     // on/ignoring was written
  std::vector<std::string> labels;    // on/ignoring labels
  std::vector<std::string> include;   // group_left/group_right labels
};

struct BinaryExpr {
  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  bool return_bool = false;
  std::optional<VectorMatching> matching;  // set when both sides are vectors
};

struct Call {
  std::string func;
  std::vector<ExprPtr> args;
};

struct AggregateExpr {
  std::string op;        // sum, avg, topk, ...
  ExprPtr expr;
  ExprPtr param;         // topk's k, quantile's φ, count_values' label; may be null
  std::vector<std::string> grouping;
  bool without = false;
  bool has_grouping = false;  // `by ()` was written
};

struct Expr {
  using Node = std::variant<NumberLiteral, StringLiteral, VectorSelector, MatrixSelector,
                            SubqueryExpr, ParenExpr, UnaryExpr, BinaryExpr, Call, AggregateExpr>;
  Node node;
  int32_t pos = 0;  // first byte
  int32_t end = 0;  // one past the last byte

  template <typename T>
  const T* As() const { return std::get_if<T>(&node); }
  template <typename T>
  T* As() { return std::get_if<T>(&node); }
};

// Static type of an expression (Prometheus' Expr.Type()).
ValueType TypeOf(const Expr& expr);

// Every VectorSelector in the tree (Prometheus' parser.ExtractSelectors), in source order.
std::vector<const VectorSelector*> ExtractSelectors(const Expr& expr);

// The PromQL function table (name -> argument and return types).
struct FunctionInfo {
  const char* name;
  std::vector<ValueType> arg_types;
  int variadic;  // 0: exact; >0: up to this many trailing args optional; -1: unbounded
  ValueType return_type;
};
const FunctionInfo* LookupFunction(std::string_view name);

bool IsAggregator(std::string_view name);
// Aggregators taking a parameter before the expression: topk, bottomk, quantile, ...
bool AggregatorHasParam(std::string_view name);

}  // namespace otelbox::query::promql

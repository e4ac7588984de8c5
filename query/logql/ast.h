#pragma once
// The LogQL syntax tree (Loki's pkg/logql/syntax): log selectors with their pipeline, log
// ranges, range and vector aggregations, binary operations, literals, label_replace, vector.
// Pipeline stages are kept as plain values (the log_pipeline.h factory arguments) plus what
// the printer needs; the engine turns them into stages with BuildPipeline (pipeline_builder.h).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "query/logql/log_pipeline.h"
#include "storage/model/matcher.h"

namespace otelbox::query::logql {

// A label filter as written: leaves keep their literal text for printing.
struct LabelFilterExpr {
  enum class Kind { kMatcher, kNumber, kDuration, kBytes, kIp, kAnd, kOr };
  Kind kind = Kind::kMatcher;
  std::string name;
  std::string op;       // "=", "!=", "=~", "!~", "==", ">", ">=", "<", "<="
  std::string value;    // kMatcher: the string; kIp: the pattern; others: the literal text
  double number = 0;    // kNumber
  int64_t duration_ns = 0;
  uint64_t bytes = 0;
  std::vector<LabelFilterExpr> children;  // kAnd / kOr: left, right

  LabelFilterSpec ToSpec() const;
};

struct StageExpr {
  enum class Kind {
    kLineFilter, kLogfmt, kJson, kRegexp, kPattern, kUnpack, kLabelFilter, kLineFormat,
    kLabelFormat, kDrop, kKeep, kDecolorize
  };
  Kind kind = Kind::kLineFilter;
  LineFilterOp filter_op = LineFilterOp::kContains;  // kLineFilter
  std::vector<LineFilterTerm> terms;                 // kLineFilter: the `or` chain
  bool strict = false;                               // kLogfmt
  bool keep_empty = false;                           // kLogfmt
  std::vector<LabelExtraction> params;               // kJson / kLogfmt
  std::string text;                                  // kRegexp / kPattern / kLineFormat
  LabelFilterExpr label_filter;                      // kLabelFilter
  std::vector<LabelFormatItem> label_format;         // kLabelFormat
  std::vector<NamedLabelMatcher> named;              // kDrop / kKeep
};

struct LogSelectorExpr {
  std::vector<storage::Matcher> matchers;
  std::vector<StageExpr> stages;
};

struct UnwrapExpr {
  std::string label;
  UnwrapConversion conversion = UnwrapConversion::kNumber;
  std::vector<LabelFilterExpr> post_filters;  // `| unwrap x | x > 1 | ...`
};

struct LogRangeExpr {
  LogSelectorExpr selector;
  int64_t range_ns = 0;
  int64_t offset_ns = 0;
  std::optional<UnwrapExpr> unwrap;
};

struct Grouping {
  bool without = false;
  std::vector<std::string> labels;
};

struct VectorMatching {
  enum class Card { kOneToOne, kManyToOne, kOneToMany };
  Card card = Card::kOneToOne;
  bool on = false;                     // on(...) vs ignoring(...)
  bool has_on_ignoring = false;        // either was written (for printing)
  std::vector<std::string> matching;   // the labels of on/ignoring
  std::vector<std::string> include;    // group_left/group_right labels
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind { kLogSelector, kRangeAgg, kVectorAgg, kBinary, kLiteral, kLabelReplace, kVector };
  Kind kind = Kind::kLiteral;

  LogSelectorExpr log;                 // kLogSelector
  std::string op;                      // kRangeAgg / kVectorAgg / kBinary: the operation
  LogRangeExpr range;                  // kRangeAgg
  std::optional<double> param;         // kRangeAgg: quantile_over_time's φ
  std::optional<Grouping> grouping;    // kRangeAgg / kVectorAgg
  int64_t k = 0;                       // kVectorAgg: topk / bottomk / approx_topk
  ExprPtr left, right;                 // kVectorAgg / kLabelReplace: left; kBinary: both
  bool return_bool = false;            // kBinary
  VectorMatching matching;             // kBinary
  double value = 0;                    // kLiteral / kVector
  std::string dst, replacement, src, regex;  // kLabelReplace

  bool IsLog() const { return kind == Kind::kLogSelector; }
};

// Canonical text of an expression (Loki's String(), used by /format_query and the
// round-trip check): parses back to an equal tree.
std::string Print(const Expr& e);
std::string PrintSelector(const LogSelectorExpr& s);

}  // namespace otelbox::query::logql

#pragma once
// A Pratt parser for PromQL with Prometheus' precedence and type checks.
// Errors are InvalidArgument "parse error at char N: <message>" (N is 1-based).

#include <string_view>

#include "absl/status/statusor.h"
#include "query/promql/ast.h"
#include "storage/model/matcher.h"

namespace otelbox::query::promql {

absl::StatusOr<ExprPtr> ParseExpr(std::string_view input);

// A bare selector, as the match[] parameter takes (Prometheus' ParseMetricSelector):
// returns its matchers (the metric name as a __name__ matcher).
absl::StatusOr<std::vector<storage::Matcher>> ParseMetricSelector(std::string_view input);

// True for names Prometheus calls legacy: [a-zA-Z_:][a-zA-Z0-9_:]* (metric) or without ':'
// (label). Other names must be quoted in PromQL.
bool IsLegacyMetricName(std::string_view name);
bool IsLegacyLabelName(std::string_view name);

}  // namespace otelbox::query::promql

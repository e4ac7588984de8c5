#pragma once
// Loki's MergeBinOp (pkg/logql/syntax/ast.go): the arithmetic and comparison operators on two
// sample values. Differs from PromQL: `x / 0` and `x % 0` are NaN.

#include <optional>
#include <string_view>

namespace otelbox::query::logql {

// The value of `l op r` when both are plain numbers (literal folding): comparisons give 1 or 0.
double ScalarBinary(std::string_view op, double l, double r);

// `l op r` for samples. For comparisons without `bool` (`filter`), nullopt drops the
// sample; otherwise a comparison gives 0/1 with `bool`, and the value of the vector side
// (`vector_value`) when it passes as a filter.
std::optional<double> SampleBinary(std::string_view op, double l, double r, bool filter,
                                   double vector_value);

bool IsComparison(std::string_view op);

}  // namespace otelbox::query::logql

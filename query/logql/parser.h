#pragma once
// LogQL parser: Loki 3.x's grammar (pkg/logql/syntax/syntax.y) as recursive descent, with
// Loki's error texts: syntax errors "parse error at line L, col C: syntax error: unexpected
// X[, expecting Y]", semantic ones "parse error : <message>" (no position, as Loki).
// Constant sub-expressions (1 + 2) are folded to literals, as Loki's parser does.

#include <string_view>

#include "absl/status/statusor.h"
#include "query/logql/ast.h"

namespace otelbox::query::logql {

// Parses and validates (Loki's ParseExpr): InvalidArgument with Loki's message on error.
absl::StatusOr<ExprPtr> ParseExpr(std::string_view input);

// Loki's maxInputSize: longer queries are rejected.
inline constexpr size_t kMaxQueryBytes = 131072;

}  // namespace otelbox::query::logql

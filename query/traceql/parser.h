#pragma once
// TraceQL parser and validator. The accepted language is Tempo's grammar (pkg/traceql
// expr.y), written here as a backtracking recursive-descent parser with memoisation (each
// rule is tried at most once per position, so nesting costs linear time), with yacc's
// precedences: `&&` and `||` bind equally, comparisons above them, then + -, prefix !,
// * / %, ^ (right-associative).
//
// Errors, as Tempo words them:
//   Parse     InvalidArgument "parse error at line L, col C: syntax error: unexpected X"
//             (or the lexer's / an action's message, e.g. "unknown identifier: foo")
//   Validate  InvalidArgument, e.g. "span filter field expressions must resolve to a boolean: 1"
//   Validate  Unimplemented "<feature> not yet supported" (Tempo's unsupportedError)

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "query/traceql/ast.h"

namespace otelbox::query::traceql {

// Syntax only (no type checks).
absl::StatusOr<RootExpr> Parse(std::string_view query);

// Tempo's validate(): types, regexes, aggregates and group-bys referencing the span,
// metrics parameters; unsupported constructs as Unimplemented.
absl::Status Validate(const RootExpr& root);

// Parse, then Validate.
absl::StatusOr<RootExpr> ParseAndValidate(std::string_view query);

// Marks a status produced by Parse (InvalidArgument whose message starts "parse error").
bool IsParseError(const absl::Status& status);

}  // namespace otelbox::query::traceql

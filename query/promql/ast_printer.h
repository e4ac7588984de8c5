#pragma once
// Renders an expression back to PromQL text the way Prometheus' Expr.String() does,
// so that Print(Parse(x)) parses again to the same tree (tested as a round trip).

#include <string>
#include <string_view>

#include "common/go_quote.h"

#include "query/promql/ast.h"

namespace otelbox::query::promql {

std::string Print(const Expr& expr);


// Go's strconv.FormatFloat(v, 'f', -1, 64) with Prometheus' spellings: "NaN", "+Inf", "-Inf".
std::string FormatFloat(double v);

}  // namespace otelbox::query::promql

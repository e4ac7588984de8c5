#include "query/logql/binary_op.h"

#include <cmath>
#include <limits>

namespace otelbox::query::logql {

bool IsComparison(std::string_view op) {
  return op == "==" || op == "!=" || op == ">" || op == ">=" || op == "<" || op == "<=";
}

double ScalarBinary(std::string_view op, double l, double r) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (op == "+") return l + r;
  if (op == "-") return l - r;
  if (op == "*") return l * r;
  if (op == "/") return r == 0 ? kNaN : l / r;
  if (op == "%") return r == 0 ? kNaN : std::fmod(l, r);
  if (op == "^") return std::pow(l, r);
  if (op == "==") return l == r ? 1 : 0;
  if (op == "!=") return l != r ? 1 : 0;
  if (op == ">") return l > r ? 1 : 0;
  if (op == ">=") return l >= r ? 1 : 0;
  if (op == "<") return l < r ? 1 : 0;
  if (op == "<=") return l <= r ? 1 : 0;
  return kNaN;
}

std::optional<double> SampleBinary(std::string_view op, double l, double r, bool filter,
                                   double vector_value) {
  double v = ScalarBinary(op, l, r);
  if (!IsComparison(op)) return v;
  if (!filter) return v;
  if (v == 0) return std::nullopt;
  return vector_value;
}

}  // namespace otelbox::query::logql

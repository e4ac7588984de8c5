#include "query/common/duration.h"

#include <limits>

#include "absl/status/status.h"

namespace otelbox::query {
namespace {

struct Unit {
  std::string_view name;
  int64_t ms;
};
// Largest first; the parse requires this order, as Prometheus' regex does.
constexpr Unit kUnits[] = {
    {"y", 365LL * 24 * 3600 * 1000}, {"w", 7LL * 24 * 3600 * 1000}, {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},            {"m", 60LL * 1000},            {"s", 1000},
    {"ms", 1},
};

absl::Status Invalid(std::string_view text) {
  return absl::InvalidArgumentError("not a valid duration string: \"" + std::string(text) + "\"");
}

}  // namespace

absl::StatusOr<int64_t> ParseDuration(std::string_view text) {
  if (text == "0") return 0;
  if (text.empty()) return Invalid(text);
  size_t i = 0;
  size_t next_unit = 0;  // index into kUnits of the smallest unit still allowed
  int64_t total = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start) return Invalid(text);
    std::string_view digits = text.substr(start, i - start);
    size_t ustart = i;
    while (i < text.size() && ((text[i] >= 'a' && text[i] <= 'z'))) ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].name != unit) ++u;
    if (u == std::size(kUnits)) return Invalid(text);
    next_unit = u + 1;
    int64_t n = 0;
    for (char c : digits) {
      if (n > (std::numeric_limits<int64_t>::max() - 9) / 10) return Invalid(text);
      n = n * 10 + (c - '0');
    }
    if (n > std::numeric_limits<int64_t>::max() / kUnits[u].ms) return Invalid(text);
    int64_t add = n * kUnits[u].ms;
    if (total > std::numeric_limits<int64_t>::max() - add) return Invalid(text);
    total += add;
  }
  return total;
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  uint64_t rest;
  if (ms < 0) {
    out = "-";
    rest = static_cast<uint64_t>(-(ms + 1)) + 1;
  } else {
    rest = static_cast<uint64_t>(ms);
  }
  for (const Unit& u : kUnits) {
    uint64_t n = rest / static_cast<uint64_t>(u.ms);
    if (n == 0) continue;
    rest -= n * static_cast<uint64_t>(u.ms);
    out += std::to_string(n);
    out += u.name;
  }
  return out;
}

}  // namespace otelbox::query

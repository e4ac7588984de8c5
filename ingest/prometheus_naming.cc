#include "ingest/prometheus_naming.h"

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "ingest/string_util.h"

namespace otelbox::ingest {
namespace {

bool IsMetricNameChar(char c) { return absl::ascii_isalnum(c) || c == ':'; }
bool IsLabelNameChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

// §A3 step 1: split on every character outside [A-Za-z0-9:]; empty tokens vanish.
std::vector<std::string> Tokenize(std::string_view name) {
  std::vector<std::string> tokens;
  std::string current;
  for (char c : name) {
    if (IsMetricNameChar(c)) {
      current.push_back(c);
    } else if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

std::string_view MainUnit(std::string_view unit) {
  struct Entry {
    std::string_view otel, prom;
  };
  static constexpr Entry kTable[] = {
      {"d", "days"},           {"h", "hours"},          {"min", "minutes"},
      {"s", "seconds"},        {"ms", "milliseconds"},  {"us", "microseconds"},
      {"ns", "nanoseconds"},   {"By", "bytes"},         {"KiBy", "kibibytes"},
      {"MiBy", "mebibytes"},   {"GiBy", "gibibytes"},   {"TiBy", "tibibytes"},
      {"KBy", "kilobytes"},    {"MBy", "megabytes"},    {"GBy", "gigabytes"},
      {"TBy", "terabytes"},    {"m", "meters"},         {"V", "volts"},
      {"A", "amperes"},        {"J", "joules"},         {"W", "watts"},
      {"g", "grams"},          {"Cel", "celsius"},      {"Hz", "hertz"},
      {"%", "percent"},        {"1", ""},
  };
  for (const auto& e : kTable) {
    if (e.otel == unit) return e.prom;
  }
  return unit;
}

std::string_view PerUnit(std::string_view unit) {
  struct Entry {
    std::string_view otel, prom;
  };
  static constexpr Entry kTable[] = {
      {"s", "second"}, {"m", "minute"}, {"h", "hour"},  {"d", "day"},
      {"w", "week"},   {"mo", "month"}, {"y", "year"},
  };
  for (const auto& e : kTable) {
    if (e.otel == unit) return e.prom;
  }
  return unit;
}

// Invalid characters → `_`, runs collapsed, leading and trailing `_` trimmed.
std::string CleanUnitToken(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (IsMetricNameChar(c)) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

bool Ignorable(std::string_view part) {
  return part.empty() || part.find_first_of("{}") != std::string_view::npos;
}

// Splits the unit at the first '/' into (main, per) suffixes, already mapped and cleaned.
void UnitSuffixes(std::string_view unit, std::string* main, std::string* per) {
  main->clear();
  per->clear();
  std::string_view main_part = unit, per_part;
  if (auto slash = unit.find('/'); slash != std::string_view::npos) {
    main_part = unit.substr(0, slash);
    per_part = unit.substr(slash + 1);
  }
  main_part = StdView(absl::StripAsciiWhitespace(AbslView(main_part)));
  per_part = StdView(absl::StripAsciiWhitespace(AbslView(per_part)));
  if (!Ignorable(main_part)) *main = CleanUnitToken(MainUnit(main_part));
  if (!Ignorable(per_part)) *per = CleanUnitToken(PerUnit(per_part));
}

bool Contains(const std::vector<std::string>& tokens, std::string_view t) {
  for (const auto& x : tokens) {
    if (x == t) return true;
  }
  return false;
}

void RemoveAll(std::vector<std::string>* tokens, std::string_view t) {
  std::erase_if(*tokens, [&](const std::string& x) { return x == t; });
}

}  // namespace

std::string BuildMetricName(std::string_view otel_name, std::string_view unit, NameKind kind) {
  std::vector<std::string> tokens = Tokenize(otel_name);
  std::string main, per;
  UnitSuffixes(unit, &main, &per);
  if (!main.empty() && !Contains(tokens, main)) tokens.push_back(main);
  if (!per.empty() && !Contains(tokens, per)) {
    tokens.push_back("per");
    tokens.push_back(per);
  }
  if (kind == NameKind::kCounter) {
    RemoveAll(&tokens, "total");
    tokens.push_back("total");
  }
  if (kind == NameKind::kGauge && unit == "1") {
    RemoveAll(&tokens, "ratio");
    tokens.push_back("ratio");
  }
  std::string name = absl::StrJoin(tokens, "_");
  if (!name.empty() && absl::ascii_isdigit(name[0])) name.insert(0, "_");
  return name;
}

std::string BuildUnitName(std::string_view unit) {
  std::string main, per;
  UnitSuffixes(unit, &main, &per);
  if (per.empty()) return main;
  if (main.empty()) return "per_" + per;
  return main + "_per_" + per;
}

std::string SanitizeLabelName(std::string_view key) {
  if (key.size() >= 4 && key.starts_with("__") && key.ends_with("__")) {
    bool legal = true;
    for (char c : key) legal = legal && IsLabelNameChar(c);
    if (legal) return std::string(key);
  }
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    const char mapped = IsLabelNameChar(c) ? c : '_';
    if (mapped == '_' && !out.empty() && out.back() == '_') continue;
    out.push_back(mapped);
  }
  if (out.find_first_not_of('_') == std::string::npos) return "";
  if (absl::ascii_isdigit(out[0])) out.insert(0, "key_");
  return out;
}

std::string FormatPromFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[512];  // fixed notation of DBL_MAX needs 309 digits
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

std::string FormatAttributeDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
  char buf[64];
  const double a = std::fabs(v);
  // ES6 Number::toString switches to exponent form below 1e-6 and from 1e21 on.
  const auto fmt = (a != 0 && (a < 1e-6 || a >= 1e21)) ? std::chars_format::scientific
                                                        : std::chars_format::fixed;
  auto res = std::to_chars(buf, buf + sizeof(buf), v, fmt);
  return std::string(buf, res.ptr);
}

}  // namespace otelbox::ingest

#include "query/logql/ast.h"

#include <cmath>
#include <cstdio>

#include "common/go_quote.h"
#include "query/common/duration.h"

namespace otelbox::query::logql {
namespace {

CompareOp Cmp(std::string_view op) {
  if (op == "!=") return CompareOp::kNeq;
  if (op == ">") return CompareOp::kGt;
  if (op == ">=") return CompareOp::kGte;
  if (op == "<") return CompareOp::kLt;
  if (op == "<=") return CompareOp::kLte;
  return CompareOp::kEq;  // "=", "=="
}

storage::MatchType Match(std::string_view op) {
  if (op == "!=") return storage::MatchType::kNotEqual;
  if (op == "=~") return storage::MatchType::kRegexMatch;
  if (op == "!~") return storage::MatchType::kRegexNoMatch;
  return storage::MatchType::kEqual;
}

const char* MatchOp(storage::MatchType t) {
  static constexpr const char* kOps[] = {"=", "!=", "=~", "!~"};
  return kOps[static_cast<int>(t)];
}

// strconv.FormatFloat(v, 'f', -1, 64) for the values a parser can produce.
std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find('e') != std::string::npos) {
    std::snprintf(buf, sizeof buf, "%.17f", v);
    s = buf;
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

// Prometheus' model.Duration form ("5m", "1h30m"), as Loki prints ranges.
std::string FormatNs(int64_t ns) {
  if (ns % 1'000'000 == 0) return FormatDuration(ns / 1'000'000);
  return std::to_string(ns) + "ns";
}

// Go's time.Duration.String ("5m0s", "1h0m0s", "1.5s", "500ms"), as Loki prints offsets.
std::string GoDurationString(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  auto frac = [](uint64_t v, uint64_t unit) {
    std::string out = std::to_string(v / unit);
    uint64_t rest = v % unit;
    if (rest) {
      std::string digits = std::to_string(rest + unit).substr(1);
      while (!digits.empty() && digits.back() == '0') digits.pop_back();
      out += "." + digits;
    }
    return out;
  };
  if (u < 1'000) return sign + std::to_string(u) + "ns";
  if (u < 1'000'000) return sign + frac(u, 1'000) + "\u00b5s";
  if (u < 1'000'000'000) return sign + frac(u, 1'000'000) + "ms";
  uint64_t secs_ns = u % 60'000'000'000ULL;
  uint64_t mins = u / 60'000'000'000ULL;
  std::string out = sign;
  if (mins >= 60) out += std::to_string(mins / 60) + "h";
  if (mins > 0) out += std::to_string(mins % 60) + "m";
  out += frac(secs_ns, 1'000'000'000) + "s";
  return out;
}

void PrintLabelFilter(const LabelFilterExpr& f, std::string* out) {
  switch (f.kind) {
    case LabelFilterExpr::Kind::kAnd:
    case LabelFilterExpr::Kind::kOr:
      *out += "(";
      PrintLabelFilter(f.children[0], out);
      *out += f.kind == LabelFilterExpr::Kind::kAnd ? " and " : " or ";
      PrintLabelFilter(f.children[1], out);
      *out += ")";
      return;
    case LabelFilterExpr::Kind::kMatcher: *out += f.name + f.op + GoQuote(f.value); return;
    case LabelFilterExpr::Kind::kIp: *out += f.name + f.op + "ip(" + GoQuote(f.value) + ")"; return;
    default: *out += f.name + f.op + f.value; return;
  }
}

void PrintExtractions(const std::vector<LabelExtraction>& params, std::string* out) {
  for (size_t i = 0; i < params.size(); ++i) {
    *out += i ? ", " : " ";
    *out += params[i].label + "=" + GoQuote(params[i].expression);
  }
}

void PrintNamed(const std::vector<NamedLabelMatcher>& items, std::string* out) {
  for (size_t i = 0; i < items.size(); ++i) {
    *out += i ? ", " : " ";
    *out += items[i].name;
    if (items[i].match) *out += std::string(MatchOp(*items[i].match)) + GoQuote(items[i].value);
  }
}

void PrintStage(const StageExpr& s, std::string* out) {
  static constexpr const char* kLineOps[] = {"|=", "!=", "|~", "!~", "|>", "!>"};
  switch (s.kind) {
    case StageExpr::Kind::kLineFilter:
      *out += kLineOps[static_cast<int>(s.filter_op)];
      for (size_t i = 0; i < s.terms.size(); ++i) {
        *out += i ? " or " : " ";
        *out += s.terms[i].is_ip ? "ip(" + GoQuote(s.terms[i].value) + ")" : GoQuote(s.terms[i].value);
      }
      return;
    case StageExpr::Kind::kLogfmt:
      *out += "| logfmt";
      if (s.strict) *out += " --strict";
      if (s.keep_empty) *out += " --keep-empty";
      PrintExtractions(s.params, out);
      return;
    case StageExpr::Kind::kJson:
      *out += "| json";
      PrintExtractions(s.params, out);
      return;
    case StageExpr::Kind::kRegexp: *out += "| regexp " + GoQuote(s.text); return;
    case StageExpr::Kind::kPattern: *out += "| pattern " + GoQuote(s.text); return;
    case StageExpr::Kind::kUnpack: *out += "| unpack"; return;
    case StageExpr::Kind::kLabelFilter:
      *out += "| ";
      PrintLabelFilter(s.label_filter, out);
      return;
    case StageExpr::Kind::kLineFormat: *out += "| line_format " + GoQuote(s.text); return;
    case StageExpr::Kind::kLabelFormat:
      *out += "| label_format";
      for (size_t i = 0; i < s.label_format.size(); ++i) {
        const auto& it = s.label_format[i];
        *out += i ? ", " : " ";
        *out += it.dst + "=" + (it.is_template ? GoQuote(it.src_or_template) : it.src_or_template);
      }
      return;
    case StageExpr::Kind::kDrop:
      *out += "| drop";
      PrintNamed(s.named, out);
      return;
    case StageExpr::Kind::kKeep:
      *out += "| keep";
      PrintNamed(s.named, out);
      return;
    case StageExpr::Kind::kDecolorize: *out += "| decolorize"; return;
  }
}

void PrintGrouping(const Grouping& g, std::string* out) {
  *out += g.without ? " without (" : " by (";
  for (size_t i = 0; i < g.labels.size(); ++i) {
    if (i) *out += ",";
    *out += g.labels[i];
  }
  *out += ")";
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ",";
    out += names[i];
  }
  return out;
}

void PrintExpr(const Expr& e, std::string* out) {
  switch (e.kind) {
    case Expr::Kind::kLogSelector: *out += PrintSelector(e.log); return;
    case Expr::Kind::kLiteral: *out += FormatNumber(e.value); return;
    case Expr::Kind::kVector: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%f", e.value);  // Loki prints vector(%f)
      *out += "vector(" + std::string(buf) + ")";
      return;
    }
    case Expr::Kind::kRangeAgg: {
      *out += e.op + "(";
      if (e.param) *out += FormatNumber(*e.param) + ",";
      *out += PrintSelector(e.range.selector);
      if (e.range.unwrap) {
        const UnwrapExpr& u = *e.range.unwrap;
        *out += " | unwrap ";
        switch (u.conversion) {
          case UnwrapConversion::kNumber: *out += u.label; break;
          case UnwrapConversion::kDuration: *out += "duration(" + u.label + ")"; break;
          case UnwrapConversion::kDurationSeconds: *out += "duration_seconds(" + u.label + ")"; break;
          case UnwrapConversion::kBytes: *out += "bytes(" + u.label + ")"; break;
        }
        for (const auto& f : u.post_filters) {
          *out += " | ";
          PrintLabelFilter(f, out);
        }
      }
      *out += "[" + FormatNs(e.range.range_ns) + "]";
      if (e.range.offset_ns != 0) *out += " offset " + GoDurationString(e.range.offset_ns);
      *out += ")";
      if (e.grouping) PrintGrouping(*e.grouping, out);
      return;
    }
    case Expr::Kind::kVectorAgg:
      *out += e.op;
      // Loki omits a singleton grouping (none, or `by ()`).
      if (e.grouping && (e.grouping->without || !e.grouping->labels.empty())) PrintGrouping(*e.grouping, out);
      *out += "(";
      if (e.op == "topk" || e.op == "bottomk" || e.op == "approx_topk") {
        *out += std::to_string(e.k) + ",";
      }
      PrintExpr(*e.left, out);
      *out += ")";
      return;
    case Expr::Kind::kLabelReplace:
      *out += "label_replace(";
      PrintExpr(*e.left, out);
      *out += "," + GoQuote(e.dst) + "," + GoQuote(e.replacement) + "," + GoQuote(e.src) + "," +
              GoQuote(e.regex) + ")";
      return;
    case Expr::Kind::kBinary: {
      // Loki's BinOpExpr.String: "(L op[ bool][ on|ignoring (a,b) [group_x (c)]] R)".
      *out += "(";
      PrintExpr(*e.left, out);
      *out += " " + e.op;
      if (e.return_bool) *out += " bool";
      const VectorMatching& m = e.matching;
      if (m.has_on_ignoring) {
        std::string group;
        if (m.card != VectorMatching::Card::kOneToOne) {
          group = m.card == VectorMatching::Card::kManyToOne ? "group_left" : "group_right";
          if (!m.include.empty()) group += " (" + JoinNames(m.include) + ")";
        }
        *out += std::string(m.on ? " on" : " ignoring") + " (" + JoinNames(m.matching) + ") " + group;
      }
      *out += " ";
      PrintExpr(*e.right, out);
      *out += ")";
      return;
    }
  }
}

}  // namespace

LabelFilterSpec LabelFilterExpr::ToSpec() const {
  switch (kind) {
    case Kind::kMatcher: return LabelFilterSpec::String(name, Match(op), value);
    case Kind::kNumber: return LabelFilterSpec::Number(name, Cmp(op), number);
    case Kind::kDuration: return LabelFilterSpec::Duration(name, Cmp(op), duration_ns);
    case Kind::kBytes: return LabelFilterSpec::Bytes(name, Cmp(op), bytes);
    case Kind::kIp: return LabelFilterSpec::Ip(name, Cmp(op), value);
    case Kind::kAnd: return LabelFilterSpec::And(children[0].ToSpec(), children[1].ToSpec());
    case Kind::kOr: return LabelFilterSpec::Or(children[0].ToSpec(), children[1].ToSpec());
  }
  return {};
}

std::string PrintSelector(const LogSelectorExpr& s) {
  std::string out = "{";
  for (size_t i = 0; i < s.matchers.size(); ++i) {
    if (i) out += ", ";
    const auto& m = s.matchers[i];
    out += m.name() + MatchOp(m.type()) + GoQuote(m.value());
  }
  out += "}";
  for (const auto& st : s.stages) {
    out += " ";
    PrintStage(st, &out);
  }
  return out;
}

std::string Print(const Expr& e) {
  std::string out;
  PrintExpr(e, &out);
  return out;
}

}  // namespace otelbox::query::logql

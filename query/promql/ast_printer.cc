#include "query/promql/ast_printer.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "common/utf8.h"
#include "query/common/duration.h"
#include "query/promql/parser.h"

namespace otelbox::query::promql {
namespace {

std::string QuoteNameIfNeeded(const std::string& name) {
  return IsLegacyLabelName(name) ? name : GoQuote(name);
}

std::string JoinLabels(const std::vector<std::string>& labels) {
  std::string out;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ", ";
    out += QuoteNameIfNeeded(labels[i]);
  }
  return out;
}

std::string AtString(const std::optional<AtModifier>& at) {
  if (!at) return "";
  switch (at->kind) {
    case AtModifier::Kind::kStart: return " @ start()";
    case AtModifier::Kind::kEnd: return " @ end()";
    case AtModifier::Kind::kTimestamp: {
      char buf[64];
      std::snprintf(buf, sizeof buf, " @ %.3f", static_cast<double>(at->t_ms) / 1000.0);
      return buf;
    }
  }
  return "";
}

std::string OffsetString(bool has_offset, int64_t offset_ms) {
  if (!has_offset || offset_ms == 0) return "";
  if (offset_ms < 0) return " offset -" + FormatDuration(-offset_ms);
  return " offset " + FormatDuration(offset_ms);
}

const char* kMatchOps[] = {"=", "!=", "=~", "!~"};

std::string SelectorString(const VectorSelector& vs, bool with_modifiers) {
  std::vector<std::string> parts;
  for (const auto& m : vs.matchers) {
    if (m.name() == storage::kMetricNameLabel && m.type() == storage::MatchType::kEqual &&
        m.value() == vs.name && !vs.name.empty()) {
      continue;
    }
    parts.push_back(QuoteNameIfNeeded(m.name()) + kMatchOps[static_cast<int>(m.type())] +
                    GoQuote(m.value()));
  }
  std::string out;
  bool legacy_name = vs.name.empty() || IsLegacyMetricName(vs.name);
  if (legacy_name) {
    out = vs.name;
    if (!parts.empty()) {
      out += "{";
      for (size_t i = 0; i < parts.size(); ++i) out += (i ? "," : "") + parts[i];
      out += "}";
    }
  } else {
    out = "{" + GoQuote(vs.name);
    for (const auto& p : parts) out += "," + p;
    out += "}";
  }
  if (with_modifiers) out += AtString(vs.at) + OffsetString(vs.has_offset, vs.offset_ms);
  return out;
}

struct Printer {
  std::string operator()(const NumberLiteral& n) const { return FormatFloat(n.value); }
  std::string operator()(const StringLiteral& s) const { return GoQuote(s.value); }
  std::string operator()(const VectorSelector& vs) const { return SelectorString(vs, true); }
  std::string operator()(const MatrixSelector& m) const {
    const auto& vs = *m.vector_selector->As<VectorSelector>();
    return SelectorString(vs, false) + "[" + FormatDuration(m.range_ms) + "]" + AtString(vs.at) +
           OffsetString(vs.has_offset, vs.offset_ms);
  }
  std::string operator()(const SubqueryExpr& s) const {
    std::string step = s.step_ms ? FormatDuration(s.step_ms) : "";
    return Print(*s.expr) + "[" + FormatDuration(s.range_ms) + ":" + step + "]" + AtString(s.at) +
           OffsetString(s.has_offset, s.offset_ms);
  }
  std::string operator()(const ParenExpr& p) const { return "(" + Print(*p.expr) + ")"; }
  std::string operator()(const UnaryExpr& u) const {
    return std::string(u.negate ? "-" : "+") + Print(*u.expr);
  }
  std::string operator()(const BinaryExpr& b) const {
    std::string matching;
    if (b.matching && (b.matching->on || !b.matching->labels.empty())) {
      matching = std::string(" ") + (b.matching->on ? "on" : "ignoring") + " (" +
                 JoinLabels(b.matching->labels) + ")";
      if (b.matching->card == VectorMatching::Card::kManyToOne ||
          b.matching->card == VectorMatching::Card::kOneToMany) {
        matching += std::string(" group_") +
                    (b.matching->card == VectorMatching::Card::kManyToOne ? "left" : "right") +
                    " (" + JoinLabels(b.matching->include) + ")";
      }
    }
    return Print(*b.lhs) + " " + BinaryOpSymbol(b.op) + (b.return_bool ? " bool" : "") + matching +
           " " + Print(*b.rhs);
  }
  std::string operator()(const Call& c) const {
    std::string out = c.func + "(";
    for (size_t i = 0; i < c.args.size(); ++i) out += (i ? ", " : "") + Print(*c.args[i]);
    return out + ")";
  }
  std::string operator()(const AggregateExpr& a) const {
    std::string out = a.op;
    if (a.without) {
      out += " without (" + JoinLabels(a.grouping) + ") ";
    } else if (!a.grouping.empty()) {
      out += " by (" + JoinLabels(a.grouping) + ") ";
    }
    out += "(";
    if (a.param) out += Print(*a.param) + ", ";
    return out + Print(*a.expr) + ")";
  }
};

}  // namespace

std::string Print(const Expr& expr) { return std::visit(Printer{}, expr.node); }

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t rune;
    size_t n = DecodeUtf8(s, i, &rune);
    if (n == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  return out + "\"";
}

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (ec != std::errc()) return "NaN";  // unreachable: 400 bytes hold any fixed double
  return std::string(buf, end);
}

}  // namespace otelbox::query::promql

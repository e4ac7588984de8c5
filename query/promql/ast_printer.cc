#include "query/promql/ast_printer.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

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

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits that round-trip, laid out
  // without an exponent (so 1.2345678901234568e20 prints with trailing zeros, not with the
  // exact binary value's digits as std::to_chars(fixed) would). No allocation but the
  // result's: range queries format every point (bench/promql_bench).
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  if (ec != std::errc()) return "NaN";  // unreachable: 64 bytes hold any scientific double
  std::string_view sci(buf, static_cast<size_t>(end - buf));
  std::string out;
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  size_t e = sci.find('e');
  char digit_buf[32];  // at most 17 significant digits
  size_t n_digits = 0;
  for (char c : sci.substr(0, e)) {
    if (c != '.' && n_digits < sizeof digit_buf) digit_buf[n_digits++] = c;
  }
  const std::string_view digits(digit_buf, n_digits);
  std::string_view exp_text = sci.substr(e + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  int exp = 0;
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
  int point = exp + 1;  // digits before the decimal point
  int n = static_cast<int>(digits.size());
  if (point <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-point), '0');
    out += digits;
  } else if (point >= n) {
    out += digits;
    out.append(static_cast<size_t>(point - n), '0');
  } else {
    out += digits.substr(0, static_cast<size_t>(point));
    out.push_back('.');
    out += digits.substr(static_cast<size_t>(point));
  }
  return out;
}

}  // namespace otelbox::query::promql

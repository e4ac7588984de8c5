// Line filters (|= != |~ !~ |> !>) with `or` chains and ip(). The hot path of log scans:
// substrings use memmem-backed find, `(?i)literal` regexes a case-folding scan, other regexes
// RE2 (unanchored, as Go's regexp.Match).

#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include "absl/status/status.h"
#include "query/logql/pipeline_internal.h"

namespace otelbox::query::logql {

namespace {

using internal::CompileGoRegex;
using internal::ContainsFold;
using internal::IpMatcher;
using internal::PatternMatcher;
using internal::RegexAsLiteral;

// One operand of the chain, always in its positive form.
struct Term {
  enum class Kind { kAlways, kContains, kContainsFold, kRegex, kPattern, kIp } kind;
  std::string text;  // kContains / kContainsFold (lower-cased)
  std::shared_ptr<const re2::RE2> re;
  std::shared_ptr<const PatternMatcher> pattern;
  std::shared_ptr<const IpMatcher> ip;
  // kRegex: substrings (lower-case) of which at least one must occur for the regex to match,
  // from RE2's prefilter; empty when the regex has no such requirement.
  std::vector<std::string> atoms;

  bool RegexMatches(std::string_view line) const {
    if (!atoms.empty()) {
      bool any = false;
      for (const std::string& a : atoms) {
        if (ContainsFold(line, a)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    return RE2::PartialMatch(line, *re);
  }

  bool Matches(std::string_view line) const {
    switch (kind) {
      case Kind::kAlways: return true;
      case Kind::kContains: return internal::ContainsBytes(line, text);
      case Kind::kContainsFold: return ContainsFold(line, text);
      case Kind::kRegex: return RegexMatches(line);
      case Kind::kPattern: return pattern->Test(line);
      case Kind::kIp: return ip->MatchesIn(line);
    }
    return false;
  }
};

class ChainMatcher final : public LineMatcher {
 public:
  ChainMatcher(std::vector<Term> terms, bool negate) : terms_(std::move(terms)), negate_(negate) {}
  bool Matches(std::string_view line) const override {
    // Positive: keep when any operand matches. Negative: Loki rewrites not(a or b) as
    // not(a) and not(b), i.e. drop when any operand matches.
    for (const Term& t : terms_) {
      if (t.Matches(line)) return !negate_;
    }
    return negate_;
  }

 private:
  std::vector<Term> terms_;
  bool negate_;
};

// Single-substring fast path (the common `|= "error"`).
class ContainsMatcher final : public LineMatcher {
 public:
  ContainsMatcher(std::string needle, bool negate) : needle_(std::move(needle)), negate_(negate) {}
  bool Matches(std::string_view line) const override {
    return internal::ContainsBytes(line, needle_) != negate_;
  }

 private:
  std::string needle_;
  bool negate_;
};

class LineFilterStage final : public Stage {
 public:
  explicit LineFilterStage(std::shared_ptr<const LineMatcher> m) : m_(std::move(m)) {}
  bool Process(int64_t, std::string_view& line, LabelsBuilder&) override {
    return m_->Matches(line);
  }
  bool IsLineFilter() const override { return true; }

 private:
  std::shared_ptr<const LineMatcher> m_;
};

// RE2's prefilter atoms for `re` when every match must contain one of them (ASCII atoms
// only, since the check folds ASCII case); empty means "no usable prefilter".
std::vector<std::string> PrefilterAtoms(const re2::RE2& re) {
  re2::FilteredRE2 f(/*min_atom_len=*/3);
  int id = 0;
  if (f.Add(re.pattern(), re.options(), &id) != RE2::NoError) return {};
  std::vector<std::string> atoms;
  f.Compile(&atoms);
  if (atoms.empty()) return {};
  std::vector<int> passes_without_atoms;
  f.AllPotentials({}, &passes_without_atoms);
  if (!passes_without_atoms.empty()) return {};
  for (const std::string& a : atoms) {
    for (char c : a) {
      if (static_cast<unsigned char>(c) >= 0x80) return {};
    }
  }
  return atoms;
}

// "a|b|c" (optionally "(?i)a|b|c") where every branch is a non-empty literal.
bool AlternationOfLiterals(std::string_view expr, std::vector<Term>* out) {
  bool fold = false;
  if (expr.substr(0, 4) == "(?i)") {
    fold = true;
    expr.remove_prefix(4);
  }
  // Split on unescaped '|'; any other metacharacter makes RegexAsLiteral refuse a branch.
  std::vector<std::string_view> branches;
  size_t start = 0;
  for (size_t i = 0; i < expr.size(); ++i) {
    if (expr[i] == '\\') {
      ++i;
      continue;
    }
    if (expr[i] == '|') {
      branches.push_back(expr.substr(start, i - start));
      start = i + 1;
    }
  }
  branches.push_back(expr.substr(start));
  if (branches.size() < 2) return false;
  for (std::string_view b : branches) {
    std::string lit;
    bool branch_fold = false;
    if (!RegexAsLiteral(b, &lit, &branch_fold) || lit.empty() || branch_fold) return false;
    if (fold) {
      for (char& c : lit) {
        if (static_cast<unsigned char>(c) >= 0x80) return false;  // Unicode folding: RE2
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
    }
    out->push_back(Term{fold ? Term::Kind::kContainsFold : Term::Kind::kContains, std::move(lit),
                        nullptr, nullptr, nullptr});
  }
  return true;
}

absl::StatusOr<Term> MakeTerm(LineFilterOp op, const LineFilterTerm& t) {
  Term term{Term::Kind::kAlways, {}, nullptr, nullptr, nullptr};
  if (t.is_ip) {
    if (op != LineFilterOp::kContains && op != LineFilterOp::kNotContains) {
      return absl::InvalidArgumentError("ip: invalid operation");
    }
    auto ip = IpMatcher::Create(t.value);
    if (!ip.ok()) return ip.status();
    term.kind = Term::Kind::kIp;
    term.ip = std::make_shared<const IpMatcher>(std::move(*ip));
    return term;
  }
  switch (op) {
    case LineFilterOp::kContains:
    case LineFilterOp::kNotContains:
      if (t.value.empty()) return term;  // "" matches every line
      term.kind = Term::Kind::kContains;
      term.text = t.value;
      return term;
    case LineFilterOp::kRegex:
    case LineFilterOp::kNotRegex: {
      // Always compile, so a bad regex fails even when a fast path would apply.
      auto re = CompileGoRegex(t.value);
      if (!re.ok()) return re.status();
      if (t.value == ".*") return term;  // Loki's simplifier: always true
      std::string literal;
      bool fold = false;
      if (RegexAsLiteral(t.value, &literal, &fold)) {
        if (literal.empty()) return term;
        term.kind = fold ? Term::Kind::kContainsFold : Term::Kind::kContains;
        term.text = std::move(literal);
        return term;
      }
      term.kind = Term::Kind::kRegex;
      term.re = std::move(*re);
      term.atoms = PrefilterAtoms(*term.re);
      return term;
    }
    case LineFilterOp::kPattern:
    case LineFilterOp::kNotPattern: {
      auto p = PatternMatcher::ForLineFilter(t.value);
      if (!p.ok()) return p.status();
      term.kind = Term::Kind::kPattern;
      term.pattern = std::make_shared<const PatternMatcher>(std::move(*p));
      return term;
    }
  }
  return absl::InvalidArgumentError("unknown line filter");
}

}  // namespace

absl::StatusOr<std::shared_ptr<const LineMatcher>> MakeLineMatcher(
    LineFilterOp op, const std::vector<LineFilterTerm>& terms) {
  if (terms.empty()) return absl::InvalidArgumentError("line filter without operand");
  const bool negate = op == LineFilterOp::kNotContains || op == LineFilterOp::kNotRegex ||
                      op == LineFilterOp::kNotPattern;
  std::vector<Term> compiled;
  compiled.reserve(terms.size());
  for (const auto& t : terms) {
    auto term = MakeTerm(op, t);
    if (!term.ok()) return term.status();
    // `|~ "error|warn"`: an alternation of plain literals is a set of substring searches,
    // much faster than RE2 on every line (Loki's simplifier does the same).
    if (term->kind == Term::Kind::kRegex) {
      std::vector<Term> alts;
      if (AlternationOfLiterals(t.value, &alts)) {
        for (auto& a : alts) compiled.push_back(std::move(a));
        continue;
      }
    }
    compiled.push_back(std::move(*term));
  }
  // Loki builds the chain with newOrFilter, which drops an always-true operand instead of
  // letting it match everything: `|= "" or "x"` keeps only lines with "x".
  if (compiled.size() > 1) {
    std::erase_if(compiled, [](const Term& t) { return t.kind == Term::Kind::kAlways; });
    if (compiled.empty()) compiled.push_back(Term{Term::Kind::kAlways, {}, nullptr, nullptr, nullptr});
  }
  if (compiled.size() == 1 && compiled[0].kind == Term::Kind::kContains) {
    return std::shared_ptr<const LineMatcher>(
        std::make_shared<ContainsMatcher>(std::move(compiled[0].text), negate));
  }
  return std::shared_ptr<const LineMatcher>(
      std::make_shared<ChainMatcher>(std::move(compiled), negate));
}

absl::StatusOr<std::unique_ptr<Stage>> MakeLineFilter(LineFilterOp op,
                                                     const std::vector<LineFilterTerm>& terms) {
  auto m = MakeLineMatcher(op, terms);
  if (!m.ok()) return m.status();
  return std::unique_ptr<Stage>(std::make_unique<LineFilterStage>(std::move(*m)));
}

}  // namespace otelbox::query::logql

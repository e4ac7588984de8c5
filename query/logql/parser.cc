#include "query/logql/parser.h"

#include <cmath>
#include <cstdio>
#include <unordered_map>

#include <re2/re2.h>

#include "absl/status/status.h"
#include "query/logql/binary_op.h"
#include "query/logql/lexer.h"

namespace otelbox::query::logql {
namespace {

// Thrown inside the parser only; caught in ParseExpr (STYLE.md 3.3).
struct ParseFailure {
  std::string message;  // full text, "parse error ..."
};

std::string PositionedError(int line, int col, std::string_view msg) {
  return "parse error at line " + std::to_string(line) + ", col " + std::to_string(col) + ": " +
         std::string(msg);
}
std::string UnpositionedError(std::string_view msg) { return "parse error : " + std::string(msg); }

constexpr std::string_view kRangeOps[] = {
    "count_over_time", "rate", "rate_counter", "bytes_over_time", "bytes_rate",
    "avg_over_time", "sum_over_time", "min_over_time", "max_over_time", "stdvar_over_time",
    "stddev_over_time", "quantile_over_time", "first_over_time", "last_over_time",
    "absent_over_time"};
constexpr std::string_view kVectorOps[] = {"sum", "avg", "count", "max", "min", "stddev",
                                           "stdvar", "bottomk", "topk", "sort", "sort_desc",
                                           "approx_topk"};

bool In(const auto& list, std::string_view s) {
  for (std::string_view x : list) {
    if (x == s) return true;
  }
  return false;
}

int BinaryPrecedence(const Token& t) {
  if (t.kind != TokenKind::kOp) return -1;
  const std::string& s = t.text;
  if (s == "or") return 1;
  if (s == "and" || s == "unless") return 2;
  if (s == "==" || s == "!=" || s == ">" || s == ">=" || s == "<" || s == "<=") return 3;
  if (s == "+" || s == "-") return 4;
  if (s == "*" || s == "/" || s == "%") return 5;
  if (s == "^") return 6;
  return -1;
}

bool IsLineFilterOp(const Token& t) {
  return t.kind == TokenKind::kOp && (t.text == "|=" || t.text == "!=" || t.text == "|~" ||
                                      t.text == "!~" || t.text == "|>" || t.text == "!>");
}

LineFilterOp LineOp(std::string_view s) {
  if (s == "|=") return LineFilterOp::kContains;
  if (s == "!=") return LineFilterOp::kNotContains;
  if (s == "|~") return LineFilterOp::kRegex;
  if (s == "!~") return LineFilterOp::kNotRegex;
  if (s == "|>") return LineFilterOp::kPattern;
  return LineFilterOp::kNotPattern;
}

// Go's fmt %f.
std::string GoFixed6(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%f", v);
  return buf;
}

class Parser {
 public:
  explicit Parser(std::string_view input) : toks_(Lex(input)) {}

  ExprPtr Run() {
    ExprPtr e = ParseBinary(1);
    if (Peek().kind != TokenKind::kEof) Unexpected(Peek());
    Validate(*e);
    return e;
  }

 private:
  // ---- token access
  const Token& Peek(size_t k = 0) const {
    size_t i = std::min(i_ + k, toks_.size() - 1);
    return toks_[i];
  }
  Token Take() {
    const Token& t = Peek();
    if (t.kind == TokenKind::kError) Fail(t, t.text);
    Token out = t;
    if (i_ < toks_.size() - 1) ++i_;
    return out;
  }
  bool PeekOp(std::string_view op, size_t k = 0) const {
    const Token& t = Peek(k);
    return t.kind == TokenKind::kOp && t.text == op;
  }
  Token Expect(std::string_view op, std::string_view expecting = "") {
    if (!PeekOp(op)) Unexpected(Peek(), expecting);
    return Take();
  }
  Token ExpectKind(TokenKind kind, std::string_view expecting) {
    if (Peek().kind != kind) Unexpected(Peek(), expecting);
    return Take();
  }

  [[noreturn]] void Fail(const Token& at, std::string_view msg) {
    throw ParseFailure{PositionedError(at.line, at.col, msg)};
  }
  [[noreturn]] void FailNoPos(std::string_view msg) { throw ParseFailure{UnpositionedError(msg)}; }
  [[noreturn]] void Unexpected(const Token& t, std::string_view expecting = "") {
    if (t.kind == TokenKind::kError) Fail(t, t.text);
    std::string msg = "syntax error: unexpected " + TokenName(t);
    if (!expecting.empty()) msg += ", expecting " + std::string(expecting);
    Fail(t, msg);
  }
  // A semantic error Loki records on the node and reports after parsing (no position).
  void Semantic(const Expr* e, std::string msg) { errors_.emplace(e, std::move(msg)); }

  // ---- expressions
  ExprPtr ParseBinary(int min_prec) {
    ExprPtr lhs = ParsePrimary();
    for (;;) {
      int prec = BinaryPrecedence(Peek());
      if (prec < min_prec) break;
      std::string op = Take().text;
      bool return_bool = false;
      VectorMatching vm;
      if (PeekOp("bool")) {
        Take();
        return_bool = true;
      }
      if (PeekOp("on") || PeekOp("ignoring")) {
        vm.on = Take().text == "on";
        vm.has_on_ignoring = true;
        vm.matching = ParseLabelList();
        if (PeekOp("group_left") || PeekOp("group_right")) {
          vm.card = Take().text == "group_left" ? VectorMatching::Card::kManyToOne
                                                 : VectorMatching::Card::kOneToMany;
          if (PeekOp("(")) vm.include = ParseLabelList();
        }
      }
      ExprPtr rhs = ParseBinary(op == "^" ? prec : prec + 1);
      lhs = MakeBinary(op, return_bool, std::move(vm), std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  ExprPtr MakeBinary(const std::string& op, bool return_bool, VectorMatching vm, ExprPtr lhs,
                     ExprPtr rhs) {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kBinary;
    e->op = op;
    e->return_bool = return_bool;
    e->matching = std::move(vm);
    auto go_type = [](const Expr& x) {
      return x.log.stages.empty() ? "*syntax.MatchersExpr" : "*syntax.PipelineExpr";
    };
    if (lhs->IsLog()) {
      Semantic(e.get(), "unexpected type for left leg of binary operation (" + op + "): " +
                            go_type(*lhs));
    } else if (rhs->IsLog()) {
      Semantic(e.get(), "unexpected type for right leg of binary operation (" + op + "): " +
                            go_type(*rhs));
    } else {
      // A literal that failed to parse fails the operation (Loki's mustNewBinOpExpr).
      for (const Expr* leg : {lhs.get(), rhs.get()}) {
        if (auto it = errors_.find(leg); it != errors_.end() && leg->kind == Expr::Kind::kLiteral) {
          Semantic(e.get(), it->second);
          e->left = std::move(lhs);
          e->right = std::move(rhs);
          return e;
        }
      }
      bool l_lit = lhs->kind == Expr::Kind::kLiteral;
      bool r_lit = rhs->kind == Expr::Kind::kLiteral;
      bool logical = op == "and" || op == "or" || op == "unless";
      if (logical && l_lit) {
        Semantic(e.get(), "unexpected literal for left leg of logical/set binary operation (" +
                              op + "): " + GoFixed6(lhs->value));
      } else if (logical && r_lit) {
        Semantic(e.get(), "unexpected literal for right leg of logical/set binary operation (" +
                              op + "): " + GoFixed6(rhs->value));
      } else if (l_lit && r_lit) {
        // Loki folds literal-literal operations at parse time; comparisons give 0 or 1.
        auto lit = std::make_unique<Expr>();
        lit->kind = Expr::Kind::kLiteral;
        lit->value = ScalarBinary(op, lhs->value, rhs->value);
        return lit;
      }
    }
    e->left = std::move(lhs);
    e->right = std::move(rhs);
    return e;
  }

  ExprPtr Literal(const Token& number, bool negate) {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kLiteral;
    auto v = ParseGoFloat(number.text);
    if (!v.ok()) {
      Semantic(e.get(), "unable to parse literal as a float: " + std::string(v.status().message()));
    } else {
      e->value = negate ? -*v : *v;
    }
    return e;
  }

  ExprPtr ParsePrimary() {
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kNumber: return Literal(Take(), false);
      case TokenKind::kOp: {
        if (t.text == "+" || t.text == "-") {
          bool neg = Take().text == "-";
          if (Peek().kind != TokenKind::kNumber) Unexpected(Peek(), "NUMBER");
          return Literal(Take(), neg);
        }
        if (t.text == "(") {
          Take();
          ExprPtr inner = ParseBinary(1);
          if (inner->IsLog() && !PeekOp(")")) Unexpected(Peek());
          Expect(")");
          return inner;
        }
        if (t.text == "{") {
          auto e = std::make_unique<Expr>();
          e->kind = Expr::Kind::kLogSelector;
          e->log = ParseSelector();
          ParsePipeline(&e->log);
          return e;
        }
        Unexpected(t);
      }
      case TokenKind::kFunc: {
        if (In(kRangeOps, t.text)) return ParseRangeAggregation();
        if (In(kVectorOps, t.text)) return ParseVectorAggregation();
        if (t.text == "label_replace") return ParseLabelReplace();
        if (t.text == "vector") return ParseVector();
        Unexpected(t);
      }
      default: Unexpected(t);
    }
  }

  // A metric expression where the grammar requires one (arguments of aggregations).
  ExprPtr ParseMetric() {
    ExprPtr e = ParseBinary(1);
    if (e->IsLog()) Unexpected(Peek());
    return e;
  }

  std::vector<std::string> ParseLabelList() {
    Expect("(");
    std::vector<std::string> out;
    if (PeekOp(")")) {
      Take();
      return out;
    }
    for (;;) {
      out.push_back(ExpectKind(TokenKind::kIdentifier, "IDENTIFIER").text);
      if (PeekOp(",")) {
        Take();
        continue;
      }
      Expect(")", ") or ,");
      return out;
    }
  }

  std::optional<Grouping> MaybeGrouping() {
    if (!PeekOp("by") && !PeekOp("without")) return std::nullopt;
    Grouping g;
    g.without = Take().text == "without";
    g.labels = ParseLabelList();
    return g;
  }

  ExprPtr ParseRangeAggregation() {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kRangeAgg;
    e->op = Take().text;
    Expect("(");
    std::optional<std::string> param;
    if (Peek().kind == TokenKind::kNumber && PeekOp(",", 1)) {
      param = Take().text;
      Take();
    }
    e->range = ParseLogRange();
    Expect(")");
    e->grouping = MaybeGrouping();
    // Loki's newRangeAggregationExpr and RangeAggregationExpr.validate.
    if (param) {
      if (e->op != "quantile_over_time") {
        Semantic(e.get(), "parameter " + *param + " not supported for operation " + e->op);
        return e;
      }
      auto v = ParseGoFloat(*param);
      if (!v.ok()) {
        Semantic(e.get(), "invalid parameter for operation " + e->op + ": " +
                              std::string(v.status().message()));
        return e;
      }
      e->param = *v;
    } else if (e->op == "quantile_over_time") {
      Semantic(e.get(), "parameter required for operation " + e->op);
      return e;
    }
    const std::string& op = e->op;
    if (e->grouping) {
      static constexpr std::string_view kGroupable[] = {
          "avg_over_time", "stddev_over_time", "stdvar_over_time", "quantile_over_time",
          "max_over_time", "min_over_time", "first_over_time", "last_over_time"};
      if (!In(kGroupable, op)) {
        Semantic(e.get(), "grouping not allowed for " + op + " aggregation");
        return e;
      }
    }
    if (e->range.unwrap) {
      static constexpr std::string_view kUnwrappable[] = {
          "avg_over_time", "sum_over_time", "max_over_time", "min_over_time",
          "stddev_over_time", "stdvar_over_time", "quantile_over_time", "rate",
          "rate_counter", "absent_over_time", "first_over_time", "last_over_time"};
      if (!In(kUnwrappable, op)) Semantic(e.get(), "invalid aggregation " + op + " with unwrap");
      return e;
    }
    static constexpr std::string_view kPlain[] = {"bytes_over_time", "bytes_rate",
                                                  "count_over_time", "rate", "absent_over_time"};
    if (!In(kPlain, op)) Semantic(e.get(), "invalid aggregation " + op + " without unwrap");
    return e;
  }

  ExprPtr ParseVectorAggregation() {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kVectorAgg;
    e->op = Take().text;
    std::optional<Grouping> before = MaybeGrouping();
    Expect("(");
    std::optional<std::string> param;
    if (Peek().kind == TokenKind::kNumber && PeekOp(",", 1)) {
      param = Take().text;
      Take();
    }
    e->left = ParseMetric();
    Expect(")");
    if (!before) {
      e->grouping = MaybeGrouping();
    } else {
      e->grouping = std::move(before);
    }
    // Loki's mustNewVectorAggregationExpr.
    const std::string& op = e->op;
    if (op == "topk" || op == "bottomk" || op == "approx_topk") {
      if (!param) {
        Semantic(e.get(), "parameter required for operation " + op);
        return e;
      }
      char* end = nullptr;
      errno = 0;
      long long k = std::strtoll(param->c_str(), &end, 10);
      if (end == param->c_str() || *end != '\0' || errno != 0) {
        Semantic(e.get(), "invalid parameter " + op + "(" + *param + ",");
        return e;
      }
      if (k <= 0) {
        Semantic(e.get(), "invalid parameter (must be greater than 0) " + op + "(" + *param);
        return e;
      }
      if (op == "approx_topk" && e->grouping) {
        Semantic(e.get(), "grouping not allowed for " + op + " aggregation");
        return e;
      }
      e->k = k;
    } else if (param) {
      Semantic(e.get(), "unsupported parameter for operation " + op + "(" + *param + ",");
      return e;
    }
    if ((op == "sort" || op == "sort_desc") && e->grouping && !e->grouping->labels.empty()) {
      Semantic(e.get(), "sort and sort_desc doesn't allow grouping by ");
    }
    return e;
  }

  ExprPtr ParseLabelReplace() {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kLabelReplace;
    Take();
    Expect("(");
    e->left = ParseMetric();
    Expect(",");
    e->dst = ExpectKind(TokenKind::kString, "STRING").text;
    Expect(",");
    e->replacement = ExpectKind(TokenKind::kString, "STRING").text;
    Expect(",");
    e->src = ExpectKind(TokenKind::kString, "STRING").text;
    Expect(",");
    e->regex = ExpectKind(TokenKind::kString, "STRING").text;
    Expect(")");
    RE2::Options opts;
    opts.set_log_errors(false);
    RE2 re("^(?:" + e->regex + ")$", opts);
    if (!re.ok()) {
      Semantic(e.get(), "invalid regex in label_replace: error parsing regexp: " + re.error());
    }
    return e;
  }

  ExprPtr ParseVector() {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kVector;
    Take();
    Expect("(");
    Token n = ExpectKind(TokenKind::kNumber, "NUMBER");
    Expect(")");
    auto v = ParseGoFloat(n.text);
    if (!v.ok()) {
      Semantic(e.get(), "unable to parse vectorExpr as a float: " + std::string(v.status().message()));
    } else {
      e->value = *v;
    }
    return e;
  }

  // ---- log ranges
  LogRangeExpr ParseLogRange() {
    LogRangeExpr r;
    if (PeekOp("(")) {
      Take();
      if (PeekOp("{")) {
        r.selector = ParseSelector();
        ParsePipeline(&r.selector);
        r.unwrap = MaybeUnwrap();
        if (Peek().kind == TokenKind::kRange) {
          // `( {sel} ... [1m] )`: a parenthesised log range.
          RangeSuffix(&r);
          Expect(")");
          return r;
        }
        Expect(")");
        r.range_ns = ExpectKind(TokenKind::kRange, "RANGE").ns;
        MaybeOffset(&r);
        return r;
      }
      if (PeekOp("(")) {
        r = ParseLogRange();
        Expect(")");
        return r;
      }
      Unexpected(Peek());
    }
    if (!PeekOp("{")) Unexpected(Peek());
    r.selector = ParseSelector();
    if (Peek().kind == TokenKind::kRange) {
      RangeSuffix(&r);
      return r;
    }
    ParsePipeline(&r.selector);
    r.unwrap = MaybeUnwrap();
    r.range_ns = ExpectKind(TokenKind::kRange, "RANGE").ns;
    MaybeOffset(&r);
    return r;
  }

  // `[range] [offset d] [pipeline] [unwrap]` after a selector.
  void RangeSuffix(LogRangeExpr* r) {
    r->range_ns = Take().ns;
    MaybeOffset(r);
    ParsePipeline(&r->selector);
    if (!r->unwrap) r->unwrap = MaybeUnwrap();
  }

  void MaybeOffset(LogRangeExpr* r) {
    if (!PeekOp("offset")) return;
    Take();
    r->offset_ns = ExpectKind(TokenKind::kDuration, "DURATION").ns;
  }

  std::optional<UnwrapExpr> MaybeUnwrap() {
    if (!(PeekOp("|") && PeekOp("unwrap", 1))) return std::nullopt;
    Take();
    Take();
    UnwrapExpr u;
    const Token& t = Peek();
    if (t.kind == TokenKind::kFunc &&
        (t.text == "bytes" || t.text == "duration" || t.text == "duration_seconds")) {
      u.conversion = t.text == "bytes"      ? UnwrapConversion::kBytes
                     : t.text == "duration" ? UnwrapConversion::kDuration
                                            : UnwrapConversion::kDurationSeconds;
      Take();
      Expect("(");
      u.label = ExpectKind(TokenKind::kIdentifier, "IDENTIFIER").text;
      Expect(")");
    } else {
      u.label = ExpectKind(TokenKind::kIdentifier, "IDENTIFIER").text;
    }
    while (PeekOp("|")) {
      Take();
      u.post_filters.push_back(ParseLabelFilter());
    }
    return u;
  }

  // ---- selectors and pipelines
  LogSelectorExpr ParseSelector() {
    LogSelectorExpr s;
    Expect("{");
    if (PeekOp("}")) {
      Take();
      return s;
    }
    for (;;) {
      s.matchers.push_back(ParseMatcher());
      if (PeekOp(",")) {
        Take();
        continue;
      }
      Expect("}", "} or ,");
      return s;
    }
  }

  storage::Matcher ParseMatcher() {
    Token name = ExpectKind(TokenKind::kIdentifier, "IDENTIFIER");
    const Token& op = Peek();
    storage::MatchType type;
    if (PeekOp("=")) {
      type = storage::MatchType::kEqual;
    } else if (PeekOp("!=")) {
      type = storage::MatchType::kNotEqual;
    } else if (PeekOp("=~")) {
      type = storage::MatchType::kRegexMatch;
    } else if (PeekOp("!~")) {
      type = storage::MatchType::kRegexNoMatch;
    } else {
      Unexpected(op);
    }
    Take();
    Token value = ExpectKind(TokenKind::kString, "STRING");
    auto m = storage::Matcher::Create(type, name.text, value.text);
    if (!m.ok()) FailNoPos(std::string(m.status().message()));
    return *std::move(m);
  }

  void ParsePipeline(LogSelectorExpr* s) {
    for (;;) {
      const Token& t = Peek();
      if (IsLineFilterOp(t)) {
        s->stages.push_back(ParseLineFilter());
        continue;
      }
      if (PeekOp("|") && !PeekOp("unwrap", 1)) {
        Take();
        s->stages.push_back(ParseStage());
        continue;
      }
      return;
    }
  }

  LineFilterTerm ParseLineFilterTerm() {
    LineFilterTerm term;
    if (Peek().kind == TokenKind::kFunc && Peek().text == "ip") {
      Take();
      Expect("(");
      term.value = ExpectKind(TokenKind::kString, "STRING").text;
      term.is_ip = true;
      Expect(")");
      return term;
    }
    term.value = ExpectKind(TokenKind::kString, "STRING").text;
    return term;
  }

  StageExpr ParseLineFilter() {
    StageExpr st;
    st.kind = StageExpr::Kind::kLineFilter;
    st.filter_op = LineOp(Take().text);
    st.terms.push_back(ParseLineFilterTerm());
    while (PeekOp("or") && (Peek(1).kind == TokenKind::kString ||
                            (Peek(1).kind == TokenKind::kFunc && Peek(1).text == "ip"))) {
      Take();
      st.terms.push_back(ParseLineFilterTerm());
    }
    return st;
  }

  std::vector<LabelExtraction> ParseExtractions() {
    std::vector<LabelExtraction> out;
    if (Peek().kind != TokenKind::kIdentifier) return out;
    for (;;) {
      LabelExtraction x;
      x.label = ExpectKind(TokenKind::kIdentifier, "IDENTIFIER").text;
      if (PeekOp("=")) {
        Take();
        x.expression = ExpectKind(TokenKind::kString, "STRING").text;
      } else {
        x.expression = x.label;
      }
      out.push_back(std::move(x));
      if (!PeekOp(",")) return out;
      Take();
    }
  }

  std::vector<NamedLabelMatcher> ParseNamedMatchers() {
    std::vector<NamedLabelMatcher> out;
    for (;;) {
      NamedLabelMatcher m;
      m.name = ExpectKind(TokenKind::kIdentifier, "IDENTIFIER").text;
      if (PeekOp("=") || PeekOp("!=") || PeekOp("=~") || PeekOp("!~")) {
        std::string op = Take().text;
        m.match = op == "="    ? storage::MatchType::kEqual
                  : op == "!=" ? storage::MatchType::kNotEqual
                  : op == "=~" ? storage::MatchType::kRegexMatch
                               : storage::MatchType::kRegexNoMatch;
        m.value = ExpectKind(TokenKind::kString, "STRING").text;
      }
      out.push_back(std::move(m));
      if (!PeekOp(",")) return out;
      Take();
    }
  }

  StageExpr ParseStage() {
    StageExpr st;
    const Token& t = Peek();
    if (t.kind == TokenKind::kIdentifier || PeekOp("(")) {
      st.kind = StageExpr::Kind::kLabelFilter;
      st.label_filter = ParseLabelFilter();
      return st;
    }
    if (t.kind != TokenKind::kOp) Unexpected(t);
    std::string kw = Take().text;
    if (kw == "logfmt") {
      st.kind = StageExpr::Kind::kLogfmt;
      while (Peek().kind == TokenKind::kFlag) {
        if (Take().text == "--strict") {
          st.strict = true;
        } else {
          st.keep_empty = true;
        }
      }
      st.params = ParseExtractions();
    } else if (kw == "json") {
      st.kind = StageExpr::Kind::kJson;
      st.params = ParseExtractions();
    } else if (kw == "regexp" || kw == "pattern" || kw == "line_format") {
      st.kind = kw == "regexp"    ? StageExpr::Kind::kRegexp
                : kw == "pattern" ? StageExpr::Kind::kPattern
                                  : StageExpr::Kind::kLineFormat;
      st.text = ExpectKind(TokenKind::kString, "STRING").text;
    } else if (kw == "unpack") {
      st.kind = StageExpr::Kind::kUnpack;
    } else if (kw == "decolorize") {
      st.kind = StageExpr::Kind::kDecolorize;
    } else if (kw == "label_format") {
      st.kind = StageExpr::Kind::kLabelFormat;
      for (;;) {
        LabelFormatItem item;
        item.dst = ExpectKind(TokenKind::kIdentifier, "IDENTIFIER").text;
        Expect("=");
        const Token& v = Peek();
        if (v.kind == TokenKind::kIdentifier) {
          item.src_or_template = Take().text;
        } else if (v.kind == TokenKind::kString) {
          item.src_or_template = Take().text;
          item.is_template = true;
        } else {
          Unexpected(v, "IDENTIFIER or STRING");
        }
        st.label_format.push_back(std::move(item));
        if (!PeekOp(",")) break;
        Take();
      }
    } else if (kw == "drop" || kw == "keep") {
      st.kind = kw == "drop" ? StageExpr::Kind::kDrop : StageExpr::Kind::kKeep;
      st.named = ParseNamedMatchers();
    } else {
      Unexpected(toks_[i_ - 1]);
    }
    return st;
  }

  // ---- label filters: `or` binds loosest, then `and`; a `,` or a juxtaposed filter takes
  // the whole rest of the expression as its right side (yacc's shift on these tokens).
  LabelFilterExpr ParseLabelFilter() {
    LabelFilterExpr left = ParseLabelFilterAnd();
    while (PeekOp("or")) {
      Take();
      LabelFilterExpr right = ParseLabelFilterAnd();
      left = Combine(LabelFilterExpr::Kind::kOr, std::move(left), std::move(right));
    }
    return left;
  }
  LabelFilterExpr ParseLabelFilterAnd() {
    LabelFilterExpr left = ParseLabelFilterJuxt();
    while (PeekOp("and")) {
      Take();
      LabelFilterExpr right = ParseLabelFilterJuxt();
      left = Combine(LabelFilterExpr::Kind::kAnd, std::move(left), std::move(right));
    }
    return left;
  }
  LabelFilterExpr ParseLabelFilterJuxt() {
    LabelFilterExpr p = ParseLabelFilterPrimary();
    if (PeekOp(",")) {
      Take();
      return Combine(LabelFilterExpr::Kind::kAnd, std::move(p), ParseLabelFilter());
    }
    if (Peek().kind == TokenKind::kIdentifier || PeekOp("(")) {
      return Combine(LabelFilterExpr::Kind::kAnd, std::move(p), ParseLabelFilter());
    }
    return p;
  }
  static LabelFilterExpr Combine(LabelFilterExpr::Kind kind, LabelFilterExpr l, LabelFilterExpr r) {
    LabelFilterExpr e;
    e.kind = kind;
    e.children.push_back(std::move(l));
    e.children.push_back(std::move(r));
    return e;
  }

  LabelFilterExpr ParseLabelFilterPrimary() {
    if (PeekOp("(")) {
      Take();
      LabelFilterExpr inner = ParseLabelFilter();
      Expect(")");
      return inner;
    }
    LabelFilterExpr f;
    f.name = ExpectKind(TokenKind::kIdentifier, "IDENTIFIER").text;
    const Token& op = Peek();
    static constexpr std::string_view kOps[] = {"=", "!=", "=~", "!~", "==",
                                                ">", ">=", "<", "<="};
    if (op.kind != TokenKind::kOp || !In(kOps, op.text)) Unexpected(op);
    f.op = Take().text;
    const Token& v = Peek();
    bool string_op = f.op == "=" || f.op == "!=" || f.op == "=~" || f.op == "!~";
    bool numeric_op = f.op != "=~" && f.op != "!~";
    if (v.kind == TokenKind::kString && string_op) {
      f.kind = LabelFilterExpr::Kind::kMatcher;
      f.value = Take().text;
      if (f.op == "=~" || f.op == "!~") {
        auto m = storage::Matcher::Create(f.op == "=~" ? storage::MatchType::kRegexMatch
                                                       : storage::MatchType::kRegexNoMatch,
                                          f.name, f.value);
        if (!m.ok()) FailNoPos(std::string(m.status().message()));
      }
      return f;
    }
    if (v.kind == TokenKind::kFunc && v.text == "ip" && (f.op == "=" || f.op == "!=")) {
      Take();
      Expect("(");
      f.kind = LabelFilterExpr::Kind::kIp;
      f.value = ExpectKind(TokenKind::kString, "STRING").text;
      Expect(")");
      return f;
    }
    if (numeric_op && v.kind == TokenKind::kDuration) {
      f.kind = LabelFilterExpr::Kind::kDuration;
      f.value = v.text;
      f.duration_ns = Take().ns;
      return f;
    }
    if (numeric_op && v.kind == TokenKind::kBytes) {
      f.kind = LabelFilterExpr::Kind::kBytes;
      f.value = v.text;
      f.bytes = Take().bytes;
      return f;
    }
    if (numeric_op && (v.kind == TokenKind::kNumber || PeekOp("+") || PeekOp("-"))) {
      bool neg = false;
      if (v.kind == TokenKind::kOp) {
        neg = Take().text == "-";
        if (Peek().kind != TokenKind::kNumber) Unexpected(Peek(), "NUMBER");
      }
      Token n = Take();
      auto d = ParseGoFloat(n.text);
      if (!d.ok()) {
        FailNoPos("unable to parse literal as a float: " + std::string(d.status().message()));
      }
      f.kind = LabelFilterExpr::Kind::kNumber;
      f.value = (neg ? "-" : "") + n.text;
      f.number = neg ? -*d : *d;
      return f;
    }
    Unexpected(v);
  }

  // ---- validation (Loki's validateExpr): node errors top-down, then selector matchers.
  void Validate(const Expr& e) {
    if (auto it = errors_.find(&e); it != errors_.end()) FailNoPos(it->second);
    switch (e.kind) {
      case Expr::Kind::kLogSelector: ValidateMatchers(e.log.matchers); break;
      case Expr::Kind::kRangeAgg: ValidateMatchers(e.range.selector.matchers); break;
      case Expr::Kind::kVectorAgg:
      case Expr::Kind::kLabelReplace: Validate(*e.left); break;
      case Expr::Kind::kBinary:
        Validate(*e.left);
        Validate(*e.right);
        break;
      case Expr::Kind::kLiteral:
      case Expr::Kind::kVector: break;
    }
  }

  void ValidateMatchers(const std::vector<storage::Matcher>& ms) {
    for (const auto& m : ms) {
      if (!m.MatchesEmpty()) return;
    }
    FailNoPos(
        "queries require at least one regexp or equality matcher that does not have an "
        "empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but "
        "app=~\".+\" will");
  }

  std::vector<Token> toks_;
  size_t i_ = 0;
  std::unordered_map<const Expr*, std::string> errors_;
};

}  // namespace

absl::StatusOr<ExprPtr> ParseExpr(std::string_view input) {
  if (input.size() >= kMaxQueryBytes) {
    return absl::InvalidArgumentError(UnpositionedError(
        "input size too long (" + std::to_string(input.size()) + " > " +
        std::to_string(kMaxQueryBytes) + ")"));
  }
  try {
    return Parser(input).Run();
  } catch (const ParseFailure& f) {
    return absl::InvalidArgumentError(f.message);
  }
}

}  // namespace otelbox::query::logql

#include "query/promql/parser.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/status/status.h"
#include "query/common/duration.h"
#include "query/promql/lexer.h"

namespace otelbox::query::promql {
namespace {

// Deep enough for any real query, shallow enough to never exhaust a thread's stack.
constexpr int kMaxDepth = 256;

// Thrown inside the parser only; Parse() turns it into a Status (STYLE.md 3.3).
struct ParseError {
  int32_t pos;
  std::string message;
};

// Binding powers, Prometheus' yacc precedence (lowest first).
enum Prec : int {
  kPrecNone = 0,
  kPrecOr = 1,
  kPrecAndUnless = 2,
  kPrecComparison = 3,
  kPrecAdd = 4,
  kPrecMul = 5,  // also unary minus
  kPrecPow = 6,
};

// PromQL keywords and aggregator names are case-insensitive (lex.go looks them up
// lowercased); function and label names are not.
std::string Lower(std::string_view w) {
  std::string out(w);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsKeyword(std::string_view w) {
  static constexpr std::string_view kKeywords[] = {
      "and", "or", "unless", "atan2", "by", "without", "on", "ignoring", "group_left",
      "group_right", "bool", "offset"};
  std::string lower = Lower(w);
  for (auto k : kKeywords) {
    if (lower == k) return true;
  }
  return false;
}

bool IsAggregatorWord(std::string_view w) { return IsAggregator(Lower(w)); }

std::string Describe(const Token& t) {
  switch (t.type) {
    case TokenType::kEOF: return "end of input";
    case TokenType::kIdentifier:
    case TokenType::kMetricIdentifier:
      if (IsKeyword(t.text) || IsAggregatorWord(t.text)) return "<" + Lower(t.text) + ">";
      return "identifier \"" + t.text + "\"";
    case TokenType::kNumber: return "number \"" + t.text + "\"";
    case TokenType::kDuration: return "duration \"" + t.text + "\"";
    case TokenType::kString: return "string";
    default: return "\"" + std::string(TokenTypeSymbol(t.type)) + "\"";
  }
}

double ParseNumber(const std::string& text) {
  // Go's strconv.ParseInt(s, 0, 64) first (hex, octal), then ParseFloat, as Prometheus.
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  long long i = std::strtoll(begin, &end, 0);
  if (errno == 0 && end == begin + text.size() && !text.empty()) return static_cast<double>(i);
  std::string lower;
  for (char c : text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "inf") return std::numeric_limits<double>::infinity();
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  return std::strtod(begin, nullptr);
}

class Parser {
 public:
  explicit Parser(std::string_view input) : input_(input), lexer_(input) { Advance(); }

  ExprPtr ParseAll() {
    if (tok_.type == TokenType::kEOF) Fail(tok_.pos, "no expression found in input");
    ExprPtr e = ParseExpr(kPrecNone);
    if (tok_.type != TokenType::kEOF) Unexpected(tok_, "");
    return e;
  }

  std::vector<storage::Matcher> ParseSelectorOnly() {
    if (tok_.type == TokenType::kEOF) Fail(tok_.pos, "no expression found in input");
    ExprPtr e = ParsePrimary();
    if (tok_.type != TokenType::kEOF) Unexpected(tok_, "");
    auto* vs = e->As<VectorSelector>();
    if (vs == nullptr) Fail(e->pos, "expected a vector selector");
    return vs->matchers;
  }

 private:
  [[noreturn]] void Fail(int32_t pos, std::string message) {
    throw ParseError{pos, std::move(message)};
  }
  [[noreturn]] void Unexpected(const Token& t, std::string_view context) {
    std::string msg = "unexpected " + Describe(t);
    if (!context.empty()) msg += " " + std::string(context);
    Fail(t.pos, msg);
  }

  void Advance() {
    tok_ = lexer_.Next();
    if (tok_.type == TokenType::kError) Fail(tok_.pos, tok_.text);
  }
  bool Is(TokenType t) const { return tok_.type == t; }
  bool IsWord(std::string_view w) const {
    return tok_.type == TokenType::kIdentifier && Lower(tok_.text) == w;
  }
  Token Expect(TokenType t, std::string_view context) {
    if (tok_.type != t) Unexpected(tok_, context);
    Token out = tok_;
    Advance();
    return out;
  }

  ExprPtr Make(Expr::Node node, int32_t pos, int32_t end) {
    auto e = std::make_unique<Expr>();
    e->node = std::move(node);
    e->pos = pos;
    e->end = end;
    return e;
  }

  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p_(p) {
      if (++p_->depth_ > kMaxDepth) p_->Fail(p_->tok_.pos, "expression nested too deeply");
    }
    ~DepthGuard() { --p_->depth_; }
    Parser* p_;
  };

  // The binary operator at the current token, if any.
  std::optional<BinaryOp> PeekBinaryOp() const {
    switch (tok_.type) {
      case TokenType::kAdd: return BinaryOp::kAdd;
      case TokenType::kSub: return BinaryOp::kSub;
      case TokenType::kMul: return BinaryOp::kMul;
      case TokenType::kDiv: return BinaryOp::kDiv;
      case TokenType::kMod: return BinaryOp::kMod;
      case TokenType::kPow: return BinaryOp::kPow;
      case TokenType::kEqlc: return BinaryOp::kEqlc;
      case TokenType::kNeq: return BinaryOp::kNeq;
      case TokenType::kGtr: return BinaryOp::kGtr;
      case TokenType::kLss: return BinaryOp::kLss;
      case TokenType::kGte: return BinaryOp::kGte;
      case TokenType::kLte: return BinaryOp::kLte;
      case TokenType::kTrimUpper: return BinaryOp::kTrimUpper;
      case TokenType::kTrimLower: return BinaryOp::kTrimLower;
      case TokenType::kIdentifier: {
        std::string w = Lower(tok_.text);
        if (w == "and") return BinaryOp::kAnd;
        if (w == "or") return BinaryOp::kOr;
        if (w == "unless") return BinaryOp::kUnless;
        if (w == "atan2") return BinaryOp::kAtan2;
        return std::nullopt;
      }
      default: return std::nullopt;
    }
  }

  static int Precedence(BinaryOp op) {
    switch (op) {
      case BinaryOp::kOr: return kPrecOr;
      case BinaryOp::kAnd:
      case BinaryOp::kUnless: return kPrecAndUnless;
      case BinaryOp::kEqlc:
      case BinaryOp::kNeq:
      case BinaryOp::kGtr:
      case BinaryOp::kLss:
      case BinaryOp::kGte:
      case BinaryOp::kLte:
      case BinaryOp::kTrimUpper:
      case BinaryOp::kTrimLower: return kPrecComparison;
      case BinaryOp::kAdd:
      case BinaryOp::kSub: return kPrecAdd;
      case BinaryOp::kMul:
      case BinaryOp::kDiv:
      case BinaryOp::kMod:
      case BinaryOp::kAtan2: return kPrecMul;
      case BinaryOp::kPow: return kPrecPow;
    }
    return kPrecNone;
  }

  // Parses an expression whose binary operators all bind at least as tightly as min_prec.
  ExprPtr ParseExpr(int min_prec) {
    DepthGuard guard(this);
    ExprPtr lhs = ParseUnary();
    while (true) {
      std::optional<BinaryOp> op = PeekBinaryOp();
      if (!op) break;
      int prec = Precedence(*op);
      if (prec < min_prec) break;
      Token op_tok = tok_;
      Advance();
      BinaryExpr bin;
      bin.op = *op;
      ParseBinaryModifiers(&bin, op_tok);
      // '^' is right-associative; everything else left-associative.
      ExprPtr rhs = ParseExpr(*op == BinaryOp::kPow ? prec : prec + 1);
      int32_t pos = lhs->pos, end = rhs->end;
      bin.lhs = std::move(lhs);
      bin.rhs = std::move(rhs);
      CheckBinary(&bin, op_tok);
      lhs = Make(std::move(bin), pos, end);
    }
    return lhs;
  }

  void ParseBinaryModifiers(BinaryExpr* bin, const Token& op_tok) {
    if (IsWord("bool")) {
      if (!IsComparison(bin->op)) Fail(tok_.pos, "bool modifier can only be used on comparison operators");
      bin->return_bool = true;
      Advance();
    }
    if (IsWord("on") || IsWord("ignoring")) {
      VectorMatching vm;
      vm.on = IsWord("on");
      vm.explicit_matching = true;
      Advance();
      vm.labels = ParseLabelList();
      if (IsWord("group_left") || IsWord("group_right")) {
        if (IsSetOperator(bin->op)) {
          Fail(tok_.pos, "no grouping allowed for \"" + std::string(BinaryOpSymbol(bin->op)) +
                             "\" operation");
        }
        vm.card = IsWord("group_left") ? VectorMatching::Card::kManyToOne
                                            : VectorMatching::Card::kOneToMany;
        Advance();
        if (Is(TokenType::kLeftParen)) vm.include = ParseLabelList();
      }
      bin->matching = std::move(vm);
    } else if (IsWord("group_left") || IsWord("group_right")) {
      Unexpected(tok_, "in binary expression; group modifiers need on() or ignoring()");
    }
  }

  void CheckBinary(BinaryExpr* bin, const Token& op_tok) {
    ValueType lt = TypeOf(*bin->lhs), rt = TypeOf(*bin->rhs);
    auto ok = [](ValueType t) { return t == ValueType::kScalar || t == ValueType::kVector; };
    if (!ok(lt) || !ok(rt)) {
      Fail(op_tok.pos, "binary expression must contain only scalar and instant vector types");
    }
    bool both_vectors = lt == ValueType::kVector && rt == ValueType::kVector;
    if (IsComparison(bin->op) && !bin->return_bool && lt == ValueType::kScalar &&
        rt == ValueType::kScalar) {
      Fail(op_tok.pos, "comparisons between scalars must use BOOL modifier");
    }
    if (IsSetOperator(bin->op)) {
      if (lt == ValueType::kScalar || rt == ValueType::kScalar) {
        Fail(op_tok.pos, "set operator \"" + std::string(BinaryOpSymbol(bin->op)) +
                             "\" not allowed in binary scalar expression");
      }
    }
    if (bin->matching && !both_vectors) {
      Fail(op_tok.pos, "vector matching only allowed between instant vectors");
    }
    if (both_vectors && !bin->matching) bin->matching = VectorMatching{};
    if (both_vectors && IsSetOperator(bin->op)) {
      bin->matching->card = VectorMatching::Card::kManyToMany;
    }
  }

  std::vector<std::string> ParseLabelList() {
    Expect(TokenType::kLeftParen, "in grouping opts, expected \"(\"");
    std::vector<std::string> labels;
    while (!Is(TokenType::kRightParen)) {
      if (Is(TokenType::kIdentifier)) {
        labels.push_back(tok_.text);
      } else if (Is(TokenType::kString)) {
        labels.push_back(tok_.text);
      } else {
        Unexpected(tok_, "in grouping opts, expected label");
      }
      Advance();
      if (Is(TokenType::kComma)) {
        Advance();
      } else if (!Is(TokenType::kRightParen)) {
        Unexpected(tok_, "in grouping opts, expected \")\" or \",\"");
      }
    }
    Advance();
    return labels;
  }

  ExprPtr ParseUnary() {
    if (Is(TokenType::kSub) || Is(TokenType::kAdd)) {
      DepthGuard guard(this);
      Token op = tok_;
      Advance();
      // Unary minus binds like '*' (so -2^2 == -(2^2)), as in Prometheus' grammar.
      ExprPtr operand = ParseExpr(kPrecPow);
      ValueType t = TypeOf(*operand);
      if (t != ValueType::kScalar && t != ValueType::kVector) {
        Fail(op.pos, "unary expression only allowed on expressions of type scalar or instant vector, got \"" +
                         std::string(ValueTypeDescription(t)) + "\"");
      }
      if (auto* n = operand->As<NumberLiteral>()) {
        // Prometheus folds a sign into a number literal.
        if (op.type == TokenType::kSub) n->value = -n->value;
        operand->pos = op.pos;
        return operand;
      }
      int32_t end = operand->end;
      return Make(UnaryExpr{op.type == TokenType::kSub, std::move(operand)}, op.pos, end);
    }
    return ParsePostfix(ParsePrimary());
  }

  int64_t ParseDurationToken(std::string_view context) {
    if (Is(TokenType::kDuration)) {
      auto d = ParseDuration(tok_.text);
      if (!d.ok()) Fail(tok_.pos, std::string(d.status().message()));
      Advance();
      return *d;
    }
    if (Is(TokenType::kNumber)) {
      double secs = ParseNumber(tok_.text);
      if (!std::isfinite(secs) || std::fabs(secs) > 9e15) Fail(tok_.pos, "duration out of range");
      Advance();
      return static_cast<int64_t>(std::llround(secs * 1000));
    }
    Unexpected(tok_, context);
  }

  void ParseOffset(int64_t* offset_ms, bool* has_offset) {
    Token kw = tok_;
    Advance();
    if (*has_offset) Fail(kw.pos, "offset may not be set multiple times");
    bool neg = false;
    if (Is(TokenType::kSub)) {
      neg = true;
      Advance();
    } else if (Is(TokenType::kAdd)) {
      Advance();
    }
    int64_t d = ParseDurationToken("in offset, expected duration");
    *offset_ms = neg ? -d : d;
    *has_offset = true;
  }

  void ParseAt(std::optional<AtModifier>* at) {
    Token kw = tok_;
    Advance();
    if (at->has_value()) Fail(kw.pos, "@ <timestamp> may not be set multiple times");
    AtModifier m;
    if (IsWord("start") || IsWord("end")) {
      m.kind = IsWord("start") ? AtModifier::Kind::kStart : AtModifier::Kind::kEnd;
      Advance();
      Expect(TokenType::kLeftParen, "in @ modifier, expected \"(\"");
      Expect(TokenType::kRightParen, "in @ modifier, expected \")\"");
    } else {
      bool neg = false;
      if (Is(TokenType::kSub)) {
        neg = true;
        Advance();
      } else if (Is(TokenType::kAdd)) {
        Advance();
      }
      double secs = 0;
      if (Is(TokenType::kNumber)) {
        secs = ParseNumber(tok_.text);
      } else if (Is(TokenType::kDuration)) {
        // `@ 100s`, `@ 1m40s`: Prometheus 3 takes a duration as seconds since the epoch.
        auto d = ParseDuration(tok_.text);
        if (!d.ok()) Fail(tok_.pos, std::string(d.status().message()));
        secs = static_cast<double>(*d) / 1000.0;
      } else {
        Unexpected(tok_, "in @, expected timestamp");
      }
      if (neg) secs = -secs;
      if (!std::isfinite(secs) || std::fabs(secs) > 9e12) {
        Fail(tok_.pos, "timestamp out of bounds for @ modifier: " + tok_.text);
      }
      Advance();
      m.t_ms = static_cast<int64_t>(std::llround(secs * 1000));
    }
    *at = m;
  }

  // Range, subquery, offset and @ after a primary expression.
  ExprPtr ParsePostfix(ExprPtr e) {
    while (true) {
      if (Is(TokenType::kLeftBracket)) {
        Token lb = tok_;
        Advance();
        int64_t range = ParseDurationToken("in range, expected duration");
        if (Is(TokenType::kColon)) {
          Advance();
          int64_t step = 0;
          if (!Is(TokenType::kRightBracket)) step = ParseDurationToken("in subquery, expected duration");
          Token rb = Expect(TokenType::kRightBracket, "in subquery, expected \"]\"");
          ValueType t = TypeOf(*e);
          if (t != ValueType::kVector) {
            Fail(e->pos, "subquery is only allowed on instant vector, got " +
                             std::string(ValueTypeDescription(t)) + " instead");
          }
          int32_t pos = e->pos;
          SubqueryExpr sq;
          sq.expr = std::move(e);
          sq.range_ms = range;
          sq.step_ms = step;
          e = Make(std::move(sq), pos, rb.end);
          continue;
        }
        Token rb = Expect(TokenType::kRightBracket, "in range, expected \"]\" or \":\"");
        auto* vs = e->As<VectorSelector>();
        if (vs == nullptr) Fail(lb.pos, "ranges only allowed for vector selectors");
        if (vs->has_offset || vs->at) Fail(lb.pos, "no offset or @ modifiers allowed before range");
        if (range <= 0) Fail(lb.pos, "range must be positive");
        int32_t pos = e->pos;
        e = Make(MatrixSelector{std::move(e), range}, pos, rb.end);
        continue;
      }
      if (IsWord("offset") || Is(TokenType::kAt)) {
        bool is_offset = Is(TokenType::kIdentifier);
        Token kw = tok_;
        int64_t* off = nullptr;
        bool* has = nullptr;
        std::optional<AtModifier>* at = nullptr;
        if (auto* vs = e->As<VectorSelector>()) {
          off = &vs->offset_ms, has = &vs->has_offset, at = &vs->at;
        } else if (auto* ms = e->As<MatrixSelector>()) {
          auto* inner = ms->vector_selector->As<VectorSelector>();
          off = &inner->offset_ms, has = &inner->has_offset, at = &inner->at;
        } else if (auto* sq = e->As<SubqueryExpr>()) {
          off = &sq->offset_ms, has = &sq->has_offset, at = &sq->at;
        } else {
          Fail(kw.pos, std::string(is_offset ? "offset" : "@") +
                           " modifier must be preceded by an instant vector selector or range "
                           "vector selector or a subquery");
        }
        if (is_offset) {
          ParseOffset(off, has);
        } else {
          ParseAt(at);
        }
        e->end = tok_.pos;
        continue;
      }
      return e;
    }
  }

  ExprPtr ParsePrimary() {
    DepthGuard guard(this);
    Token t = tok_;
    switch (t.type) {
      case TokenType::kNumber: {
        Advance();
        return Make(NumberLiteral{ParseNumber(t.text)}, t.pos, t.end);
      }
      case TokenType::kDuration: {
        // Prometheus 3 accepts a duration where a number is expected (seconds).
        auto d = ParseDuration(t.text);
        if (!d.ok()) Fail(t.pos, std::string(d.status().message()));
        Advance();
        return Make(NumberLiteral{static_cast<double>(*d) / 1000.0}, t.pos, t.end);
      }
      case TokenType::kString: {
        Advance();
        return Make(StringLiteral{t.text}, t.pos, t.end);
      }
      case TokenType::kLeftParen: {
        Advance();
        ExprPtr inner = ParseExpr(kPrecNone);
        Token rp = Expect(TokenType::kRightParen, "in parenthesized expression, expected \")\"");
        return Make(ParenExpr{std::move(inner)}, t.pos, rp.end);
      }
      case TokenType::kLeftBrace:
        return ParseSelector("", t.pos);
      case TokenType::kMetricIdentifier:
        Advance();
        return ParseSelector(t.text, t.pos);
      case TokenType::kIdentifier: {
        if (IsAggregatorWord(t.text)) return ParseAggregation();
        if (IsKeyword(t.text)) Unexpected(t, "");
        Advance();
        if (Is(TokenType::kLeftParen)) return ParseCall(t);
        return ParseSelector(t.text, t.pos);
      }
      case TokenType::kEOF:
        Unexpected(t, "");
      default:
        Unexpected(t, "");
    }
  }

  ExprPtr ParseCall(const Token& name) {
    const FunctionInfo* f = LookupFunction(name.text);
    if (f == nullptr) Fail(name.pos, "unknown function with name \"" + name.text + "\"");
    Advance();  // (
    Call call;
    call.func = name.text;
    while (!Is(TokenType::kRightParen)) {
      if (Is(TokenType::kEOF)) Unexpected(tok_, "in function call");
      call.args.push_back(ParseExpr(kPrecNone));
      if (Is(TokenType::kComma)) {
        Advance();
      } else if (!Is(TokenType::kRightParen)) {
        Unexpected(tok_, "in function call, expected \",\" or \")\"");
      }
    }
    Token rp = tok_;
    Advance();
    size_t n = call.args.size(), want = f->arg_types.size();
    // As Prometheus' checkAST: a variadic function may omit its last argument type
    // entirely (label_join(v, "dst", ","), sort_by_label(v)) and repeat it up to
    // `variadic` times (unbounded when -1).
    if (f->variadic == 0) {
      if (n != want) {
        Fail(name.pos, "expected " + std::to_string(want) + " argument(s) in call to \"" +
                           name.text + "\", got " + std::to_string(n));
      }
    } else if (n + 1 < want) {
      Fail(name.pos, "expected at least " + std::to_string(want - 1) +
                         " argument(s) in call to \"" + name.text + "\", got " +
                         std::to_string(n));
    } else if (f->variadic > 0 && n > want - 1 + static_cast<size_t>(f->variadic)) {
      Fail(name.pos, "expected at most " + std::to_string(want - 1 + static_cast<size_t>(f->variadic)) +
                         " argument(s) in call to \"" + name.text + "\", got " +
                         std::to_string(n));
    }
    for (size_t i = 0; i < n; ++i) {
      ValueType expected = f->arg_types[std::min(i, want - 1)];
      ValueType got = TypeOf(*call.args[i]);
      if (got != expected) {
        Fail(call.args[i]->pos, "expected type " + std::string(ValueTypeDescription(expected)) +
                                    " in call to function \"" + name.text + "\", got " +
                                    ValueTypeDescription(got));
      }
    }
    return Make(std::move(call), name.pos, rp.end);
  }

  ExprPtr ParseAggregation() {
    Token op = tok_;
    Advance();
    AggregateExpr agg;
    agg.op = Lower(op.text);
    auto grouping = [&] {
      agg.without = IsWord("without");
      agg.has_grouping = true;
      Advance();
      agg.grouping = ParseLabelList();
    };
    if (IsWord("by") || IsWord("without")) grouping();
    if (!Is(TokenType::kLeftParen)) Unexpected(tok_, "in aggregation, expected \"(\"");
    Advance();
    if (Is(TokenType::kRightParen)) Fail(tok_.pos, "no arguments for aggregate expression provided");
    ExprPtr first = ParseExpr(kPrecNone);
    if (Is(TokenType::kComma)) {
      Advance();
      agg.param = std::move(first);
      first = ParseExpr(kPrecNone);
    }
    Token rp = Expect(TokenType::kRightParen, "in aggregation, expected \")\"");
    agg.expr = std::move(first);
    int32_t end = rp.end;
    if (IsWord("by") || IsWord("without")) {
      if (agg.has_grouping) Unexpected(tok_, "in aggregation");
      grouping();
      end = tok_.pos;
    }
    bool wants_param = AggregatorHasParam(agg.op);
    if (wants_param && !agg.param) Fail(op.pos, "wrong number of arguments for aggregate expression provided, expected 2, got 1");
    if (!wants_param && agg.param) Fail(op.pos, "wrong number of arguments for aggregate expression provided, expected 1, got 2");
    if (TypeOf(*agg.expr) != ValueType::kVector) {
      Fail(agg.expr->pos, "expected type instant vector in aggregation expression, got " +
                              std::string(ValueTypeDescription(TypeOf(*agg.expr))));
    }
    if (agg.param) {
      ValueType want = agg.op == "count_values" ? ValueType::kString : ValueType::kScalar;
      if (TypeOf(*agg.param) != want) {
        Fail(agg.param->pos, "expected type " + std::string(ValueTypeDescription(want)) +
                                 " in aggregation parameter, got " +
                                 ValueTypeDescription(TypeOf(*agg.param)));
      }
    }
    return Make(std::move(agg), op.pos, end);
  }

  storage::MatchType ParseMatchOp() {
    storage::MatchType type;
    switch (tok_.type) {
      case TokenType::kEql: type = storage::MatchType::kEqual; break;
      case TokenType::kNeq: type = storage::MatchType::kNotEqual; break;
      case TokenType::kEqlRegex: type = storage::MatchType::kRegexMatch; break;
      case TokenType::kNeqRegex: type = storage::MatchType::kRegexNoMatch; break;
      default: Unexpected(tok_, "in label matching, expected label matching operator");
    }
    Advance();
    return type;
  }

  // `name` (possibly "") has been consumed; parses an optional {...}.
  ExprPtr ParseSelector(std::string name, int32_t pos) {
    VectorSelector vs;
    int32_t end = pos + static_cast<int32_t>(name.size());
    std::vector<std::pair<int32_t, storage::Matcher>> matchers;
    if (Is(TokenType::kLeftBrace)) {
      Advance();
      while (!Is(TokenType::kRightBrace)) {
        Token label = tok_;
        if (Is(TokenType::kIdentifier)) {
          Advance();
        } else if (Is(TokenType::kString)) {
          Advance();
          if (Is(TokenType::kComma) || Is(TokenType::kRightBrace)) {
            // {"my.metric"}: a quoted metric name (Prometheus 3 UTF-8 names).
            if (!name.empty()) {
              Fail(label.pos, "metric name must not be set twice: \"" + name + "\" or \"" +
                                  label.text + "\"");
            }
            name = label.text;
            if (Is(TokenType::kComma)) Advance();
            continue;
          }
        } else if (Is(TokenType::kEOF)) {
          Unexpected(tok_, "inside braces");
        } else {
          Unexpected(tok_, "in label matching, expected identifier or \"}\"");
        }
        storage::MatchType type = ParseMatchOp();
        if (!Is(TokenType::kString)) Unexpected(tok_, "in label matching, expected string");
        Token value = tok_;
        Advance();
        auto m = storage::Matcher::Create(type, label.text, value.text);
        if (!m.ok()) Fail(value.pos, std::string(m.status().message()));
        matchers.emplace_back(label.pos, std::move(*m));
        if (Is(TokenType::kComma)) {
          Advance();
        } else if (!Is(TokenType::kRightBrace)) {
          Unexpected(tok_, "in label matching, expected \",\" or \"}\"");
        }
      }
      end = tok_.end;
      Advance();
    }
    if (!name.empty()) {
      for (const auto& [mpos, m] : matchers) {
        if (m.name() == storage::kMetricNameLabel) {
          Fail(mpos, "metric name must not be set twice: \"" + name + "\" or \"" + m.value() + "\"");
        }
      }
    }
    for (auto& [mpos, m] : matchers) vs.matchers.push_back(std::move(m));
    if (!name.empty()) {
      vs.matchers.push_back(
          *storage::Matcher::Create(storage::MatchType::kEqual, std::string(storage::kMetricNameLabel), name));
    }
    vs.name = std::move(name);
    bool any_non_empty = false;
    for (const auto& m : vs.matchers) {
      if (!m.MatchesEmpty()) any_non_empty = true;
    }
    if (!any_non_empty) Fail(pos, "vector selector must contain at least one non-empty matcher");
    return Make(std::move(vs), pos, end);
  }

  std::string_view input_;
  Lexer lexer_;
  Token tok_;
  int depth_ = 0;
};

absl::Status ToStatus(const ParseError& e) {
  return absl::InvalidArgumentError("parse error at char " + std::to_string(e.pos + 1) + ": " +
                                    e.message);
}

}  // namespace

absl::StatusOr<ExprPtr> ParseExpr(std::string_view input) {
  try {
    Parser p(input);
    return p.ParseAll();
  } catch (const ParseError& e) {
    return ToStatus(e);
  }
}

absl::StatusOr<std::vector<storage::Matcher>> ParseMetricSelector(std::string_view input) {
  try {
    Parser p(input);
    return p.ParseSelectorOnly();
  } catch (const ParseError& e) {
    return ToStatus(e);
  }
}

bool IsLegacyMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsLegacyLabelName(std::string_view name) {
  return IsLegacyMetricName(name) && name.find(':') == std::string_view::npos;
}

}  // namespace otelbox::query::promql

#include "query/traceql/parser.h"

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "query/traceql/lexer.h"

namespace otelbox::query::traceql {
namespace {

// Binary-operator levels, lowest first, as expr.y lists its %left/%right lines.
constexpr int kLevelAndOr = 1;
constexpr int kLevelCompare = 2;
constexpr int kLevelAdd = 3;
constexpr int kLevelNot = 4;  // prefix ! and - bind tighter than + but looser than *
constexpr int kLevelMul = 5;
constexpr int kLevelPow = 6;

int FieldLevel(Tok t, Op* op) {
  switch (t) {
    case Tok::kOr: *op = Op::kOr; return kLevelAndOr;
    case Tok::kAnd: *op = Op::kAnd; return kLevelAndOr;
    case Tok::kEq: *op = Op::kEqual; return kLevelCompare;
    case Tok::kNeq: *op = Op::kNotEqual; return kLevelCompare;
    case Tok::kLt: *op = Op::kLess; return kLevelCompare;
    case Tok::kLte: *op = Op::kLessEqual; return kLevelCompare;
    case Tok::kGt: *op = Op::kGreater; return kLevelCompare;
    case Tok::kGte: *op = Op::kGreaterEqual; return kLevelCompare;
    case Tok::kRe: *op = Op::kRegex; return kLevelCompare;
    case Tok::kNre: *op = Op::kNotRegex; return kLevelCompare;
    case Tok::kAdd: *op = Op::kAdd; return kLevelAdd;
    case Tok::kSub: *op = Op::kSub; return kLevelAdd;
    case Tok::kMul: *op = Op::kMult; return kLevelMul;
    case Tok::kDiv: *op = Op::kDiv; return kLevelMul;
    case Tok::kMod: *op = Op::kMod; return kLevelMul;
    case Tok::kPow: *op = Op::kPower; return kLevelPow;
    default: return 0;
  }
}

int SpansetLevel(Tok t, Op* op) {
  switch (t) {
    case Tok::kAnd: *op = Op::kSpansetAnd; return kLevelAndOr;
    case Tok::kOr: *op = Op::kSpansetUnion; return kLevelAndOr;
    case Tok::kGt: *op = Op::kSpansetChild; return kLevelCompare;
    case Tok::kLt: *op = Op::kSpansetParent; return kLevelCompare;
    case Tok::kDesc: *op = Op::kSpansetDescendant; return kLevelCompare;
    case Tok::kAnce: *op = Op::kSpansetAncestor; return kLevelCompare;
    case Tok::kSibl: *op = Op::kSpansetSibling; return kLevelCompare;
    case Tok::kNotChild: *op = Op::kSpansetNotChild; return kLevelCompare;
    case Tok::kNotParent: *op = Op::kSpansetNotParent; return kLevelCompare;
    case Tok::kNotDesc: *op = Op::kSpansetNotDescendant; return kLevelCompare;
    case Tok::kNotAnce: *op = Op::kSpansetNotAncestor; return kLevelCompare;
    case Tok::kNre: *op = Op::kSpansetNotSibling; return kLevelCompare;
    case Tok::kUnionChild: *op = Op::kSpansetUnionChild; return kLevelCompare;
    case Tok::kUnionParent: *op = Op::kSpansetUnionParent; return kLevelCompare;
    case Tok::kUnionDesc: *op = Op::kSpansetUnionDescendant; return kLevelCompare;
    case Tok::kUnionAnce: *op = Op::kSpansetUnionAncestor; return kLevelCompare;
    case Tok::kUnionSibl: *op = Op::kSpansetUnionSibling; return kLevelCompare;
    default: return 0;
  }
}

bool CompareOp(Tok t, Op* op) {
  switch (t) {
    case Tok::kEq: *op = Op::kEqual; return true;
    case Tok::kNeq: *op = Op::kNotEqual; return true;
    case Tok::kLt: *op = Op::kLess; return true;
    case Tok::kLte: *op = Op::kLessEqual; return true;
    case Tok::kGt: *op = Op::kGreater; return true;
    case Tok::kGte: *op = Op::kGreaterEqual; return true;
    default: return false;
  }
}

bool IsMetricsAggregationStart(Tok t) {
  switch (t) {
    case Tok::kRate: case Tok::kCountOverTime: case Tok::kMinOverTime: case Tok::kMaxOverTime:
    case Tok::kAvgOverTime: case Tok::kSumOverTime: case Tok::kQuantileOverTime:
    case Tok::kHistogramOverTime: case Tok::kCompare:
      return true;
    default:
      return false;
  }
}

// Integer and float arithmetic on literals, as Tempo's BinaryOperation.execute does it.
std::optional<Static> FoldArith(Op op, const Static& l, const Static& r) {
  bool ints = l.type == StaticType::kInt && r.type == StaticType::kInt;
  if (ints) {
    int64_t a = l.i, b = r.i;
    switch (op) {
      case Op::kAdd: return Static::Int(static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)));
      case Op::kSub: return Static::Int(static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)));
      case Op::kMult: return Static::Int(static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b)));
      case Op::kDiv:
        if (b == 0) return Static::Float(a == 0 ? NAN : (a > 0 ? INFINITY : -INFINITY));
        if (a == std::numeric_limits<int64_t>::min() && b == -1) return Static::Int(a);
        return Static::Int(a / b);
      default: return std::nullopt;
    }
  }
  double a = l.AsFloat(), b = r.AsFloat();
  switch (op) {
    case Op::kAdd: return Static::Float(a + b);
    case Op::kSub: return Static::Float(a - b);
    case Op::kMult: return Static::Float(a * b);
    case Op::kDiv: return Static::Float(b == 0 ? NAN : a / b);
    default: return std::nullopt;
  }
}

Static Negate(const Static& s) {
  Static out = s;
  if (s.type == StaticType::kFloat) out.f = -s.f;
  else out.i = static_cast<int64_t>(0 - static_cast<uint64_t>(s.i));
  return out;
}

// A node of the metrics-math grammar while it is being built: either a folded literal or
// a metrics expression.
struct MathOperand {
  std::optional<Static> scalar;
  MetricsExprPtr metrics;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  absl::StatusOr<RootExpr> Run() {
    // Bound recursion (and so stack use) before parsing: bad input must not crash us.
    constexpr size_t kMaxTokens = 10000;
    constexpr int kMaxDepth = 128;
    if (toks_.size() > kMaxTokens) {
      return absl::InvalidArgumentError(
          absl::StrCat("parse error : query too long (more than ", kMaxTokens, " tokens)"));
    }
    int depth = 0, unary_run = 0;
    for (const Token& t : toks_) {
      if (t.type == Tok::kOpenParens || t.type == Tok::kOpenBrace) ++depth;
      if (t.type == Tok::kCloseParens || t.type == Tok::kCloseBrace) --depth;
      unary_run = (t.type == Tok::kSub || t.type == Tok::kNot) ? unary_run + 1 : 0;
      if (depth > kMaxDepth || unary_run > kMaxDepth) {
        return absl::InvalidArgumentError(absl::StrCat("parse error at line ", t.line, ", col ",
                                                       t.col, ": query nested too deeply"));
      }
    }
    using Alt = std::function<bool(RootExpr*)>;
    const Alt alternatives[] = {
        [&](RootExpr* r) { return RootSpansetOrMetrics(r); },
        [&](RootExpr* r) {
          auto e = SpansetPipelineExpression(0);
          if (!e) return false;
          r->pipeline = AsPipeline(*e);
          return true;
        },
        [&](RootExpr* r) { return RootScalarPipelineFilter(r); },
        [&](RootExpr* r) { return RootMetricsExpression(r); },
    };
    for (const auto& alt : alternatives) {
      pos_ = 0;
      RootExpr root;
      if (!alt(&root)) continue;
      if (!Hints(&root)) continue;
      if (!Is(Tok::kEOF)) {
        Fail();
        continue;
      }
      return root;
    }
    return Error();
  }

 private:
  // ---------- token helpers and errors ----------
  const Token& Cur() const { return toks_[std::min(pos_, toks_.size() - 1)]; }
  const Token& Peek(size_t n) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  bool Is(Tok t) const { return Cur().type == t; }
  bool Expect(Tok t) {
    if (Is(t)) {
      ++pos_;
      return true;
    }
    Fail();
    return false;
  }

  // Remembers the failure that got furthest: that is where yacc would have stopped.
  void Fail() {
    if (Cur().type == Tok::kError) {
      Semantic(Cur().text);
      return;
    }
    if (!has_error_ || pos_ > error_pos_) {
      has_error_ = true;
      error_pos_ = pos_;
      error_semantic_ = false;
      error_message_ = "syntax error: unexpected " + TokenName(Cur());
    }
  }
  // An error raised by a grammar action or the lexer: wins over a syntax error at the
  // same place.
  void Semantic(std::string message) {
    if (!has_error_ || pos_ > error_pos_ || (pos_ == error_pos_ && !error_semantic_)) {
      has_error_ = true;
      error_pos_ = pos_;
      error_semantic_ = true;
      error_message_ = std::move(message);
    }
  }
  absl::Status Error() const {
    const Token& t = toks_[std::min(error_pos_, toks_.size() - 1)];
    return absl::InvalidArgumentError(
        absl::StrCat("parse error at line ", t.line, ", col ", t.col, ": ", error_message_));
  }

  template <typename T>
  using Memo = std::map<std::pair<size_t, int>, std::pair<std::optional<T>, size_t>>;

  template <typename T, typename F>
  std::optional<T> Memoized(Memo<T>& memo, int extra, F&& f) {
    auto key = std::make_pair(pos_, extra);
    if (auto it = memo.find(key); it != memo.end()) {
      if (it->second.first) pos_ = it->second.second;
      return it->second.first;
    }
    size_t start = pos_;
    std::optional<T> r = f();
    if (!r) pos_ = start;
    memo[key] = {r, pos_};
    return r;
  }

  static ElementPtr AsPipeline(ElementPtr e) {
    if (e->kind == Element::Kind::kPipeline) return e;
    auto p = std::make_shared<Element>();
    p->kind = Element::Kind::kPipeline;
    p->elements.push_back(std::move(e));
    return p;
  }

  // ---------- roots ----------

  // spansetPipeline [ | metricsAggregation [secondStages] ]
  bool RootSpansetOrMetrics(RootExpr* root) {
    auto p = SpansetPipeline();
    if (!p) return false;
    if (Is(Tok::kPipe) && IsMetricsAggregationStart(Peek(1).type)) {
      ++pos_;
      auto m = std::make_shared<MetricsExpr>();
      m->kind = MetricsExpr::Kind::kQuery;
      m->pipeline = *p;
      if (!MetricsAggregation(&m->first_stage)) return false;
      SecondStages(&m->second_stages);
      root->metrics = m;
      return true;
    }
    root->pipeline = *p;
    return true;
  }

  bool RootScalarPipelineFilter(RootExpr* root) {
    auto lhs = ScalarPipelineExpression(0);
    if (!lhs) return false;
    Op op;
    if (!CompareOp(Cur().type, &op)) {
      Fail();
      return false;
    }
    ++pos_;
    size_t save = pos_;
    ScalarExprPtr rhs;
    if (auto r = ScalarPipelineExpression(0)) {
      rhs = *r;
    } else {
      pos_ = save;
      auto s = Scalar();
      if (!s) return false;
      auto node = std::make_shared<ScalarExpr>();
      node->kind = ScalarExpr::Kind::kStatic;
      node->value = *s;
      rhs = node;
    }
    auto f = std::make_shared<Element>();
    f->kind = Element::Kind::kScalarFilter;
    f->op = op;
    f->scalar_lhs = *lhs;
    f->scalar_rhs = rhs;
    root->pipeline = AsPipeline(f);
    return true;
  }

  bool RootMetricsExpression(RootExpr* root) {
    auto m = MetricsMath(0);
    if (!m) return false;
    if (!m->metrics) {
      Fail();
      return false;
    }
    std::vector<SecondStage> stages;
    SecondStages(&stages);
    if (!stages.empty()) {
      auto copy = std::make_shared<MetricsExpr>(*m->metrics);
      for (auto& s : stages) copy->second_stages.push_back(s);
      root->metrics = copy;
    } else {
      root->metrics = m->metrics;
    }
    return true;
  }

  bool Hints(RootExpr* root) {
    while (Is(Tok::kWith)) {
      ++pos_;
      if (!Expect(Tok::kOpenParens)) return false;
      while (true) {
        if (!Is(Tok::kIdentifier)) {
          Fail();
          return false;
        }
        Hint h;
        h.name = Cur().text;
        ++pos_;
        if (!Expect(Tok::kEq)) return false;
        auto v = StaticLiteral();
        if (!v) return false;
        h.value = *v;
        root->hints.push_back(std::move(h));
        if (Is(Tok::kComma)) {
          ++pos_;
          continue;
        }
        break;
      }
      if (!Expect(Tok::kCloseParens)) return false;
    }
    return true;
  }

  // ---------- spanset pipelines ----------

  std::optional<ElementPtr> SpansetPipeline() {
    return Memoized(pipeline_memo_, 0, [&]() -> std::optional<ElementPtr> {
      auto first = PipelineElement(/*first=*/true);
      if (!first) return std::nullopt;
      auto p = std::make_shared<Element>();
      p->kind = Element::Kind::kPipeline;
      p->elements.push_back(*first);
      while (Is(Tok::kPipe)) {
        size_t save = pos_;
        ++pos_;
        auto next = PipelineElement(/*first=*/false);
        if (!next) {
          pos_ = save;
          break;
        }
        p->elements.push_back(*next);
      }
      return ElementPtr(p);
    });
  }

  std::optional<ElementPtr> PipelineElement(bool first) {
    size_t start = pos_;
    switch (Cur().type) {
      case Tok::kBy: {
        ++pos_;
        if (!Expect(Tok::kOpenParens)) return std::nullopt;
        auto e = Field(0);
        if (!e || !Expect(Tok::kCloseParens)) return std::nullopt;
        auto g = std::make_shared<Element>();
        g->kind = Element::Kind::kGroup;
        g->expr = *e;
        return ElementPtr(g);
      }
      case Tok::kSelect: {
        ++pos_;
        if (!Expect(Tok::kOpenParens)) return std::nullopt;
        auto s = std::make_shared<Element>();
        s->kind = Element::Kind::kSelect;
        if (!AttributeList(&s->attributes) || !Expect(Tok::kCloseParens)) return std::nullopt;
        return ElementPtr(s);
      }
      case Tok::kCoalesce: {
        if (first) {
          Fail();
          return std::nullopt;
        }
        ++pos_;
        if (!Expect(Tok::kOpenParens) || !Expect(Tok::kCloseParens)) return std::nullopt;
        auto c = std::make_shared<Element>();
        c->kind = Element::Kind::kCoalesce;
        return ElementPtr(c);
      }
      default:
        break;
    }
    if (auto s = SpansetExpression(0)) return s;
    pos_ = start;
    if (auto f = ScalarFilter()) return f;
    pos_ = start;
    return std::nullopt;
  }

  std::optional<ElementPtr> SpansetExpression(int min_level) {
    return Memoized(spanset_memo_, min_level, [&]() -> std::optional<ElementPtr> {
      std::optional<ElementPtr> lhs;
      if (Is(Tok::kOpenBrace)) {
        lhs = SpansetFilter();
      } else if (Is(Tok::kOpenParens)) {
        ++pos_;
        lhs = SpansetExpression(0);
        if (lhs && !Expect(Tok::kCloseParens)) lhs.reset();
      } else {
        Fail();
      }
      if (!lhs) return std::nullopt;
      return SpansetOperators(*lhs, min_level,
                              [&](int level) { return SpansetExpression(level); });
    });
  }

  template <typename Next>
  std::optional<ElementPtr> SpansetOperators(ElementPtr lhs, int min_level, Next next) {
    while (true) {
      Op op;
      int level = SpansetLevel(Cur().type, &op);
      if (level == 0 || level < min_level) return lhs;
      ++pos_;
      auto rhs = next(level + 1);
      if (!rhs) return std::nullopt;
      auto node = std::make_shared<Element>();
      node->kind = Element::Kind::kSpansetOp;
      node->op = op;
      node->lhs = lhs;
      node->rhs = *rhs;
      lhs = node;
    }
  }

  std::optional<ElementPtr> SpansetFilter() {
    if (!Expect(Tok::kOpenBrace)) return std::nullopt;
    auto f = std::make_shared<Element>();
    f->kind = Element::Kind::kFilter;
    if (Is(Tok::kCloseBrace)) {
      ++pos_;
      auto t = std::make_shared<FieldExpr>();
      t->value = Static::Bool(true);
      f->expr = t;
      return ElementPtr(f);
    }
    auto e = Field(0);
    if (!e || !Expect(Tok::kCloseBrace)) return std::nullopt;
    f->expr = *e;
    return ElementPtr(f);
  }

  // ( spansetPipelineExpression ) | ( spansetPipeline ), joined by spanset operators.
  std::optional<ElementPtr> SpansetPipelineExpression(int min_level) {
    return Memoized(spe_memo_, min_level, [&]() -> std::optional<ElementPtr> {
      if (!Is(Tok::kOpenParens)) {
        Fail();
        return std::nullopt;
      }
      size_t start = pos_;
      ++pos_;
      std::optional<ElementPtr> lhs = SpansetPipelineExpression(0);
      if (!lhs || !Expect(Tok::kCloseParens)) {
        pos_ = start + 1;
        lhs = SpansetPipeline();
        if (!lhs || !Expect(Tok::kCloseParens)) return std::nullopt;
      }
      return SpansetOperators(*lhs, min_level,
                              [&](int level) { return SpansetPipelineExpression(level); });
    });
  }

  // ---------- scalar filters ----------

  struct Arith {
    ScalarExprPtr expr;
    bool has_aggregate = false;
  };

  // scalarExpression or scalar: arithmetic over aggregates and literals. Literal-only
  // sub-expressions are folded as Tempo's `scalar` rule does.
  std::optional<Arith> ScalarArith(int min_level) {
    return Memoized(arith_memo_, min_level, [&]() -> std::optional<Arith> {
      auto lhs = ScalarArithPrimary();
      if (!lhs) return std::nullopt;
      while (true) {
        Op op;
        int level = FieldLevel(Cur().type, &op);
        if (level < kLevelAdd || level < min_level) return lhs;
        size_t op_pos = pos_;
        ++pos_;
        auto rhs = ScalarArith(level == kLevelPow ? level : level + 1);
        if (!rhs) return std::nullopt;
        if (!lhs->has_aggregate && !rhs->has_aggregate) {
          if (op == Op::kMod || op == Op::kPower) {
            pos_ = op_pos;
            Fail();
            return std::nullopt;
          }
          if (lhs->expr->value.type == StaticType::kDuration ||
              rhs->expr->value.type == StaticType::kDuration) {
            Semantic("duration cannot be used in scalar arithmetic");
            return std::nullopt;
          }
          auto folded = FoldArith(op, lhs->expr->value, rhs->expr->value);
          if (!folded) return std::nullopt;
          lhs = Arith{StaticNode(*folded), false};
          continue;
        }
        auto node = std::make_shared<ScalarExpr>();
        node->kind = ScalarExpr::Kind::kBinary;
        node->op = op;
        node->lhs = lhs->expr;
        node->rhs = rhs->expr;
        lhs = Arith{node, true};
      }
    });
  }

  static ScalarExprPtr StaticNode(const Static& s) {
    auto n = std::make_shared<ScalarExpr>();
    n->kind = ScalarExpr::Kind::kStatic;
    n->value = s;
    return n;
  }

  std::optional<Arith> ScalarArithPrimary() {
    switch (Cur().type) {
      case Tok::kInteger: {
        auto s = Static::Int(Cur().int_value);
        ++pos_;
        return Arith{StaticNode(s), false};
      }
      case Tok::kFloat: {
        auto s = Static::Float(Cur().float_value);
        ++pos_;
        return Arith{StaticNode(s), false};
      }
      case Tok::kDuration: {
        auto s = Static::Duration(Cur().int_value);
        ++pos_;
        return Arith{StaticNode(s), false};
      }
      case Tok::kSub: {
        ++pos_;
        auto operand = ScalarArithPrimary();  // unary minus binds tightest
        if (!operand) return std::nullopt;
        if (operand->has_aggregate) {
          Fail();
          return std::nullopt;
        }
        return Arith{StaticNode(Negate(operand->expr->value)), false};
      }
      case Tok::kOpenParens: {
        ++pos_;
        auto inner = ScalarArith(0);
        if (!inner || !Expect(Tok::kCloseParens)) return std::nullopt;
        return inner;
      }
      case Tok::kCount: case Tok::kMax: case Tok::kMin: case Tok::kAvg: case Tok::kSum: {
        auto a = AggregateCall();
        if (!a) return std::nullopt;
        auto n = std::make_shared<ScalarExpr>();
        n->kind = ScalarExpr::Kind::kAggregate;
        n->aggregate = *a;
        return Arith{n, true};
      }
      default:
        Fail();
        return std::nullopt;
    }
  }

  // A literal number/duration, possibly folded arithmetic (Tempo's `scalar`).
  std::optional<Static> Scalar() {
    auto a = ScalarArith(kLevelAdd);
    if (!a) return std::nullopt;
    if (a->has_aggregate) {
      Fail();
      return std::nullopt;
    }
    return a->expr->value;
  }

  std::optional<Aggregate> AggregateCall() {
    Aggregate a;
    switch (Cur().type) {
      case Tok::kCount: a.op = AggregateOp::kCount; break;
      case Tok::kMax: a.op = AggregateOp::kMax; break;
      case Tok::kMin: a.op = AggregateOp::kMin; break;
      case Tok::kAvg: a.op = AggregateOp::kAvg; break;
      case Tok::kSum: a.op = AggregateOp::kSum; break;
      default: Fail(); return std::nullopt;
    }
    ++pos_;
    if (!Expect(Tok::kOpenParens)) return std::nullopt;
    if (a.op == AggregateOp::kCount) {
      if (!Expect(Tok::kCloseParens)) return std::nullopt;
      return a;
    }
    auto e = Field(0);
    if (!e || !Expect(Tok::kCloseParens)) return std::nullopt;
    a.expr = *e;
    return a;
  }

  std::optional<ElementPtr> ScalarFilter() {
    auto lhs = ScalarArith(kLevelAdd);
    if (!lhs) return std::nullopt;
    Op op;
    if (!CompareOp(Cur().type, &op)) {
      Fail();
      return std::nullopt;
    }
    ++pos_;
    auto rhs = ScalarArith(kLevelAdd);
    if (!rhs) return std::nullopt;
    if (!lhs->has_aggregate && !rhs->has_aggregate) {
      Fail();
      return std::nullopt;
    }
    auto f = std::make_shared<Element>();
    f->kind = Element::Kind::kScalarFilter;
    f->op = op;
    f->scalar_lhs = lhs->expr;
    f->scalar_rhs = rhs->expr;
    return ElementPtr(f);
  }

  // ( spansetPipeline | aggregate ) joined by + - * / % ^.
  std::optional<ScalarExprPtr> ScalarPipelineExpression(int min_level) {
    return Memoized(spipe_memo_, min_level, [&]() -> std::optional<ScalarExprPtr> {
      if (!Is(Tok::kOpenParens)) {
        Fail();
        return std::nullopt;
      }
      size_t start = pos_;
      ++pos_;
      std::optional<ScalarExprPtr> lhs = ScalarPipelineExpression(0);
      if (!lhs || !Expect(Tok::kCloseParens)) {
        pos_ = start + 1;
        lhs.reset();
        auto p = SpansetPipeline();
        if (!p || !Expect(Tok::kPipe)) return std::nullopt;
        auto a = AggregateCall();
        if (!a || !Expect(Tok::kCloseParens)) return std::nullopt;
        auto agg = std::make_shared<Element>();
        agg->kind = Element::Kind::kAggregate;
        agg->aggregate = *a;
        auto pipe = std::make_shared<Element>(**p);
        pipe->elements.push_back(agg);
        auto n = std::make_shared<ScalarExpr>();
        n->kind = ScalarExpr::Kind::kPipeline;
        n->pipeline = pipe;
        lhs = n;
      }
      ScalarExprPtr acc = *lhs;
      while (true) {
        Op op;
        int level = FieldLevel(Cur().type, &op);
        if (level < kLevelAdd || level < min_level) return acc;
        ++pos_;
        auto rhs = ScalarPipelineExpression(level == kLevelPow ? level : level + 1);
        if (!rhs) return std::nullopt;
        auto n = std::make_shared<ScalarExpr>();
        n->kind = ScalarExpr::Kind::kBinary;
        n->op = op;
        n->lhs = acc;
        n->rhs = *rhs;
        acc = n;
      }
    });
  }

  // ---------- field expressions ----------

  std::optional<FieldExprPtr> Field(int min_level) {
    std::optional<FieldExprPtr> lhs = FieldPrefix();
    if (!lhs) return std::nullopt;
    while (true) {
      Op op;
      int level = FieldLevel(Cur().type, &op);
      if (level == 0 || level < min_level) return lhs;
      ++pos_;
      if ((op == Op::kEqual || op == Op::kNotEqual) && Is(Tok::kNil)) {
        ++pos_;
        lhs = Unary(op == Op::kEqual ? Op::kNotExists : Op::kExists, *lhs);
        continue;
      }
      auto rhs = Field(level == kLevelPow ? level : level + 1);
      if (!rhs) return std::nullopt;
      lhs = Binary(op, *lhs, *rhs);
    }
  }

  std::optional<FieldExprPtr> FieldPrefix() {
    switch (Cur().type) {
      case Tok::kSub:
      case Tok::kNot: {
        Op op = Is(Tok::kSub) ? Op::kSub : Op::kNot;
        ++pos_;
        auto operand = Field(kLevelMul);
        if (!operand) return std::nullopt;
        return Unary(op, *operand);
      }
      case Tok::kNil: {
        ++pos_;
        Op op;
        if (Is(Tok::kEq)) op = Op::kNotExists;
        else if (Is(Tok::kNeq)) op = Op::kExists;
        else {
          Fail();
          return std::nullopt;
        }
        ++pos_;
        if (Is(Tok::kNil)) {
          ++pos_;
          auto f = std::make_shared<FieldExpr>();
          f->value = Static::Bool(false);  // Tempo folds nil = nil and nil != nil to false
          return FieldExprPtr(f);
        }
        auto operand = Field(kLevelAdd);
        if (!operand) return std::nullopt;
        return Unary(op, *operand);
      }
      case Tok::kOpenParens: {
        ++pos_;
        auto inner = Field(0);
        if (!inner || !Expect(Tok::kCloseParens)) return std::nullopt;
        return inner;
      }
      default:
        break;
    }
    if (auto s = StaticLiteralOrNone()) {
      if (!s->has_value()) return std::nullopt;  // an error was recorded
      auto f = std::make_shared<FieldExpr>();
      f->value = **s;
      return FieldExprPtr(f);
    }
    auto a = AttributeRef();
    if (!a) return std::nullopt;
    auto f = std::make_shared<FieldExpr>();
    f->kind = FieldExpr::Kind::kAttribute;
    f->attr = *a;
    return FieldExprPtr(f);
  }

  static FieldExprPtr Unary(Op op, FieldExprPtr operand) {
    auto f = std::make_shared<FieldExpr>();
    f->kind = FieldExpr::Kind::kUnary;
    f->op = op;
    f->lhs = std::move(operand);
    return f;
  }

  static FieldExprPtr Binary(Op op, FieldExprPtr lhs, FieldExprPtr rhs) {
    auto f = std::make_shared<FieldExpr>();
    f->kind = FieldExpr::Kind::kBinary;
    f->op = op;
    if ((op == Op::kRegex || op == Op::kNotRegex) && rhs->kind == FieldExpr::Kind::kStatic &&
        rhs->value.type == StaticType::kString) {
      RE2::Options opts;
      opts.set_log_errors(false);
      opts.set_dot_nl(true);
      auto re = std::make_shared<RE2>(rhs->value.s, opts);
      if (re->ok()) f->regex = std::move(re);
    }
    f->lhs = std::move(lhs);
    f->rhs = std::move(rhs);
    return f;
  }

  // nullopt: not a literal token; optional(nullopt): a literal that failed (recorded).
  std::optional<std::optional<Static>> StaticLiteralOrNone() {
    switch (Cur().type) {
      case Tok::kString: case Tok::kInteger: case Tok::kFloat: case Tok::kTrue:
      case Tok::kFalse: case Tok::kDuration: case Tok::kStatusOk: case Tok::kStatusError:
      case Tok::kStatusUnset: case Tok::kKindUnspecified: case Tok::kKindInternal:
      case Tok::kKindServer: case Tok::kKindClient: case Tok::kKindProducer:
      case Tok::kKindConsumer: case Tok::kIdentifier:
        return StaticLiteral();
      default:
        return std::nullopt;
    }
  }

  std::optional<Static> StaticLiteral() {
    const Token& t = Cur();
    std::optional<Static> s;
    switch (t.type) {
      case Tok::kString: s = Static::Str(t.text); break;
      case Tok::kInteger: s = Static::Int(t.int_value); break;
      case Tok::kFloat: s = Static::Float(t.float_value); break;
      case Tok::kTrue: s = Static::Bool(true); break;
      case Tok::kFalse: s = Static::Bool(false); break;
      case Tok::kDuration: s = Static::Duration(t.int_value); break;
      case Tok::kStatusOk: s = Static::Status(StatusValue::kOk); break;
      case Tok::kStatusError: s = Static::Status(StatusValue::kError); break;
      case Tok::kStatusUnset: s = Static::Status(StatusValue::kUnset); break;
      case Tok::kKindUnspecified: s = Static::Kind(KindValue::kUnspecified); break;
      case Tok::kKindInternal: s = Static::Kind(KindValue::kInternal); break;
      case Tok::kKindServer: s = Static::Kind(KindValue::kServer); break;
      case Tok::kKindClient: s = Static::Kind(KindValue::kClient); break;
      case Tok::kKindProducer: s = Static::Kind(KindValue::kProducer); break;
      case Tok::kKindConsumer: s = Static::Kind(KindValue::kConsumer); break;
      case Tok::kIdentifier:
        if (t.text == "minInt") {
          s = Static::Int(std::numeric_limits<int64_t>::min());
        } else if (t.text == "maxInt") {
          s = Static::Int(std::numeric_limits<int64_t>::max());
        } else {
          // Tempo reports this when it reduces the rule, i.e. at the next token.
          std::string msg = "unknown identifier: " + t.text;
          ++pos_;
          Semantic(msg);
          --pos_;
          return std::nullopt;
        }
        break;
      default:
        Fail();
        return std::nullopt;
    }
    ++pos_;
    return s;
  }

  // intrinsicField | attributeField | scopedIntrinsicField
  std::optional<Attribute> AttributeRef() {
    Tok t = Cur().type;
    auto intrinsic = [&](Intrinsic i) {
      ++pos_;
      return std::optional<Attribute>(Attribute::MakeIntrinsic(i));
    };
    switch (t) {
      case Tok::kIDuration: return intrinsic(Intrinsic::kDuration);
      case Tok::kName: return intrinsic(Intrinsic::kName);
      case Tok::kStatus: return intrinsic(Intrinsic::kStatus);
      case Tok::kStatusMessage: return intrinsic(Intrinsic::kStatusMessage);
      case Tok::kKind: return intrinsic(Intrinsic::kKind);
      case Tok::kParent: return intrinsic(Intrinsic::kParent);
      case Tok::kRootName: return intrinsic(Intrinsic::kTraceRootSpan);
      case Tok::kRootServiceName: return intrinsic(Intrinsic::kTraceRootService);
      case Tok::kTraceDuration: return intrinsic(Intrinsic::kTraceDuration);
      case Tok::kNestedSetLeft: return intrinsic(Intrinsic::kNestedSetLeft);
      case Tok::kNestedSetRight: return intrinsic(Intrinsic::kNestedSetRight);
      case Tok::kNestedSetParent: return intrinsic(Intrinsic::kNestedSetParent);
      case Tok::kTraceColon: case Tok::kSpanColon: case Tok::kEventColon:
      case Tok::kLinkColon: case Tok::kInstrumentationColon: {
        ++pos_;
        Tok n = Cur().type;
        std::optional<Intrinsic> i;
        if (t == Tok::kTraceColon) {
          if (n == Tok::kIDuration) i = Intrinsic::kTraceDuration;
          else if (n == Tok::kRootName) i = Intrinsic::kTraceRootSpan;
          else if (n == Tok::kRootService) i = Intrinsic::kTraceRootService;
          else if (n == Tok::kId) i = Intrinsic::kTraceId;
        } else if (t == Tok::kSpanColon) {
          if (n == Tok::kIDuration) i = Intrinsic::kDuration;
          else if (n == Tok::kName) i = Intrinsic::kName;
          else if (n == Tok::kKind) i = Intrinsic::kKind;
          else if (n == Tok::kStatus) i = Intrinsic::kStatus;
          else if (n == Tok::kStatusMessage) i = Intrinsic::kStatusMessage;
          else if (n == Tok::kId) i = Intrinsic::kSpanId;
          else if (n == Tok::kParentIdKw) i = Intrinsic::kParentId;
          else if (n == Tok::kChildCount) i = Intrinsic::kChildCount;
        } else if (t == Tok::kEventColon) {
          if (n == Tok::kName) i = Intrinsic::kEventName;
          else if (n == Tok::kTimeSinceStart) i = Intrinsic::kEventTimeSinceStart;
        } else if (t == Tok::kLinkColon) {
          if (n == Tok::kTraceIdKw) i = Intrinsic::kLinkTraceId;
          else if (n == Tok::kSpanIdKw) i = Intrinsic::kLinkSpanId;
        } else {
          if (n == Tok::kName) i = Intrinsic::kInstrumentationName;
          else if (n == Tok::kVersion) i = Intrinsic::kInstrumentationVersion;
        }
        if (!i) {
          Fail();
          return std::nullopt;
        }
        return intrinsic(*i);
      }
      case Tok::kDot: case Tok::kResourceDot: case Tok::kSpanDot: case Tok::kEventDot:
      case Tok::kLinkDot: case Tok::kInstrumentationDot: case Tok::kParentDot: {
        ++pos_;
        AttributeScope scope = AttributeScope::kNone;
        bool parent = false;
        switch (t) {
          case Tok::kResourceDot: scope = AttributeScope::kResource; break;
          case Tok::kSpanDot: scope = AttributeScope::kSpan; break;
          case Tok::kEventDot: scope = AttributeScope::kEvent; break;
          case Tok::kLinkDot: scope = AttributeScope::kLink; break;
          case Tok::kInstrumentationDot: scope = AttributeScope::kInstrumentation; break;
          case Tok::kParentDot:
            parent = true;
            if (Is(Tok::kResourceDot)) {
              scope = AttributeScope::kResource;
              ++pos_;
            } else if (Is(Tok::kSpanDot)) {
              scope = AttributeScope::kSpan;
              ++pos_;
            }
            break;
          default: break;
        }
        if (!Is(Tok::kIdentifier)) {
          Fail();
          return std::nullopt;
        }
        Attribute a = Attribute::Make(scope, parent, Cur().text);
        ++pos_;
        if (!Expect(Tok::kEndAttribute)) return std::nullopt;
        return a;
      }
      default:
        Fail();
        return std::nullopt;
    }
  }

  bool AttributeList(std::vector<Attribute>* out) {
    while (true) {
      auto a = AttributeRef();
      if (!a) return false;
      out->push_back(*a);
      if (!Is(Tok::kComma)) return true;
      ++pos_;
    }
  }

  // ---------- metrics ----------

  bool OptionalBy(MetricsFirstStage* m) {
    if (!Is(Tok::kBy)) return true;
    ++pos_;
    if (!Expect(Tok::kOpenParens)) return false;
    if (!AttributeList(&m->by)) return false;
    return Expect(Tok::kCloseParens);
  }

  bool MetricsAggregation(MetricsFirstStage* m) {
    Tok t = Cur().type;
    ++pos_;
    switch (t) {
      case Tok::kRate: case Tok::kCountOverTime:
        m->op = t == Tok::kRate ? MetricsOp::kRate : MetricsOp::kCountOverTime;
        if (!Expect(Tok::kOpenParens) || !Expect(Tok::kCloseParens)) return false;
        return OptionalBy(m);
      case Tok::kMinOverTime: case Tok::kMaxOverTime: case Tok::kSumOverTime:
      case Tok::kAvgOverTime: case Tok::kHistogramOverTime: case Tok::kQuantileOverTime: {
        m->op = t == Tok::kMinOverTime   ? MetricsOp::kMinOverTime
                : t == Tok::kMaxOverTime ? MetricsOp::kMaxOverTime
                : t == Tok::kSumOverTime ? MetricsOp::kSumOverTime
                : t == Tok::kAvgOverTime ? MetricsOp::kAvgOverTime
                : t == Tok::kHistogramOverTime ? MetricsOp::kHistogramOverTime
                                               : MetricsOp::kQuantileOverTime;
        if (!Expect(Tok::kOpenParens)) return false;
        auto a = AttributeRef();
        if (!a) return false;
        m->has_attribute = true;
        m->attribute = *a;
        if (m->op == MetricsOp::kQuantileOverTime) {
          if (!Expect(Tok::kComma)) return false;
          while (true) {
            if (Is(Tok::kFloat)) m->quantiles.push_back(Cur().float_value);
            else if (Is(Tok::kInteger)) m->quantiles.push_back(static_cast<double>(Cur().int_value));
            else {
              Fail();
              return false;
            }
            ++pos_;
            if (!Is(Tok::kComma)) break;
            ++pos_;
          }
        }
        if (!Expect(Tok::kCloseParens)) return false;
        return OptionalBy(m);
      }
      case Tok::kCompare: {
        m->op = MetricsOp::kCompare;
        if (!Expect(Tok::kOpenParens)) return false;
        auto f = SpansetFilter();
        if (!f) return false;
        m->compare_filter = *f;
        if (Is(Tok::kComma)) {
          ++pos_;
          if (!Is(Tok::kInteger)) {
            Fail();
            return false;
          }
          m->compare_top_n = Cur().int_value;
          ++pos_;
          if (Is(Tok::kComma)) {
            ++pos_;
            for (int64_t* dst : {&m->compare_start, &m->compare_end}) {
              if (!Is(Tok::kInteger)) {
                Fail();
                return false;
              }
              *dst = Cur().int_value;
              ++pos_;
              if (dst == &m->compare_start && !Expect(Tok::kComma)) return false;
            }
          }
        }
        return Expect(Tok::kCloseParens);
      }
      default:
        --pos_;
        Fail();
        return false;
    }
  }

  // ( | topk(n) | | bottomk(n) | <cmp> scalar )*
  void SecondStages(std::vector<SecondStage>* out) {
    while (true) {
      size_t save = pos_;
      Op op;
      if (Is(Tok::kPipe) && (Peek(1).type == Tok::kTopK || Peek(1).type == Tok::kBottomK)) {
        ++pos_;
        SecondStage s;
        s.kind = Is(Tok::kTopK) ? SecondStage::Kind::kTopK : SecondStage::Kind::kBottomK;
        ++pos_;
        bool ok = Expect(Tok::kOpenParens);
        if (ok && !Is(Tok::kInteger)) {
          Fail();
          ok = false;
        }
        if (ok) {
          s.limit = Cur().int_value;
          ++pos_;
          ok = Expect(Tok::kCloseParens);
        }
        if (!ok) {
          pos_ = save;
          return;
        }
        out->push_back(s);
        continue;
      }
      if (CompareOp(Cur().type, &op)) {
        ++pos_;
        auto v = Scalar();
        if (!v) {
          pos_ = save;
          return;
        }
        SecondStage s;
        s.kind = SecondStage::Kind::kFilter;
        s.op = op;
        s.value = v->AsFloat();
        if (v->type == StaticType::kDuration) s.value /= 1e9;
        out->push_back(s);
        continue;
      }
      return;
    }
  }

  // metricsExpression: wrapped metrics pipelines and literals joined by + - * /.
  std::optional<MathOperand> MetricsMath(int min_level) {
    return Memoized(math_memo_, min_level, [&]() -> std::optional<MathOperand> {
      auto lhs = MetricsMathPrimary();
      if (!lhs) return std::nullopt;
      while (true) {
        Op op;
        int level = FieldLevel(Cur().type, &op);
        if ((level != kLevelAdd && level != kLevelMul) || level < min_level || op == Op::kMod)
          return lhs;
        ++pos_;
        auto rhs = MetricsMath(level + 1);
        if (!rhs) return std::nullopt;
        auto combined = CombineMath(op, *lhs, *rhs);
        if (!combined) return std::nullopt;
        lhs = combined;
      }
    });
  }

  std::optional<MathOperand> CombineMath(Op op, const MathOperand& l, const MathOperand& r) {
    if (l.scalar && r.scalar) {
      if (l.scalar->type == StaticType::kDuration || r.scalar->type == StaticType::kDuration) {
        Semantic("duration cannot be used in scalar arithmetic");
        return std::nullopt;
      }
      auto f = FoldArith(op, *l.scalar, *r.scalar);
      if (!f) return std::nullopt;
      return MathOperand{*f, nullptr};
    }
    if (l.metrics && r.metrics) {
      auto m = std::make_shared<MetricsExpr>();
      m->kind = MetricsExpr::Kind::kMath;
      m->op = op;
      m->lhs = l.metrics;
      m->rhs = r.metrics;
      return MathOperand{std::nullopt, m};
    }
    const Static& s = l.scalar ? *l.scalar : *r.scalar;
    if (s.type == StaticType::kDuration) {
      Semantic("duration cannot be used as a scalar operand in metric arithmetic");
      return std::nullopt;
    }
    auto m = std::make_shared<MetricsExpr>(l.metrics ? *l.metrics : *r.metrics);
    SecondStage st;
    st.kind = SecondStage::Kind::kScalarOp;
    st.op = op;
    st.value = s.AsFloat();
    st.scalar_on_left = l.scalar.has_value();
    m->second_stages.push_back(st);
    return MathOperand{std::nullopt, m};
  }

  std::optional<MathOperand> MetricsMathPrimary() {
    size_t start = pos_;
    if (Is(Tok::kOpenParens)) {
      // ( spansetPipeline | metricsAggregation [secondStages] )
      ++pos_;
      if (auto p = SpansetPipeline(); p && Is(Tok::kPipe) && IsMetricsAggregationStart(Peek(1).type)) {
        ++pos_;
        auto m = std::make_shared<MetricsExpr>();
        m->pipeline = *p;
        if (MetricsAggregation(&m->first_stage)) {
          SecondStages(&m->second_stages);
          if (Expect(Tok::kCloseParens)) return MathOperand{std::nullopt, m};
        }
      } else if (p) {
        Fail();
      }
      // ( metricsExpression ) or ( scalar )
      pos_ = start + 1;
      auto inner = MetricsMath(0);
      if (inner && Expect(Tok::kCloseParens)) return inner;
      pos_ = start;
      return std::nullopt;
    }
    if (Is(Tok::kSub)) {
      ++pos_;
      auto operand = MetricsMathPrimary();
      if (!operand) return std::nullopt;
      if (!operand->scalar) {
        pos_ = start + 1;
        Fail();
        return std::nullopt;
      }
      return MathOperand{Negate(*operand->scalar), nullptr};
    }
    const Token& t = Cur();
    if (t.type == Tok::kInteger) {
      ++pos_;
      return MathOperand{Static::Int(t.int_value), nullptr};
    }
    if (t.type == Tok::kFloat) {
      ++pos_;
      return MathOperand{Static::Float(t.float_value), nullptr};
    }
    if (t.type == Tok::kDuration) {
      ++pos_;
      return MathOperand{Static::Duration(t.int_value), nullptr};
    }
    Fail();
    return std::nullopt;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  bool has_error_ = false;
  bool error_semantic_ = false;
  size_t error_pos_ = 0;
  std::string error_message_;

  Memo<ElementPtr> pipeline_memo_, spanset_memo_, spe_memo_;
  Memo<Arith> arith_memo_;
  Memo<ScalarExprPtr> spipe_memo_;
  Memo<MathOperand> math_memo_;
};

}  // namespace

absl::StatusOr<RootExpr> Parse(std::string_view query) {
  return Parser(Lex(query)).Run();
}

absl::StatusOr<RootExpr> ParseAndValidate(std::string_view query) {
  auto root = Parse(query);
  if (!root.ok()) return root.status();
  if (auto st = Validate(*root); !st.ok()) return st;
  return root;
}

bool IsParseError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kInvalidArgument &&
         absl::StartsWith(status.message(), "parse error");
}

}  // namespace otelbox::query::traceql

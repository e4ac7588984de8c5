#include "query/traceql/evaluator.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace otelbox::query::traceql {
namespace {

constexpr uint8_t kRefEvent = 1;
constexpr uint8_t kRefLink = 2;

uint8_t RefMask(const FieldExpr& e) {
  switch (e.kind) {
    case FieldExpr::Kind::kStatic:
      return 0;
    case FieldExpr::Kind::kAttribute: {
      const Attribute& a = e.attr;
      if (a.scope == AttributeScope::kEvent || a.intrinsic == Intrinsic::kEventName ||
          a.intrinsic == Intrinsic::kEventTimeSinceStart)
        return kRefEvent;
      if (a.scope == AttributeScope::kLink || a.intrinsic == Intrinsic::kLinkTraceId ||
          a.intrinsic == Intrinsic::kLinkSpanId)
        return kRefLink;
      return 0;
    }
    case FieldExpr::Kind::kUnary:
      return RefMask(*e.lhs);
    case FieldExpr::Kind::kBinary:
      return RefMask(*e.lhs) | RefMask(*e.rhs);
  }
  return 0;
}

struct Ctx {
  const TraceView* t;
  uint32_t span;
  int event;  // -1: none chosen
  int link;
};

Value FromAttribute(const storage::AttributeValue& v) {
  Value out;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          out.type = StaticType::kString;
          out.s = x;
        } else if constexpr (std::is_same_v<T, bool>) {
          out.type = StaticType::kBool;
          out.b = x;
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out.type = StaticType::kInt;
          out.i = x;
        } else if constexpr (std::is_same_v<T, double>) {
          out.type = StaticType::kFloat;
          out.f = x;
        } else if constexpr (std::is_same_v<T, storage::AttributeArray>) {
          out.array = &x;
        }
        // Maps and bytes: not comparable in TraceQL filters (nil).
      },
      v.value);
  return out;
}

const storage::AttributeValue* Find(const storage::AttributeList& list, const std::string& key) {
  for (const auto& kv : list)
    if (kv.key == key) return &kv.value;
  return nullptr;
}

Value Str(std::string_view s) {
  Value v;
  v.type = StaticType::kString;
  v.s = s;
  return v;
}
Value Owned(std::string s) {
  Value v;
  v.type = StaticType::kString;
  v.owned = std::move(s);
  v.use_owned = true;
  return v;
}
Value IntV(int64_t i, StaticType type = StaticType::kInt) {
  Value v;
  v.type = type;
  v.i = i;
  return v;
}
Value BoolV(bool b) {
  Value v;
  v.type = StaticType::kBool;
  v.b = b;
  return v;
}

std::string TrimZeros(std::string s) {
  size_t n = s.find_first_not_of('0');
  return n == std::string::npos ? std::string() : s.substr(n);
}

int64_t TempoStatus(storage::StatusCode c) {
  switch (c) {
    case storage::StatusCode::kError: return static_cast<int64_t>(StatusValue::kError);
    case storage::StatusCode::kOk: return static_cast<int64_t>(StatusValue::kOk);
    default: return static_cast<int64_t>(StatusValue::kUnset);
  }
}

int64_t TempoKind(storage::SpanKind k) {
  switch (k) {
    case storage::SpanKind::kInternal: return static_cast<int64_t>(KindValue::kInternal);
    case storage::SpanKind::kServer: return static_cast<int64_t>(KindValue::kServer);
    case storage::SpanKind::kClient: return static_cast<int64_t>(KindValue::kClient);
    case storage::SpanKind::kProducer: return static_cast<int64_t>(KindValue::kProducer);
    case storage::SpanKind::kConsumer: return static_cast<int64_t>(KindValue::kConsumer);
    default: return static_cast<int64_t>(KindValue::kUnspecified);
  }
}

Value Attr(const Attribute& a, const Ctx& c) {
  const TraceView& t = *c.t;
  const storage::Span& s = t.span(c.span);
  switch (a.intrinsic) {
    case Intrinsic::kNone:
      break;
    case Intrinsic::kDuration:
      return IntV(static_cast<int64_t>(s.end_time_unix_nano - s.start_time_unix_nano),
                  StaticType::kDuration);
    case Intrinsic::kName:
      return Str(s.name);
    case Intrinsic::kStatus:
      return IntV(TempoStatus(s.status_code), StaticType::kStatus);
    case Intrinsic::kStatusMessage:
      return Str(s.status_message);
    case Intrinsic::kKind:
      return IntV(TempoKind(s.kind), StaticType::kKind);
    case Intrinsic::kChildCount:
      return t.has_structure() ? IntV(t.child_count(c.span)) : Value{};
    case Intrinsic::kParent:
      return Value{};
    case Intrinsic::kTraceRootService:
      return t.root() >= 0 ? Str(t.root_service_name()) : Value{};
    case Intrinsic::kTraceRootSpan:
      return t.root() >= 0 ? Str(t.root_name()) : Value{};
    case Intrinsic::kTraceDuration:
      return IntV(static_cast<int64_t>(t.end_ns() - t.start_ns()), StaticType::kDuration);
    case Intrinsic::kTraceId:
      return Owned(TrimZeros(HexId(s.trace_id.data(), s.trace_id.size())));
    case Intrinsic::kSpanId:
      return Owned(HexId(s.span_id.data(), s.span_id.size()));
    case Intrinsic::kParentId: {
      bool zero = std::all_of(s.parent_span_id.begin(), s.parent_span_id.end(),
                              [](uint8_t b) { return b == 0; });
      if (zero) return Value{};
      return Owned(HexId(s.parent_span_id.data(), s.parent_span_id.size()));
    }
    case Intrinsic::kNestedSetLeft:
      return t.has_structure() ? IntV(t.nested_left(c.span)) : Value{};
    case Intrinsic::kNestedSetRight:
      return t.has_structure() ? IntV(t.nested_right(c.span)) : Value{};
    case Intrinsic::kNestedSetParent:
      return t.has_structure() ? IntV(t.nested_parent(c.span)) : Value{};
    case Intrinsic::kEventName:
      if (c.event >= 0) return Str(s.events[c.event].name);
      return s.events.empty() ? Value{} : Str(s.events[0].name);
    case Intrinsic::kEventTimeSinceStart: {
      const storage::SpanEvent* ev =
          c.event >= 0 ? &s.events[c.event] : (s.events.empty() ? nullptr : &s.events[0]);
      if (!ev) return Value{};
      return IntV(static_cast<int64_t>(ev->time_unix_nano - s.start_time_unix_nano),
                  StaticType::kDuration);
    }
    case Intrinsic::kLinkTraceId:
    case Intrinsic::kLinkSpanId: {
      const storage::SpanLink* l =
          c.link >= 0 ? &s.links[c.link] : (s.links.empty() ? nullptr : &s.links[0]);
      if (!l) return Value{};
      return a.intrinsic == Intrinsic::kLinkTraceId
                 ? Owned(HexId(l->trace_id.data(), l->trace_id.size()))
                 : Owned(HexId(l->span_id.data(), l->span_id.size()));
    }
    case Intrinsic::kInstrumentationName:
      return s.scope ? Str(s.scope->name) : Value{};
    case Intrinsic::kInstrumentationVersion:
      return s.scope ? Str(s.scope->version) : Value{};
  }
  const storage::AttributeValue* v = nullptr;
  switch (a.scope) {
    case AttributeScope::kNone:
      v = Find(s.attributes, a.name);
      if (!v && s.resource) v = Find(s.resource->attributes, a.name);
      break;
    case AttributeScope::kSpan:
      v = Find(s.attributes, a.name);
      break;
    case AttributeScope::kResource:
      if (s.resource) v = Find(s.resource->attributes, a.name);
      break;
    case AttributeScope::kInstrumentation:
      if (s.scope) v = Find(s.scope->attributes, a.name);
      break;
    case AttributeScope::kEvent:
      if (c.event >= 0) {
        v = Find(s.events[c.event].attributes, a.name);
      } else {
        for (const auto& ev : s.events)
          if ((v = Find(ev.attributes, a.name))) break;
      }
      break;
    case AttributeScope::kLink:
      if (c.link >= 0) {
        v = Find(s.links[c.link].attributes, a.name);
      } else {
        for (const auto& l : s.links)
          if ((v = Find(l.attributes, a.name))) break;
      }
      break;
  }
  return v ? FromAttribute(*v) : Value{};
}

bool Truthy(const Value& v) { return v.type == StaticType::kBool && v.b; }

int64_t IntPow(int64_t base, int64_t exp) {
  if (exp < 0) return 0;
  int64_t r = 1;
  while (exp-- > 0) r = static_cast<int64_t>(static_cast<uint64_t>(r) * static_cast<uint64_t>(base));
  return r;
}

Value Arith(Op op, const Value& l, const Value& r) {
  if (!l.IsNumeric() || !r.IsNumeric()) return Value{};
  if (l.type != StaticType::kFloat && r.type != StaticType::kFloat) {
    StaticType type = (l.type == StaticType::kDuration || r.type == StaticType::kDuration)
                          ? StaticType::kDuration
                          : StaticType::kInt;
    uint64_t a = static_cast<uint64_t>(l.i), b = static_cast<uint64_t>(r.i);
    switch (op) {
      case Op::kAdd: return IntV(static_cast<int64_t>(a + b), type);
      case Op::kSub: return IntV(static_cast<int64_t>(a - b), type);
      case Op::kMult: return IntV(static_cast<int64_t>(a * b), type);
      case Op::kDiv:
        if (r.i == 0 || (l.i == INT64_MIN && r.i == -1)) return Value{};
        return IntV(l.i / r.i, type);
      case Op::kMod:
        if (r.i == 0 || (l.i == INT64_MIN && r.i == -1)) return Value{};
        return IntV(l.i % r.i, type);
      case Op::kPower: return IntV(IntPow(l.i, r.i), type);
      default: return Value{};
    }
  }
  double a = l.AsFloat(), b = r.AsFloat();
  Value v;
  v.type = StaticType::kFloat;
  switch (op) {
    case Op::kAdd: v.f = a + b; break;
    case Op::kSub: v.f = a - b; break;
    case Op::kMult: v.f = a * b; break;
    case Op::kDiv: if (b == 0) return Value{}; v.f = a / b; break;
    case Op::kMod: if (b == 0) return Value{}; v.f = std::fmod(a, b); break;
    case Op::kPower: v.f = std::pow(a, b); break;
    default: return Value{};
  }
  return v;
}

Value Eval(const FieldExpr& e, const Ctx& c) {
  switch (e.kind) {
    case FieldExpr::Kind::kStatic:
      return Value::FromStatic(e.value);
    case FieldExpr::Kind::kAttribute:
      return Attr(e.attr, c);
    case FieldExpr::Kind::kUnary: {
      Value v = Eval(*e.lhs, c);
      switch (e.op) {
        case Op::kExists: return BoolV(!v.IsNil());
        case Op::kNotExists: return BoolV(v.IsNil());
        case Op::kNot: return v.type == StaticType::kBool ? BoolV(!v.b) : Value{};
        case Op::kSub:
          if (v.type == StaticType::kFloat) {
            v.f = -v.f;
            return v;
          }
          if (v.IsNumeric()) {
            v.i = static_cast<int64_t>(0 - static_cast<uint64_t>(v.i));
            return v;
          }
          return Value{};
        default:
          return Value{};
      }
    }
    case FieldExpr::Kind::kBinary: {
      if (e.op == Op::kAnd || e.op == Op::kOr) {
        bool l = Truthy(Eval(*e.lhs, c));
        if (e.op == Op::kAnd && !l) return BoolV(false);
        if (e.op == Op::kOr && l) return BoolV(true);
        return BoolV(Truthy(Eval(*e.rhs, c)));
      }
      Value l = Eval(*e.lhs, c);
      Value r = Eval(*e.rhs, c);
      // trace:id literals compare without leading zeros, as Tempo normalises both sides.
      if (e.lhs->kind == FieldExpr::Kind::kAttribute &&
          e.lhs->attr.intrinsic == Intrinsic::kTraceId && r.type == StaticType::kString) {
        r = Owned(TrimZeros(std::string(r.str())));
      } else if (e.rhs->kind == FieldExpr::Kind::kAttribute &&
                 e.rhs->attr.intrinsic == Intrinsic::kTraceId && l.type == StaticType::kString) {
        l = Owned(TrimZeros(std::string(l.str())));
      }
      switch (e.op) {
        case Op::kAdd: case Op::kSub: case Op::kMult: case Op::kDiv: case Op::kMod:
        case Op::kPower:
          return Arith(e.op, l, r);
        default:
          return BoolV(CompareValues(e.op, l, r, e.regex.get()));
      }
    }
  }
  return Value{};
}

bool SameKey(const Value& a, const Value& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case StaticType::kNil: return true;
    case StaticType::kFloat: return a.f == b.f;
    case StaticType::kString: return a.str() == b.str();
    case StaticType::kBool: return a.b == b.b;
    default: return a.i == b.i;
  }
}

Static SumOf(const std::vector<Value>& vals, bool* any_float) {
  bool is_float = false, is_duration = false;
  for (const auto& v : vals) {
    is_float = is_float || v.type == StaticType::kFloat;
    is_duration = is_duration || v.type == StaticType::kDuration;
  }
  *any_float = is_float;
  if (is_float) {
    double s = 0;
    for (const auto& v : vals) s += v.AsFloat();
    return Static::Float(s);
  }
  int64_t s = 0;
  for (const auto& v : vals) s += v.i;
  return is_duration ? Static::Duration(s) : Static::Int(s);
}

void SortUnique(std::vector<uint32_t>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

}  // namespace

Value Value::FromStatic(const Static& s) {
  Value v;
  v.type = s.type;
  v.i = s.i;
  v.f = s.f;
  v.b = s.b;
  v.s = s.s;
  return v;
}

Static Value::ToStatic() const {
  Static s;
  s.type = type;
  s.i = i;
  s.f = f;
  s.b = b;
  if (type == StaticType::kString) s.s = std::string(str());
  return s;
}

bool CompareValues(Op op, const Value& l, const Value& r, const RE2* regex) {
  if (l.array || r.array) {
    // Array attributes: = (and <, >, =~ ...) hold when some element does; != and !~ when
    // every element does (no element equals / matches).
    const Value& arr = l.array ? l : r;
    bool negative = op == Op::kNotEqual || op == Op::kNotRegex;
    bool any = false;
    for (const auto& el : *arr.array) {
      Value v = FromAttribute(el);
      if (v.IsNil() || v.array) continue;
      bool m = l.array ? CompareValues(op, v, r, regex) : CompareValues(op, l, v, regex);
      if (negative && !m) return false;
      any = any || m;
    }
    return any;
  }
  if (l.IsNil() || r.IsNil()) return false;
  if (l.IsNumeric() && r.IsNumeric()) {
    int cmp;
    if (l.type != StaticType::kFloat && r.type != StaticType::kFloat) {
      cmp = l.i < r.i ? -1 : (l.i > r.i ? 1 : 0);
    } else {
      double a = l.AsFloat(), b = r.AsFloat();
      if (std::isnan(a) || std::isnan(b)) return op == Op::kNotEqual;
      cmp = a < b ? -1 : (a > b ? 1 : 0);
    }
    switch (op) {
      case Op::kEqual: return cmp == 0;
      case Op::kNotEqual: return cmp != 0;
      case Op::kLess: return cmp < 0;
      case Op::kLessEqual: return cmp <= 0;
      case Op::kGreater: return cmp > 0;
      case Op::kGreaterEqual: return cmp >= 0;
      default: return false;
    }
  }
  if (l.type != r.type) return false;
  switch (l.type) {
    case StaticType::kString: {
      std::string_view a = l.str(), b = r.str();
      switch (op) {
        case Op::kEqual: return a == b;
        case Op::kNotEqual: return a != b;
        case Op::kLess: return a < b;
        case Op::kLessEqual: return a <= b;
        case Op::kGreater: return a > b;
        case Op::kGreaterEqual: return a >= b;
        case Op::kRegex:
          return regex && RE2::FullMatch(re2::StringPiece(a.data(), a.size()), *regex);
        case Op::kNotRegex:
          return regex && !RE2::FullMatch(re2::StringPiece(a.data(), a.size()), *regex);
        default: return false;
      }
    }
    case StaticType::kBool:
      if (op == Op::kEqual) return l.b == r.b;
      if (op == Op::kNotEqual) return l.b != r.b;
      return false;
    case StaticType::kStatus:
    case StaticType::kKind:
      if (op == Op::kEqual) return l.i == r.i;
      if (op == Op::kNotEqual) return l.i != r.i;
      return false;
    default:
      return false;
  }
}

Value Evaluator::EvalField(const FieldExpr& e, const TraceView& t, uint32_t span) const {
  return Eval(e, Ctx{&t, span, -1, -1});
}

Value Evaluator::EvalAttribute(const Attribute& a, const TraceView& t, uint32_t span) const {
  return Attr(a, Ctx{&t, span, -1, -1});
}

bool Evaluator::Matches(const FieldExpr& e, const TraceView& t, uint32_t span) const {
  return MatchesWithMask(e, RefMask(e), t, span);
}

bool Evaluator::MatchesWithMask(const FieldExpr& e, uint8_t mask, const TraceView& t,
                                uint32_t span) const {
  if (mask == 0) return Truthy(Eval(e, Ctx{&t, span, -1, -1}));
  const storage::Span& s = t.span(span);
  int events = (mask & kRefEvent) ? static_cast<int>(s.events.size()) : 0;
  int links = (mask & kRefLink) ? static_cast<int>(s.links.size()) : 0;
  for (int ev = (events ? 0 : -1); ev < std::max(events, 0); ++ev) {
    for (int lk = (links ? 0 : -1); lk < std::max(links, 0); ++lk) {
      if (Truthy(Eval(e, Ctx{&t, span, ev, lk}))) return true;
      if (!links) break;
    }
    if (!events) break;
  }
  return false;
}

std::vector<Spanset> Evaluator::Run(const TraceView& trace) const {
  Spanset all;
  all.spans.resize(trace.size());
  for (uint32_t i = 0; i < trace.size(); ++i) all.spans[i] = i;
  std::vector<Spanset> input;
  input.push_back(std::move(all));
  return EvalElement(*pipeline_, trace, std::move(input));
}

bool Evaluator::Aggregate(const traceql::Aggregate& a, const TraceView& t, const Spanset& ss,
                          Static* out) const {
  if (a.op == AggregateOp::kCount) {
    *out = Static::Int(static_cast<int64_t>(ss.spans.size()));
    return true;
  }
  std::vector<Value> vals;
  for (uint32_t i : ss.spans) {
    Value v = EvalField(*a.expr, t, i);
    if (v.IsNumeric()) vals.push_back(std::move(v));
  }
  if (vals.empty()) return false;
  bool any_float = false;
  switch (a.op) {
    case AggregateOp::kSum:
      *out = SumOf(vals, &any_float);
      return true;
    case AggregateOp::kAvg: {
      Static sum = SumOf(vals, &any_float);
      double avg = sum.AsFloat() / static_cast<double>(vals.size());
      *out = sum.type == StaticType::kDuration ? Static::Duration(static_cast<int64_t>(avg))
                                               : Static::Float(avg);
      return true;
    }
    case AggregateOp::kMax:
    case AggregateOp::kMin: {
      const Value* best = &vals[0];
      for (const auto& v : vals) {
        bool better = a.op == AggregateOp::kMax ? CompareValues(Op::kGreater, v, *best, nullptr)
                                                : CompareValues(Op::kLess, v, *best, nullptr);
        if (better) best = &v;
      }
      *out = best->ToStatic();
      return true;
    }
    default:
      return false;
  }
}

std::vector<Spanset> Evaluator::EvalElement(const Element& e, const TraceView& t,
                                            std::vector<Spanset> input) const {
  switch (e.kind) {
    case Element::Kind::kPipeline:
      for (const auto& el : e.elements) {
        if (input.empty()) break;
        input = EvalElement(*el, t, std::move(input));
      }
      return input;
    case Element::Kind::kFilter: {
      // `{ }` / `{ true }` keeps everything: skip the per-span evaluation.
      if (e.expr->kind == FieldExpr::Kind::kStatic && e.expr->value.type == StaticType::kBool &&
          e.expr->value.b)
        return input;
      std::vector<Spanset> out;
      out.reserve(input.size());
      const uint8_t mask = RefMask(*e.expr);
      for (auto& ss : input) {
        std::vector<uint32_t> kept;
        for (uint32_t i : ss.spans)
          if (MatchesWithMask(*e.expr, mask, t, i)) kept.push_back(i);
        if (kept.empty()) continue;
        ss.spans = std::move(kept);
        out.push_back(std::move(ss));
      }
      return out;
    }
    case Element::Kind::kSpansetOp:
      return EvalSpansetOp(e, t, std::move(input));
    case Element::Kind::kScalarFilter: {
      std::vector<Spanset> out;
      if (e.scalar_lhs->kind != ScalarExpr::Kind::kAggregate ||
          e.scalar_rhs->kind != ScalarExpr::Kind::kStatic)
        return out;  // refused by validation
      const traceql::Aggregate& agg = e.scalar_lhs->aggregate;
      Value rhs = Value::FromStatic(e.scalar_rhs->value);
      for (auto& ss : input) {
        Static v;
        if (!Aggregate(agg, t, ss, &v)) continue;
        if (!CompareValues(e.op, Value::FromStatic(v), rhs, nullptr)) continue;
        ss.scalar = v;
        ss.attributes.emplace_back(agg.ToString(), v);
        out.push_back(std::move(ss));
      }
      return out;
    }
    case Element::Kind::kGroup: {
      std::vector<Spanset> out;
      std::string name = e.ToString();
      for (auto& ss : input) {
        std::vector<std::pair<Value, Spanset>> groups;
        for (uint32_t i : ss.spans) {
          Value v = EvalField(*e.expr, t, i);
          auto it = std::find_if(groups.begin(), groups.end(),
                                 [&](const auto& g) { return SameKey(g.first, v); });
          if (it == groups.end()) {
            Spanset g;
            g.attributes = ss.attributes;
            g.attributes.emplace_back(name, v.ToStatic());
            groups.emplace_back(std::move(v), std::move(g));
            it = groups.end() - 1;
          }
          it->second.spans.push_back(i);
        }
        for (auto& g : groups) out.push_back(std::move(g.second));
      }
      return out;
    }
    case Element::Kind::kCoalesce: {
      Spanset merged;
      for (auto& ss : input) merged.spans.insert(merged.spans.end(), ss.spans.begin(), ss.spans.end());
      SortUnique(&merged.spans);
      std::vector<Spanset> out;
      out.push_back(std::move(merged));
      return out;
    }
    case Element::Kind::kSelect:
    case Element::Kind::kAggregate:
      return input;
  }
  return input;
}

std::vector<Spanset> Evaluator::EvalSpansetOp(const Element& e, const TraceView& t,
                                              std::vector<Spanset> input) const {
  std::vector<Spanset> out;
  const size_t n = t.size();
  for (auto& ss : input) {
    std::vector<Spanset> one;
    one.push_back(ss);
    std::vector<Spanset> lhs = EvalElement(*e.lhs, t, one);
    std::vector<Spanset> rhs = EvalElement(*e.rhs, t, std::move(one));
    std::vector<uint32_t> l, r;
    for (const auto& s : lhs) l.insert(l.end(), s.spans.begin(), s.spans.end());
    for (const auto& s : rhs) r.insert(r.end(), s.spans.begin(), s.spans.end());
    SortUnique(&l);
    SortUnique(&r);
    std::vector<uint32_t> matched;
    if (e.op == Op::kSpansetAnd || e.op == Op::kSpansetUnion) {
      bool keep = e.op == Op::kSpansetAnd ? (!lhs.empty() && !rhs.empty())
                                          : (!lhs.empty() || !rhs.empty());
      if (!keep) continue;
      matched = l;
      matched.insert(matched.end(), r.begin(), r.end());
    } else {
      if (r.empty() || !t.has_structure()) continue;
      std::vector<char> in_l(n, 0), in_r(n, 0);
      for (uint32_t i : l) in_l[i] = 1;
      for (uint32_t i : r) in_r[i] = 1;
      auto has_ancestor_in = [&](uint32_t s, const std::vector<char>& set) {
        int32_t p = t.parent(s);
        for (size_t guard = 0; p >= 0 && guard <= n; ++guard) {
          if (set[p]) return true;
          p = t.parent(p);
        }
        return false;
      };
      auto mark_ancestors_of = [&](const std::vector<uint32_t>& from) {
        std::vector<char> mark(n, 0);
        for (uint32_t s : from) {
          int32_t p = t.parent(s);
          for (size_t guard = 0; p >= 0 && guard <= n && !mark[p]; ++guard) {
            mark[p] = 1;
            p = t.parent(p);
          }
        }
        return mark;
      };
      auto parents_of = [&](const std::vector<uint32_t>& from) {
        std::vector<char> mark(n, 0);
        for (uint32_t s : from)
          if (t.parent(s) >= 0) mark[t.parent(s)] = 1;
        return mark;
      };
      // Spans per parent (roots share the parent -1, as Tempo's nested-set parent).
      auto sibling_counts = [&](const std::vector<uint32_t>& from) {
        std::map<int32_t, int> count;
        for (uint32_t s : from) ++count[t.parent(s)];
        return count;
      };
      auto has_sibling_in = [&](uint32_t s, const std::map<int32_t, int>& counts,
                                const std::vector<char>& set) {
        auto it = counts.find(t.parent(s));
        int c = it == counts.end() ? 0 : it->second;
        return c - (set[s] ? 1 : 0) > 0;
      };
      auto select = [&](const std::vector<uint32_t>& from, bool negate, auto pred) {
        for (uint32_t s : from)
          if (pred(s) != negate) matched.push_back(s);
      };
      switch (e.op) {
        case Op::kSpansetChild:
        case Op::kSpansetNotChild:
          select(r, e.op == Op::kSpansetNotChild,
                 [&](uint32_t s) { return t.parent(s) >= 0 && in_l[t.parent(s)]; });
          break;
        case Op::kSpansetParent:
        case Op::kSpansetNotParent: {
          auto parent_of_l = parents_of(l);
          select(r, e.op == Op::kSpansetNotParent, [&](uint32_t s) { return parent_of_l[s] != 0; });
          break;
        }
        case Op::kSpansetDescendant:
        case Op::kSpansetNotDescendant:
          select(r, e.op == Op::kSpansetNotDescendant,
                 [&](uint32_t s) { return has_ancestor_in(s, in_l); });
          break;
        case Op::kSpansetAncestor:
        case Op::kSpansetNotAncestor: {
          auto anc = mark_ancestors_of(l);
          select(r, e.op == Op::kSpansetNotAncestor, [&](uint32_t s) { return anc[s] != 0; });
          break;
        }
        case Op::kSpansetSibling:
        case Op::kSpansetNotSibling: {
          auto counts = sibling_counts(l);
          select(r, e.op == Op::kSpansetNotSibling,
                 [&](uint32_t s) { return has_sibling_in(s, counts, in_l); });
          break;
        }
        case Op::kSpansetUnionChild: {
          auto parent_of_r = parents_of(r);
          select(l, false, [&](uint32_t s) { return parent_of_r[s] != 0; });
          select(r, false, [&](uint32_t s) { return t.parent(s) >= 0 && in_l[t.parent(s)]; });
          break;
        }
        case Op::kSpansetUnionParent: {
          auto parent_of_l = parents_of(l);
          select(r, false, [&](uint32_t s) { return parent_of_l[s] != 0; });
          select(l, false, [&](uint32_t s) { return t.parent(s) >= 0 && in_r[t.parent(s)]; });
          break;
        }
        case Op::kSpansetUnionDescendant: {
          auto anc_of_r = mark_ancestors_of(r);
          select(l, false, [&](uint32_t s) { return anc_of_r[s] != 0; });
          select(r, false, [&](uint32_t s) { return has_ancestor_in(s, in_l); });
          break;
        }
        case Op::kSpansetUnionAncestor: {
          auto anc_of_l = mark_ancestors_of(l);
          select(l, false, [&](uint32_t s) { return has_ancestor_in(s, in_r); });
          select(r, false, [&](uint32_t s) { return anc_of_l[s] != 0; });
          break;
        }
        case Op::kSpansetUnionSibling: {
          auto counts_l = sibling_counts(l);
          auto counts_r = sibling_counts(r);
          select(l, false, [&](uint32_t s) { return has_sibling_in(s, counts_r, in_r); });
          select(r, false, [&](uint32_t s) { return has_sibling_in(s, counts_l, in_l); });
          break;
        }
        default:
          break;
      }
    }
    SortUnique(&matched);
    if (matched.empty()) continue;
    Spanset res;
    res.spans = std::move(matched);
    res.attributes = ss.attributes;
    res.scalar = ss.scalar;
    out.push_back(std::move(res));
  }
  return out;
}

}  // namespace otelbox::query::traceql

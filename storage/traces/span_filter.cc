#include "storage/traces/span_filter.h"

#include <re2/re2.h>

#include <cmath>
#include <type_traits>

namespace otelbox::storage {
namespace {

std::string NormalizeHex(std::string_view hex) {
  std::string out;
  for (char c : hex) out.push_back(static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c));
  size_t nz = out.find_first_not_of('0');
  return nz == std::string::npos ? std::string() : out.substr(nz);
}

std::string HexOf(const uint8_t* id, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[id[i] >> 4]);
    out.push_back(kHex[id[i] & 15]);
  }
  size_t nz = out.find_first_not_of('0');
  return nz == std::string::npos ? std::string() : out.substr(nz);
}

template <typename T>
bool Compare(ConditionOp op, const T& a, const T& b) {
  switch (op) {
    case ConditionOp::kEq: return a == b;
    case ConditionOp::kNe: return a != b;
    case ConditionOp::kLt: return a < b;
    case ConditionOp::kLe: return a <= b;
    case ConditionOp::kGt: return a > b;
    case ConditionOp::kGe: return a >= b;
    default: return true;
  }
}

// Ops that are false when the attribute is missing (so a block without the key is skipped).
bool FalseWhenMissing(ConditionOp op) {
  return op == ConditionOp::kExists || op == ConditionOp::kEq || op == ConditionOp::kLt ||
         op == ConditionOp::kLe || op == ConditionOp::kGt || op == ConditionOp::kGe ||
         op == ConditionOp::kRegex;
}

}  // namespace

ValueView ViewOf(const AttributeValue& v) {
  ValueView out;
  if (const auto* s = std::get_if<std::string>(&v.value)) {
    out.type = ValueView::Type::kString;
    out.s = *s;
  } else if (const auto* i = std::get_if<int64_t>(&v.value)) {
    out.type = ValueView::Type::kInt;
    out.i = *i;
  } else if (const auto* d = std::get_if<double>(&v.value)) {
    out.type = ValueView::Type::kDouble;
    out.d = *d;
  } else if (const auto* b = std::get_if<bool>(&v.value)) {
    out.type = ValueView::Type::kBool;
    out.b = *b;
  } else if (std::holds_alternative<std::monostate>(v.value)) {
    out.type = ValueView::Type::kNone;
  } else {
    out.type = ValueView::Type::kOther;
  }
  return out;
}

SpanView ViewOfSpan(const Span& span, std::vector<AttrView>* span_attrs,
                    std::vector<AttrView>* resource_attrs, std::vector<AttrView>* scope_attrs) {
  auto fill = [](const AttributeList& list, std::vector<AttrView>* out) {
    out->clear();
    for (const auto& kv : list) out->push_back(AttrView{kv.key, ViewOf(kv.value)});
  };
  SpanView v;
  v.trace_id = span.trace_id.data();
  v.span_id = span.span_id.data();
  v.parent_id = span.parent_span_id.data();
  v.name = span.name;
  v.status_message = span.status_message;
  v.kind = span.kind;
  v.status = span.status_code;
  v.start_ns = span.start_time_unix_nano;
  v.end_ns = span.end_time_unix_nano;
  fill(span.attributes, span_attrs);
  v.span_attrs = span_attrs;
  resource_attrs->clear();
  if (span.resource) fill(span.resource->attributes, resource_attrs);
  v.resource_attrs = resource_attrs;
  scope_attrs->clear();
  if (span.scope) {
    fill(span.scope->attributes, scope_attrs);
    v.scope_name = span.scope->name;
    v.scope_version = span.scope->version;
  }
  v.scope_attrs = scope_attrs;
  return v;
}

absl::StatusOr<std::shared_ptr<const SpanFilter>> SpanFilter::Compile(
    const std::vector<SpanCondition>& conditions, bool all_conditions) {
  auto f = std::make_shared<SpanFilter>();
  f->all_ = all_conditions;
  bool undecidable = false;
  for (const auto& c : conditions) {
    if (c.op == ConditionOp::kAny) continue;
    Compiled cc;
    cc.cond = c;
    if (c.op == ConditionOp::kRegex || c.op == ConditionOp::kNotRegex) {
      const auto* s = std::get_if<std::string>(&c.operand);
      if (s == nullptr) {
        undecidable = true;
        continue;
      }
      RE2::Options opts;
      opts.set_log_errors(false);
      opts.set_dot_nl(true);
      cc.regex = std::make_shared<RE2>(*s, opts);
      if (!cc.regex->ok()) {
        return absl::InvalidArgumentError("invalid regex " + *s + ": " + cc.regex->error());
      }
    }
    if (c.intrinsic == Intrinsic::kTraceId || c.intrinsic == Intrinsic::kSpanId ||
        c.intrinsic == Intrinsic::kParentId) {
      if (const auto* s = std::get_if<std::string>(&c.operand)) cc.id_hex = NormalizeHex(*s);
    }
    const bool attr = c.intrinsic == Intrinsic::kNone;
    if (attr && (c.scope == TraceScope::kSpan || c.scope == TraceScope::kUnscoped)) {
      f->needs_span_attrs_ = true;
    }
    if (all_conditions) {
      const auto* s = std::get_if<std::string>(&c.operand);
      const bool string_target =
          attr ? (c.scope != TraceScope::kEvent && c.scope != TraceScope::kLink)
               : (c.intrinsic == Intrinsic::kName || c.intrinsic == Intrinsic::kStatusMessage ||
                  c.intrinsic == Intrinsic::kScopeName || c.intrinsic == Intrinsic::kScopeVersion);
      if (string_target && c.op == ConditionOp::kEq && s != nullptr) {
        f->required_strings_.push_back(*s);
      }
      if (attr && string_target && FalseWhenMissing(c.op)) f->required_strings_.push_back(c.key);
    }
    f->conditions_.push_back(std::move(cc));
  }
  // OR with a condition we could not compile: anything may match.
  if (!all_conditions && undecidable) f->conditions_.clear();
  f->passes_all_ = f->conditions_.empty();
  if (f->passes_all_) f->required_strings_.clear();
  return std::shared_ptr<const SpanFilter>(std::move(f));
}

SpanFilter::Result SpanFilter::EvalValue(const Compiled& c, const ValueView& v) {
  using T = ValueView::Type;
  const ConditionOp op = c.cond.op;
  if (op == ConditionOp::kExists) return v.type == T::kNone ? Result::kFalse : Result::kTrue;
  const ConditionOperand& o = c.cond.operand;
  if (op == ConditionOp::kRegex || op == ConditionOp::kNotRegex) {
    if (v.type != T::kString || !c.regex) return Result::kUnknown;
    const bool m = RE2::FullMatch(v.s, *c.regex);
    return (m == (op == ConditionOp::kRegex)) ? Result::kTrue : Result::kFalse;
  }
  auto r = [](bool b) { return b ? Result::kTrue : Result::kFalse; };
  if (const auto* s = std::get_if<std::string>(&o)) {
    if (v.type != T::kString) return Result::kUnknown;
    return r(Compare(op, v.s, std::string_view(*s)));
  }
  if (const auto* b = std::get_if<bool>(&o)) {
    if (v.type != T::kBool) return Result::kUnknown;
    if (op != ConditionOp::kEq && op != ConditionOp::kNe) return Result::kUnknown;
    return r(Compare(op, v.b, *b));
  }
  double rhs;
  bool rhs_int = false;
  int64_t rhs_i = 0;
  if (const auto* i = std::get_if<int64_t>(&o)) {
    rhs = static_cast<double>(*i);
    rhs_int = true;
    rhs_i = *i;
  } else if (const auto* d = std::get_if<double>(&o)) {
    rhs = *d;
  } else if (const auto* du = std::get_if<DurationNs>(&o)) {
    rhs = static_cast<double>(du->ns);
    rhs_int = true;
    rhs_i = du->ns;
  } else {
    return Result::kUnknown;
  }
  if (v.type == T::kInt) {
    if (rhs_int) return r(Compare(op, v.i, rhs_i));
    return r(Compare(op, static_cast<double>(v.i), rhs));
  }
  if (v.type == T::kDouble) {
    if (std::isnan(v.d) || std::isnan(rhs)) return Result::kUnknown;
    return r(Compare(op, v.d, rhs));
  }
  return Result::kUnknown;
}

SpanFilter::Result SpanFilter::EvalAttr(const Compiled& c, const std::vector<AttrView>* attrs) {
  if (attrs == nullptr) return Result::kUnknown;
  for (const auto& a : *attrs) {
    if (a.key == c.cond.key) return EvalValue(c, a.value);
  }
  // Missing attribute: false for positive comparisons; `!=`/`!~` on nil are left to the
  // engine.
  return FalseWhenMissing(c.cond.op) ? Result::kFalse : Result::kUnknown;
}

SpanFilter::Result SpanFilter::Eval(const Compiled& c, const SpanView& span) const {
  const SpanCondition& cond = c.cond;
  auto str = [&](std::string_view s) {
    ValueView v;
    v.type = ValueView::Type::kString;
    v.s = s;
    return EvalValue(c, v);
  };
  auto r = [](bool b) { return b ? Result::kTrue : Result::kFalse; };
  switch (cond.intrinsic) {
    case Intrinsic::kNone:
      switch (cond.scope) {
        case TraceScope::kSpan: return EvalAttr(c, span.span_attrs);
        case TraceScope::kResource: return EvalAttr(c, span.resource_attrs);
        case TraceScope::kInstrumentation: return EvalAttr(c, span.scope_attrs);
        case TraceScope::kUnscoped: {
          Result a = EvalAttr(c, span.span_attrs);
          if (a == Result::kTrue) return a;
          Result b = EvalAttr(c, span.resource_attrs);
          if (b == Result::kTrue) return b;
          return (a == Result::kUnknown || b == Result::kUnknown) ? Result::kUnknown
                                                                  : Result::kFalse;
        }
        default: return Result::kUnknown;
      }
    case Intrinsic::kName: return str(span.name);
    case Intrinsic::kStatusMessage: return str(span.status_message);
    case Intrinsic::kScopeName: return str(span.scope_name);
    case Intrinsic::kScopeVersion: return str(span.scope_version);
    case Intrinsic::kKind: {
      int64_t want;
      if (const auto* k = std::get_if<SpanKind>(&cond.operand)) want = static_cast<int64_t>(*k);
      else if (const auto* i = std::get_if<int64_t>(&cond.operand)) want = *i;
      else return Result::kUnknown;
      if (cond.op == ConditionOp::kEq) return r(static_cast<int64_t>(span.kind) == want);
      if (cond.op == ConditionOp::kNe) return r(static_cast<int64_t>(span.kind) != want);
      return Result::kUnknown;
    }
    case Intrinsic::kStatus: {
      int64_t want;
      if (const auto* k = std::get_if<StatusCode>(&cond.operand)) want = static_cast<int64_t>(*k);
      else if (const auto* i = std::get_if<int64_t>(&cond.operand)) want = *i;
      else return Result::kUnknown;
      if (cond.op == ConditionOp::kEq) return r(static_cast<int64_t>(span.status) == want);
      if (cond.op == ConditionOp::kNe) return r(static_cast<int64_t>(span.status) != want);
      return Result::kUnknown;
    }
    case Intrinsic::kDuration: {
      ValueView v;
      v.type = ValueView::Type::kInt;
      v.i = static_cast<int64_t>(span.end_ns - span.start_ns);
      if (std::holds_alternative<double>(cond.operand)) return Result::kUnknown;
      return EvalValue(c, v);
    }
    case Intrinsic::kTraceId:
    case Intrinsic::kSpanId:
    case Intrinsic::kParentId: {
      if (cond.op != ConditionOp::kEq && cond.op != ConditionOp::kNe) return Result::kUnknown;
      if (!std::holds_alternative<std::string>(cond.operand)) return Result::kUnknown;
      const uint8_t* id = cond.intrinsic == Intrinsic::kTraceId  ? span.trace_id
                          : cond.intrinsic == Intrinsic::kSpanId ? span.span_id
                                                                 : span.parent_id;
      if (id == nullptr) return Result::kUnknown;
      const bool eq = HexOf(id, cond.intrinsic == Intrinsic::kTraceId ? 16 : 8) == c.id_hex;
      return r(cond.op == ConditionOp::kEq ? eq : !eq);
    }
    default: return Result::kUnknown;
  }
}

bool SpanFilter::Matches(const SpanView& span) const {
  if (passes_all_) return true;
  if (all_) {
    for (const auto& c : conditions_) {
      if (Eval(c, span) == Result::kFalse) return false;
    }
    return true;
  }
  for (const auto& c : conditions_) {
    if (Eval(c, span) != Result::kFalse) return true;
  }
  return false;
}

}  // namespace otelbox::storage

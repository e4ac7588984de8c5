#include "query/traceql/fetch_conditions.h"

#include <algorithm>
#include <optional>

namespace otelbox::query::traceql {
namespace {

using storage::ConditionOp;
using storage::SpanCondition;
using storage::TraceScope;

std::optional<storage::Intrinsic> StorageIntrinsic(Intrinsic i) {
  switch (i) {
    case Intrinsic::kDuration: return storage::Intrinsic::kDuration;
    case Intrinsic::kName: return storage::Intrinsic::kName;
    case Intrinsic::kStatus: return storage::Intrinsic::kStatus;
    case Intrinsic::kStatusMessage: return storage::Intrinsic::kStatusMessage;
    case Intrinsic::kKind: return storage::Intrinsic::kKind;
    case Intrinsic::kTraceId: return storage::Intrinsic::kTraceId;
    case Intrinsic::kSpanId: return storage::Intrinsic::kSpanId;
    case Intrinsic::kParentId: return storage::Intrinsic::kParentId;
    case Intrinsic::kTraceDuration: return storage::Intrinsic::kTraceDuration;
    case Intrinsic::kTraceRootSpan: return storage::Intrinsic::kRootName;
    case Intrinsic::kTraceRootService: return storage::Intrinsic::kRootServiceName;
    case Intrinsic::kEventName: return storage::Intrinsic::kEventName;
    case Intrinsic::kLinkTraceId: return storage::Intrinsic::kLinkTraceId;
    case Intrinsic::kLinkSpanId: return storage::Intrinsic::kLinkSpanId;
    case Intrinsic::kInstrumentationName: return storage::Intrinsic::kScopeName;
    case Intrinsic::kInstrumentationVersion: return storage::Intrinsic::kScopeVersion;
    default: return std::nullopt;
  }
}

std::optional<ConditionOp> StorageOp(Op op) {
  switch (op) {
    case Op::kEqual: return ConditionOp::kEq;
    case Op::kNotEqual: return ConditionOp::kNe;
    case Op::kLess: return ConditionOp::kLt;
    case Op::kLessEqual: return ConditionOp::kLe;
    case Op::kGreater: return ConditionOp::kGt;
    case Op::kGreaterEqual: return ConditionOp::kGe;
    case Op::kRegex: return ConditionOp::kRegex;
    case Op::kNotRegex: return ConditionOp::kNotRegex;
    default: return std::nullopt;
  }
}

Op Flip(Op op) {
  switch (op) {
    case Op::kLess: return Op::kGreater;
    case Op::kLessEqual: return Op::kGreaterEqual;
    case Op::kGreater: return Op::kLess;
    case Op::kGreaterEqual: return Op::kLessEqual;
    default: return op;
  }
}

bool Target(const Attribute& a, SpanCondition* c) {
  if (a.parent) return false;
  if (a.intrinsic != Intrinsic::kNone) {
    auto si = StorageIntrinsic(a.intrinsic);
    if (!si) return false;
    c->scope = TraceScope::kIntrinsic;
    c->intrinsic = *si;
    return true;
  }
  switch (a.scope) {
    case AttributeScope::kNone: c->scope = TraceScope::kUnscoped; break;
    case AttributeScope::kSpan: c->scope = TraceScope::kSpan; break;
    case AttributeScope::kResource: c->scope = TraceScope::kResource; break;
    case AttributeScope::kEvent: c->scope = TraceScope::kEvent; break;
    case AttributeScope::kLink: c->scope = TraceScope::kLink; break;
    case AttributeScope::kInstrumentation: c->scope = TraceScope::kInstrumentation; break;
  }
  c->key = a.name;
  return true;
}

bool Operand(const Static& s, const Attribute& a, Op op, storage::ConditionOperand* out) {
  switch (s.type) {
    case StaticType::kString:
      if (a.intrinsic == Intrinsic::kTraceId) {
        if (op != Op::kEqual) return false;
        std::string hex = s.s;
        size_t nz = hex.find_first_not_of('0');
        hex = nz == std::string::npos ? "" : hex.substr(nz);
        if (hex.size() > 32) return false;
        *out = std::string(32 - hex.size(), '0') + hex;
        return true;
      }
      *out = s.s;
      return true;
    case StaticType::kInt: *out = s.i; return true;
    case StaticType::kFloat: *out = s.f; return true;
    case StaticType::kBool: *out = s.b; return true;
    case StaticType::kDuration: *out = storage::DurationNs{s.i}; return true;
    case StaticType::kStatus:
      switch (static_cast<StatusValue>(s.i)) {
        case StatusValue::kError: *out = storage::StatusCode::kError; return true;
        case StatusValue::kOk: *out = storage::StatusCode::kOk; return true;
        case StatusValue::kUnset: *out = storage::StatusCode::kUnset; return true;
      }
      return false;
    case StaticType::kKind:
      switch (static_cast<KindValue>(s.i)) {
        case KindValue::kUnspecified: *out = storage::SpanKind::kUnspecified; return true;
        case KindValue::kInternal: *out = storage::SpanKind::kInternal; return true;
        case KindValue::kServer: *out = storage::SpanKind::kServer; return true;
        case KindValue::kClient: *out = storage::SpanKind::kClient; return true;
        case KindValue::kProducer: *out = storage::SpanKind::kProducer; return true;
        case KindValue::kConsumer: *out = storage::SpanKind::kConsumer; return true;
      }
      return false;
    default:
      return false;
  }
}

// `attr op literal`, `literal op attr` or `attr != nil` as one storage condition.
bool Simple(const FieldExpr& e, SpanCondition* c) {
  if (e.kind == FieldExpr::Kind::kUnary && e.op == Op::kExists &&
      e.lhs->kind == FieldExpr::Kind::kAttribute) {
    if (!Target(e.lhs->attr, c)) return false;
    c->op = ConditionOp::kExists;
    return true;
  }
  if (e.kind != FieldExpr::Kind::kBinary) return false;
  const FieldExpr* attr = nullptr;
  const FieldExpr* lit = nullptr;
  Op op = e.op;
  if (e.lhs->kind == FieldExpr::Kind::kAttribute && e.rhs->kind == FieldExpr::Kind::kStatic) {
    attr = e.lhs.get();
    lit = e.rhs.get();
  } else if (e.rhs->kind == FieldExpr::Kind::kAttribute &&
             e.lhs->kind == FieldExpr::Kind::kStatic) {
    if (op == Op::kRegex || op == Op::kNotRegex) return false;
    attr = e.rhs.get();
    lit = e.lhs.get();
    op = Flip(op);
  } else {
    return false;
  }
  auto sop = StorageOp(op);
  if (!sop) return false;
  if ((op == Op::kRegex || op == Op::kNotRegex) && lit->value.type != StaticType::kString)
    return false;
  if (!Target(attr->attr, c)) return false;
  if (!Operand(lit->value, attr->attr, op, &c->operand)) return false;
  c->op = *sop;
  return true;
}

void Flatten(const FieldExprPtr& e, Op op, std::vector<const FieldExpr*>* out) {
  if (e->kind == FieldExpr::Kind::kBinary && e->op == op) {
    Flatten(e->lhs, op, out);
    Flatten(e->rhs, op, out);
  } else {
    out->push_back(e.get());
  }
}

// Conditions of one filter in "any of" form: every matching span satisfies at least one.
// False when no such list exists (e.g. `{ true }`).
bool AnyOf(const FieldExprPtr& e, std::vector<SpanCondition>* out) {
  std::vector<const FieldExpr*> parts;
  Flatten(e, Op::kOr, &parts);
  if (parts.size() > 1) {
    for (const FieldExpr* p : parts) {
      SpanCondition c;
      if (!Simple(*p, &c)) return false;
      out->push_back(std::move(c));
    }
    return true;
  }
  // A conjunction: any one of its simple conjuncts will do.
  std::vector<const FieldExpr*> conj;
  Flatten(e, Op::kAnd, &conj);
  for (const FieldExpr* p : conj) {
    SpanCondition c;
    if (Simple(*p, &c)) {
      out->push_back(std::move(c));
      return true;
    }
  }
  return false;
}

// Filters whose matches decide which spans and traces can contribute.
bool LeafConditions(const Element& e, std::vector<SpanCondition>* out) {
  switch (e.kind) {
    case Element::Kind::kFilter:
      return AnyOf(e.expr, out);
    case Element::Kind::kSpansetOp:
      return LeafConditions(*e.lhs, out) && LeafConditions(*e.rhs, out);
    case Element::Kind::kPipeline:
      return !e.elements.empty() && LeafConditions(*e.elements.front(), out);
    default:
      return false;
  }
}

bool IsStructural(Op op) {
  return op != Op::kSpansetAnd && op != Op::kSpansetUnion;
}

void Walk(const FieldExpr& e, FetchPlan* plan) {
  switch (e.kind) {
    case FieldExpr::Kind::kStatic:
      return;
    case FieldExpr::Kind::kAttribute: {
      const Attribute& a = e.attr;
      switch (a.intrinsic) {
        case Intrinsic::kChildCount: case Intrinsic::kNestedSetLeft:
        case Intrinsic::kNestedSetRight: case Intrinsic::kNestedSetParent:
          plan->needs_structure = true;
          plan->needs_whole_trace = true;
          break;
        case Intrinsic::kTraceRootService: case Intrinsic::kTraceRootSpan:
        case Intrinsic::kTraceDuration:
          plan->needs_whole_trace = true;
          break;
        default:
          break;
      }
      if (std::find(plan->output_attributes.begin(), plan->output_attributes.end(), a) ==
          plan->output_attributes.end())
        plan->output_attributes.push_back(a);
      return;
    }
    case FieldExpr::Kind::kUnary:
      Walk(*e.lhs, plan);
      return;
    case FieldExpr::Kind::kBinary:
      Walk(*e.lhs, plan);
      Walk(*e.rhs, plan);
      return;
  }
}

void Walk(const Element& e, FetchPlan* plan);

void Walk(const ScalarExpr& s, FetchPlan* plan) {
  switch (s.kind) {
    case ScalarExpr::Kind::kAggregate:
      if (s.aggregate.expr) Walk(*s.aggregate.expr, plan);
      return;
    case ScalarExpr::Kind::kBinary:
      Walk(*s.lhs, plan);
      Walk(*s.rhs, plan);
      return;
    case ScalarExpr::Kind::kPipeline:
      Walk(*s.pipeline, plan);
      return;
    default:
      return;
  }
}

void Walk(const Element& e, FetchPlan* plan) {
  switch (e.kind) {
    case Element::Kind::kFilter:
    case Element::Kind::kGroup:
      Walk(*e.expr, plan);
      return;
    case Element::Kind::kSpansetOp:
      if (IsStructural(e.op)) {
        plan->needs_structure = true;
        plan->needs_whole_trace = true;
      }
      Walk(*e.lhs, plan);
      Walk(*e.rhs, plan);
      return;
    case Element::Kind::kScalarFilter:
      Walk(*e.scalar_lhs, plan);
      Walk(*e.scalar_rhs, plan);
      return;
    case Element::Kind::kSelect:
      for (const auto& a : e.attributes) {
        FieldExpr f;
        f.kind = FieldExpr::Kind::kAttribute;
        f.attr = a;
        Walk(f, plan);
      }
      return;
    case Element::Kind::kAggregate:
      if (e.aggregate.expr) Walk(*e.aggregate.expr, plan);
      return;
    case Element::Kind::kPipeline:
      for (const auto& el : e.elements) Walk(*el, plan);
      return;
    case Element::Kind::kCoalesce:
      return;
  }
}

// The conditions of a single filter: a conjunction pushes every simple conjunct
// (all_conditions), a disjunction of simple comparisons pushes them all as "any of".
void FilterConditions(const FieldExprPtr& expr, std::vector<SpanCondition>* out, bool* all) {
  std::vector<const FieldExpr*> parts;
  Flatten(expr, Op::kOr, &parts);
  if (parts.size() > 1) {
    *all = false;
    if (!AnyOf(expr, out)) out->clear();
    return;
  }
  std::vector<const FieldExpr*> conj;
  Flatten(expr, Op::kAnd, &conj);
  for (const FieldExpr* p : conj) {
    SpanCondition c;
    if (Simple(*p, &c)) out->push_back(std::move(c));
  }
  *all = true;
}

// With whole traces, a trace can only yield results if some span matches the right-hand
// side of the top spanset operator (every structural operator returns right-hand spans or
// pairs that include one, and && needs both sides): push that side's conditions alone, in
// full, instead of a loose "any of" over both sides.
void RequiredConditions(const Element& e, std::vector<SpanCondition>* out, bool* all) {
  switch (e.kind) {
    case Element::Kind::kFilter:
      FilterConditions(e.expr, out, all);
      return;
    case Element::Kind::kSpansetOp:
      if (e.op == Op::kSpansetUnion) {
        *all = false;
        if (!LeafConditions(e, out)) out->clear();
        return;
      }
      RequiredConditions(*e.rhs, out, all);
      return;
    case Element::Kind::kPipeline:
      if (!e.elements.empty()) RequiredConditions(*e.elements.front(), out, all);
      return;
    default:
      return;  // no conditions: every span
  }
}

}  // namespace

FetchPlan PlanFetch(const Element& pipeline) {
  FetchPlan plan;
  Walk(pipeline, &plan);
  const Element* first = &pipeline;
  while (first->kind == Element::Kind::kPipeline && !first->elements.empty())
    first = first->elements.front().get();
  if (first->kind == Element::Kind::kFilter) {
    FilterConditions(first->expr, &plan.conditions, &plan.all_conditions);
  } else if (first->kind == Element::Kind::kSpansetOp) {
    if (plan.needs_whole_trace) {
      RequiredConditions(*first, &plan.conditions, &plan.all_conditions);
    } else {
      // Candidate spans only: every side's matches must be among them.
      plan.all_conditions = false;
      if (!LeafConditions(*first, &plan.conditions)) plan.conditions.clear();
    }
  }
  return plan;
}

SpanParts PartsRead(const std::vector<Attribute>& attributes) {
  SpanParts parts;
  for (const Attribute& a : attributes) {
    switch (a.intrinsic) {
      case Intrinsic::kNone:
        if (a.scope == AttributeScope::kNone || a.scope == AttributeScope::kSpan) parts.span_attributes = true;
        if (a.scope == AttributeScope::kEvent || a.scope == AttributeScope::kLink) parts.events_and_links = true;
        break;
      case Intrinsic::kEventName: case Intrinsic::kEventTimeSinceStart:
      case Intrinsic::kLinkTraceId: case Intrinsic::kLinkSpanId:
        parts.events_and_links = true;
        break;
      default:
        break;
    }
  }
  return parts;
}

}  // namespace otelbox::query::traceql

#include "query/traceql/ast.h"

#include <cinttypes>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace otelbox::query::traceql {
namespace {

// Go's time.Duration.String(): "1h0m0s", "1.5s", "100ms", "0s".
std::string GoDurationString(int64_t ns) {
  if (ns == 0) return "0s";
  bool neg = ns < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  auto frac = [](uint64_t v, int prec) {
    // v as a decimal with `prec` fractional digits, trailing zeros trimmed.
    std::string whole = std::to_string(v);
    while (static_cast<int>(whole.size()) <= prec) whole.insert(whole.begin(), '0');
    std::string ip = whole.substr(0, whole.size() - prec);
    std::string fp = whole.substr(whole.size() - prec);
    while (!fp.empty() && fp.back() == '0') fp.pop_back();
    return fp.empty() ? ip : ip + "." + fp;
  };
  std::string out;
  if (u < 1000000000ULL) {
    if (u < 1000) out = std::to_string(u) + "ns";
    else if (u < 1000000) out = frac(u, 3) + "\xC2\xB5s";
    else out = frac(u, 6) + "ms";
  } else {
    uint64_t secs_ns = u % 60000000000ULL;
    uint64_t mins = u / 60000000000ULL;
    out = frac(secs_ns, 9) + "s";
    if (mins > 0) {
      uint64_t h = mins / 60;
      mins %= 60;
      out = std::to_string(mins) + "m" + out;
      if (h > 0) out = std::to_string(h) + "h" + out;
    }
  }
  return neg ? "-" + out : out;
}

std::string FormatGoFloat(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Shortest representation that round-trips.
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of("e.n") == std::string::npos) s += ".0";  // "nan"/"inf" kept
  return s;
}

bool IsAttributeRuneForPrint(char c) {
  switch (c) {
    case ' ': case '\t': case '\n': case '\r': case '\v': case '\f': case '{': case '}':
    case '(': case ')': case '=': case '~': case '!': case '<': case '>': case '&': case '|':
    case '^': case ',':
      return false;
    default:
      return true;
  }
}

std::string Wrap(const FieldExpr& e) {
  if (e.kind == FieldExpr::Kind::kStatic) return e.value.ToString();
  if (e.kind == FieldExpr::Kind::kAttribute) return e.attr.ToString();
  return absl::StrCat("(", e.ToString(), ")");
}

std::string WrapScalar(const ScalarExpr& e) {
  if (e.kind == ScalarExpr::Kind::kStatic) return e.value.ToString();
  return absl::StrCat("(", e.ToString(), ")");
}

std::string WrapElement(const Element& e) { return absl::StrCat("(", e.ToString(), ")"); }

}  // namespace

const char* OpString(Op op) {
  switch (op) {
    case Op::kNone: return "";
    case Op::kAdd: return "+";
    case Op::kSub: return "-";
    case Op::kDiv: return "/";
    case Op::kMod: return "%";
    case Op::kMult: return "*";
    case Op::kPower: return "^";
    case Op::kEqual: return "=";
    case Op::kNotEqual: return "!=";
    case Op::kRegex: return "=~";
    case Op::kNotRegex: return "!~";
    case Op::kGreater: return ">";
    case Op::kGreaterEqual: return ">=";
    case Op::kLess: return "<";
    case Op::kLessEqual: return "<=";
    case Op::kAnd: return "&&";
    case Op::kOr: return "||";
    case Op::kNot: return "!";
    case Op::kExists: return "!= nil";
    case Op::kNotExists: return "= nil";
    case Op::kSpansetAnd: return "&&";
    case Op::kSpansetUnion: return "||";
    case Op::kSpansetChild: return ">";
    case Op::kSpansetParent: return "<";
    case Op::kSpansetDescendant: return ">>";
    case Op::kSpansetAncestor: return "<<";
    case Op::kSpansetSibling: return "~";
    case Op::kSpansetNotChild: return "!>";
    case Op::kSpansetNotParent: return "!<";
    case Op::kSpansetNotDescendant: return "!>>";
    case Op::kSpansetNotAncestor: return "!<<";
    case Op::kSpansetNotSibling: return "!~";
    case Op::kSpansetUnionChild: return "&>";
    case Op::kSpansetUnionParent: return "&<";
    case Op::kSpansetUnionDescendant: return "&>>";
    case Op::kSpansetUnionAncestor: return "&<<";
    case Op::kSpansetUnionSibling: return "&~";
  }
  return "?";
}

bool IsBooleanOp(Op op) {
  switch (op) {
    case Op::kOr: case Op::kAnd: case Op::kEqual: case Op::kNotEqual: case Op::kRegex:
    case Op::kNotRegex: case Op::kGreater: case Op::kGreaterEqual: case Op::kLess:
    case Op::kLessEqual: case Op::kNot: case Op::kExists: case Op::kNotExists:
      return true;
    default:
      return false;
  }
}

bool IsArithmeticOp(Op op) {
  return op == Op::kAdd || op == Op::kSub || op == Op::kMult || op == Op::kDiv;
}

bool Static::operator==(const Static& o) const {
  if (type != o.type) return false;
  switch (type) {
    case StaticType::kNil: return true;
    case StaticType::kFloat: return f == o.f;
    case StaticType::kString: return s == o.s;
    case StaticType::kBool: return b == o.b;
    default: return i == o.i;
  }
}

std::string Static::ToString() const {
  switch (type) {
    case StaticType::kNil: return "nil";
    case StaticType::kInt: return std::to_string(i);
    case StaticType::kFloat: return FormatGoFloat(f);
    case StaticType::kString: {
      // Backquoted as Tempo prints strings, unless the text holds a backquote itself
      // (Tempo's printer cannot round-trip those): then a double-quoted Go string.
      if (s.find_first_of("`\r") == std::string::npos) return "`" + s + "`";
      std::string out = "\"";
      for (char c : s) {
        switch (c) {
          case '"': out += "\\\""; break;
          case '\\': out += "\\\\"; break;
          case '\n': out += "\\n"; break;
          case '\r': out += "\\r"; break;
          case '\t': out += "\\t"; break;
          default: out.push_back(c);
        }
      }
      return out + "\"";
    }
    case StaticType::kBool: return b ? "true" : "false";
    case StaticType::kDuration: return GoDurationString(i);
    case StaticType::kStatus:
      switch (static_cast<StatusValue>(i)) {
        case StatusValue::kError: return "error";
        case StatusValue::kOk: return "ok";
        case StatusValue::kUnset: return "unset";
      }
      return "status";
    case StaticType::kKind:
      switch (static_cast<KindValue>(i)) {
        case KindValue::kUnspecified: return "unspecified";
        case KindValue::kInternal: return "internal";
        case KindValue::kClient: return "client";
        case KindValue::kServer: return "server";
        case KindValue::kProducer: return "producer";
        case KindValue::kConsumer: return "consumer";
      }
      return "kind";
    default:
      return "static";
  }
}

const char* IntrinsicName(Intrinsic i) {
  switch (i) {
    case Intrinsic::kNone: return "none";
    case Intrinsic::kDuration: return "duration";
    case Intrinsic::kName: return "name";
    case Intrinsic::kStatus: return "status";
    case Intrinsic::kStatusMessage: return "statusMessage";
    case Intrinsic::kKind: return "kind";
    case Intrinsic::kChildCount: return "span:childCount";
    case Intrinsic::kParent: return "parent";
    case Intrinsic::kTraceRootService: return "rootServiceName";
    case Intrinsic::kTraceRootSpan: return "rootName";
    case Intrinsic::kTraceDuration: return "traceDuration";
    case Intrinsic::kTraceId: return "trace:id";
    case Intrinsic::kSpanId: return "span:id";
    case Intrinsic::kParentId: return "span:parentID";
    case Intrinsic::kNestedSetLeft: return "nestedSetLeft";
    case Intrinsic::kNestedSetRight: return "nestedSetRight";
    case Intrinsic::kNestedSetParent: return "nestedSetParent";
    case Intrinsic::kEventName: return "event:name";
    case Intrinsic::kEventTimeSinceStart: return "event:timeSinceStart";
    case Intrinsic::kLinkTraceId: return "link:traceID";
    case Intrinsic::kLinkSpanId: return "link:spanID";
    case Intrinsic::kInstrumentationName: return "instrumentation:name";
    case Intrinsic::kInstrumentationVersion: return "instrumentation:version";
  }
  return "none";
}

StaticType IntrinsicType(Intrinsic i) {
  switch (i) {
    case Intrinsic::kDuration: case Intrinsic::kTraceDuration:
    case Intrinsic::kEventTimeSinceStart:
      return StaticType::kDuration;
    case Intrinsic::kChildCount: case Intrinsic::kNestedSetLeft:
    case Intrinsic::kNestedSetRight: case Intrinsic::kNestedSetParent:
      return StaticType::kInt;
    case Intrinsic::kStatus: return StaticType::kStatus;
    case Intrinsic::kKind: return StaticType::kKind;
    case Intrinsic::kParent: return StaticType::kNil;
    case Intrinsic::kName: case Intrinsic::kStatusMessage: case Intrinsic::kEventName:
    case Intrinsic::kLinkTraceId: case Intrinsic::kLinkSpanId:
    case Intrinsic::kTraceRootService: case Intrinsic::kTraceRootSpan:
    case Intrinsic::kTraceId: case Intrinsic::kSpanId: case Intrinsic::kParentId:
      return StaticType::kString;
    // Tempo gives instrumentation:name/version no implied type (attribute-like).
    default:
      return StaticType::kAttribute;
  }
}

std::string Attribute::ToString() const {
  std::vector<std::string> scopes;
  if (parent) scopes.push_back("parent");
  switch (scope) {
    case AttributeScope::kSpan: scopes.push_back("span"); break;
    case AttributeScope::kResource: scopes.push_back("resource"); break;
    case AttributeScope::kEvent: scopes.push_back("event"); break;
    case AttributeScope::kLink: scopes.push_back("link"); break;
    case AttributeScope::kInstrumentation: scopes.push_back("instrumentation"); break;
    case AttributeScope::kNone: break;
  }
  std::string att = intrinsic != Intrinsic::kNone ? IntrinsicName(intrinsic) : name;
  std::string prefix = scopes.empty() ? "" : absl::StrJoin(scopes, ".") + ".";
  if (prefix.empty() && intrinsic == Intrinsic::kNone && !att.empty()) prefix = ".";
  bool quote = false;
  for (char c : att) quote = quote || !IsAttributeRuneForPrint(c) || c == '"';
  if (quote) {
    std::string q = "\"";
    for (char c : att) {
      if (c == '\\' || c == '"') q.push_back('\\');
      q.push_back(c);
    }
    att = q + "\"";
  }
  return prefix + att;
}

StaticType FieldExpr::ImpliedType() const {
  switch (kind) {
    case Kind::kStatic: return value.type;
    case Kind::kAttribute: return attr.ImpliedType();
    case Kind::kUnary:
      if (op == Op::kExists || op == Op::kNotExists) return StaticType::kBool;
      return lhs->ImpliedType();
    case Kind::kBinary: {
      if (IsBooleanOp(op)) return StaticType::kBool;
      StaticType t = lhs->ImpliedType();
      return t != StaticType::kAttribute ? t : rhs->ImpliedType();
    }
  }
  return StaticType::kNil;
}

bool FieldExpr::ReferencesSpan() const {
  switch (kind) {
    case Kind::kStatic: return false;
    case Kind::kAttribute: return true;
    case Kind::kUnary: return lhs->ReferencesSpan();
    case Kind::kBinary: return lhs->ReferencesSpan() || rhs->ReferencesSpan();
  }
  return false;
}

std::string FieldExpr::ToString() const {
  switch (kind) {
    case Kind::kStatic: return value.ToString();
    case Kind::kAttribute: return attr.ToString();
    case Kind::kUnary:
      if (op == Op::kExists) return Wrap(*lhs) + " != nil";
      if (op == Op::kNotExists) return Wrap(*lhs) + " = nil";
      return std::string(OpString(op)) + Wrap(*lhs);
    case Kind::kBinary:
      return Wrap(*lhs) + " " + OpString(op) + " " + Wrap(*rhs);
  }
  return "";
}

std::string Aggregate::ToString() const {
  static constexpr const char* kNames[] = {"count", "max", "min", "avg", "sum"};
  std::string n = kNames[static_cast<int>(op)];
  return expr ? n + "(" + expr->ToString() + ")" : n + "()";
}

StaticType ScalarExpr::ImpliedType() const {
  switch (kind) {
    case Kind::kStatic: return value.type;
    case Kind::kAggregate: return aggregate.ImpliedType();
    case Kind::kPipeline: {
      const auto& els = pipeline->elements;
      if (!els.empty() && els.back()->kind == Element::Kind::kAggregate)
        return els.back()->aggregate.ImpliedType();
      return StaticType::kSpanset;
    }
    case Kind::kBinary: {
      if (IsBooleanOp(op)) return StaticType::kBool;
      StaticType t = lhs->ImpliedType();
      return t != StaticType::kAttribute ? t : rhs->ImpliedType();
    }
  }
  return StaticType::kNil;
}

std::string ScalarExpr::ToString() const {
  switch (kind) {
    case Kind::kStatic: return value.ToString();
    case Kind::kAggregate: return aggregate.ToString();
    case Kind::kPipeline: return pipeline->ToString();
    case Kind::kBinary: return WrapScalar(*lhs) + " " + OpString(op) + " " + WrapScalar(*rhs);
  }
  return "";
}

std::string Element::ToString() const {
  switch (kind) {
    case Kind::kFilter: return "{ " + expr->ToString() + " }";
    case Kind::kSpansetOp:
      return WrapElement(*lhs) + " " + OpString(op) + " " + WrapElement(*rhs);
    case Kind::kScalarFilter:
      return WrapScalar(*scalar_lhs) + " " + OpString(op) + " " + WrapScalar(*scalar_rhs);
    case Kind::kGroup: return "by(" + expr->ToString() + ")";
    case Kind::kCoalesce: return "coalesce()";
    case Kind::kSelect: {
      std::vector<std::string> parts;
      for (const auto& a : attributes) parts.push_back(a.ToString());
      return "select(" + absl::StrJoin(parts, ", ") + ")";
    }
    case Kind::kAggregate: return aggregate.ToString();
    case Kind::kPipeline: {
      std::vector<std::string> parts;
      for (const auto& e : elements) parts.push_back(e->ToString());
      return absl::StrJoin(parts, " | ");
    }
  }
  return "";
}

const char* MetricsOpName(MetricsOp op) {
  switch (op) {
    case MetricsOp::kRate: return "rate";
    case MetricsOp::kCountOverTime: return "count_over_time";
    case MetricsOp::kMinOverTime: return "min_over_time";
    case MetricsOp::kMaxOverTime: return "max_over_time";
    case MetricsOp::kAvgOverTime: return "avg_over_time";
    case MetricsOp::kSumOverTime: return "sum_over_time";
    case MetricsOp::kQuantileOverTime: return "quantile_over_time";
    case MetricsOp::kHistogramOverTime: return "histogram_over_time";
    case MetricsOp::kCompare: return "compare";
  }
  return "?";
}

std::string MetricsFirstStage::ToString() const {
  std::string s = std::string(MetricsOpName(op)) + "(";
  if (op == MetricsOp::kCompare) {
    s += compare_filter->ToString();
    s += absl::StrCat(", ", compare_top_n);
    if (compare_start != 0 || compare_end != 0)
      s += absl::StrCat(", ", compare_start, ", ", compare_end);
  }
  if (has_attribute) s += attribute.ToString();
  if (op == MetricsOp::kQuantileOverTime) {
    for (double q : quantiles) s += ", " + FormatGoFloat(q);
  }
  s += ")";
  if (!by.empty()) {
    std::vector<std::string> parts;
    for (const auto& a : by) parts.push_back(a.ToString());
    s += " by (" + absl::StrJoin(parts, ", ") + ")";
  }
  return s;
}

std::string SecondStage::ToString() const {
  switch (kind) {
    case Kind::kTopK: return absl::StrCat("topk(", limit, ")");
    case Kind::kBottomK: return absl::StrCat("bottomk(", limit, ")");
    case Kind::kFilter: return std::string(OpString(op)) + " " + FormatGoFloat(value);
    case Kind::kScalarOp: return std::string(OpString(op)) + " " + FormatGoFloat(value);
  }
  return "";
}

std::string MetricsExpr::ToString() const {
  std::string inner;
  if (kind == Kind::kQuery) {
    inner = pipeline->ToString() + " | " + first_stage.ToString();
  } else {
    inner = absl::StrCat("(", lhs->ToString(), ") ", OpString(op), " (", rhs->ToString(), ")");
  }
  for (const auto& st : second_stages) {
    if (st.kind == SecondStage::Kind::kScalarOp) {
      std::string v = FormatGoFloat(st.value);
      inner = st.scalar_on_left ? absl::StrCat(v, " ", OpString(st.op), " (", inner, ")")
                                : absl::StrCat("(", inner, ") ", OpString(st.op), " ", v);
    } else if (st.kind == SecondStage::Kind::kFilter) {
      inner = inner + " " + st.ToString();
    } else {
      inner = inner + " | " + st.ToString();
    }
  }
  return inner;
}

const Static* RootExpr::FindHint(const std::string& name) const {
  const Static* found = nullptr;
  for (const auto& h : hints)
    if (h.name == name) found = &h.value;
  return found;
}

std::string RootExpr::ToString() const {
  std::string s = metrics ? metrics->ToString() : pipeline->ToString();
  if (!hints.empty()) {
    std::vector<std::string> parts;
    for (const auto& h : hints) parts.push_back(h.name + "=" + h.value.ToString());
    s += " with(" + absl::StrJoin(parts, ",") + ")";
  }
  return s;
}

}  // namespace otelbox::query::traceql

#pragma once
// An in-memory storage::TraceQuerier for TraceQL tests. It applies the prefilter the
// engine pushes down exactly (so a prefilter stricter than the query shows up as missing
// results), and honours whole_traces.

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "re2/re2.h"
#include "storage/trace_querier.h"

namespace otelbox::testing {

class MemoryTraceQuerier : public storage::TraceQuerier {
 public:
  void Add(const std::string& tenant, storage::Span span) {
    traces_[tenant][span.trace_id].push_back(std::move(span));
  }

  int64_t fetch_calls() const { return fetch_calls_; }
  const storage::TraceFetchRequest& last_request() const { return last_request_; }

  absl::StatusOr<std::vector<storage::Span>> FindTrace(std::string_view tenant,
                                                       const storage::TraceId& id,
                                                       uint64_t start_ns, uint64_t end_ns) override {
    auto t = traces_.find(std::string(tenant));
    if (t == traces_.end()) return std::vector<storage::Span>{};
    auto it = t->second.find(id);
    if (it == t->second.end()) return std::vector<storage::Span>{};
    std::vector<storage::Span> spans = it->second;
    std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) {
      return a.start_time_unix_nano < b.start_time_unix_nano;
    });
    bool in_range = std::any_of(spans.begin(), spans.end(), [&](const auto& s) {
      return s.start_time_unix_nano >= start_ns && s.start_time_unix_nano <= end_ns;
    });
    if (!in_range) return std::vector<storage::Span>{};
    return spans;
  }

  absl::Status FetchTraces(std::string_view tenant, const storage::TraceFetchRequest& request,
                           const storage::TraceVisitor& visit,
                           storage::TraceFetchStats* stats) override {
    ++fetch_calls_;
    last_request_ = request;
    auto t = traces_.find(std::string(tenant));
    if (t == traces_.end()) return absl::OkStatus();
    for (const auto& [id, all] : t->second) {
      std::vector<storage::Span> sorted = all;
      std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return a.start_time_unix_nano < b.start_time_unix_nano;
      });
      std::vector<storage::Span> candidates;
      for (const auto& s : sorted) {
        if (s.start_time_unix_nano < request.start_ns || s.start_time_unix_nano > request.end_ns)
          continue;
        if (stats) ++stats->inspected_spans;
        if (Candidate(s, sorted, request)) candidates.push_back(s);
      }
      if (stats) ++stats->inspected_traces;
      if (candidates.empty()) continue;
      storage::FetchedTrace ft;
      ft.trace_id = id;
      ft.spans = request.whole_traces ? sorted : std::move(candidates);
      if (!request.whole_traces) {
        // Leaves out what the request says it does not read, as the store does: an engine
        // that reads more than it asked for gets wrong answers here.
        for (auto& s : ft.spans) {
          if (!request.with_span_attributes) s.attributes.clear();
          if (!request.with_events_and_links) {
            s.events.clear();
            s.links.clear();
          }
        }
      }
      if (!visit(std::move(ft))) break;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<storage::ScopedTagNames> TagNames(std::string_view,
                                                   const storage::TagRequest&) override {
    return storage::ScopedTagNames{};
  }
  absl::StatusOr<std::vector<storage::TagValue>> TagValues(std::string_view,
                                                           const storage::TagRequest&) override {
    return std::vector<storage::TagValue>{};
  }

 private:
  static bool Candidate(const storage::Span& s, const std::vector<storage::Span>& trace,
                        const storage::TraceFetchRequest& r) {
    bool any_real = false;
    for (const auto& c : r.conditions) any_real = any_real || c.op != storage::ConditionOp::kAny;
    if (!any_real) return true;
    bool all = true, any = false;
    for (const auto& c : r.conditions) {
      if (c.op == storage::ConditionOp::kAny) continue;
      bool m = Matches(s, trace, c);
      all = all && m;
      any = any || m;
    }
    return r.all_conditions ? all : any;
  }

  static std::string Hex(const uint8_t* d, size_t n) {
    static const char* k = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < n; ++i) {
      out.push_back(k[d[i] >> 4]);
      out.push_back(k[d[i] & 15]);
    }
    return out;
  }

  // The operand compared with one value (numbers across int/double).
  static bool Compare(const storage::ConditionOperand& have, const storage::SpanCondition& c) {
    using storage::ConditionOp;
    if (c.op == ConditionOp::kExists) return !std::holds_alternative<std::monostate>(have);
    if (std::holds_alternative<std::monostate>(have)) return false;
    auto num = [](const storage::ConditionOperand& v, double* out) {
      if (auto* i = std::get_if<int64_t>(&v)) { *out = static_cast<double>(*i); return true; }
      if (auto* d = std::get_if<double>(&v)) { *out = *d; return true; }
      if (auto* d = std::get_if<storage::DurationNs>(&v)) { *out = static_cast<double>(d->ns); return true; }
      return false;
    };
    int cmp = 0;
    double a, b;
    if (num(have, &a) && num(c.operand, &b)) {
      cmp = a < b ? -1 : (a > b ? 1 : 0);
    } else if (have.index() != c.operand.index()) {
      return false;
    } else if (auto* s = std::get_if<std::string>(&have)) {
      const std::string& o = std::get<std::string>(c.operand);
      if (c.op == ConditionOp::kRegex) return RE2::FullMatch(*s, RE2(o));
      if (c.op == ConditionOp::kNotRegex) return !RE2::FullMatch(*s, RE2(o));
      cmp = s->compare(o) < 0 ? -1 : (s->compare(o) > 0 ? 1 : 0);
    } else {
      bool eq = have == c.operand;
      if (c.op == ConditionOp::kEq) return eq;
      if (c.op == ConditionOp::kNe) return !eq;
      return false;
    }
    switch (c.op) {
      case ConditionOp::kEq: return cmp == 0;
      case ConditionOp::kNe: return cmp != 0;
      case ConditionOp::kLt: return cmp < 0;
      case ConditionOp::kLe: return cmp <= 0;
      case ConditionOp::kGt: return cmp > 0;
      case ConditionOp::kGe: return cmp >= 0;
      default: return false;
    }
  }

  static storage::ConditionOperand FromAttr(const storage::AttributeValue& v) {
    if (auto* s = std::get_if<std::string>(&v.value)) return *s;
    if (auto* i = std::get_if<int64_t>(&v.value)) return *i;
    if (auto* d = std::get_if<double>(&v.value)) return *d;
    if (auto* b = std::get_if<bool>(&v.value)) return *b;
    return std::monostate{};
  }

  // Arrays: any element satisfies the condition (every element for != and !~).
  static bool ValueMatches(const storage::AttributeValue& v, const storage::SpanCondition& c) {
    if (const auto* arr = std::get_if<storage::AttributeArray>(&v.value)) {
      if (c.op == storage::ConditionOp::kExists) return true;
      bool negative = c.op == storage::ConditionOp::kNe || c.op == storage::ConditionOp::kNotRegex;
      bool any = false;
      for (const auto& el : *arr) {
        bool m = Compare(FromAttr(el), c);
        if (negative && !m) return false;
        any = any || m;
      }
      return any;
    }
    return Compare(FromAttr(v), c);
  }

  template <typename List, typename Pred>
  static bool AnyOf(const List& list, Pred pred) {
    return std::any_of(list.begin(), list.end(), pred);
  }

  static bool AnyIn(const storage::AttributeList& list, const storage::SpanCondition& c) {
    return AnyOf(list, [&](const auto& kv) { return kv.key == c.key && ValueMatches(kv.value, c); });
  }

  static bool Matches(const storage::Span& s, const std::vector<storage::Span>& trace,
                      const storage::SpanCondition& c) {
    using storage::TraceScope;
    switch (c.scope) {
      case TraceScope::kUnscoped:
        return AnyIn(s.attributes, c) || (s.resource && AnyIn(s.resource->attributes, c));
      case TraceScope::kSpan: return AnyIn(s.attributes, c);
      case TraceScope::kResource: return s.resource && AnyIn(s.resource->attributes, c);
      case TraceScope::kInstrumentation: return s.scope && AnyIn(s.scope->attributes, c);
      case TraceScope::kEvent:
        return AnyOf(s.events, [&](const auto& e) { return AnyIn(e.attributes, c); });
      case TraceScope::kLink:
        return AnyOf(s.links, [&](const auto& l) { return AnyIn(l.attributes, c); });
      case TraceScope::kIntrinsic:
        break;
    }
    using storage::Intrinsic;
    const storage::Span* root = nullptr;
    uint64_t tmin = UINT64_MAX, tmax = 0;
    for (const auto& t : trace) {
      tmin = std::min(tmin, t.start_time_unix_nano);
      tmax = std::max(tmax, t.end_time_unix_nano);
      bool zero = std::all_of(t.parent_span_id.begin(), t.parent_span_id.end(),
                              [](uint8_t b) { return b == 0; });
      if (zero && !root) root = &t;
    }
    switch (c.intrinsic) {
      case Intrinsic::kName: return Compare(s.name, c);
      case Intrinsic::kKind: return Compare(s.kind, c);
      case Intrinsic::kStatus: return Compare(s.status_code, c);
      case Intrinsic::kStatusMessage: return Compare(s.status_message, c);
      case Intrinsic::kDuration:
        return Compare(storage::DurationNs{static_cast<int64_t>(s.end_time_unix_nano - s.start_time_unix_nano)}, c);
      case Intrinsic::kTraceId: return Compare(Hex(s.trace_id.data(), 16), c);
      case Intrinsic::kSpanId: return Compare(Hex(s.span_id.data(), 8), c);
      case Intrinsic::kParentId: return Compare(Hex(s.parent_span_id.data(), 8), c);
      case Intrinsic::kTraceDuration:
        return Compare(storage::DurationNs{static_cast<int64_t>(tmax - tmin)}, c);
      case Intrinsic::kRootName: return root && Compare(root->name, c);
      case Intrinsic::kRootServiceName: {
        if (!root || !root->resource) return false;
        for (const auto& kv : root->resource->attributes)
          if (kv.key == "service.name") return Compare(FromAttr(kv.value), c);
        return false;
      }
      case Intrinsic::kEventName:
        return AnyOf(s.events, [&](const auto& e) { return Compare(e.name, c); });
      case Intrinsic::kLinkTraceId:
        return AnyOf(s.links, [&](const auto& l) { return Compare(Hex(l.trace_id.data(), 16), c); });
      case Intrinsic::kLinkSpanId:
        return AnyOf(s.links, [&](const auto& l) { return Compare(Hex(l.span_id.data(), 8), c); });
      case Intrinsic::kScopeName: return s.scope && Compare(s.scope->name, c);
      case Intrinsic::kScopeVersion: return s.scope && Compare(s.scope->version, c);
      case Intrinsic::kNone: return true;
    }
    return true;
  }

  std::map<std::string, std::map<storage::TraceId, std::vector<storage::Span>>> traces_;
  int64_t fetch_calls_ = 0;
  storage::TraceFetchRequest last_request_;
};

}  // namespace otelbox::testing

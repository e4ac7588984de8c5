#pragma once
// What a TraceQL pipeline asks of storage (Tempo's FetchSpansRequest): the prefilter
// conditions that can be pushed down, whether whole traces are needed (structural
// operators, trace-level intrinsics, child counts), and which attributes a search returns
// with each span. The prefilter only ever over-approximates: the evaluator re-checks.

#include <vector>

#include "query/traceql/ast.h"
#include "storage/trace_querier.h"

namespace otelbox::query::traceql {

struct FetchPlan {
  std::vector<storage::SpanCondition> conditions;
  bool all_conditions = true;
  bool needs_structure = false;    // parents / nested sets (TraceView structure)
  bool needs_whole_trace = false;  // every span of a trace, whatever the prefilter
  std::vector<Attribute> output_attributes;  // referenced in filters, plus select()
};

FetchPlan PlanFetch(const Element& pipeline);

// Which parts of a span reading `attributes` takes beyond its intrinsics, resource and
// scope: its attributes (span. or unscoped), its events and links.
struct SpanParts {
  bool span_attributes = false;
  bool events_and_links = false;
};
SpanParts PartsRead(const std::vector<Attribute>& attributes);

}  // namespace otelbox::query::traceql

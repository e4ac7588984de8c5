#pragma once
// The read seam for traces between query/ (TraceQL) or web/ (Tempo API) and storage/
// (STYLE.md 3.6), beside storage/querier.h (metrics). Shaped like Tempo's fetch layer:
// the engine pushes down a prefilter; storage may over-return (it skips only what it is
// certain cannot match) and the engine re-checks every condition on what it receives.
//
// Times of spans are nanoseconds since the Unix epoch (uint64, as OTLP has them). A time
// range [start_ns, end_ns] is inclusive and applies to span start times.

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/model/span.h"

namespace otelbox::storage {

inline constexpr uint64_t kMinSpanTimeNs = 0;
inline constexpr uint64_t kMaxSpanTimeNs = std::numeric_limits<uint64_t>::max();

// Where a condition looks, as TraceQL scopes attributes. kUnscoped (`.key`) matches a span
// attribute or a resource attribute of that name (Tempo's unscoped lookup).
enum class TraceScope : uint8_t {
  kUnscoped,
  kSpan,
  kResource,
  kEvent,
  kLink,
  kInstrumentation,
  kIntrinsic,
};

// TraceQL intrinsics storage can evaluate (kNone: the condition is on an attribute).
enum class Intrinsic : uint8_t {
  kNone,
  kName,              // name, span:name
  kKind,              // kind, span:kind                 operand SpanKind
  kStatus,            // status, span:status             operand StatusCode
  kStatusMessage,     // statusMessage, span:statusMessage
  kDuration,          // duration, span:duration          operand DurationNs
  kTraceId,           // trace:id, span:id, span:parentID: operand hex string
  kSpanId,
  kParentId,
  kTraceDuration,     // traceDuration, trace:duration    operand DurationNs
  kRootName,          // rootName, trace:rootName
  kRootServiceName,   // rootServiceName, trace:rootService
  kEventName,         // event:name
  kLinkTraceId,       // link:traceID
  kLinkSpanId,        // link:spanID
  kScopeName,         // instrumentation:name
  kScopeVersion,      // instrumentation:version
};

enum class ConditionOp : uint8_t {
  kAny,  // no restriction: the engine needs this column (storage ignores it when pruning)
  kExists,  // attribute present (`!= nil`)
  kEq, kNe, kLt, kLe, kGt, kGe,
  kRegex, kNotRegex,  // RE2, fully anchored as TraceQL's =~ is
};

struct DurationNs {
  int64_t ns = 0;
  bool operator==(const DurationNs&) const = default;
};

// The literal on the right of a condition. Numbers compare across int and double as
// TraceQL does (200 = 200.0).
using ConditionOperand = std::variant<std::monostate, std::string, int64_t, double, bool,
                                      DurationNs, StatusCode, SpanKind>;

struct SpanCondition {
  TraceScope scope = TraceScope::kUnscoped;
  Intrinsic intrinsic = Intrinsic::kNone;  // kNone: attribute `key` in `scope`
  std::string key;                         // attribute name (without scope prefix)
  ConditionOp op = ConditionOp::kAny;
  ConditionOperand operand;
};

struct TraceFetchRequest {
  uint64_t start_ns = kMinSpanTimeNs;
  uint64_t end_ns = kMaxSpanTimeNs;
  // Prefilter on spans whose start is in the range. all_conditions = true: a candidate
  // span satisfies every condition (TraceQL `&&` inside one spanset); false: at least one
  // (`||`, or conditions from several spansets). No conditions (or only kAny ones): every
  // span in range is a candidate.
  std::vector<SpanCondition> conditions;
  bool all_conditions = true;
  // true: each visited trace carries every span of the trace, whatever its time (what
  // structural operators and trace intrinsics need); costs one lookup per trace.
  // false: only the candidate spans (cheap; enough for span-level filters and metrics),
  // still one visit per trace (a scan buffering over ~2M candidate spans flushes early,
  // and only then may a trace be visited again).
  bool whole_traces = true;
  // With whole_traces = false: visit the traces of the head, then of each search block,
  // as each is scanned, so that a caller that stops at a limit ends the scan early. A
  // trace whose candidates lie in several blocks (or the head and a block) is then
  // visited once per block, each time with different spans.
  bool visit_per_block = false;
  // With whole_traces = false, the parts of candidate spans the caller reads (whole traces
  // always carry everything): a metrics scan of millions of spans that needs neither the
  // span attributes nor the events and links skips materialising them.
  bool with_span_attributes = true;
  bool with_events_and_links = true;
};

struct FetchedTrace {
  TraceId trace_id{};
  // whole_traces: all spans of the trace, ordered by start time; otherwise the candidate
  // spans only. Never empty.
  std::vector<Span> spans;
};

// Counters for the "metrics" member of Tempo's responses.
struct TraceFetchStats {
  int64_t inspected_traces = 0;
  int64_t inspected_spans = 0;
  int64_t inspected_bytes = 0;
  int64_t total_blocks = 0;
};

// Called once per candidate trace; return false to stop the scan (e.g. limit reached).
using TraceVisitor = std::function<bool(FetchedTrace&& trace)>;

// Typed tag values (Tempo's /api/v2/search/tag/<tag>/values "type").
enum class TagValueType : uint8_t { kString, kInt, kDouble, kBool, kDuration, kStatus, kKind };

struct TagValue {
  TagValueType type = TagValueType::kString;
  // Rendered as Tempo renders it: the string itself; ints in decimal; doubles shortest
  // round-trip; bools `true`/`false`; status `ok`/`error`/`unset`; kind `server`,
  // `client`, `producer`, `consumer`, `internal`, `unspecified`.
  std::string value;
  bool operator==(const TagValue&) const = default;
};

// Attribute names per scope (intrinsics are a fixed list the API layer adds).
struct ScopedTagNames {
  std::vector<std::string> resource;
  std::vector<std::string> span;
  std::vector<std::string> event;
  std::vector<std::string> link;
  std::vector<std::string> instrumentation;
};

struct TagRequest {
  uint64_t start_ns = kMinSpanTimeNs;
  uint64_t end_ns = kMaxSpanTimeNs;
  // Names: which scope to list (kUnscoped = all scopes). Values: the tag's scope, and
  // `intrinsic` for intrinsic tags (kName, kStatus, kKind, kStatusMessage, kRootName,
  // kRootServiceName, kEventName, kScopeName, kScopeVersion; kDuration yields nothing).
  TraceScope scope = TraceScope::kUnscoped;
  Intrinsic intrinsic = Intrinsic::kNone;
  std::string key;  // values: attribute name without scope
  // Optional filter (TraceQL `q` of the tag endpoints): only spans matching it contribute
  // names/values. Empty: answered from the tag index, without scanning spans.
  std::vector<SpanCondition> filter;
  bool all_conditions = true;
  size_t limit = 0;  // 0 = no limit
};

// Thread-safe. All calls see every span whose Append has returned.
class TraceQuerier {
 public:
  virtual ~TraceQuerier() = default;

  // Every span of the trace (deduplicated, ordered by start time), or an empty vector
  // when the trace is unknown. With a range: empty unless some span starts within it.
  virtual absl::StatusOr<std::vector<Span>> FindTrace(std::string_view tenant,
                                                      const TraceId& trace_id,
                                                      uint64_t start_ns = kMinSpanTimeNs,
                                                      uint64_t end_ns = kMaxSpanTimeNs) = 0;

  // Visits each candidate trace once, newest data first (by block, so the order is only
  // roughly by time: callers that need an exact order sort what they keep). `stats` may be
  // null.
  virtual absl::Status FetchTraces(std::string_view tenant, const TraceFetchRequest& request,
                                   const TraceVisitor& visit, TraceFetchStats* stats) = 0;

  // Sorted, unique.
  virtual absl::StatusOr<ScopedTagNames> TagNames(std::string_view tenant,
                                                  const TagRequest& request) = 0;
  // Sorted by (type, value), unique.
  virtual absl::StatusOr<std::vector<TagValue>> TagValues(std::string_view tenant,
                                                          const TagRequest& request) = 0;
};

}  // namespace otelbox::storage

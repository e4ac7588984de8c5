#pragma once
// The trace half of the internal model (DESIGN.md "Internal model"): spans keep what OTLP
// carries (resource, scope, attributes of every type, events, links, status, kind, times);
// TraceQL intrinsics are computed from them.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace otelbox::storage {

struct AttributeValue;
struct KeyValue;
using AttributeArray = std::vector<AttributeValue>;
using AttributeList = std::vector<KeyValue>;

// OTLP AnyValue. Bytes are kept apart from strings (the variant index tells them apart).
struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};
struct AttributeValue {
  // monostate: the OTLP "empty" value.
  std::variant<std::monostate, std::string, bool, int64_t, double, AttributeArray,
               AttributeList, Bytes>
      value;
  bool operator==(const AttributeValue&) const;
};
struct KeyValue {
  std::string key;
  AttributeValue value;
  bool operator==(const KeyValue&) const = default;
};
inline bool AttributeValue::operator==(const AttributeValue& o) const { return value == o.value; }

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

// OTLP numbering (Span.SpanKind, Status.StatusCode); persisted as numbers.
enum class SpanKind : uint8_t {
  kUnspecified = 0, kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5,
};
enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

struct SpanEvent {
  uint64_t time_unix_nano = 0;
  std::string name;
  AttributeList attributes;
  uint32_t dropped_attributes_count = 0;
  bool operator==(const SpanEvent&) const = default;
};

struct SpanLink {
  TraceId trace_id{};
  SpanId span_id{};
  std::string trace_state;
  AttributeList attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;
  bool operator==(const SpanLink&) const = default;
};

// Shared by the spans of one ResourceSpans / ScopeSpans (spans point at them, so a batch of
// a thousand spans from one SDK does not copy the resource a thousand times).
struct Resource {
  AttributeList attributes;
  uint32_t dropped_attributes_count = 0;
  std::string schema_url;
  bool operator==(const Resource&) const = default;
};
struct InstrumentationScope {
  std::string name;
  std::string version;
  AttributeList attributes;
  uint32_t dropped_attributes_count = 0;
  std::string schema_url;
  bool operator==(const InstrumentationScope&) const = default;
};

struct Span {
  std::shared_ptr<const Resource> resource;
  std::shared_ptr<const InstrumentationScope> scope;
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};  // all zero for a root span
  std::string trace_state;
  uint32_t flags = 0;
  std::string name;
  SpanKind kind = SpanKind::kUnspecified;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  AttributeList attributes;
  uint32_t dropped_attributes_count = 0;
  std::vector<SpanEvent> events;
  uint32_t dropped_events_count = 0;
  std::vector<SpanLink> links;
  uint32_t dropped_links_count = 0;
  StatusCode status_code = StatusCode::kUnset;
  std::string status_message;
};

// What every trace receiver (OTLP, Zipkin) produces and the trace appender consumes.
struct SpanBatch {
  std::vector<Span> spans;
};

}  // namespace otelbox::storage

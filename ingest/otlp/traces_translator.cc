#include "ingest/otlp/traces_translator.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace otelbox::ingest::otlp {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace trace = opentelemetry::proto::trace::v1;

// Nested arrays/kvlists deeper than this are cut (a hostile request must not recurse
// without end); protobuf's own parser already limits nesting to 100.
constexpr int kMaxDepth = 32;

storage::AttributeValue Convert(const common::AnyValue& v, int depth) {
  storage::AttributeValue out;
  switch (v.value_case()) {
    case common::AnyValue::kStringValue: out.value = v.string_value(); break;
    case common::AnyValue::kBoolValue: out.value = v.bool_value(); break;
    case common::AnyValue::kIntValue: out.value = static_cast<int64_t>(v.int_value()); break;
    case common::AnyValue::kDoubleValue: out.value = v.double_value(); break;
    case common::AnyValue::kArrayValue: {
      storage::AttributeArray a;
      if (depth < kMaxDepth) {
        a.reserve(v.array_value().values_size());
        for (const auto& e : v.array_value().values()) a.push_back(Convert(e, depth + 1));
      }
      out.value = std::move(a);
      break;
    }
    case common::AnyValue::kKvlistValue: {
      storage::AttributeList l;
      if (depth < kMaxDepth) {
        l.reserve(v.kvlist_value().values_size());
        for (const auto& kv : v.kvlist_value().values()) {
          l.push_back(storage::KeyValue{kv.key(), Convert(kv.value(), depth + 1)});
        }
      }
      out.value = std::move(l);
      break;
    }
    case common::AnyValue::kBytesValue: out.value = storage::Bytes{v.bytes_value()}; break;
    default: break;  // empty (or a profiles-only string index)
  }
  return out;
}

template <size_t N>
bool CopyId(const std::string& bytes, std::array<uint8_t, N>* out) {
  if (bytes.size() != N) return false;
  std::memcpy(out->data(), bytes.data(), N);
  return std::any_of(out->begin(), out->end(), [](uint8_t b) { return b != 0; });
}

}  // namespace

storage::AttributeValue ToAttributeValue(const common::AnyValue& v) { return Convert(v, 0); }

storage::AttributeList ToAttributeList(
    const google::protobuf::RepeatedPtrField<common::KeyValue>& kvs) {
  storage::AttributeList out;
  out.reserve(kvs.size());
  for (const auto& kv : kvs) out.push_back(storage::KeyValue{kv.key(), Convert(kv.value(), 0)});
  return out;
}

TracesTranslation TranslateTraces(
    const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request) {
  TracesTranslation tr;
  auto reject = [&](std::string why) {
    if (tr.rejected_spans++ == 0) tr.first_error = std::move(why);
  };
  size_t total = 0;
  for (const auto& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) total += ss.spans_size();
  }
  tr.batch.spans.reserve(total);
  for (const auto& rs : request.resource_spans()) {
    auto resource = std::make_shared<storage::Resource>();
    resource->attributes = ToAttributeList(rs.resource().attributes());
    resource->dropped_attributes_count = rs.resource().dropped_attributes_count();
    resource->schema_url = rs.schema_url();
    std::shared_ptr<const storage::Resource> shared_resource = std::move(resource);
    for (const auto& ss : rs.scope_spans()) {
      auto scope = std::make_shared<storage::InstrumentationScope>();
      scope->name = ss.scope().name();
      scope->version = ss.scope().version();
      scope->attributes = ToAttributeList(ss.scope().attributes());
      scope->dropped_attributes_count = ss.scope().dropped_attributes_count();
      scope->schema_url = ss.schema_url();
      std::shared_ptr<const storage::InstrumentationScope> shared_scope = std::move(scope);
      for (const auto& in : ss.spans()) {
        storage::Span s;
        if (!CopyId(in.trace_id(), &s.trace_id)) {
          reject(absl::StrCat("span \"", in.name(), "\" has an invalid trace id (",
                              in.trace_id().size(), " bytes; a non-zero 16-byte id is required)"));
          continue;
        }
        if (!CopyId(in.span_id(), &s.span_id)) {
          reject(absl::StrCat("span \"", in.name(), "\" has an invalid span id (",
                              in.span_id().size(), " bytes; a non-zero 8-byte id is required)"));
          continue;
        }
        if (!CopyId(in.parent_span_id(), &s.parent_span_id)) s.parent_span_id = {};
        s.resource = shared_resource;
        s.scope = shared_scope;
        s.trace_state = in.trace_state();
        s.flags = in.flags();
        s.name = in.name();
        s.kind = in.kind() >= 0 && in.kind() <= 5 ? static_cast<storage::SpanKind>(in.kind())
                                                  : storage::SpanKind::kUnspecified;
        s.start_time_unix_nano = in.start_time_unix_nano();
        s.end_time_unix_nano = in.end_time_unix_nano();
        s.attributes = ToAttributeList(in.attributes());
        s.dropped_attributes_count = in.dropped_attributes_count();
        s.events.reserve(in.events_size());
        for (const auto& e : in.events()) {
          storage::SpanEvent ev;
          ev.time_unix_nano = e.time_unix_nano();
          ev.name = e.name();
          ev.attributes = ToAttributeList(e.attributes());
          ev.dropped_attributes_count = e.dropped_attributes_count();
          s.events.push_back(std::move(ev));
        }
        s.dropped_events_count = in.dropped_events_count();
        s.links.reserve(in.links_size());
        for (const auto& l : in.links()) {
          storage::SpanLink link;
          // A link to an unparseable context is kept with zero ids rather than dropping
          // the span.
          if (!CopyId(l.trace_id(), &link.trace_id)) link.trace_id = {};
          if (!CopyId(l.span_id(), &link.span_id)) link.span_id = {};
          link.trace_state = l.trace_state();
          link.attributes = ToAttributeList(l.attributes());
          link.dropped_attributes_count = l.dropped_attributes_count();
          link.flags = l.flags();
          s.links.push_back(std::move(link));
        }
        s.dropped_links_count = in.dropped_links_count();
        const int code = in.status().code();
        s.status_code = code >= 0 && code <= 2 ? static_cast<storage::StatusCode>(code)
                                               : storage::StatusCode::kUnset;
        s.status_message = in.status().message();
        tr.batch.spans.push_back(std::move(s));
      }
    }
  }
  return tr;
}

}  // namespace otelbox::ingest::otlp

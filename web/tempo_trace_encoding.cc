#include "web/tempo_trace_encoding.h"

#include <google/protobuf/util/json_util.h>

#include <map>

#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace otelbox::web {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace tracepb = opentelemetry::proto::trace::v1;

void ToAnyValue(const storage::AttributeValue& v, common::AnyValue* out);

void ToKeyValues(const storage::AttributeList& list,
                 google::protobuf::RepeatedPtrField<common::KeyValue>* out) {
  out->Reserve(static_cast<int>(list.size()));
  for (const auto& kv : list) {
    auto* p = out->Add();
    p->set_key(kv.key);
    ToAnyValue(kv.value, p->mutable_value());
  }
}

void ToAnyValue(const storage::AttributeValue& v, common::AnyValue* out) {
  struct Visitor {
    common::AnyValue* out;
    void operator()(const std::monostate&) {}
    void operator()(const std::string& s) { out->set_string_value(s); }
    void operator()(bool b) { out->set_bool_value(b); }
    void operator()(int64_t i) { out->set_int_value(i); }
    void operator()(double d) { out->set_double_value(d); }
    void operator()(const storage::AttributeArray& a) {
      auto* arr = out->mutable_array_value();
      for (const auto& e : a) ToAnyValue(e, arr->add_values());
    }
    void operator()(const storage::AttributeList& l) {
      ToKeyValues(l, out->mutable_kvlist_value()->mutable_values());
    }
    void operator()(const storage::Bytes& b) { out->set_bytes_value(b.data); }
  };
  std::visit(Visitor{out}, v.value);
}

template <size_t N>
std::string Raw(const std::array<uint8_t, N>& id) {
  return std::string(reinterpret_cast<const char*>(id.data()), N);
}

bool IsZero(const storage::SpanId& id) {
  for (uint8_t b : id) {
    if (b) return false;
  }
  return true;
}

void ToTracesData(const std::vector<storage::Span>& spans, tracepb::TracesData* out) {
  std::map<const storage::Resource*, tracepb::ResourceSpans*> resources;
  std::map<std::pair<const storage::Resource*, const storage::InstrumentationScope*>,
           tracepb::ScopeSpans*>
      scopes;
  for (const storage::Span& s : spans) {
    const storage::Resource* res = s.resource.get();
    tracepb::ResourceSpans*& rs = resources[res];
    if (rs == nullptr) {
      rs = out->add_resource_spans();
      bool has_service = false;
      if (res != nullptr) {
        ToKeyValues(res->attributes, rs->mutable_resource()->mutable_attributes());
        rs->mutable_resource()->set_dropped_attributes_count(res->dropped_attributes_count);
        rs->set_schema_url(res->schema_url);
        for (const auto& kv : res->attributes) has_service |= kv.key == "service.name";
      }
      if (!has_service) {
        auto* kv = rs->mutable_resource()->add_attributes();
        kv->set_key("service.name");
        kv->mutable_value()->set_string_value("unknown_service");
      }
    }
    const storage::InstrumentationScope* sc = s.scope.get();
    tracepb::ScopeSpans*& ss = scopes[{res, sc}];
    if (ss == nullptr) {
      ss = rs->add_scope_spans();
      if (sc != nullptr) {
        ss->mutable_scope()->set_name(sc->name);
        ss->mutable_scope()->set_version(sc->version);
        ToKeyValues(sc->attributes, ss->mutable_scope()->mutable_attributes());
        ss->mutable_scope()->set_dropped_attributes_count(sc->dropped_attributes_count);
        ss->set_schema_url(sc->schema_url);
      }
    }
    tracepb::Span* p = ss->add_spans();
    p->set_trace_id(Raw(s.trace_id));
    p->set_span_id(Raw(s.span_id));
    if (!IsZero(s.parent_span_id)) p->set_parent_span_id(Raw(s.parent_span_id));
    p->set_trace_state(s.trace_state);
    p->set_flags(s.flags);
    p->set_name(s.name);
    p->set_kind(static_cast<tracepb::Span::SpanKind>(s.kind));
    p->set_start_time_unix_nano(s.start_time_unix_nano);
    p->set_end_time_unix_nano(s.end_time_unix_nano);
    ToKeyValues(s.attributes, p->mutable_attributes());
    p->set_dropped_attributes_count(s.dropped_attributes_count);
    for (const auto& e : s.events) {
      auto* pe = p->add_events();
      pe->set_time_unix_nano(e.time_unix_nano);
      pe->set_name(e.name);
      ToKeyValues(e.attributes, pe->mutable_attributes());
      pe->set_dropped_attributes_count(e.dropped_attributes_count);
    }
    p->set_dropped_events_count(s.dropped_events_count);
    for (const auto& l : s.links) {
      auto* pl = p->add_links();
      pl->set_trace_id(Raw(l.trace_id));
      pl->set_span_id(Raw(l.span_id));
      pl->set_trace_state(l.trace_state);
      ToKeyValues(l.attributes, pl->mutable_attributes());
      pl->set_dropped_attributes_count(l.dropped_attributes_count);
      pl->set_flags(l.flags);
    }
    p->set_dropped_links_count(s.dropped_links_count);
    if (s.status_code != storage::StatusCode::kUnset || !s.status_message.empty()) {
      p->mutable_status()->set_code(static_cast<tracepb::Status::StatusCode>(s.status_code));
      p->mutable_status()->set_message(s.status_message);
    }
  }
}

}  // namespace

std::string EncodeTraceProto(const std::vector<storage::Span>& spans) {
  tracepb::TracesData data;
  ToTracesData(spans, &data);
  return data.SerializeAsString();
}

std::string EncodeTraceByIdResponseProto(const std::vector<storage::Span>& spans) {
  // Field 1 (trace), length-delimited; status COMPLETE is the default (0) and omitted.
  std::string trace = EncodeTraceProto(spans);
  std::string out;
  out.push_back(0x0a);
  uint64_t n = trace.size();
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
  out += trace;
  return out;
}

absl::StatusOr<std::string> EncodeTraceJson(const std::vector<storage::Span>& spans) {
  tracepb::TracesData data;
  ToTracesData(spans, &data);
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  auto st = google::protobuf::util::MessageToJsonString(data, &out, opts);
  if (!st.ok()) return absl::InternalError("cannot encode the trace as JSON");
  return out;
}

absl::StatusOr<std::string> EncodeTraceByIdResponseJson(const std::vector<storage::Span>& spans) {
  auto trace = EncodeTraceJson(spans);
  if (!trace.ok()) return trace.status();
  return "{\"trace\":" + *trace + ",\"status\":\"COMPLETE\"}";
}

}  // namespace otelbox::web

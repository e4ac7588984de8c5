#include "storage/traces/span_codec.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "storage/coding.h"
#include "storage/zstd_column.h"

namespace otelbox::storage {
namespace {

// Nesting bound for arrays/kvlists: malformed input must not recurse without end.
constexpr int kMaxDepth = 32;

void PutValue(std::string* dst, const AttributeValue& v);

void PutList(std::string* dst, const AttributeList& list) {
  PutVarint64(dst, list.size());
  for (const auto& kv : list) {
    PutLengthPrefixed(dst, kv.key);
    PutValue(dst, kv.value);
  }
}

void PutValue(std::string* dst, const AttributeValue& v) {
  struct Visitor {
    std::string* dst;
    void operator()(const std::monostate&) { dst->push_back(static_cast<char>(ValueTag::kEmpty)); }
    void operator()(const std::string& s) {
      dst->push_back(static_cast<char>(ValueTag::kString));
      PutLengthPrefixed(dst, s);
    }
    void operator()(bool b) {
      dst->push_back(static_cast<char>(ValueTag::kBool));
      dst->push_back(b ? 1 : 0);
    }
    void operator()(int64_t i) {
      dst->push_back(static_cast<char>(ValueTag::kInt));
      PutVarsint64(dst, i);
    }
    void operator()(double d) {
      dst->push_back(static_cast<char>(ValueTag::kDouble));
      PutDouble(dst, d);
    }
    void operator()(const AttributeArray& a) {
      dst->push_back(static_cast<char>(ValueTag::kArray));
      PutVarint64(dst, a.size());
      for (const auto& e : a) PutValue(dst, e);
    }
    void operator()(const AttributeList& l) {
      dst->push_back(static_cast<char>(ValueTag::kKvList));
      PutList(dst, l);
    }
    void operator()(const Bytes& b) {
      dst->push_back(static_cast<char>(ValueTag::kBytes));
      PutLengthPrefixed(dst, b.data);
    }
  };
  std::visit(Visitor{dst}, v.value);
}

bool GetValue(std::string_view* in, AttributeValue* v, int depth);

bool GetList(std::string_view* in, AttributeList* list, int depth) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  list->clear();
  list->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view key;
    if (!GetLengthPrefixed(in, &key)) return false;
    KeyValue& kv = list->emplace_back();
    kv.key.assign(key);
    if (!GetValue(in, &kv.value, depth + 1)) return false;
  }
  return true;
}

bool GetValue(std::string_view* in, AttributeValue* v, int depth) {
  if (in->empty() || depth > kMaxDepth) return false;
  const auto tag = static_cast<ValueTag>((*in)[0]);
  in->remove_prefix(1);
  switch (tag) {
    case ValueTag::kEmpty: v->value = std::monostate{}; return true;
    case ValueTag::kString: {
      std::string_view s;
      if (!GetLengthPrefixed(in, &s)) return false;
      v->value = std::string(s);
      return true;
    }
    case ValueTag::kBool:
      if (in->empty()) return false;
      v->value = (*in)[0] != 0;
      in->remove_prefix(1);
      return true;
    case ValueTag::kInt: {
      int64_t i;
      if (!GetVarsint64(in, &i)) return false;
      v->value = i;
      return true;
    }
    case ValueTag::kDouble: {
      double d;
      if (!GetDouble(in, &d)) return false;
      v->value = d;
      return true;
    }
    case ValueTag::kArray: {
      uint64_t n;
      if (!GetVarint64(in, &n) || n > in->size()) return false;
      AttributeArray a(n);
      for (auto& e : a) {
        if (!GetValue(in, &e, depth + 1)) return false;
      }
      v->value = std::move(a);
      return true;
    }
    case ValueTag::kKvList: {
      AttributeList l;
      if (!GetList(in, &l, depth + 1)) return false;
      v->value = std::move(l);
      return true;
    }
    case ValueTag::kBytes: {
      std::string_view s;
      if (!GetLengthPrefixed(in, &s)) return false;
      v->value = Bytes{std::string(s)};
      return true;
    }
  }
  return false;
}

bool GetU32(std::string_view* in, uint32_t* v) {
  uint64_t u;
  if (!GetVarint64(in, &u)) return false;
  *v = static_cast<uint32_t>(u);
  return true;
}

bool GetString(std::string_view* in, std::string* s) {
  std::string_view v;
  if (!GetLengthPrefixed(in, &v)) return false;
  s->assign(v);
  return true;
}

template <size_t N>
bool GetRaw(std::string_view* in, std::array<uint8_t, N>* out) {
  if (in->size() < N) return false;
  std::memcpy(out->data(), in->data(), N);
  in->remove_prefix(N);
  return true;
}

template <size_t N>
void PutRaw(std::string* dst, const std::array<uint8_t, N>& a) {
  dst->append(reinterpret_cast<const char*>(a.data()), N);
}

}  // namespace

void PutAttributeValue(std::string* dst, const AttributeValue& v) { PutValue(dst, v); }
bool GetAttributeValue(std::string_view* in, AttributeValue* v) { return GetValue(in, v, 0); }
void PutAttributeList(std::string* dst, const AttributeList& list) { PutList(dst, list); }
bool GetAttributeList(std::string_view* in, AttributeList* list) { return GetList(in, list, 0); }

void PutSpanExtras(std::string* dst, const Span& span) {
  PutVarint64(dst, span.events.size());
  for (const auto& e : span.events) {
    PutVarint64(dst, e.time_unix_nano);
    PutLengthPrefixed(dst, e.name);
    PutList(dst, e.attributes);
    PutVarint64(dst, e.dropped_attributes_count);
  }
  PutVarint64(dst, span.dropped_events_count);
  PutVarint64(dst, span.links.size());
  for (const auto& l : span.links) {
    PutRaw(dst, l.trace_id);
    PutRaw(dst, l.span_id);
    PutLengthPrefixed(dst, l.trace_state);
    PutList(dst, l.attributes);
    PutVarint64(dst, l.dropped_attributes_count);
    PutVarint64(dst, l.flags);
  }
  PutVarint64(dst, span.dropped_links_count);
}

bool GetSpanExtras(std::string_view* in, Span* span) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  span->events.resize(n);
  for (auto& e : span->events) {
    if (!GetVarint64(in, &e.time_unix_nano) || !GetString(in, &e.name) ||
        !GetList(in, &e.attributes, 0) || !GetU32(in, &e.dropped_attributes_count)) {
      return false;
    }
  }
  if (!GetU32(in, &span->dropped_events_count)) return false;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  span->links.resize(n);
  for (auto& l : span->links) {
    if (!GetRaw(in, &l.trace_id) || !GetRaw(in, &l.span_id) || !GetString(in, &l.trace_state) ||
        !GetList(in, &l.attributes, 0) || !GetU32(in, &l.dropped_attributes_count) ||
        !GetU32(in, &l.flags)) {
      return false;
    }
  }
  return GetU32(in, &span->dropped_links_count);
}

namespace {

// Bit 63 of a group's first word (its greatest start time otherwise): the rest of the group
// is one zstd column. Groups written before compression was added lack it.
constexpr uint64_t kCompressedBit = uint64_t{1} << 63;
constexpr int kGroupZstdLevel = 1;

bool DecodeGroupBody(std::string_view in, std::vector<Span>* out);

}  // namespace

std::string EncodeSpanGroup(const std::vector<const Span*>& spans) {
  std::unordered_map<const Resource*, uint64_t> resources;
  std::unordered_map<const InstrumentationScope*, uint64_t> scopes;
  std::vector<const Resource*> resource_list;
  std::vector<const InstrumentationScope*> scope_list;
  uint64_t max_start = 0;
  for (const Span* s : spans) {
    max_start = std::max(max_start, s->start_time_unix_nano);
    if (s->resource && resources.emplace(s->resource.get(), resource_list.size()).second) {
      resource_list.push_back(s->resource.get());
    }
    if (s->scope && scopes.emplace(s->scope.get(), scope_list.size()).second) {
      scope_list.push_back(s->scope.get());
    }
  }
  thread_local std::string body;  // reused: one group per call, compressed below
  body.clear();
  std::string& out = body;
  PutVarint64(&out, resource_list.size());
  for (const Resource* r : resource_list) {
    PutList(&out, r->attributes);
    PutVarint64(&out, r->dropped_attributes_count);
    PutLengthPrefixed(&out, r->schema_url);
  }
  PutVarint64(&out, scope_list.size());
  for (const InstrumentationScope* sc : scope_list) {
    PutLengthPrefixed(&out, sc->name);
    PutLengthPrefixed(&out, sc->version);
    PutList(&out, sc->attributes);
    PutVarint64(&out, sc->dropped_attributes_count);
    PutLengthPrefixed(&out, sc->schema_url);
  }
  PutVarint64(&out, spans.size());
  for (const Span* s : spans) {
    // Index + 1; 0 means "no resource/scope".
    PutVarint64(&out, s->resource ? resources[s->resource.get()] + 1 : 0);
    PutVarint64(&out, s->scope ? scopes[s->scope.get()] + 1 : 0);
    PutRaw(&out, s->trace_id);
    PutRaw(&out, s->span_id);
    PutRaw(&out, s->parent_span_id);
    PutLengthPrefixed(&out, s->trace_state);
    PutVarint64(&out, s->flags);
    PutLengthPrefixed(&out, s->name);
    out.push_back(static_cast<char>(s->kind));
    PutVarint64(&out, s->start_time_unix_nano);
    PutVarsint64(&out, static_cast<int64_t>(s->end_time_unix_nano - s->start_time_unix_nano));
    PutList(&out, s->attributes);
    PutVarint64(&out, s->dropped_attributes_count);
    PutSpanExtras(&out, *s);
    out.push_back(static_cast<char>(s->status_code));
    PutLengthPrefixed(&out, s->status_message);
  }
  // Compressed here, on the ingest threads, rather than by RocksDB in flushes and in every
  // compaction: the `traces` family stores these bytes as they are (FORMAT.md).
  std::string group;
  group.reserve(16 + body.size() / 2);
  PutFixed64BE(&group, max_start | kCompressedBit);
  PutColumn(&group, body, kGroupZstdLevel);
  return group;
}

bool SpanGroupMaxStart(std::string_view in, uint64_t* max_start_ns) {
  if (!GetFixed64BE(&in, max_start_ns)) return false;
  *max_start_ns &= ~kCompressedBit;
  return true;
}

bool DecodeSpanGroup(std::string_view in, std::vector<Span>* out) {
  uint64_t first;
  if (!GetFixed64BE(&in, &first)) return false;
  if ((first & kCompressedBit) == 0) return DecodeGroupBody(in, out);
  std::unique_ptr<char[]> body;
  size_t size;
  if (!GetColumn(&in, &body, &size, true, true) || !in.empty()) return false;
  return DecodeGroupBody(std::string_view(body.get(), size), out);
}

namespace {

bool DecodeGroupBody(std::string_view in, std::vector<Span>* out) {
  uint64_t n;
  if (!GetVarint64(&in, &n) || n > in.size()) return false;
  std::vector<std::shared_ptr<const Resource>> resources(n);
  for (auto& r : resources) {
    auto res = std::make_shared<Resource>();
    if (!GetList(&in, &res->attributes, 0) || !GetU32(&in, &res->dropped_attributes_count) ||
        !GetString(&in, &res->schema_url)) {
      return false;
    }
    r = std::move(res);
  }
  if (!GetVarint64(&in, &n) || n > in.size()) return false;
  std::vector<std::shared_ptr<const InstrumentationScope>> scopes(n);
  for (auto& sc : scopes) {
    auto s = std::make_shared<InstrumentationScope>();
    if (!GetString(&in, &s->name) || !GetString(&in, &s->version) ||
        !GetList(&in, &s->attributes, 0) || !GetU32(&in, &s->dropped_attributes_count) ||
        !GetString(&in, &s->schema_url)) {
      return false;
    }
    sc = std::move(s);
  }
  if (!GetVarint64(&in, &n) || n > in.size()) return false;
  // Callers append many groups to one vector: let it grow geometrically.
  if (out->empty()) out->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    Span& s = out->emplace_back();
    uint64_t ri, si, start;
    int64_t dur;
    if (!GetVarint64(&in, &ri) || !GetVarint64(&in, &si) || ri > resources.size() ||
        si > scopes.size()) {
      return false;
    }
    if (ri > 0) s.resource = resources[ri - 1];
    if (si > 0) s.scope = scopes[si - 1];
    if (!GetRaw(&in, &s.trace_id) || !GetRaw(&in, &s.span_id) ||
        !GetRaw(&in, &s.parent_span_id) || !GetString(&in, &s.trace_state) ||
        !GetU32(&in, &s.flags) || !GetString(&in, &s.name) || in.empty()) {
      return false;
    }
    s.kind = static_cast<SpanKind>(in[0]);
    in.remove_prefix(1);
    if (!GetVarint64(&in, &start) || !GetVarsint64(&in, &dur)) return false;
    s.start_time_unix_nano = start;
    s.end_time_unix_nano = start + static_cast<uint64_t>(dur);
    if (!GetList(&in, &s.attributes, 0) || !GetU32(&in, &s.dropped_attributes_count) ||
        !GetSpanExtras(&in, &s) || in.empty()) {
      return false;
    }
    s.status_code = static_cast<StatusCode>(in[0]);
    in.remove_prefix(1);
    if (!GetString(&in, &s.status_message)) return false;
  }
  return true;
}

}  // namespace

}  // namespace otelbox::storage

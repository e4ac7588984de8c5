#include "storage/traces/search_block.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "storage/coding.h"
#include "storage/traces/span_codec.h"

namespace otelbox::storage {
namespace {

constexpr uint8_t kBlockVersion = 1;

// Cheaper than std::hash<string_view> (murmur, byte loop) for the many short strings a
// block hashes twice each (once to collect, once to look up the id).
struct StringViewHash {
  size_t operator()(std::string_view s) const {
    uint64_t h = s.size() * 0x9E3779B97F4A7C15ULL;
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * 0xC2B2AE3D27D4EB4FULL;
      h ^= h >> 31;
    }
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    return static_cast<size_t>(h * 0xFF51AFD7ED558CCDULL ^ (h >> 32));
  }
};

class Dictionary {
 public:
  void Reserve(size_t n) { ids_.reserve(n); }
  void Add(std::string_view s) { ids_.emplace(s, 0); }
  void AddAttrs(const AttributeList& list) {
    for (const auto& kv : list) {
      Add(kv.key);
      if (const auto* s = std::get_if<std::string>(&kv.value.value)) Add(*s);
      // TraceQL matches an array when an element matches: its strings must pass the
      // dictionary check too (the array itself stays an opaque blob in the row).
      if (const auto* a = std::get_if<AttributeArray>(&kv.value.value)) {
        for (const auto& e : *a) {
          if (const auto* s = std::get_if<std::string>(&e.value)) Add(*s);
        }
      }
    }
  }
  // Sorts and numbers the strings; returns them in id order.
  std::vector<std::string_view> Finish() {
    std::vector<std::string_view> sorted;
    sorted.reserve(ids_.size());
    for (const auto& [s, id] : ids_) sorted.push_back(s);
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) ids_[sorted[i]] = static_cast<uint32_t>(i);
    return sorted;
  }
  uint32_t Id(std::string_view s) const { return ids_.at(s); }

 private:
  std::unordered_map<std::string_view, uint32_t, StringViewHash> ids_;
};

void PutAttrs(std::string* dst, const AttributeList& list, const Dictionary& dict) {
  thread_local std::string tmp;  // reused: one encode per row
  tmp.clear();
  PutVarint64(&tmp, list.size());
  for (const auto& kv : list) {
    PutVarint64(&tmp, dict.Id(kv.key));
    const auto& v = kv.value.value;
    if (const auto* s = std::get_if<std::string>(&v)) {
      tmp.push_back(static_cast<char>(ValueTag::kString));
      PutVarint64(&tmp, dict.Id(*s));
    } else if (const auto* b = std::get_if<bool>(&v)) {
      tmp.push_back(static_cast<char>(ValueTag::kBool));
      tmp.push_back(*b ? 1 : 0);
    } else if (const auto* i = std::get_if<int64_t>(&v)) {
      tmp.push_back(static_cast<char>(ValueTag::kInt));
      PutVarsint64(&tmp, *i);
    } else if (const auto* d = std::get_if<double>(&v)) {
      tmp.push_back(static_cast<char>(ValueTag::kDouble));
      PutDouble(&tmp, *d);
    } else if (std::holds_alternative<std::monostate>(v)) {
      tmp.push_back(static_cast<char>(ValueTag::kEmpty));
    } else {
      // Arrays, kvlists, bytes: the generic encoding, opaque to the filter.
      tmp.push_back(static_cast<char>(ValueTag::kArray));
      std::string blob;
      PutAttributeValue(&blob, kv.value);
      PutLengthPrefixed(&tmp, blob);
    }
  }
  PutLengthPrefixed(dst, tmp);
}

template <size_t N>
bool GetRaw(std::string_view* in, std::array<uint8_t, N>* out) {
  if (in->size() < N) return false;
  std::memcpy(out->data(), in->data(), N);
  in->remove_prefix(N);
  return true;
}

bool GetU32(std::string_view* in, uint32_t* v) {
  uint64_t u;
  if (!GetVarint64(in, &u)) return false;
  *v = static_cast<uint32_t>(u);
  return true;
}

}  // namespace

std::string EncodeSearchBlock(const std::vector<const Span*>& spans) {
  Dictionary dict;
  dict.Reserve(spans.size() * 2 + 64);
  std::unordered_map<const Resource*, uint64_t> res_ids;
  std::unordered_map<const InstrumentationScope*, uint64_t> scope_ids;
  std::vector<const Resource*> resources;
  std::vector<const InstrumentationScope*> scopes;
  uint64_t min_start = UINT64_MAX, max_start = 0;
  for (const Span* s : spans) {
    min_start = std::min(min_start, s->start_time_unix_nano);
    max_start = std::max(max_start, s->start_time_unix_nano);
    dict.Add(s->name);
    dict.Add(s->status_message);
    dict.Add(s->trace_state);
    dict.AddAttrs(s->attributes);
    if (s->resource && res_ids.emplace(s->resource.get(), resources.size()).second) {
      resources.push_back(s->resource.get());
      dict.AddAttrs(s->resource->attributes);
      dict.Add(s->resource->schema_url);
    }
    if (s->scope && scope_ids.emplace(s->scope.get(), scopes.size()).second) {
      scopes.push_back(s->scope.get());
      dict.Add(s->scope->name);
      dict.Add(s->scope->version);
      dict.Add(s->scope->schema_url);
      dict.AddAttrs(s->scope->attributes);
    }
  }
  if (spans.empty()) min_start = 0;
  std::vector<std::string_view> strings = dict.Finish();

  std::string out;
  out.reserve(spans.size() * 200 + 1024);
  out.push_back(static_cast<char>(kBlockVersion));
  PutFixed64BE(&out, min_start);
  PutFixed64BE(&out, max_start);
  PutVarint64(&out, spans.size());
  PutVarint64(&out, strings.size());
  for (auto s : strings) PutLengthPrefixed(&out, s);
  PutVarint64(&out, resources.size());
  for (const Resource* r : resources) {
    PutAttrs(&out, r->attributes, dict);
    PutVarint64(&out, r->dropped_attributes_count);
    PutVarint64(&out, dict.Id(r->schema_url));
  }
  PutVarint64(&out, scopes.size());
  for (const InstrumentationScope* sc : scopes) {
    PutVarint64(&out, dict.Id(sc->name));
    PutVarint64(&out, dict.Id(sc->version));
    PutAttrs(&out, sc->attributes, dict);
    PutVarint64(&out, sc->dropped_attributes_count);
    PutVarint64(&out, dict.Id(sc->schema_url));
  }
  std::string extras;
  for (const Span* s : spans) {
    PutVarint64(&out, s->resource ? res_ids[s->resource.get()] + 1 : 0);
    PutVarint64(&out, s->scope ? scope_ids[s->scope.get()] + 1 : 0);
    out.append(reinterpret_cast<const char*>(s->trace_id.data()), 16);
    out.append(reinterpret_cast<const char*>(s->span_id.data()), 8);
    out.append(reinterpret_cast<const char*>(s->parent_span_id.data()), 8);
    PutVarint64(&out, s->start_time_unix_nano - min_start);
    PutVarsint64(&out, static_cast<int64_t>(s->end_time_unix_nano - s->start_time_unix_nano));
    out.push_back(static_cast<char>(s->kind));
    out.push_back(static_cast<char>(s->status_code));
    PutVarint64(&out, dict.Id(s->name));
    PutVarint64(&out, dict.Id(s->status_message));
    PutVarint64(&out, dict.Id(s->trace_state));
    PutVarint64(&out, s->flags);
    PutAttrs(&out, s->attributes, dict);
    PutVarint64(&out, s->dropped_attributes_count);
    extras.clear();
    PutSpanExtras(&extras, *s);
    PutLengthPrefixed(&out, extras);
  }
  return out;
}

bool SearchBlockReader::Str(uint64_t id, std::string_view* s) const {
  if (id >= dict_.size()) return false;
  *s = dict_[id];
  return true;
}

bool SearchBlockReader::DecodeAttrs(std::string_view* in, std::vector<AttrView>* out) const {
  out->clear();
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t key;
    if (!GetVarint64(in, &key) || in->empty()) return false;
    AttrView a;
    if (!Str(key, &a.key)) return false;
    const auto tag = static_cast<ValueTag>((*in)[0]);
    in->remove_prefix(1);
    switch (tag) {
      case ValueTag::kString: {
        uint64_t id;
        if (!GetVarint64(in, &id) || !Str(id, &a.value.s)) return false;
        a.value.type = ValueView::Type::kString;
        break;
      }
      case ValueTag::kBool:
        if (in->empty()) return false;
        a.value.type = ValueView::Type::kBool;
        a.value.b = (*in)[0] != 0;
        in->remove_prefix(1);
        break;
      case ValueTag::kInt:
        if (!GetVarsint64(in, &a.value.i)) return false;
        a.value.type = ValueView::Type::kInt;
        break;
      case ValueTag::kDouble:
        if (!GetDouble(in, &a.value.d)) return false;
        a.value.type = ValueView::Type::kDouble;
        break;
      case ValueTag::kEmpty: a.value.type = ValueView::Type::kNone; break;
      case ValueTag::kArray: {
        std::string_view blob;
        if (!GetLengthPrefixed(in, &blob)) return false;
        a.value.type = ValueView::Type::kOther;
        a.value.s = blob;
        break;
      }
      default: return false;
    }
    out->push_back(a);
  }
  return true;
}

bool SearchBlockReader::MaterializeAttrs(std::string_view in, AttributeList* out) const {
  std::vector<AttrView> views;
  if (!DecodeAttrs(&in, &views)) return false;
  out->clear();
  out->reserve(views.size());
  for (const auto& a : views) {
    KeyValue& kv = out->emplace_back();
    kv.key.assign(a.key);
    switch (a.value.type) {
      case ValueView::Type::kString: kv.value.value = std::string(a.value.s); break;
      case ValueView::Type::kBool: kv.value.value = a.value.b; break;
      case ValueView::Type::kInt: kv.value.value = a.value.i; break;
      case ValueView::Type::kDouble: kv.value.value = a.value.d; break;
      case ValueView::Type::kNone: break;
      case ValueView::Type::kOther: {
        std::string_view blob = a.value.s;
        if (!GetAttributeValue(&blob, &kv.value)) return false;
        break;
      }
    }
  }
  return true;
}

bool SearchBlockReader::Parse(std::string_view in) {
  ok_ = false;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kBlockVersion) return false;
  in.remove_prefix(1);
  uint64_t n;
  if (!GetFixed64BE(&in, &min_start_ns_) || !GetFixed64BE(&in, &max_start_ns_) ||
      !GetVarint64(&in, &n) || n > in.size()) {
    return false;
  }
  num_spans_ = n;
  if (!GetVarint64(&in, &n) || n > in.size()) return false;
  dict_.resize(n);
  for (auto& s : dict_) {
    if (!GetLengthPrefixed(&in, &s)) return false;
  }
  if (!GetVarint64(&in, &n) || n > in.size()) return false;
  resources_.resize(n);
  for (auto& r : resources_) {
    uint64_t schema;
    if (!GetLengthPrefixed(&in, &r.attrs_raw)) return false;
    std::string_view a = r.attrs_raw;
    if (!DecodeAttrs(&a, &r.attrs) || !GetU32(&in, &r.dropped) || !GetVarint64(&in, &schema) ||
        !Str(schema, &r.schema_url)) {
      return false;
    }
  }
  if (!GetVarint64(&in, &n) || n > in.size()) return false;
  scopes_.resize(n);
  for (auto& sc : scopes_) {
    uint64_t name, version, schema;
    if (!GetVarint64(&in, &name) || !Str(name, &sc.name) || !GetVarint64(&in, &version) ||
        !Str(version, &sc.version) || !GetLengthPrefixed(&in, &sc.attrs_raw)) {
      return false;
    }
    std::string_view a = sc.attrs_raw;
    if (!DecodeAttrs(&a, &sc.attrs) || !GetU32(&in, &sc.dropped) ||
        !GetVarint64(&in, &schema) || !Str(schema, &sc.schema_url)) {
      return false;
    }
  }
  resource_objs_.assign(resources_.size(), nullptr);
  scope_objs_.assign(scopes_.size(), nullptr);
  rows_ = in;
  rows_read_ = 0;
  ok_ = true;
  return true;
}

bool SearchBlockReader::ContainsString(std::string_view s) const {
  return std::binary_search(dict_.begin(), dict_.end(), s);
}

bool SearchBlockReader::Next(SpanView* view, bool with_span_attrs) {
  if (!ok_ || rows_read_ >= num_spans_) return false;
  ok_ = false;
  std::string_view& in = rows_;
  Row& r = cur_;
  SpanView& v = r.view;
  v = SpanView();
  uint64_t start_delta, name, msg;
  int64_t dur;
  if (!GetVarint64(&in, &r.resource) || !GetVarint64(&in, &r.scope) ||
      r.resource > resources_.size() || r.scope > scopes_.size() || in.size() < 32) {
    return false;
  }
  v.trace_id = reinterpret_cast<const uint8_t*>(in.data());
  v.span_id = v.trace_id + 16;
  v.parent_id = v.trace_id + 24;
  in.remove_prefix(32);
  if (!GetVarint64(&in, &start_delta) || !GetVarsint64(&in, &dur) || in.size() < 2) return false;
  v.start_ns = min_start_ns_ + start_delta;
  v.end_ns = v.start_ns + static_cast<uint64_t>(dur);
  v.kind = static_cast<SpanKind>(in[0]);
  v.status = static_cast<StatusCode>(in[1]);
  in.remove_prefix(2);
  if (!GetVarint64(&in, &name) || !Str(name, &v.name) || !GetVarint64(&in, &msg) ||
      !Str(msg, &v.status_message) || !GetVarint64(&in, &r.trace_state_id) ||
      !GetU32(&in, &r.flags) || !GetLengthPrefixed(&in, &r.attrs_raw) ||
      !GetU32(&in, &r.dropped_attrs) || !GetLengthPrefixed(&in, &r.extras_raw)) {
    return false;
  }
  if (with_span_attrs) {
    std::string_view a = r.attrs_raw;
    if (!DecodeAttrs(&a, &span_attrs_)) return false;
    v.span_attrs = &span_attrs_;
  }
  if (r.resource > 0) {
    v.resource_attrs = &resources_[r.resource - 1].attrs;
  } else {
    v.resource_attrs = &empty_attrs_;
  }
  if (r.scope > 0) {
    const ScopeView& sc = scopes_[r.scope - 1];
    v.scope_name = sc.name;
    v.scope_version = sc.version;
    v.scope_attrs = &sc.attrs;
  } else {
    v.scope_attrs = &empty_attrs_;
  }
  ++rows_read_;
  ok_ = true;
  *view = v;
  return true;
}

bool SearchBlockReader::DecodeCurrentAttrs(SpanView* view) {
  std::string_view a = cur_.attrs_raw;
  if (!DecodeAttrs(&a, &span_attrs_)) return false;
  view->span_attrs = &span_attrs_;
  return true;
}

bool SearchBlockReader::MaterializeCurrent(Span* s) {
  const Row& r = cur_;
  const SpanView& v = r.view;
  if (r.resource > 0) {
    auto& obj = resource_objs_[r.resource - 1];
    if (!obj) {
      const ResourceView& rv = resources_[r.resource - 1];
      auto res = std::make_shared<Resource>();
      if (!MaterializeAttrs(rv.attrs_raw, &res->attributes)) return false;
      res->dropped_attributes_count = rv.dropped;
      res->schema_url.assign(rv.schema_url);
      obj = std::move(res);
    }
    s->resource = obj;
  }
  if (r.scope > 0) {
    auto& obj = scope_objs_[r.scope - 1];
    if (!obj) {
      const ScopeView& sv = scopes_[r.scope - 1];
      auto sc = std::make_shared<InstrumentationScope>();
      sc->name.assign(sv.name);
      sc->version.assign(sv.version);
      if (!MaterializeAttrs(sv.attrs_raw, &sc->attributes)) return false;
      sc->dropped_attributes_count = sv.dropped;
      sc->schema_url.assign(sv.schema_url);
      obj = std::move(sc);
    }
    s->scope = obj;
  }
  std::memcpy(s->trace_id.data(), v.trace_id, 16);
  std::memcpy(s->span_id.data(), v.span_id, 8);
  std::memcpy(s->parent_span_id.data(), v.parent_id, 8);
  std::string_view ts;
  if (!Str(r.trace_state_id, &ts)) return false;
  s->trace_state.assign(ts);
  s->flags = r.flags;
  s->name.assign(v.name);
  s->kind = v.kind;
  s->start_time_unix_nano = v.start_ns;
  s->end_time_unix_nano = v.end_ns;
  if (!MaterializeAttrs(r.attrs_raw, &s->attributes)) return false;
  s->dropped_attributes_count = r.dropped_attrs;
  std::string_view extras = r.extras_raw;
  if (!GetSpanExtras(&extras, s)) return false;
  s->status_code = v.status;
  s->status_message.assign(v.status_message);
  return true;
}

}  // namespace otelbox::storage

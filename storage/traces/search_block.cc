#include "storage/traces/search_block.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "storage/coding.h"
#include "storage/zstd_column.h"
#include "storage/traces/span_codec.h"

namespace otelbox::storage {
namespace {

// Version 1: the dictionary sorted by bytes. Version 2: the dictionary in first-use order
// (one hash per string occurrence when encoding) followed by its ids in byte order.
// Version 3 (written now): as 2, with the dictionary part and the rows each a zstd column,
// so a block the dictionary rules out never has its rows decompressed and RocksDB does
// not compress blocks again when it compacts them.
constexpr uint8_t kBlockVersionSorted = 1;
constexpr uint8_t kBlockVersionUnsorted = 2;
constexpr uint8_t kBlockVersion = 3;
constexpr int kZstdLevel = 3;

// Numbers the strings of a block in first-use order.
class Dictionary {
 public:
  explicit Dictionary(size_t expected) {
    ids_.reserve(expected);
    strings_.reserve(expected);
  }
  uint32_t Id(std::string_view s) {
    auto [it, inserted] = ids_.try_emplace(s, static_cast<uint32_t>(strings_.size()));
    if (inserted) strings_.push_back(s);
    return it->second;
  }
  const std::vector<std::string_view>& strings() const { return strings_; }
  // The ids in their strings' byte order: what a reader binary-searches.
  std::vector<uint32_t> SortedIds() const {
    std::vector<uint32_t> ids(strings_.size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<uint32_t>(i);
    std::sort(ids.begin(), ids.end(),
              [&](uint32_t a, uint32_t b) { return strings_[a] < strings_[b]; });
    return ids;
  }

 private:
  absl::flat_hash_map<std::string_view, uint32_t> ids_;
  std::vector<std::string_view> strings_;
};

void PutAttrs(std::string* dst, const AttributeList& list, Dictionary* dict) {
  thread_local std::string tmp;  // reused: one encode per row
  tmp.clear();
  PutVarint64(&tmp, list.size());
  for (const auto& kv : list) {
    PutVarint64(&tmp, dict->Id(kv.key));
    const auto& v = kv.value.value;
    if (const auto* s = std::get_if<std::string>(&v)) {
      tmp.push_back(static_cast<char>(ValueTag::kString));
      PutVarint64(&tmp, dict->Id(*s));
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
      // Arrays, kvlists, bytes: the generic encoding, opaque to the filter. TraceQL matches
      // an array when an element matches: its strings must pass the dictionary check too.
      if (const auto* a = std::get_if<AttributeArray>(&v)) {
        for (const auto& e : *a) {
          if (const auto* s = std::get_if<std::string>(&e.value)) dict->Id(*s);
        }
      }
      tmp.push_back(static_cast<char>(ValueTag::kArray));
      std::string blob;
      PutAttributeValue(&blob, kv.value);
      PutLengthPrefixed(&tmp, blob);
    }
  }
  PutLengthPrefixed(dst, tmp);
}

// Gives each distinct resource (or scope) of a block one number, 1-based in encoding order:
// by pointer first (the spans of one request share one), then by encoded content (requests
// from the same SDK repeat it).
template <typename T>
class SharedParts {
 public:
  template <typename EncodeFn>
  uint64_t Id(const T* part, EncodeFn&& encode) {
    if (part == nullptr) return 0;
    auto [it, inserted] = by_pointer_.try_emplace(part, 0);
    if (!inserted) return it->second;
    scratch_.clear();
    encode(*part, &scratch_);
    auto [cit, new_content] = by_content_.try_emplace(scratch_, by_content_.size() + 1);
    if (new_content) encoded_.append(scratch_);
    return it->second = cit->second;
  }
  size_t size() const { return by_content_.size(); }
  const std::string& encoded() const { return encoded_; }

 private:
  absl::flat_hash_map<const T*, uint64_t> by_pointer_;
  absl::flat_hash_map<std::string, uint64_t> by_content_;
  std::string encoded_;
  std::string scratch_;
};

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
  Dictionary dict(spans.size() + 256);
  SharedParts<Resource> resources;
  SharedParts<InstrumentationScope> scopes;
  uint64_t min_start = spans.empty() ? 0 : UINT64_MAX, max_start = 0;
  for (const Span* s : spans) {
    min_start = std::min(min_start, s->start_time_unix_nano);
    max_start = std::max(max_start, s->start_time_unix_nano);
  }
  // Rows first (they fill the dictionary), then the block is assembled around them.
  std::string rows;
  rows.reserve(spans.size() * 128);
  std::string extras;
  for (const Span* s : spans) {
    PutVarint64(&rows, resources.Id(s->resource.get(), [&](const Resource& r, std::string* out) {
      PutAttrs(out, r.attributes, &dict);
      PutVarint64(out, r.dropped_attributes_count);
      PutVarint64(out, dict.Id(r.schema_url));
    }));
    PutVarint64(&rows, scopes.Id(s->scope.get(), [&](const InstrumentationScope& sc, std::string* out) {
      PutVarint64(out, dict.Id(sc.name));
      PutVarint64(out, dict.Id(sc.version));
      PutAttrs(out, sc.attributes, &dict);
      PutVarint64(out, sc.dropped_attributes_count);
      PutVarint64(out, dict.Id(sc.schema_url));
    }));
    rows.append(reinterpret_cast<const char*>(s->trace_id.data()), 16);
    rows.append(reinterpret_cast<const char*>(s->span_id.data()), 8);
    rows.append(reinterpret_cast<const char*>(s->parent_span_id.data()), 8);
    PutVarint64(&rows, s->start_time_unix_nano - min_start);
    PutVarsint64(&rows, static_cast<int64_t>(s->end_time_unix_nano - s->start_time_unix_nano));
    rows.push_back(static_cast<char>(s->kind));
    rows.push_back(static_cast<char>(s->status_code));
    PutVarint64(&rows, dict.Id(s->name));
    PutVarint64(&rows, dict.Id(s->status_message));
    PutVarint64(&rows, dict.Id(s->trace_state));
    PutVarint64(&rows, s->flags);
    PutAttrs(&rows, s->attributes, &dict);
    PutVarint64(&rows, s->dropped_attributes_count);
    extras.clear();
    PutSpanExtras(&extras, *s);
    PutLengthPrefixed(&rows, extras);
  }

  const auto& strings = dict.strings();
  std::string head;
  PutVarint64(&head, strings.size());
  for (auto str : strings) PutLengthPrefixed(&head, str);
  for (uint32_t id : dict.SortedIds()) PutFixed32BE(&head, id);
  PutVarint64(&head, resources.size());
  head.append(resources.encoded());
  PutVarint64(&head, scopes.size());
  head.append(scopes.encoded());

  std::string out;
  out.push_back(static_cast<char>(kBlockVersion));
  PutFixed64BE(&out, min_start);
  PutFixed64BE(&out, max_start);
  PutVarint64(&out, spans.size());
  PutColumn(&out, head, kZstdLevel);
  PutColumn(&out, rows, kZstdLevel);
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
  rows_ = {};
  rows_column_ = {};
  rows_read_ = 0;
  if (in.empty()) return false;
  const auto version = static_cast<uint8_t>(in[0]);
  if (version != kBlockVersion && version != kBlockVersionUnsorted &&
      version != kBlockVersionSorted) {
    return false;
  }
  in.remove_prefix(1);
  uint64_t n;
  if (!GetFixed64BE(&in, &min_start_ns_) || !GetFixed64BE(&in, &max_start_ns_) ||
      !GetVarint64(&in, &n)) {
    return false;
  }
  num_spans_ = n;
  if (version == kBlockVersion) {
    std::string_view head;
    if (!head_buf_.GetZstdColumn(&in, &head) || !ParseHead(&head, true) || !head.empty()) {
      return false;
    }
    rows_column_ = in;  // decompressed by the first Next
    size_t raw;
    if (!GetColumn(&in, nullptr, &raw, false, true) || !in.empty()) return false;
  } else {
    if (num_spans_ > in.size() || !ParseHead(&in, version == kBlockVersionUnsorted)) return false;
    rows_ = in;
  }
  resource_objs_.assign(resources_.size(), nullptr);
  scope_objs_.assign(scopes_.size(), nullptr);
  ok_ = true;
  return true;
}

bool SearchBlockReader::ParseHead(std::string_view* in_ptr, bool with_sorted_ids) {
  std::string_view& in = *in_ptr;
  uint64_t n;
  if (!GetVarint64(&in, &n) || n > in.size()) return false;
  dict_.resize(n);
  for (auto& s : dict_) {
    if (!GetLengthPrefixed(&in, &s)) return false;
  }
  sorted_ids_ = {};
  if (with_sorted_ids) {
    if (in.size() / 4 < n) return false;
    sorted_ids_ = in.substr(0, n * 4);
    in.remove_prefix(n * 4);
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
  return true;
}

bool SearchBlockReader::LoadRows() {
  std::string_view column = rows_column_;
  rows_column_ = {};
  return rows_buf_.GetZstdColumn(&column, &rows_);
}

bool SearchBlockReader::ContainsString(std::string_view s) const {
  if (sorted_ids_.empty()) return std::binary_search(dict_.begin(), dict_.end(), s);  // version 1
  size_t lo = 0, hi = dict_.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    std::string_view at = sorted_ids_.substr(mid * 4, 4);
    uint32_t id;
    std::string_view str;
    if (!GetFixed32BE(&at, &id) || !Str(id, &str)) return false;
    const int c = str.compare(s);
    if (c == 0) return true;
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return false;
}

bool SearchBlockReader::Next(SpanView* view, bool with_span_attrs) {
  if (!ok_ || rows_read_ >= num_spans_) return false;
  ok_ = false;
  if (!rows_column_.empty() && !LoadRows()) return false;
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

bool SearchBlockReader::MaterializeCurrent(Span* s, bool with_span_attrs, bool with_events_and_links) {
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
  if (with_span_attrs && !MaterializeAttrs(r.attrs_raw, &s->attributes)) return false;
  s->dropped_attributes_count = r.dropped_attrs;
  std::string_view extras = r.extras_raw;
  if (with_events_and_links && !GetSpanExtras(&extras, s)) return false;
  s->status_code = v.status;
  s->status_message.assign(v.status_message);
  return true;
}

}  // namespace otelbox::storage

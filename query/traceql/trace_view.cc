#include "query/traceql/trace_view.h"

#include <cstring>
#include <unordered_map>

namespace otelbox::query::traceql {
namespace {

uint64_t IdKey(const storage::SpanId& id) {
  uint64_t k;
  std::memcpy(&k, id.data(), sizeof k);
  return k;
}

bool IsZero(const storage::SpanId& id) { return IdKey(id) == 0; }

}  // namespace

const std::string* ServiceName(const storage::Span& span) {
  if (!span.resource) return nullptr;
  for (const auto& kv : span.resource->attributes) {
    if (kv.key == "service.name") {
      if (const auto* s = std::get_if<std::string>(&kv.value.value)) return s;
    }
  }
  return nullptr;
}

std::string HexId(const uint8_t* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 15];
  }
  return out;
}

TraceView::TraceView(const std::vector<storage::Span>& spans, bool structure)
    : spans_(&spans), has_structure_(structure) {
  const size_t n = spans.size();
  bool first = true;
  for (size_t i = 0; i < n; ++i) {
    const auto& s = spans[i];
    if (first || s.start_time_unix_nano < start_ns_) start_ns_ = s.start_time_unix_nano;
    if (first || s.end_time_unix_nano > end_ns_) end_ns_ = s.end_time_unix_nano;
    first = false;
    if (root_ < 0 && IsZero(s.parent_span_id)) root_ = static_cast<int32_t>(i);
  }
  if (root_ >= 0) {
    const auto& r = spans[root_];
    root_name_ = r.name;
    if (const auto* svc = ServiceName(r)) root_service_ = *svc;
  }
  if (!structure) return;

  parent_.assign(n, -1);
  child_count_.assign(n, 0);
  left_.assign(n, 0);
  right_.assign(n, 0);
  nested_parent_.assign(n, 0);
  std::unordered_map<uint64_t, int32_t> by_id;
  by_id.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) by_id.emplace(IdKey(spans[i].span_id), static_cast<int32_t>(i));
  std::vector<std::vector<int32_t>> children(n);
  std::vector<int32_t> roots;
  for (size_t i = 0; i < n; ++i) {
    const auto& s = spans[i];
    int32_t p = -1;
    if (!IsZero(s.parent_span_id)) {
      auto it = by_id.find(IdKey(s.parent_span_id));
      if (it != by_id.end() && it->second != static_cast<int32_t>(i)) p = it->second;
    }
    parent_[i] = p;
    if (p >= 0) {
      children[p].push_back(static_cast<int32_t>(i));
      ++child_count_[p];
    } else {
      roots.push_back(static_cast<int32_t>(i));
    }
  }
  // Nested sets by an iterative depth-first walk from each root, in span order.
  int32_t counter = 1;
  struct Frame {
    int32_t span;
    size_t next_child;
  };
  std::vector<Frame> stack;
  for (int32_t r : roots) {
    left_[r] = counter++;
    nested_parent_[r] = -1;
    stack.push_back({r, 0});
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next_child < children[f.span].size()) {
        int32_t c = children[f.span][f.next_child++];
        if (left_[c] != 0) continue;  // already numbered: a cycle
        left_[c] = counter++;
        nested_parent_[c] = left_[f.span];
        stack.push_back({c, 0});
      } else {
        right_[f.span] = counter++;
        stack.pop_back();
      }
    }
  }
}

}  // namespace otelbox::query::traceql

#pragma once
// Search blocks (storage/FORMAT.md "traces"): a time-ordered batch of spans of one tenant,
// with one string dictionary (every name, key and string value of the block, searchable in
// byte order) so a scan can skip a block whose dictionary lacks a required string, and
// rows that decode to SpanViews without allocating (span attributes only when the filter
// needs them).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/model/span.h"
#include "storage/traces/span_filter.h"
#include "storage/zstd_column.h"

namespace otelbox::storage {

// `spans` in any order; they should share one hour of start times (the store cuts blocks
// per hour so that a block's time range stays narrow).
std::string EncodeSearchBlock(const std::vector<const Span*>& spans);

// A parsed block. Views into the encoded bytes, which must outlive it, and into buffers it
// owns, valid until the next Parse. Not thread-safe.
class SearchBlockReader {
 public:
  // False on malformed input. Rows are decompressed by the first Next, not here.
  bool Parse(std::string_view data);

  uint64_t min_start_ns() const { return min_start_ns_; }
  uint64_t max_start_ns() const { return max_start_ns_; }
  size_t num_spans() const { return num_spans_; }
  bool ContainsString(std::string_view s) const;

  // Row cursor: Next() decodes the next row into `view` (span attributes too when
  // `with_span_attrs`); false at the end or on malformed data (then ok() is false).
  bool Next(SpanView* view, bool with_span_attrs);
  bool ok() const { return ok_; }
  // Decodes the span attributes of the row Next() returned last into `view` (for a scan
  // that first checked the cheaper conditions without them).
  bool DecodeCurrentAttrs(SpanView* view);
  // The span of the row Next() returned last; in full unless told to leave out its
  // attributes or its events and links.
  bool MaterializeCurrent(Span* span, bool with_span_attrs = true, bool with_events_and_links = true);

 private:
  // The dictionary, resources and scopes.
  bool ParseHead(std::string_view* in, bool with_sorted_ids);
  bool LoadRows();
  bool DecodeAttrs(std::string_view* in, std::vector<AttrView>* out) const;
  bool MaterializeAttrs(std::string_view in, AttributeList* out) const;
  bool Str(uint64_t id, std::string_view* s) const;

  uint64_t min_start_ns_ = 0;
  uint64_t max_start_ns_ = 0;
  size_t num_spans_ = 0;
  std::vector<std::string_view> dict_;
  // Version 2: the dictionary's ids in byte order of their strings (4 bytes BE each);
  // empty for version 1, whose dictionary itself is sorted.
  std::string_view sorted_ids_;
  struct ResourceView {
    std::string_view attrs_raw;
    std::vector<AttrView> attrs;
    uint32_t dropped = 0;
    std::string_view schema_url;
  };
  struct ScopeView {
    std::string_view name, version, attrs_raw, schema_url;
    std::vector<AttrView> attrs;
    uint32_t dropped = 0;
  };
  std::vector<ResourceView> resources_;
  std::vector<ScopeView> scopes_;
  // Materialised lazily and shared by the spans of this block.
  std::vector<std::shared_ptr<const Resource>> resource_objs_;
  std::vector<std::shared_ptr<const InstrumentationScope>> scope_objs_;

  ColumnBuffer head_buf_;  // decompressed dictionary part (version 3)
  ColumnBuffer rows_buf_;  // decompressed rows (version 3)
  std::string_view rows_column_;     // rows still compressed; empty once loaded
  std::string_view rows_;
  size_t rows_read_ = 0;
  bool ok_ = true;
  std::vector<AttrView> span_attrs_;
  std::vector<AttrView> empty_attrs_;
  // The row last returned by Next.
  struct Row {
    uint64_t resource = 0, scope = 0;
    std::string_view attrs_raw, extras_raw;
    uint64_t trace_state_id = 0;
    uint32_t flags = 0, dropped_attrs = 0;
    SpanView view;
  } cur_;
};

}  // namespace otelbox::storage

#pragma once
// One fetched trace as the evaluator sees it: the spans (not copied; the vector belongs to
// the caller and must outlive the view) plus what TraceQL derives from the whole trace —
// parent links, child counts, Tempo's nested-set numbering (left/right/parent) for the
// structural operators, the root span, the trace's start and end.

#include <cstdint>
#include <string>
#include <vector>

#include "storage/model/span.h"

namespace otelbox::query::traceql {

class TraceView {
 public:
  // `structure`: compute parents, child counts and nested sets (needed by structural
  // operators, span:childCount, nestedSet*, and the root span's intrinsics).
  TraceView(const std::vector<storage::Span>& spans, bool structure);

  const std::vector<storage::Span>& spans() const { return *spans_; }
  const storage::Span& span(uint32_t i) const { return (*spans_)[i]; }
  size_t size() const { return spans_->size(); }
  bool has_structure() const { return has_structure_; }

  // -1 when the span is a root or its parent is not in the trace.
  int32_t parent(uint32_t i) const { return parent_[i]; }
  int32_t child_count(uint32_t i) const { return child_count_[i]; }
  // Tempo's nested set: 0 when not numbered (e.g. a cycle); the root's parent is -1.
  int32_t nested_left(uint32_t i) const { return left_[i]; }
  int32_t nested_right(uint32_t i) const { return right_[i]; }
  int32_t nested_parent(uint32_t i) const { return nested_parent_[i]; }

  // The span whose parent id is all zero (first of them), or -1.
  int32_t root() const { return root_; }
  uint64_t start_ns() const { return start_ns_; }
  uint64_t end_ns() const { return end_ns_; }
  const std::string& root_service_name() const { return root_service_; }
  const std::string& root_name() const { return root_name_; }

 private:
  const std::vector<storage::Span>* spans_;
  bool has_structure_;
  std::vector<int32_t> parent_, child_count_, left_, right_, nested_parent_;
  int32_t root_ = -1;
  uint64_t start_ns_ = 0, end_ns_ = 0;
  std::string root_service_, root_name_;
};

// The value of resource attribute service.name, or "" (no copy: points into the span).
const std::string* ServiceName(const storage::Span& span);

// Lower-case hex of an id, as Tempo prints ids.
std::string HexId(const uint8_t* data, size_t size);

}  // namespace otelbox::query::traceql

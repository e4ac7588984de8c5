#pragma once
// The pushed-down prefilter of TraceQuerier::FetchTraces, evaluated on a read-only view of
// a span so that search blocks are scanned without materialising spans. Conservative: a
// condition storage cannot decide (trace-level intrinsics, events, links, mixed types)
// counts as "may match"; the TraceQL engine re-checks everything it receives.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/model/span.h"
#include "storage/trace_querier.h"

namespace re2 {
class RE2;
}

namespace otelbox::storage {

struct ValueView {
  enum class Type : uint8_t { kNone, kString, kInt, kDouble, kBool, kOther };
  Type type = Type::kNone;
  std::string_view s;
  int64_t i = 0;
  double d = 0;
  bool b = false;
};
ValueView ViewOf(const AttributeValue& v);

struct AttrView {
  std::string_view key;
  ValueView value;
};

// Views into storage owned by the caller (a decoded block, or a Span).
struct SpanView {
  const uint8_t* trace_id = nullptr;  // 16 bytes
  const uint8_t* span_id = nullptr;   // 8 bytes
  const uint8_t* parent_id = nullptr; // 8 bytes
  std::string_view name;
  std::string_view status_message;
  SpanKind kind = SpanKind::kUnspecified;
  StatusCode status = StatusCode::kUnset;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  const std::vector<AttrView>* span_attrs = nullptr;  // null: not decoded (not needed)
  const std::vector<AttrView>* resource_attrs = nullptr;
  std::string_view scope_name;
  std::string_view scope_version;
  const std::vector<AttrView>* scope_attrs = nullptr;
};

// Fills `attrs` (reused buffer) and returns a view of `span`.
SpanView ViewOfSpan(const Span& span, std::vector<AttrView>* span_attrs,
                    std::vector<AttrView>* resource_attrs, std::vector<AttrView>* scope_attrs);

class SpanFilter {
 public:
  // InvalidArgument for a bad regex.
  static absl::StatusOr<std::shared_ptr<const SpanFilter>> Compile(
      const std::vector<SpanCondition>& conditions, bool all_conditions);

  // True when every span passes (no effective condition).
  bool passes_all() const { return passes_all_; }
  // Whether Matches reads SpanView::span_attrs.
  bool needs_span_attrs() const { return needs_span_attrs_; }
  // Strings each of which must occur in a block (as a key or a value) for any span of it
  // to match (AND mode only): lets a scan skip blocks by their dictionary.
  const std::vector<std::string>& required_strings() const { return required_strings_; }

  bool Matches(const SpanView& span) const;

 private:
  enum class Result : uint8_t { kFalse, kTrue, kUnknown };
  struct Compiled {
    SpanCondition cond;
    std::shared_ptr<re2::RE2> regex;
    std::string id_hex;  // normalised operand for id intrinsics
  };
  Result Eval(const Compiled& c, const SpanView& span) const;
  static Result EvalValue(const Compiled& c, const ValueView& v);
  static Result EvalAttr(const Compiled& c, const std::vector<AttrView>* attrs);

  std::vector<Compiled> conditions_;
  bool all_ = true;
  bool passes_all_ = true;
  bool needs_span_attrs_ = false;
  std::vector<std::string> required_strings_;
};

}  // namespace otelbox::storage

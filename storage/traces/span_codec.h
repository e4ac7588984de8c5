#pragma once
// Binary encoding of spans (storage/FORMAT.md "traces"): attribute values and span groups.
// A span group is the spans of one trace from one Append, with their resources and scopes
// written once; it is the value of a `traces` row and of the in-memory head.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/model/span.h"

namespace otelbox::storage {

// Persisted attribute value tags; never renumbered.
enum class ValueTag : uint8_t {
  kEmpty = 0, kString = 1, kBool = 2, kInt = 3, kDouble = 4, kArray = 5, kKvList = 6,
  kBytes = 7,
};

void PutAttributeValue(std::string* dst, const AttributeValue& v);
bool GetAttributeValue(std::string_view* in, AttributeValue* v);
// varint count, then (length-prefixed key, value) pairs.
void PutAttributeList(std::string* dst, const AttributeList& list);
bool GetAttributeList(std::string_view* in, AttributeList* list);

// Events, dropped events count, links, dropped links count (the rarely filtered part of a
// span, kept as one blob in search blocks).
void PutSpanExtras(std::string* dst, const Span& span);
bool GetSpanExtras(std::string_view* in, Span* span);

// Encodes `spans` (any number, any traces) as one group, zstd-compressed. Resources and
// scopes shared by pointer are written once.
std::string EncodeSpanGroup(const std::vector<const Span*>& spans);
// Appends the decoded spans to `out` (compressed groups and the uncompressed ones written
// before). False on malformed input.
bool DecodeSpanGroup(std::string_view in, std::vector<Span>* out);
// The greatest span start time of a group (from its first 8 bytes), for retention.
bool SpanGroupMaxStart(std::string_view in, uint64_t* max_start_ns);

}  // namespace otelbox::storage

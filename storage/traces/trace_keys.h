#pragma once
// Key layouts of the trace column families (storage/FORMAT.md "traces").
//   traces:      lp(tenant) | trace_id(16) | seq(8 BE)            -> span group
//   span_search: 'T' | lp(tenant) | min_start_ns(8 BE) | seq(8 BE) -> search block
//                'H' | seq(8 BE)                                   -> head-log record
//   trace_tags:  lp(tenant) | day(4 BE) | scope(1) | lp(key) | type(1) | value -> ""
// `seq` is the store's append sequence (unique, increasing; starts at the wall clock in ns).

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/model/span.h"

namespace otelbox::storage {

inline constexpr uint64_t kNsPerHour = 3600ULL * 1000 * 1000 * 1000;
inline constexpr uint64_t kNsPerDay = 24 * kNsPerHour;
inline constexpr char kSearchBlockTag = 'T';
inline constexpr char kSpanHeadLogTag = 'H';

std::string TraceKeyPrefix(std::string_view tenant, const TraceId& trace_id);
std::string TraceKey(std::string_view tenant, const TraceId& trace_id, uint64_t seq);
// Parses the tenant, trace id and seq of a `traces` key.
bool ParseTraceKey(std::string_view key, std::string_view* tenant, TraceId* trace_id,
                   uint64_t* seq);

std::string SearchBlockPrefix(std::string_view tenant);
std::string SearchBlockKey(std::string_view tenant, uint64_t min_start_ns, uint64_t seq);
// False for keys that are not search blocks (head-log records) or malformed.
bool ParseSearchBlockKey(std::string_view key, std::string_view* tenant,
                         uint64_t* min_start_ns, uint64_t* seq);
std::string SpanHeadLogKey(uint64_t seq);
bool ParseSpanHeadLogKey(std::string_view key, uint64_t* seq);

// Persisted scope bytes of trace_tags; never renumbered.
enum class TagScopeByte : char {
  kResource = 'r', kSpan = 's', kEvent = 'e', kLink = 'l', kInstrumentation = 'i',
  kIntrinsic = 'I',
};
std::string TagDayPrefix(std::string_view tenant, uint32_t day);
std::string TagScopePrefix(std::string_view tenant, uint32_t day, TagScopeByte scope);
std::string TagNamePrefix(std::string_view tenant, uint32_t day, TagScopeByte scope,
                          std::string_view name);
// `type` 0 marks a name without a stored value (values of other types or over limits).
std::string TagKey(std::string_view tenant, uint32_t day, TagScopeByte scope,
                   std::string_view name, uint8_t type, std::string_view value);
// Parses the parts after the tenant; `rest` must start at the day.
bool ParseTagKey(std::string_view key, uint32_t* day, TagScopeByte* scope,
                 std::string_view* name, uint8_t* type, std::string_view* value);

}  // namespace otelbox::storage

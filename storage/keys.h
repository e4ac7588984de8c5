#pragma once
// Key layouts of every column family (storage/FORMAT.md is the reference). All keys of
// tenant data start with the length-prefixed tenant id, so tenants are isolated by prefix.

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/model/labels.h"

namespace otelbox::storage {

inline constexpr int64_t kChunkWindowMs = 2LL * 3600 * 1000;  // samples per chunk key
inline constexpr int64_t kDayMs = 24LL * 3600 * 1000;         // postings partition

// Floor division, correct for negative times.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
inline int64_t ChunkWindowStart(int64_t t_ms) { return FloorDiv(t_ms, kChunkWindowMs) * kChunkWindowMs; }
inline int64_t DayOf(int64_t t_ms) { return FloorDiv(t_ms, kDayMs); }

// --- meta: one record-type byte, then the record's own layout. Values never renumbered.
enum class MetaRecord : uint8_t {
  kFormatVersion = 1,   // value: fixed32 BE version
  kSeriesIdLimit = 2,   // value: fixed64 BE, every allocated series id is below it
  kMetadata = 3,        // key: type | tenant | family; value: see EncodeMetadata
  kLogStreamIdLimit = 4,  // value: fixed64 BE, every allocated log stream id is below it
};
std::string MetaKey(MetaRecord record);
std::string MetadataPrefix(std::string_view tenant);
std::string MetadataKey(std::string_view tenant, std::string_view family);

// lp(tenant)
std::string TenantPrefix(std::string_view tenant);

// --- series: tenant | labels  -> fixed64 BE series id
std::string SeriesKey(std::string_view tenant, const Labels& labels);

// --- series_by_id: tenant | id -> labels
std::string SeriesByIdKey(std::string_view tenant, uint64_t id);

// --- postings: tenant | day | name | value | id -> ""
std::string PostingsDayPrefix(std::string_view tenant, int64_t day);
std::string PostingsNamePrefix(std::string_view tenant, int64_t day, std::string_view name);
std::string PostingsValuePrefix(std::string_view tenant, int64_t day, std::string_view name,
                                std::string_view value);
std::string PostingKey(std::string_view tenant, int64_t day, std::string_view name,
                       std::string_view value, uint64_t id);
struct PostingKeyParts {
  std::string_view tenant;
  int64_t day = 0;
  std::string_view name;
  std::string_view value;
  uint64_t id = 0;
};
// Returns false for a malformed key. A key prefix parses as far as it goes: `depth`
// receives how many components (tenant=1, day=2, name=3, value=4, id=5) were present.
bool ParsePostingKey(std::string_view key, PostingKeyParts* parts, int* depth = nullptr);

// --- chunks: tenant | id | window_start -> chunk (XOR or decimal)
std::string ChunkSeriesPrefix(std::string_view tenant, uint64_t id);
std::string ChunkKey(std::string_view tenant, uint64_t id, int64_t window_start_ms);
bool ParseChunkKey(std::string_view key, std::string_view* tenant, uint64_t* id,
                   int64_t* window_start_ms);

// --- exemplars: tenant | id | t_ms -> labels, value
std::string ExemplarKey(std::string_view tenant, uint64_t id, int64_t t_ms);
bool ParseExemplarKey(std::string_view key, std::string_view* tenant, uint64_t* id,
                      int64_t* t_ms);

}  // namespace otelbox::storage

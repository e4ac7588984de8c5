#pragma once
// Key layouts of the log families `log_blocks` and `log_head` (storage/FORMAT.md "Logs").
// Stream identity and postings use the shared label index keys (storage/keys.h).

#include <cstdint>
#include <string>
#include <string_view>

namespace otelbox::storage {

// A block never spans a window boundary, so a scan starting at t finds every block that
// can hold entries >= t by seeking to the block-index row of floor(t / window).
inline constexpr int64_t kLogBlockWindowNs = 3600LL * 1'000'000'000;
inline constexpr int64_t kNsPerDay = 86400LL * 1'000'000'000;
int64_t LogBlockWindowStart(int64_t t_ns);
// UTC day of a ns timestamp (the postings partition, same days as metrics).
int64_t LogDayOf(int64_t t_ns);

// `log_blocks` rows, after lp(tenant): one kind byte (persisted, never renumbered).
enum class LogBlockRowKind : uint8_t {
  kIndex = 0,  // small summary, read to plan a scan
  kData = 1,   // the compressed block
};

// lp(tenant) kind be64(stream_id)
std::string LogBlockStreamPrefix(std::string_view tenant, LogBlockRowKind kind, uint64_t stream_id);
// lp(tenant) kind be64(stream_id) ord64(min_t_ns) be64(block_seq)
std::string LogBlockKey(std::string_view tenant, LogBlockRowKind kind, uint64_t stream_id,
                        int64_t min_t_ns, uint64_t block_seq);
struct LogBlockKeyParts {
  std::string_view tenant;
  LogBlockRowKind kind = LogBlockRowKind::kIndex;
  uint64_t stream_id = 0;
  int64_t min_t_ns = 0;
  uint64_t block_seq = 0;
};
bool ParseLogBlockKey(std::string_view key, LogBlockKeyParts* parts);

// `log_head` rows: one kind byte first (this family has no tenant prefix: records carry
// their tenant inside, like `head_log`).
enum class LogHeadRowKind : uint8_t {
  kRecord = 0,     // be64(sequence) -> entries of one Append
  kWatermark = 1,  // be64(stream_id) -> be64(sequence): records <= it are flushed for it
};
std::string LogHeadRecordKey(uint64_t seq);
std::string LogHeadWatermarkKey(uint64_t stream_id);

}  // namespace otelbox::storage

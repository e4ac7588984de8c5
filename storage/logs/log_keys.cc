#include "storage/logs/log_keys.h"

#include "storage/coding.h"
#include "storage/keys.h"

namespace otelbox::storage {

int64_t LogBlockWindowStart(int64_t t_ns) { return FloorDiv(t_ns, kLogBlockWindowNs) * kLogBlockWindowNs; }
int64_t LogDayOf(int64_t t_ns) { return FloorDiv(t_ns, kNsPerDay); }

std::string LogBlockStreamPrefix(std::string_view tenant, LogBlockRowKind kind, uint64_t stream_id) {
  std::string k = TenantPrefix(tenant);
  k.push_back(static_cast<char>(kind));
  PutFixed64BE(&k, stream_id);
  return k;
}

std::string LogBlockKey(std::string_view tenant, LogBlockRowKind kind, uint64_t stream_id,
                        int64_t min_t_ns, uint64_t block_seq) {
  std::string k = LogBlockStreamPrefix(tenant, kind, stream_id);
  PutOrderedInt64(&k, min_t_ns);
  PutFixed64BE(&k, block_seq);
  return k;
}

bool ParseLogBlockKey(std::string_view key, LogBlockKeyParts* parts) {
  if (!GetLengthPrefixed(&key, &parts->tenant) || key.empty()) return false;
  uint8_t kind = static_cast<uint8_t>(key[0]);
  if (kind > 1) return false;
  parts->kind = static_cast<LogBlockRowKind>(kind);
  key.remove_prefix(1);
  return GetFixed64BE(&key, &parts->stream_id) && GetOrderedInt64(&key, &parts->min_t_ns) &&
         GetFixed64BE(&key, &parts->block_seq) && key.empty();
}

std::string LogHeadRecordKey(uint64_t seq) {
  std::string k(1, static_cast<char>(LogHeadRowKind::kRecord));
  PutFixed64BE(&k, seq);
  return k;
}

std::string LogHeadWatermarkKey(uint64_t stream_id) {
  std::string k(1, static_cast<char>(LogHeadRowKind::kWatermark));
  PutFixed64BE(&k, stream_id);
  return k;
}

}  // namespace otelbox::storage

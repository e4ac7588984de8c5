#include "storage/keys.h"

#include "storage/coding.h"

namespace otelbox::storage {

std::string MetaKey(MetaRecord record) { return std::string(1, static_cast<char>(record)); }

std::string MetadataPrefix(std::string_view tenant) {
  std::string k = MetaKey(MetaRecord::kMetadata);
  PutLengthPrefixed(&k, tenant);
  return k;
}

std::string MetadataKey(std::string_view tenant, std::string_view family) {
  std::string k = MetadataPrefix(tenant);
  k.append(family);
  return k;
}

std::string TenantPrefix(std::string_view tenant) {
  std::string k;
  PutLengthPrefixed(&k, tenant);
  return k;
}

std::string SeriesKey(std::string_view tenant, const Labels& labels) {
  std::string k = TenantPrefix(tenant);
  PutLabels(&k, labels);
  return k;
}

std::string SeriesByIdKey(std::string_view tenant, uint64_t id) {
  std::string k = TenantPrefix(tenant);
  PutFixed64BE(&k, id);
  return k;
}

std::string PostingsDayPrefix(std::string_view tenant, int64_t day) {
  std::string k = TenantPrefix(tenant);
  PutOrderedInt64(&k, day);
  return k;
}

std::string PostingsNamePrefix(std::string_view tenant, int64_t day, std::string_view name) {
  std::string k = PostingsDayPrefix(tenant, day);
  PutLengthPrefixed(&k, name);
  return k;
}

std::string PostingsValuePrefix(std::string_view tenant, int64_t day, std::string_view name,
                                std::string_view value) {
  std::string k = PostingsNamePrefix(tenant, day, name);
  PutLengthPrefixed(&k, value);
  return k;
}

std::string PostingKey(std::string_view tenant, int64_t day, std::string_view name,
                       std::string_view value, uint64_t id) {
  std::string k = PostingsValuePrefix(tenant, day, name, value);
  PutFixed64BE(&k, id);
  return k;
}

bool ParsePostingKey(std::string_view key, PostingKeyParts* parts, int* depth) {
  int d = 0;
  auto done = [&](bool ok) {
    if (depth) *depth = d;
    return ok;
  };
  if (!GetLengthPrefixed(&key, &parts->tenant)) return done(false);
  d = 1;
  if (key.empty()) return done(true);
  if (!GetOrderedInt64(&key, &parts->day)) return done(false);
  d = 2;
  if (key.empty()) return done(true);
  if (!GetLengthPrefixed(&key, &parts->name)) return done(false);
  d = 3;
  if (key.empty()) return done(true);
  if (!GetLengthPrefixed(&key, &parts->value)) return done(false);
  d = 4;
  if (key.empty()) return done(true);
  if (!GetFixed64BE(&key, &parts->id) || !key.empty()) return done(false);
  d = 5;
  return done(true);
}

std::string ChunkSeriesPrefix(std::string_view tenant, uint64_t id) {
  return SeriesByIdKey(tenant, id);
}

std::string ChunkKey(std::string_view tenant, uint64_t id, int64_t window_start_ms) {
  std::string k = ChunkSeriesPrefix(tenant, id);
  PutOrderedInt64(&k, window_start_ms);
  return k;
}

bool ParseChunkKey(std::string_view key, std::string_view* tenant, uint64_t* id,
                   int64_t* window_start_ms) {
  return GetLengthPrefixed(&key, tenant) && GetFixed64BE(&key, id) &&
         GetOrderedInt64(&key, window_start_ms) && key.empty();
}

std::string ExemplarKey(std::string_view tenant, uint64_t id, int64_t t_ms) {
  return ChunkKey(tenant, id, t_ms);
}

bool ParseExemplarKey(std::string_view key, std::string_view* tenant, uint64_t* id,
                      int64_t* t_ms) {
  return ParseChunkKey(key, tenant, id, t_ms);
}

}  // namespace otelbox::storage

#include "storage/traces/trace_keys.h"

#include <cstring>

#include "storage/coding.h"

namespace otelbox::storage {

std::string TraceKeyPrefix(std::string_view tenant, const TraceId& trace_id) {
  std::string k;
  PutLengthPrefixed(&k, tenant);
  k.append(reinterpret_cast<const char*>(trace_id.data()), trace_id.size());
  return k;
}

std::string TraceKey(std::string_view tenant, const TraceId& trace_id, uint64_t seq) {
  std::string k = TraceKeyPrefix(tenant, trace_id);
  PutFixed64BE(&k, seq);
  return k;
}

bool ParseTraceKey(std::string_view key, std::string_view* tenant, TraceId* trace_id,
                   uint64_t* seq) {
  if (!GetLengthPrefixed(&key, tenant) || key.size() != 24) return false;
  std::memcpy(trace_id->data(), key.data(), 16);
  key.remove_prefix(16);
  return GetFixed64BE(&key, seq);
}

std::string SearchBlockPrefix(std::string_view tenant) {
  std::string k(1, kSearchBlockTag);
  PutLengthPrefixed(&k, tenant);
  return k;
}

std::string SearchBlockKey(std::string_view tenant, uint64_t min_start_ns, uint64_t seq) {
  std::string k = SearchBlockPrefix(tenant);
  PutFixed64BE(&k, min_start_ns);
  PutFixed64BE(&k, seq);
  return k;
}

bool ParseSearchBlockKey(std::string_view key, std::string_view* tenant,
                         uint64_t* min_start_ns, uint64_t* seq) {
  if (key.empty() || key[0] != kSearchBlockTag) return false;
  key.remove_prefix(1);
  return GetLengthPrefixed(&key, tenant) && GetFixed64BE(&key, min_start_ns) &&
         GetFixed64BE(&key, seq) && key.empty();
}

std::string SpanHeadLogKey(uint64_t seq) {
  std::string k(1, kSpanHeadLogTag);
  PutFixed64BE(&k, seq);
  return k;
}

bool ParseSpanHeadLogKey(std::string_view key, uint64_t* seq) {
  if (key.size() != 9 || key[0] != kSpanHeadLogTag) return false;
  key.remove_prefix(1);
  return GetFixed64BE(&key, seq);
}

std::string TagDayPrefix(std::string_view tenant, uint32_t day) {
  std::string k;
  PutLengthPrefixed(&k, tenant);
  PutFixed32BE(&k, day);
  return k;
}

std::string TagScopePrefix(std::string_view tenant, uint32_t day, TagScopeByte scope) {
  std::string k = TagDayPrefix(tenant, day);
  k.push_back(static_cast<char>(scope));
  return k;
}

std::string TagNamePrefix(std::string_view tenant, uint32_t day, TagScopeByte scope,
                          std::string_view name) {
  std::string k = TagScopePrefix(tenant, day, scope);
  PutLengthPrefixed(&k, name);
  return k;
}

std::string TagKey(std::string_view tenant, uint32_t day, TagScopeByte scope,
                   std::string_view name, uint8_t type, std::string_view value) {
  std::string k = TagNamePrefix(tenant, day, scope, name);
  k.push_back(static_cast<char>(type));
  k.append(value);
  return k;
}

bool ParseTagKey(std::string_view key, uint32_t* day, TagScopeByte* scope,
                 std::string_view* name, uint8_t* type, std::string_view* value) {
  std::string_view tenant;
  if (!GetLengthPrefixed(&key, &tenant) || !GetFixed32BE(&key, day) || key.empty()) {
    return false;
  }
  *scope = static_cast<TagScopeByte>(key[0]);
  key.remove_prefix(1);
  if (!GetLengthPrefixed(&key, name) || key.empty()) return false;
  *type = static_cast<uint8_t>(key[0]);
  key.remove_prefix(1);
  *value = key;
  return true;
}

}  // namespace otelbox::storage

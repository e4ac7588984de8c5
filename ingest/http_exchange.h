#pragma once
// Transport-neutral view of an HTTP ingest request and its reply, so that ingest/ decodes
// bytes and headers without linking Beast (STYLE.md 3.1). web/ adapts these to Beast.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otelbox::ingest {

struct IngestRequest {
  std::string_view tenant;            // from X-Scope-OrgID, or storage::kDefaultTenant
  std::string_view content_type;      // raw header value, parameters included
  std::string_view content_encoding;  // "", "gzip", "snappy", ...
  std::string_view body;              // as received (still compressed)
};

struct IngestReply {
  int status = 200;
  std::string content_type;  // empty when body is empty
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Retry-After
};

struct IngestLimits {
  // OTLP recommends 64 MiB; applied to the body before and after decompression (413 over).
  size_t max_body_bytes = 64 << 20;
  // Budget of request bytes being decoded and written at once (0: unlimited). A request is
  // charged kAdmissionBytesPerBodyByte times its body size: decoded protobuf, translated
  // series and the storage batch take several times the wire size in memory.
  size_t max_inflight_bytes = size_t{512} << 20;
};
inline constexpr size_t kAdmissionBytesPerBodyByte = 8;

}  // namespace otelbox::ingest

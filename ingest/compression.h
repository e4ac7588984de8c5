#pragma once
// Body decompression for ingest: gzip/zlib (OTLP/HTTP Content-Encoding) and snappy block
// format (Prometheus remote_write). Every decoder enforces a decompressed-size limit while
// decoding, so a small "compression bomb" cannot allocate more than the limit.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace otelbox::ingest {

// Inflates a gzip (RFC 1952) or zlib (RFC 1950) stream; the header decides which.
// ResourceExhausted when the output would exceed `max_bytes`, InvalidArgument for corrupt
// or truncated input.
absl::StatusOr<std::string> InflateGzip(std::string_view compressed, size_t max_bytes);

// Snappy block format (not the framed format), as remote_write uses. The length stored in
// the header is checked against `max_bytes` before anything is allocated.
// ResourceExhausted over the limit, InvalidArgument for corrupt input.
absl::StatusOr<std::string> SnappyUncompress(std::string_view compressed, size_t max_bytes);

// Decodes an HTTP body according to its Content-Encoding header value ("", "identity",
// "gzip", "x-gzip", "deflate"; case-insensitive). Unimplemented for other encodings.
// An identity body larger than `max_bytes` is ResourceExhausted as well.
absl::StatusOr<std::string> DecodeHttpContentEncoding(std::string_view content_encoding,
                                                      std::string_view body, size_t max_bytes);

}  // namespace otelbox::ingest

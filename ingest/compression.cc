#include "ingest/compression.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ingest/string_util.h"
#include "snappy.h"

namespace otelbox::ingest {

absl::StatusOr<std::string> InflateGzip(std::string_view compressed, size_t max_bytes) {
  z_stream zs{};
  // 15 window bits + 32: detect a gzip or zlib header automatically.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    return absl::InternalError("inflateInit2 failed");
  }
  struct Closer {
    z_stream* zs;
    ~Closer() { inflateEnd(zs); }
  } closer{&zs};

  std::string out;
  // Feed input in uInt-sized pieces (bodies are bounded anyway, this only keeps the
  // conversion honest on 64-bit).
  const char* next_in = compressed.data();
  size_t remaining_in = compressed.size();
  constexpr size_t kChunk = 64 << 10;
  int rc = Z_OK;
  while (true) {
    if (zs.avail_in == 0 && remaining_in > 0) {
      const size_t take = std::min<size_t>(remaining_in, UINT_MAX);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(next_in));
      zs.avail_in = static_cast<uInt>(take);
      next_in += take;
      remaining_in -= take;
    }
    // Never grow past max_bytes + 1: one byte over is enough to know we are over.
    const size_t room = max_bytes + 1 - out.size();
    const size_t grow = std::min(kChunk, room);
    const size_t old_size = out.size();
    out.resize(old_size + grow);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + old_size);
    zs.avail_out = static_cast<uInt>(grow);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(old_size + (grow - zs.avail_out));
    if (out.size() > max_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("decompressed body exceeds the limit of ", max_bytes, " bytes"));
    }
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && remaining_in == 0) {
      return absl::InvalidArgumentError("gzip: unexpected end of compressed data");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return absl::InvalidArgumentError(
          absl::StrCat("gzip: ", zs.msg != nullptr ? zs.msg : "corrupt compressed data"));
    }
  }
  return out;
}

absl::StatusOr<std::string> SnappyUncompress(std::string_view compressed, size_t max_bytes) {
  size_t length = 0;
  if (!snappy::GetUncompressedLength(compressed.data(), compressed.size(), &length)) {
    return absl::InvalidArgumentError("snappy: corrupt input");
  }
  if (length > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("decompressed body of ", length,
                                                     " bytes exceeds the limit of ", max_bytes,
                                                     " bytes"));
  }
  std::string out;
  if (!snappy::Uncompress(compressed.data(), compressed.size(), &out)) {
    return absl::InvalidArgumentError("snappy: corrupt input");
  }
  return out;
}

absl::StatusOr<std::string> DecodeHttpContentEncoding(std::string_view content_encoding,
                                                      std::string_view body, size_t max_bytes) {
  const std::string enc = absl::AsciiStrToLower(absl::StripAsciiWhitespace(AbslView(content_encoding)));
  if (enc.empty() || enc == "identity") {
    if (body.size() > max_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("body exceeds the limit of ", max_bytes, " bytes"));
    }
    return std::string(body);
  }
  // "deflate" in HTTP means the zlib format, which the auto-detecting inflater handles.
  if (enc == "gzip" || enc == "x-gzip" || enc == "deflate") return InflateGzip(body, max_bytes);
  return absl::UnimplementedError(
      absl::StrCat("unsupported Content-Encoding \"", AbslView(content_encoding), "\""));
}

}  // namespace otelbox::ingest

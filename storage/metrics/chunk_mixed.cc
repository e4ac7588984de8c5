#include "storage/metrics/chunk_mixed.h"

#include "storage/coding.h"
#include "storage/metrics/chunk_histogram.h"
#include "storage/metrics/chunk_xor.h"

namespace otelbox::storage {
namespace {

ChunkEncoding TagOf(std::string_view chunk) { return static_cast<ChunkEncoding>(chunk[0]); }

}  // namespace

bool IsFloatChunk(std::string_view chunk) {
  return !chunk.empty() && (TagOf(chunk) == ChunkEncoding::kXor || TagOf(chunk) == ChunkEncoding::kDecimal);
}

std::string EncodeAnyChunk(const ResolvedSamples& samples) {
  if (samples.histograms.empty()) return EncodeChunk(samples.floats);
  if (samples.floats.empty()) return EncodeHistogramChunk(samples.histograms);
  std::string out(1, static_cast<char>(ChunkEncoding::kMixed));
  PutLengthPrefixed(&out, EncodeChunk(samples.floats));
  out += EncodeHistogramChunk(samples.histograms);
  return out;
}

absl::Status DecodeAnyChunk(std::string_view chunk, ResolvedSamples* out) {
  if (chunk.empty()) return absl::DataLossError("corrupt chunk: empty chunk");
  switch (TagOf(chunk)) {
    case ChunkEncoding::kXor:
    case ChunkEncoding::kDecimal:
      return DecodeChunk(chunk, &out->floats);
    case ChunkEncoding::kHistogram:
      return DecodeHistogramChunk(chunk, &out->histograms);
    case ChunkEncoding::kMixed: {
      chunk.remove_prefix(1);
      std::string_view floats;
      if (!GetLengthPrefixed(&chunk, &floats)) {
        return absl::DataLossError("corrupt mixed chunk: truncated float part");
      }
      if (auto s = DecodeChunk(floats, &out->floats); !s.ok()) return s;
      return DecodeHistogramChunk(chunk, &out->histograms);
    }
  }
  return absl::DataLossError("corrupt chunk: unknown chunk encoding");
}

std::string MergeAnyChunks(std::span<const std::string_view> chunks_oldest_first,
                           int* corrupt_chunks) {
  bool floats_only = true;
  for (std::string_view c : chunks_oldest_first) floats_only = floats_only && (c.empty() || IsFloatChunk(c));
  if (floats_only) return MergeChunks(chunks_oldest_first, corrupt_chunks);
  SampleWrites writes;
  for (std::string_view chunk : chunks_oldest_first) {
    // Within one chunk timestamps are unique across kinds, so its floats and histograms
    // may be added in either order.
    ResolvedSamples decoded;
    if (!DecodeAnyChunk(chunk, &decoded).ok() && corrupt_chunks) ++*corrupt_chunks;
    writes.AddFloats(decoded.floats.data(), decoded.floats.data() + decoded.floats.size());
    writes.AddHistograms(decoded.histograms.data(),
                         decoded.histograms.data() + decoded.histograms.size());
  }
  return EncodeAnyChunk(writes.Resolve());
}

}  // namespace otelbox::storage

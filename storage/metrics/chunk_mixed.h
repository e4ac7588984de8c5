#pragma once
// Chunks of either sample kind. A chunk key (series, 2 h window) holds the floats and the
// native histograms of its window: a float-only window is an XOR or decimal chunk exactly
// as before histograms existed, a histogram-only window a histogram chunk, and a window
// with both a mixed chunk (encoding byte 3: varint length + float chunk, then histogram
// chunk). One key for both kinds keeps "a later write replaces, whatever its kind" a
// matter of merge operand order. Layout in storage/FORMAT.md.

#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "storage/metrics/sample_writes.h"

namespace otelbox::storage {

// True for the encodings of chunk_xor.h, which ChunkIterator reads.
bool IsFloatChunk(std::string_view chunk);

// `samples` sorted, one per timestamp across both kinds (SampleWrites::Resolve).
std::string EncodeAnyChunk(const ResolvedSamples& samples);

// Appends a chunk of any encoding to `out`; on corruption the decodable prefix is
// appended and DataLoss returned.
absl::Status DecodeAnyChunk(std::string_view chunk, ResolvedSamples* out);

// MergeChunks (chunk_xor.h) for chunks of any encoding: oldest first, the later chunk's
// sample wins on equal timestamps whatever the kinds. Float-only input gives exactly what
// MergeChunks gives.
std::string MergeAnyChunks(std::span<const std::string_view> chunks_oldest_first,
                           int* corrupt_chunks);

}  // namespace otelbox::storage

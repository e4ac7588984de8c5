#pragma once
// XOR chunks: Gorilla-style compression of (t_ms, value) samples as Prometheus' tsdb does
// (delta-of-delta timestamps in bit buckets, XOR of consecutive values with a reused
// leading/trailing-zero window). Layout in storage/FORMAT.md.
//
// Values are stored as raw IEEE-754 bits, so NaN payloads (StaleNaN) survive exactly.
//
// Every chunk starts with a ChunkEncoding byte. EncodeChunk picks the smaller of XOR and
// decimal (storage/metrics/chunk_decimal.h); ChunkIterator reads both.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "storage/metrics/chunk_bits.h"
#include "storage/model/sample.h"

namespace otelbox::storage {

// Persisted: values are never renumbered.
// kHistogram: storage/metrics/chunk_histogram.h; kMixed: floats and histograms of one
// window (storage/metrics/chunk_mixed.h).
enum class ChunkEncoding : uint8_t { kXor = 0, kDecimal = 1, kHistogram = 2, kMixed = 3 };

// Builds one chunk. Not thread-safe.
class ChunkEncoder {
 public:
  // REQUIRES: t_ms greater than the previously appended sample's t_ms.
  void Append(int64_t t_ms, double value);
  size_t count() const { return count_; }
  // The encoded XOR chunk (tag, header, bit stream). The encoder may keep appending.
  std::string Finish() const;

 private:
  void WriteBits(uint64_t bits, int nbits) { bits_.Write(bits, nbits); }
  void WriteBit(bool bit) { bits_.Write(bit ? 1 : 0, 1); }

  size_t count_ = 0;
  int64_t first_t_ms_ = 0;
  uint64_t first_value_bits_ = 0;
  int64_t t_ms_ = 0;
  uint64_t delta_ = 0;  // previous timestamp delta (modular arithmetic)
  uint64_t value_bits_ = 0;
  int leading_ = -1;  // current XOR window; -1: none yet
  int trailing_ = 0;
  chunk_bits::BitWriter bits_;
};

// Iterates the samples of one chunk in ascending time order (the one iterator shape:
// Valid / Next / current / status). The chunk bytes must outlive the iterator. Reads XOR
// and decimal chunks; histogram and mixed chunks (IsFloatChunk false) are read with
// DecodeAnyChunk (storage/metrics/chunk_mixed.h).
class ChunkIterator {
 public:
  explicit ChunkIterator(std::string_view chunk);  // positioned at the first sample
  bool Valid() const { return valid_; }
  void Next();
  const Sample& current() const { return current_; }
  // DataLoss once a malformed chunk has been detected (Valid() is then false).
  const absl::Status& status() const { return status_; }
  // Sample count declared in the header.
  uint64_t count() const { return count_; }

 private:
  bool ReadBits(int nbits, uint64_t* out) { return bits_.Read(nbits, out); }
  void Fail(const char* what);

  bool decimal_ = false;
  std::vector<Sample> decoded_;  // decimal chunks only

  chunk_bits::BitReader bits_;
  uint64_t count_ = 0;
  uint64_t index_ = 0;
  bool valid_ = false;
  Sample current_;
  uint64_t delta_ = 0;
  uint64_t value_bits_ = 0;
  int leading_ = -1;
  int trailing_ = 0;
  absl::Status status_;
};

// Encodes samples that are sorted by time with unique timestamps.
std::string EncodeChunk(std::span<const Sample> sorted_unique);

// Sorts samples by time (stable) and keeps the last of equal timestamps: the caller's
// later sample wins. Returns the encoded chunk.
std::string EncodeSamples(std::vector<Sample> samples);

// Appends the chunk's samples to `out`. On corruption the decodable prefix is appended and
// DataLoss returned.
absl::Status DecodeChunk(std::string_view chunk, std::vector<Sample>* out);

// Appends the samples with start_ms <= t_ms <= end_ms of an XOR or decimal chunk to `out`
// and decodes no further than end_ms (what a query needs of a window). On corruption the
// decodable part is appended and DataLoss returned.
absl::Status DecodeChunkRange(std::string_view chunk, int64_t start_ms, int64_t end_ms,
                              std::vector<Sample>* out);

// Merges chunks given oldest first into one sorted chunk; for equal timestamps the later
// chunk's sample wins (so re-writing a sample is idempotent and a new value replaces the
// old one). A corrupt chunk contributes its decodable prefix and increments
// `*corrupt_chunks` (may be null).
std::string MergeChunks(std::span<const std::string_view> chunks_oldest_first,
                        int* corrupt_chunks);

}  // namespace otelbox::storage

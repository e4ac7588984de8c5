#pragma once
// Decimal chunks: the second chunk encoding, for series whose values are decimals with few
// digits (integer counters, byte gauges, CPU seconds with two decimals, durations), which
// XOR encodes poorly because their mantissa bits change on every sample. As
// VictoriaMetrics does, each value is written as m * 10^-k with one k per chunk, and the
// integers m are delta coded; timestamps are delta-of-delta coded. Each column is stored
// frame-of-reference bit-packed (minimum + fixed-width offsets), so a regular scrape
// interval or a constant value costs no bits. Layout in storage/FORMAT.md.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "storage/model/sample.h"

namespace otelbox::storage {

// Appends the decimal encoding of `sorted_unique` (without the chunk's tag byte) to `out`
// and returns true, or returns false when some value is not exactly m * 10^-k for a shared
// k in [0, 15] with |m| < 2^53 (NaN, infinities, -0, too many digits).
bool EncodeDecimalChunk(std::span<const Sample> sorted_unique, std::string* out);

// Decodes what EncodeDecimalChunk wrote; DataLoss on corruption (what was decodable is
// appended).
absl::Status DecodeDecimalChunk(std::string_view body, std::vector<Sample>* out);
// Appends only the samples with start_ms <= t_ms <= end_ms, decoding no further than
// end_ms; the same values, bit for bit, as DecodeDecimalChunk.
absl::Status DecodeDecimalChunkRange(std::string_view body, int64_t start_ms, int64_t end_ms,
                                     std::vector<Sample>* out);

}  // namespace otelbox::storage

#pragma once
// Histogram chunks: the chunk encoding of native histogram samples (encoding byte 2,
// layout in storage/FORMAT.md). Each sample is coded against the previous one: timestamps
// delta-of-delta, the bucket layout (schema, zero threshold, spans, custom bounds) as one
// flag bit when it did not change, and counts as varint deltas while they are integers
// (what integer histograms and most float histograms hold), raw IEEE-754 bits otherwise,
// so NaN payloads such as StaleNaN survive.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "storage/model/histogram.h"

namespace otelbox::storage {

// Empty when `h` is well formed, else why not (span lengths that do not match the bucket
// counts, a schema outside -4..8 and -53, negative counts, custom bounds that are not
// increasing, custom buckets with negative buckets). Storage takes only well-formed histograms.
std::string HistogramError(const FloatHistogram& h);

// Appends one histogram, coded against `prev` (null: against nothing). The decoder must be
// given the same `prev`.
void PutHistogram(std::string* dst, const FloatHistogram& h, const FloatHistogram* prev);
bool GetHistogram(std::string_view* in, FloatHistogram* h, const FloatHistogram* prev);

// The tagged histogram chunk of samples sorted by time with unique timestamps.
std::string EncodeHistogramChunk(std::span<const HistogramSample> sorted_unique);

// Decodes a tagged histogram chunk, appending to `out`. On corruption the decodable
// prefix is appended and DataLoss returned.
absl::Status DecodeHistogramChunk(std::string_view chunk, std::vector<HistogramSample>* out);

}  // namespace otelbox::storage

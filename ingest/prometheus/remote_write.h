#pragma once
// Prometheus remote_write 1.0 → the internal metric model. Pure functions.

#include <string_view>

#include "absl/status/statusor.h"
#include "prometheus/remote.pb.h"
#include "storage/model/sample.h"

namespace otelbox::ingest {

// Validates and converts a decoded WriteRequest, as Prometheus' write handler does: every
// label name must match [a-zA-Z_][a-zA-Z0-9_]*, `__name__` must be present and non-empty,
// a name may appear once per series, names and values must be valid UTF-8. Any violation
// is InvalidArgument with a message naming the series, and nothing is converted.
// Native histograms become HistogramSamples (ToHistogramSample); storage validates them.
// Series with no samples, histograms or exemplars are dropped. Metadata maps one to one
// (same enum numbers).
absl::StatusOr<storage::MetricBatch> TranslateWriteRequest(const ::prometheus::WriteRequest& req);

// One native histogram: integer bucket deltas become absolute float counts, and the reset
// hint keeps its number (the enums agree).
storage::HistogramSample ToHistogramSample(const ::prometheus::Histogram& in);

// Snappy block decompression (limit checked before allocating) + protobuf decode.
// ResourceExhausted over `max_bytes`; InvalidArgument for bad snappy or bad protobuf.
// `out` is the caller's so that it can live on a protobuf Arena: remote_write requests hold
// thousands of small label strings, and per-string heap allocation dominated ingest CPU.
absl::Status DecodeWriteRequest(std::string_view body, size_t max_bytes,
                                ::prometheus::WriteRequest* out);

}  // namespace otelbox::ingest

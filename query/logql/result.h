#pragma once
// What a LogQL query returns (Loki's logqlmodel.Result): streams for log queries, a
// vector / matrix / scalar for metric queries, plus the statistics Loki reports.
//
// Label sets here are NOT storage::Labels: LogQL results may carry labels with an empty
// value (`logfmt --keep-empty`, `label_format x=""`, empty structured metadata), which Loki
// keeps and prints, while storage::Labels drops them. A LabelList is sorted by name with
// unique names. Times are nanoseconds since the Unix epoch.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "storage/model/labels.h"

namespace otelbox::query::logql {

// Sorted by name, unique names, empty values allowed.
using LabelList = std::vector<storage::Label>;

// {a="1", b=""} (values escaped as Go's %q does), as Loki prints label sets.
std::string LabelListString(const LabelList& labels);

// One log line of a stream result. `structured_metadata` and `parsed` are the labels Loki's
// categorized encoding (X-Loki-Response-Encoding-Flags: categorize-labels) returns per
// entry: the entry's structured metadata and the labels added by parsers / label_format
// that are not stream labels. Both sorted by name.
struct StreamEntry {
  int64_t t_ns = 0;
  std::string line;
  LabelList structured_metadata;
  LabelList parsed;
};

// Entries whose final label set (stream labels + structured metadata + parsed labels,
// after the pipeline) is `labels`; `stream_labels` are the stored stream's labels, which the
// categorized encoding uses as the stream key. Entries are in the query's direction.
struct Stream {
  LabelList labels;
  LabelList stream_labels;
  std::vector<StreamEntry> entries;
};
using Streams = std::vector<Stream>;

struct Point {
  int64_t t_ns = 0;
  double v = 0;
};

struct VectorSample {
  LabelList labels;
  int64_t t_ns = 0;
  double v = 0;
};
// An instant metric query's result; sorted by labels unless the query orders it
// (sort, sort_desc, topk, bottomk keep their order).
using Vector = std::vector<VectorSample>;

struct Series {
  LabelList labels;
  std::vector<Point> points;  // ascending by time, at step timestamps
};
// A range metric query's result; sorted by labels, series without points omitted.
using Matrix = std::vector<Series>;

struct Scalar {
  int64_t t_ns = 0;
  double v = 0;
};

using ResultValue = std::variant<Streams, Vector, Matrix, Scalar>;

// "streams", "vector", "matrix", "scalar": the resultType of Loki's API.
inline const char* ResultTypeName(const ResultValue& v) {
  static constexpr const char* kNames[] = {"streams", "vector", "matrix", "scalar"};
  return kNames[v.index()];
}

// The counters Loki's `stats` object is built from (summary / querier totals).
struct QueryStats {
  int64_t bytes_processed = 0;        // raw line + metadata bytes the store decoded
  int64_t lines_processed = 0;        // entries the store decoded
  int64_t structured_metadata_bytes = 0;  // not tracked separately yet (0)
  int64_t post_filter_lines = 0;      // entries that passed the whole pipeline
  int64_t total_entries_returned = 0; // entries (log query) or samples (metric query) returned
  int64_t streams = 0;                // streams selected
  int64_t exec_time_ns = 0;           // wall time of the evaluation
  int64_t queue_time_ns = 0;          // left 0 by the engine; the API may fill it
};

struct QueryResult {
  ResultValue value;
  QueryStats stats;
  std::vector<std::string> warnings;
};

}  // namespace otelbox::query::logql

#pragma once
// Loki's HTTP API JSON (pkg/util/marshal, loghttp), byte-for-byte where Grafana cares
// (contracts/loki.md §4): streams with nanosecond timestamps as strings, matrix / vector /
// scalar with seconds as numbers, the categorize-labels encoding, the stats object.

#include <cstdint>
#include <string>
#include <vector>

#include "query/logql/result.h"

namespace otelbox::web {

// {"a":"b",...} (Go escaping).
void AppendLabelMap(std::string* out, const query::logql::LabelList& labels);

// The `data` object of /loki/api/v1/query and /query_range:
// {"resultType":…,["encodingFlags":["categorize-labels"],]"result":…,"stats":{…}}, in that
// key order (Grafana's parser applies encodingFlags only if seen before result).
// `categorize`: streams keyed by their stored (indexed) labels, every value
// [ts, line, {"structuredMetadata":{…},"parsed":{…}}]; otherwise [ts, line] with all
// labels merged into `stream`. `forward` orders merged entries in categorized mode.
std::string RenderLokiQueryData(const query::logql::QueryResult& result, bool categorize,
                                bool forward);

// Loki's stats.Result object (summary, querier.store, ingester) from the engine counters.
std::string RenderLokiStats(const query::logql::QueryStats& stats);

// A Prometheus-style timestamp from nanoseconds: seconds with a millisecond fraction.
void AppendLokiSampleTime(std::string* out, int64_t t_ns);

}  // namespace otelbox::web

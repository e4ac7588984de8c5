#pragma once
// The LogQL engine: parses and evaluates Loki 3.x LogQL over storage's log read seam
// (storage/log_querier.h), for web/loki_api and the conformance runner.
//
// Semantics follow Loki's engine: metric windows are (T - range, T] (minus `offset`),
// range steps are start, start+step, ... <= end; log queries return at most `limit` entries
// in `direction` order from [start, end) (Loki's end is exclusive for log queries); a metric
// query over samples carrying `__error__` fails unless the query filters them.
//
// Errors (absl::Status codes; web/loki_api maps them to HTTP):
//   InvalidArgument    parse errors ("parse error at line L, col C: ..." / "parse error : ..."),
//                      type errors, pipeline errors ("pipeline error: 'JSONParserErr' for
//                      series: ..."), bad parameters (step, range), instant log queries.
//                      All of these are HTTP 400 in Loki.
//   ResourceExhausted  a query limit (series, entries, samples): Loki answers 400 too.
//   DeadlineExceeded   the timeout.
//   others             from the querier (Internal, DataLoss, Unavailable).
//
// Thread-safe: one Engine serves every query concurrently (it holds no per-query state).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "query/logql/result.h"
#include "storage/model/labels.h"
#include "storage/model/log_entry.h"
#include "storage/model/matcher.h"

namespace otelbox::storage {
class LogQuerier;
}

namespace otelbox::query::logql {

class ScanPool;

enum class Direction { kForward, kBackward };

struct EngineOptions {
  // Loki's max_query_series (500): a metric query producing more series fails.
  int64_t max_series = 500;
  // Loki's max_entries_limit_per_query (5000): a log query's `limit` above it fails.
  int64_t max_entries_limit = 5000;
  // Distinct label sets one range aggregation may produce before its parent aggregates
  // them (guards memory: `rate({...} | json [1m])` over high-cardinality fields).
  int64_t max_intermediate_series = 1'000'000;
  // Samples a metric query may hold (guards memory).
  int64_t max_samples = 50'000'000;
  // Points per series of a range query (Loki: 11000, as Prometheus).
  int64_t max_points_per_series = 11000;
  // Wall-clock budget of one query (Loki's query_timeout, 1m... we use 2m).
  int64_t timeout_ms = 120'000;
  // Threads that scan a query's streams concurrently besides the querying thread
  // (ScanPool); -1: one per extra core, at most 3.
  int scan_helpers = -1;
};

struct QueryParams {
  std::string_view tenant;
  std::string_view query;
  // Instant query: start_ns == end_ns and step_ns == 0 (evaluated at end_ns).
  // Range query: step_ns > 0; metric queries are evaluated at start, start+step, ... <= end.
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t step_ns = 0;
  // Log queries only: at most one entry per `interval_ns` (Loki's `interval`); 0 = all.
  int64_t interval_ns = 0;
  Direction direction = Direction::kBackward;
  // Log queries only: maximum number of entries returned (Loki's default 100); must be > 0
  // and at most EngineOptions::max_entries_limit.
  int64_t limit = 100;
};

// Whether the text parses as a log query (selector + pipeline) or a metric query.
enum class QueryKind { kLog, kMetric };

class Engine {
 public:
  // `querier` must outlive the engine.
  explicit Engine(storage::LogQuerier* querier, EngineOptions options = {});
  ~Engine();

  // Parses and evaluates. Log queries give Streams (an instant log query is an
  // InvalidArgument error, as Loki's query frontend answers); instant metric queries a
  // Vector (or Scalar), range metric queries a Matrix (a scalar expression gives one series
  // without labels).
  absl::StatusOr<QueryResult> Query(const QueryParams& params) const;

 private:
  storage::LogQuerier* querier_;
  EngineOptions options_;
  std::unique_ptr<ScanPool> pool_;  // streams of one query scanned concurrently
};

// Parses and validates only (Loki's ParseExpr): OK, or InvalidArgument with Loki's text.
absl::StatusOr<QueryKind> CheckQuery(std::string_view query);

// Loki's /loki/api/v1/format_query: the query re-printed in canonical form.
absl::StatusOr<std::string> FormatQuery(std::string_view query);

// The stream matchers of a `{...}` selector (Loki's ParseMatchers, used for `match[]` of
// /series and `query` of /labels, /index/*). InvalidArgument when the text is anything else.
absl::StatusOr<std::vector<storage::Matcher>> ParseSelector(std::string_view selector);

// The matchers of any query's stream selectors (for /index/stats, /index/volume).
absl::StatusOr<std::vector<storage::Matcher>> QueryMatchers(std::string_view query);

// One entry that passed a tail query's pipeline.
struct TailedEntry {
  LabelList labels;         // final labels (stream + metadata + parsed, after the pipeline)
  LabelList stream_labels;  // the stored stream's labels
  StreamEntry entry;
};

// Live tail (/loki/api/v1/tail): a log query applied to entries as they are appended.
// Not thread-safe: one per tail connection (the pipeline keeps per-entry scratch state).
class TailQuery {
 public:
  // InvalidArgument for a parse error or a metric query.
  static absl::StatusOr<std::unique_ptr<TailQuery>> Create(std::string_view query);
  ~TailQuery();

  // The stream selector's matchers (for subscribing / pre-filtering streams).
  const std::vector<storage::Matcher>& matchers() const;
  // True when a stream with these labels is selected.
  bool MatchesStream(const storage::Labels& stream_labels) const;
  // Runs the pipeline over one entry of a selected stream; nullopt when it is filtered out.
  std::optional<TailedEntry> Process(const storage::Labels& stream_labels,
                                     const storage::LogEntry& entry);

  struct Impl;

 private:
  explicit TailQuery(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otelbox::query::logql

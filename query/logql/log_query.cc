// Log queries (a selector and its pipeline, no range aggregation): Loki's readStreams.
// Every stream is scanned in the query's direction and stops after `limit` passing entries,
// or earlier once its entries can no longer be among the first `limit` overall; the
// candidates are then merged by time, the `interval` rule applied, and the first `limit` kept.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <queue>

#include "query/logql/evaluator.h"
#include "query/logql/pipeline_builder.h"

namespace otelbox::query::logql {
namespace {

struct Candidate {
  int64_t t_ns;
  uint32_t stream;  // index of the selected stream (tie-break, as Loki's merge by labels)
  uint64_t seq;     // scan order within the stream
  LabelList labels;
  LabelList stream_labels;
  StreamEntry entry;
};

}  // namespace

Streams EvalLogQuery(const LogSelectorExpr& sel, const QueryParams& params, EvalContext* ctx) {
  auto pipeline = BuildPipeline(sel.stages);
  if (!pipeline.ok()) ThrowStatus(pipeline.status());
  const bool forward = params.direction == Direction::kForward;
  auto streams = ctx->querier->SelectStreams(ctx->tenant, sel.matchers, params.start_ns, params.end_ns);
  if (!streams.ok()) ThrowStatus(streams.status());
  if (ctx->stats) ctx->stats->streams += static_cast<int64_t>(streams->size());

  const size_t limit = params.limit > 0 ? static_cast<size_t>(params.limit) : 0;
  // With an interval, skipped entries don't count towards the limit: no per-stream cap.
  const size_t per_stream_cap = params.interval_ns > 0 ? SIZE_MAX : limit;
  const std::vector<std::string> literals = RequiredLiterals(sel.stages);

  // Streams are scanned concurrently (ctx->pool); each worker has its own pipeline and
  // scratch, each stream its own candidates. The merge below orders by (t, stream, seq),
  // so the result does not depend on which worker scanned what.
  struct Worker {
    std::unique_ptr<Pipeline> pipe;
    LabelsBuilder lbs;
    std::vector<storage::Label> metadata;
    storage::LogScanStats scan_stats;
    int64_t post_filter_lines = 0;
    uint32_t deadline_counter = 0;
  };
  const size_t n_workers = ScanPool::MaxWorkers(ctx->pool);
  std::vector<std::unique_ptr<Worker>> workers(n_workers);
  workers[0] = std::make_unique<Worker>();
  workers[0]->pipe = *std::move(pipeline);
  std::vector<std::vector<Candidate>> per_stream(streams->size());
  std::vector<absl::Status> errors(streams->size());
  std::atomic<bool> failed{false};

  // The `limit` best timestamps so far over all streams (forward: smallest, backward:
  // largest), top = the worst of them: a stream's scan stops at its first entry that cannot
  // make the cut, since its later entries are only worse (Loki merges streams and reads just
  // as far). `bound` mirrors the top once the heap is full, read without the lock.
  auto worse = [forward](int64_t a, int64_t b) { return forward ? a < b : a > b; };
  std::mutex best_mu;
  std::priority_queue<int64_t, std::vector<int64_t>, decltype(worse)> best(worse);
  std::atomic<bool> bound_set{false};
  std::atomic<int64_t> bound{0};
  const bool prune = limit > 0 && params.interval_ns == 0;
  const auto deadline = ctx->deadline;

  ScanPool::ForEachOn(ctx->pool, streams->size(), [&](size_t wi, size_t si) {
    if (failed.load(std::memory_order_relaxed)) return;
    if (!workers[wi]) {
      workers[wi] = std::make_unique<Worker>();
      auto p = BuildPipeline(sel.stages);
      if (!p.ok()) {
        errors[si] = p.status();
        failed = true;
        return;
      }
      workers[wi]->pipe = *std::move(p);
    }
    Worker& w = *workers[wi];
    const auto& stream = (*streams)[si];
    std::vector<Candidate>& candidates = per_stream[si];
    w.lbs.SetStream(&stream.labels.items());
    storage::LogScanOptions opts;
    opts.stats = &w.scan_stats;
    opts.line_contains = literals;
    size_t taken = 0;
    uint64_t seq = 0;
    absl::Status st = ctx->querier->ScanStream(
        ctx->tenant, stream.id, params.start_ns, params.end_ns,
        forward ? storage::LogDirection::kForward : storage::LogDirection::kBackward, opts,
        [&](const storage::LogEntryView& ev) {
          if ((++w.deadline_counter & 1023) == 0) {
            if (failed.load(std::memory_order_relaxed)) return false;
            if (std::chrono::steady_clock::now() > deadline) {
              errors[si] = absl::DeadlineExceededError("query timed out");
              failed = true;
              return false;
            }
          }
          if (prune && bound_set.load(std::memory_order_acquire)) {
            const int64_t b = bound.load(std::memory_order_relaxed);
            if (forward ? ev.t_ns > b : ev.t_ns < b) return false;
          }
          w.metadata.resize(ev.metadata.size());
          for (size_t i = 0; i < ev.metadata.size(); ++i) {
            w.metadata[i].name.assign(ev.metadata[i].name);
            w.metadata[i].value.assign(ev.metadata[i].value);
          }
          w.lbs.StartEntry(w.metadata);
          std::string_view line = ev.line;
          if (!w.pipe->Process(ev.t_ns, line, w.lbs)) return true;
          w.post_filter_lines++;
          Candidate c;
          c.t_ns = ev.t_ns;
          c.stream = static_cast<uint32_t>(si);
          c.seq = seq++;
          w.lbs.Labels(&c.labels);
          CategorizedLabels cat = w.lbs.Categorized();
          c.stream_labels = std::move(cat.stream);
          c.entry.t_ns = ev.t_ns;
          c.entry.line.assign(line);
          c.entry.structured_metadata = std::move(cat.structured_metadata);
          c.entry.parsed = std::move(cat.parsed);
          candidates.push_back(std::move(c));
          if (prune) {
            std::lock_guard<std::mutex> l(best_mu);
            best.push(ev.t_ns);
            if (best.size() > limit) best.pop();
            if (best.size() >= limit) {
              bound.store(best.top(), std::memory_order_relaxed);
              bound_set.store(true, std::memory_order_release);
            }
          }
          return ++taken < per_stream_cap;
        });
    if (!st.ok()) {
      errors[si] = std::move(st);
      failed = true;
    }
  });
  for (const auto& w : workers) {
    if (!w) continue;
    ctx->scan_stats += w->scan_stats;
    if (ctx->stats) ctx->stats->post_filter_lines += w->post_filter_lines;
  }
  ThrowFirstError(&errors);
  size_t total = 0;
  for (const auto& v : per_stream) total += v.size();
  std::vector<Candidate> candidates;
  candidates.reserve(total);
  for (auto& v : per_stream) {
    for (Candidate& c : v) candidates.push_back(std::move(c));
  }

  std::sort(candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
    if (a.t_ns != b.t_ns) return forward ? a.t_ns < b.t_ns : a.t_ns > b.t_ns;
    if (a.stream != b.stream) return a.stream < b.stream;
    return a.seq < b.seq;
  });

  std::map<LabelList, size_t> index;
  Streams out;
  size_t returned = 0;
  bool have_last = false;
  int64_t last = 0;
  for (Candidate& c : candidates) {
    if (limit > 0 && returned >= limit) break;
    if (params.interval_ns > 0 && have_last) {
      bool ok = forward ? c.t_ns >= last + params.interval_ns : c.t_ns <= last - params.interval_ns;
      if (!ok) continue;
    }
    auto [it, inserted] = index.emplace(c.labels, out.size());
    if (inserted) {
      Stream s;
      s.labels = c.labels;
      s.stream_labels = std::move(c.stream_labels);
      out.push_back(std::move(s));
    }
    out[it->second].entries.push_back(std::move(c.entry));
    last = c.t_ns;
    have_last = true;
    ++returned;
  }
  // Loki sorts streams by their label string.
  std::sort(out.begin(), out.end(), [](const Stream& a, const Stream& b) {
    return LabelListString(a.labels) < LabelListString(b.labels);
  });
  if (ctx->stats) ctx->stats->total_entries_returned += static_cast<int64_t>(returned);
  return out;
}

}  // namespace otelbox::query::logql

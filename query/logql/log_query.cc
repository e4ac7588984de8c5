// Log queries (a selector and its pipeline, no range aggregation): Loki's readStreams.
// Every stream is scanned in the query's direction and stops after `limit` passing entries,
// or earlier once its entries can no longer be among the first `limit` overall; the
// candidates are then merged by time, the `interval` rule applied, and the first `limit` kept.

#include <algorithm>
#include <map>
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
  std::vector<Candidate> candidates;
  LabelsBuilder lbs;
  std::vector<storage::Label> metadata;
  storage::LogScanOptions opts;
  opts.stats = &ctx->scan_stats;
  opts.line_contains = RequiredLiterals(sel.stages);
  Pipeline& pipe = **pipeline;
  // The `limit` best timestamps so far (forward: smallest, backward: largest), top = the
  // worst of them: a stream's scan stops at its first entry that cannot make the cut, since
  // its later entries are only worse (Loki merges streams and reads just as far).
  auto worse = [forward](int64_t a, int64_t b) { return forward ? a < b : a > b; };
  std::priority_queue<int64_t, std::vector<int64_t>, decltype(worse)> best(worse);
  const bool prune = limit > 0 && params.interval_ns == 0;
  for (uint32_t si = 0; si < streams->size(); ++si) {
    const auto& stream = (*streams)[si];
    lbs.SetStream(&stream.labels.items());
    size_t taken = 0;
    uint64_t seq = 0;
    absl::Status st = ctx->querier->ScanStream(
        ctx->tenant, stream.id, params.start_ns, params.end_ns,
        forward ? storage::LogDirection::kForward : storage::LogDirection::kBackward, opts,
        [&](const storage::LogEntryView& ev) {
          ctx->CheckDeadline();
          if (prune && best.size() >= limit &&
              (forward ? ev.t_ns > best.top() : ev.t_ns < best.top())) {
            return false;
          }
          metadata.resize(ev.metadata.size());
          for (size_t i = 0; i < ev.metadata.size(); ++i) {
            metadata[i].name.assign(ev.metadata[i].name);
            metadata[i].value.assign(ev.metadata[i].value);
          }
          lbs.StartEntry(metadata);
          std::string_view line = ev.line;
          if (!pipe.Process(ev.t_ns, line, lbs)) return true;
          if (ctx->stats) ctx->stats->post_filter_lines++;
          Candidate c;
          c.t_ns = ev.t_ns;
          c.stream = si;
          c.seq = seq++;
          lbs.Labels(&c.labels);
          CategorizedLabels cat = lbs.Categorized();
          c.stream_labels = std::move(cat.stream);
          c.entry.t_ns = ev.t_ns;
          c.entry.line.assign(line);
          c.entry.structured_metadata = std::move(cat.structured_metadata);
          c.entry.parsed = std::move(cat.parsed);
          candidates.push_back(std::move(c));
          if (prune) {
            best.push(ev.t_ns);
            if (best.size() > limit) best.pop();
          }
          return ++taken < per_stream_cap;
        });
    if (!st.ok()) ThrowStatus(st);
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

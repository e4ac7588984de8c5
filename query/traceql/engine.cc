#include "query/traceql/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "query/traceql/evaluator.h"
#include "query/traceql/fetch_conditions.h"
#include "query/traceql/metrics.h"
#include "query/traceql/parser.h"
#include "query/traceql/trace_view.h"

namespace otelbox::query::traceql {
namespace {

using Clock = std::chrono::steady_clock;

storage::AttributeValue StaticToAttribute(const Static& s) {
  storage::AttributeValue v;
  switch (s.type) {
    case StaticType::kString: v.value = s.s; break;
    case StaticType::kInt: v.value = s.i; break;
    case StaticType::kFloat: v.value = s.f; break;
    case StaticType::kBool: v.value = s.b; break;
    case StaticType::kNil: break;
    default: v.value = s.ToString(); break;  // durations "1.5s", status, kind
  }
  return v;
}

// Tempo lists every fetched attribute of a matched span except the ones with their own
// field (name, duration, span id) and the trace-level ones (asTraceSearchMetadata).
bool ReturnedIntrinsic(Intrinsic i) {
  switch (i) {
    case Intrinsic::kName: case Intrinsic::kDuration: case Intrinsic::kTraceDuration:
    case Intrinsic::kTraceRootService: case Intrinsic::kTraceRootSpan: case Intrinsic::kTraceId:
    case Intrinsic::kSpanId: case Intrinsic::kParent:
      return false;
    default:
      return true;
  }
}

void FillTraceMetadata(const TraceView& view, SearchTrace* out) {
  out->root_service_name =
      view.root() >= 0 ? view.root_service_name() : "<root span not yet received>";
  out->root_trace_name = view.root() >= 0 ? view.root_name() : "";
  out->start_time_unix_nano = view.start_ns();
  out->duration_ms = (view.end_ns() - view.start_ns()) / 1000000;
  std::map<std::string, SearchTrace::ServiceStats> stats;
  for (const auto& s : view.spans()) {
    const std::string* svc = ServiceName(s);
    std::string name = svc ? *svc : "";
    auto& st = stats[name];
    st.service = name;
    ++st.span_count;
    if (s.status_code == storage::StatusCode::kError) ++st.error_count;
  }
  out->service_stats.clear();
  for (auto& [k, v] : stats) out->service_stats.push_back(std::move(v));
}

class Deadline {
 public:
  explicit Deadline(int64_t timeout_ms)
      : end_(Clock::now() + std::chrono::milliseconds(timeout_ms)) {}
  bool Passed() const { return Clock::now() > end_; }

 private:
  Clock::time_point end_;
};

absl::StatusOr<RootExpr> Compile(std::string_view query) {
  if (query.find_first_not_of(" \t\r\n") == std::string_view::npos) query = "{}";
  return ParseAndValidate(query);
}

std::vector<storage::KeyValue> ExemplarLabels(const SeriesExemplar& e) {
  std::vector<storage::KeyValue> labels(2);
  labels[0].key = "trace:id";
  labels[0].value.value = e.trace_id_hex;
  labels[1].key = "span:id";
  labels[1].value.value = e.span_id_hex;
  return labels;
}

bool LabelsLess(const std::vector<storage::KeyValue>& a, const std::vector<storage::KeyValue>& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i].key != b[i].key) return a[i].key < b[i].key;
    const auto& va = a[i].value.value;
    const auto& vb = b[i].value.value;
    if (va.index() != vb.index()) return va.index() < vb.index();
    if (const auto* sa = std::get_if<std::string>(&va)) {
      const auto& sb = std::get<std::string>(vb);
      if (*sa != sb) return *sa < sb;
    } else if (const auto* ia = std::get_if<int64_t>(&va)) {
      if (*ia != std::get<int64_t>(vb)) return *ia < std::get<int64_t>(vb);
    } else if (const auto* da = std::get_if<double>(&va)) {
      if (*da != std::get<double>(vb)) return *da < std::get<double>(vb);
    } else if (const auto* ba = std::get_if<bool>(&va)) {
      if (*ba != std::get<bool>(vb)) return *ba < std::get<bool>(vb);
    }
  }
  return a.size() < b.size();
}

}  // namespace

Engine::Engine(storage::TraceQuerier* querier, EngineOptions options)
    : querier_(querier), options_(options) {}

absl::StatusOr<SearchResponse> Engine::Search(std::string_view tenant,
                                              const SearchRequest& request) {
  auto root = Compile(request.query);
  if (!root.ok()) return root.status();
  if (root->IsMetrics()) {
    return absl::InvalidArgumentError(
        "metrics queries are not supported on the search endpoint, use /api/metrics/query_range");
  }
  SearchResponse response;
  // `{ false }` and the like can never match (Tempo's IsNoop): answer without a scan.
  const Element* first = root->pipeline.get();
  while (first->kind == Element::Kind::kPipeline && !first->elements.empty())
    first = first->elements.front().get();
  if (first->kind == Element::Kind::kFilter && first->expr->kind == FieldExpr::Kind::kStatic &&
      !(first->expr->value.type == StaticType::kBool && first->expr->value.b)) {
    return response;
  }
  const FetchPlan plan = PlanFetch(*root->pipeline);
  const Static* most_recent_hint = root->FindHint("most_recent");
  const bool most_recent = most_recent_hint && most_recent_hint->type == StaticType::kBool &&
                           most_recent_hint->b;
  const size_t limit = request.limit == 0 ? 20 : request.limit;
  const size_t spss = request.spans_per_spanset == 0 ? 3 : request.spans_per_spanset;
  Evaluator eval(root->pipeline);
  Deadline deadline(options_.timeout_ms);

  storage::TraceFetchRequest fetch;
  fetch.start_ns = request.start_ns;
  fetch.end_ns = request.end_ns;
  fetch.conditions = plan.conditions;
  fetch.all_conditions = plan.all_conditions;
  fetch.whole_traces = plan.needs_whole_trace;
  // Without most_recent any `limit` matches answer (as in Tempo): let the scan stop at
  // the first blocks that give them.
  fetch.visit_per_block = !most_recent;

  bool timed_out = false;
  storage::TraceFetchStats stats;
  std::set<storage::TraceId> answered;
  auto visit = [&](storage::FetchedTrace&& ft) -> bool {
    if (deadline.Passed()) {
      timed_out = true;
      return false;
    }
    // Candidate-only fetches may visit a trace again (once per search block holding its
    // candidates): the first visit that matches answers for the trace.
    if (!plan.needs_whole_trace && answered.count(ft.trace_id)) return true;
    TraceView view(ft.spans, plan.needs_structure);
    std::vector<Spanset> sets = eval.Run(view);
    if (sets.empty()) return true;
    if (!plan.needs_whole_trace) answered.insert(ft.trace_id);
    SearchTrace st;
    st.trace_id = ft.trace_id;
    FillTraceMetadata(view, &st);
    for (const auto& ss : sets) {
      SearchSpanSet out;
      out.matched = static_cast<int64_t>(ss.spans.size());
      for (const auto& [k, v] : ss.attributes) out.attributes.push_back({k, StaticToAttribute(v)});
      for (size_t n = 0; n < ss.spans.size() && n < spss; ++n) {
        uint32_t i = ss.spans[n];
        const storage::Span& s = view.span(i);
        SearchSpan sp;
        sp.span_id = s.span_id;
        sp.name = s.name;
        sp.start_time_unix_nano = s.start_time_unix_nano;
        sp.duration_nanos = s.end_time_unix_nano - s.start_time_unix_nano;
        for (const auto& a : plan.output_attributes) {
          if (a.intrinsic != Intrinsic::kNone && !ReturnedIntrinsic(a.intrinsic)) continue;
          Value v = eval.EvalAttribute(a, view, i);
          if (v.IsNil()) continue;
          storage::KeyValue kv;
          kv.key = a.intrinsic != Intrinsic::kNone ? IntrinsicName(a.intrinsic) : a.name;
          kv.value = LabelValue(v);
          if (std::none_of(sp.attributes.begin(), sp.attributes.end(),
                           [&](const storage::KeyValue& x) { return x.key == kv.key; }))
            sp.attributes.push_back(std::move(kv));
        }
        out.spans.push_back(std::move(sp));
      }
      st.span_sets.push_back(std::move(out));
    }
    response.traces.push_back(std::move(st));
    if (most_recent && response.traces.size() >= 2 * limit + 64) {
      // Keep memory bounded: only the newest `limit` traces can be answered.
      std::nth_element(response.traces.begin(), response.traces.begin() + (limit - 1),
                       response.traces.end(), [](const SearchTrace& a, const SearchTrace& b) {
                         return a.start_time_unix_nano > b.start_time_unix_nano;
                       });
      response.traces.resize(limit);
    }
    return most_recent || response.traces.size() < limit;
  };
  absl::Status st = querier_->FetchTraces(tenant, fetch, visit, &stats);
  if (!st.ok()) return st;
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("query timed out after ", options_.timeout_ms, "ms"));
  }
  std::sort(response.traces.begin(), response.traces.end(),
            [](const SearchTrace& a, const SearchTrace& b) {
              return a.start_time_unix_nano > b.start_time_unix_nano;
            });
  if (response.traces.size() > limit) response.traces.resize(limit);
  // Candidate-only fetches saw part of each trace: complete root, start, duration and
  // service stats from the whole trace (one lookup per returned trace).
  if (!plan.needs_whole_trace) {
    for (auto& t : response.traces) {
      auto spans = querier_->FindTrace(tenant, t.trace_id);
      if (!spans.ok()) return spans.status();
      if (spans->empty()) continue;
      TraceView view(*spans, false);
      FillTraceMetadata(view, &t);
    }
    std::sort(response.traces.begin(), response.traces.end(),
              [](const SearchTrace& a, const SearchTrace& b) {
                return a.start_time_unix_nano > b.start_time_unix_nano;
              });
  }
  response.metrics.inspected_traces = stats.inspected_traces;
  response.metrics.inspected_spans = stats.inspected_spans;
  response.metrics.inspected_bytes = stats.inspected_bytes;
  response.metrics.total_blocks = stats.total_blocks;
  return response;
}

namespace {

struct MetricsRun {
  storage::TraceQuerier* querier;
  std::string_view tenant;
  const EngineOptions* options;
  Intervals intervals;
  size_t max_exemplars;
  Deadline deadline;
  int64_t inspected_spans = 0;
  int64_t inspected_traces = 0;
  int64_t inspected_bytes = 0;

  absl::StatusOr<std::vector<DenseSeries>> Eval(const MetricsExpr& m) {
    std::vector<DenseSeries> series;
    if (m.kind == MetricsExpr::Kind::kMath) {
      auto l = Eval(*m.lhs);
      if (!l.ok()) return l.status();
      auto r = Eval(*m.rhs);
      if (!r.ok()) return r.status();
      series = ApplyMath(m.op, *l, *r);
    } else {
      auto s = EvalQuery(m);
      if (!s.ok()) return s.status();
      series = std::move(*s);
    }
    ApplySecondStages(m.second_stages, &series);
    return series;
  }

  absl::StatusOr<std::vector<DenseSeries>> EvalQuery(const MetricsExpr& m) {
    const FetchPlan plan = PlanFetch(*m.pipeline);
    Evaluator eval(m.pipeline);
    std::unique_ptr<SpanAccumulator> accumulator;
    if (m.first_stage.op == MetricsOp::kCompare) {
      accumulator = std::make_unique<CompareAccumulator>(m.first_stage, intervals);
    } else {
      accumulator = std::make_unique<FirstStageAccumulator>(m.first_stage, intervals, max_exemplars);
    }
    SpanAccumulator& acc = *accumulator;
    storage::TraceFetchRequest fetch;
    fetch.start_ns = intervals.instant ? intervals.start_ns : intervals.aligned_start_ns;
    fetch.end_ns = intervals.end_ns;
    fetch.conditions = plan.conditions;
    fetch.all_conditions = plan.all_conditions;
    fetch.whole_traces = plan.needs_whole_trace;
    if (m.first_stage.op != MetricsOp::kCompare) {  // compare() reads every attribute
      std::vector<Attribute> read = plan.output_attributes;
      read.insert(read.end(), m.first_stage.by.begin(), m.first_stage.by.end());
      if (m.first_stage.has_attribute) read.push_back(m.first_stage.attribute);
      const SpanParts parts = PartsRead(read);
      fetch.with_span_attributes = parts.span_attributes;
      fetch.with_events_and_links = parts.events_and_links;
    }
    // A lone filter judges each span by itself: a trace visited once per block observes the
    // same spans as one visit, without buffering the candidates of the whole range.
    const Element& p = *m.pipeline;
    fetch.visit_per_block = !plan.needs_whole_trace && p.kind == Element::Kind::kPipeline &&
                            p.elements.size() == 1 && p.elements[0]->kind == Element::Kind::kFilter;
    bool timed_out = false, too_many = false;
    int64_t observed = 0;
    std::vector<char> seen;
    auto visit = [&](storage::FetchedTrace&& ft) -> bool {
      if (deadline.Passed()) {
        timed_out = true;
        return false;
      }
      TraceView view(ft.spans, plan.needs_structure);
      std::vector<Spanset> sets = eval.Run(view);
      if (sets.empty()) return true;
      if (sets.size() == 1) {
        for (uint32_t i : sets[0].spans) acc.Observe(eval, view, i);
        observed += static_cast<int64_t>(sets[0].spans.size());
      } else {
        seen.assign(view.size(), 0);
        for (const auto& ss : sets) {
          for (uint32_t i : ss.spans) {
            if (seen[i]) continue;
            seen[i] = 1;
            acc.Observe(eval, view, i);
            ++observed;
          }
        }
      }
      if (observed > options->max_metrics_spans) {
        too_many = true;
        return false;
      }
      // Stop as soon as a by() fans out too far, before it holds memory for all of them.
      if (m.first_stage.op != MetricsOp::kCompare && acc.series_count() > options->max_series)
        return false;
      return true;
    };
    storage::TraceFetchStats stats;
    absl::Status st = querier->FetchTraces(tenant, fetch, visit, &stats);
    if (!st.ok()) return st;
    inspected_spans += stats.inspected_spans;
    inspected_traces += stats.inspected_traces;
    inspected_bytes += stats.inspected_bytes;
    if (timed_out) {
      return absl::DeadlineExceededError(
          absl::StrCat("query timed out after ", options->timeout_ms, "ms"));
    }
    if (too_many) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "metrics query matched more than ", options->max_metrics_spans, " spans"));
    }
    // compare() yields a few series per attribute by design; the limit is for by() fan-out.
    if (m.first_stage.op != MetricsOp::kCompare && acc.series_count() > options->max_series) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "metrics query produced more than ", options->max_series, " series"));
    }
    return acc.Finish();
  }
};

absl::StatusOr<RootExpr> CompileMetrics(std::string_view query) {
  auto root = Compile(query);
  if (!root.ok()) return root.status();
  if (!root->IsMetrics()) {
    return absl::InvalidArgumentError(
        "not a metrics query: add a metrics function such as | rate()");
  }
  return root;
}

}  // namespace

absl::StatusOr<QueryRangeResponse> Engine::MetricsQueryRange(std::string_view tenant,
                                                             const MetricsRequest& request) {
  auto root = CompileMetrics(request.query);
  if (!root.ok()) return root.status();
  if (request.end_ns <= request.start_ns) {
    return absl::InvalidArgumentError("end must be after start");
  }
  uint64_t step = request.step_ns ? request.step_ns : DefaultStepNs(request.start_ns, request.end_ns);
  Intervals iv = Intervals::Make(request.start_ns, request.end_ns, step, false);
  if (iv.count > 11000) {
    return absl::InvalidArgumentError("step too small for the range: more than 11000 points");
  }
  MetricsRun run{querier_, tenant, &options_, iv, request.max_exemplars,
                 Deadline(options_.timeout_ms)};
  auto series = run.Eval(*root->metrics);
  if (!series.ok()) return series.status();
  QueryRangeResponse out;
  out.step_ns = step;
  out.inspected_spans = run.inspected_spans;
  out.inspected_traces = run.inspected_traces;
  out.inspected_bytes = run.inspected_bytes;
  for (auto& s : *series) {
    MetricsSeries ms;
    ms.labels = std::move(s.labels);
    for (size_t i = 0; i < s.values.size(); ++i) {
      if (std::isnan(s.values[i])) continue;
      ms.samples.push_back({iv.TimestampMs(i), s.values[i]});
    }
    if (ms.samples.empty()) continue;
    for (const auto& e : s.exemplars)
      ms.exemplars.push_back({ExemplarLabels(e), e.value, e.timestamp_ms});
    out.series.push_back(std::move(ms));
  }
  std::sort(out.series.begin(), out.series.end(),
            [](const MetricsSeries& a, const MetricsSeries& b) { return LabelsLess(a.labels, b.labels); });
  return out;
}

absl::StatusOr<QueryInstantResponse> Engine::MetricsQueryInstant(std::string_view tenant,
                                                                 const MetricsRequest& request) {
  auto root = CompileMetrics(request.query);
  if (!root.ok()) return root.status();
  if (request.end_ns <= request.start_ns) {
    return absl::InvalidArgumentError("end must be after start");
  }
  Intervals iv = Intervals::Make(request.start_ns, request.end_ns, 0, true);
  MetricsRun run{querier_, tenant, &options_, iv, 0, Deadline(options_.timeout_ms)};
  auto series = run.Eval(*root->metrics);
  if (!series.ok()) return series.status();
  QueryInstantResponse out;
  out.inspected_spans = run.inspected_spans;
  for (auto& s : *series) {
    if (s.values.empty() || std::isnan(s.values[0])) continue;
    out.series.push_back({std::move(s.labels), s.values[0]});
  }
  std::sort(out.series.begin(), out.series.end(),
            [](const InstantSeries& a, const InstantSeries& b) { return LabelsLess(a.labels, b.labels); });
  return out;
}

absl::Status CheckQuery(std::string_view query) { return Compile(query).status(); }

bool IsMetricsQuery(std::string_view query) {
  auto root = Parse(query);
  return root.ok() && root->IsMetrics();
}

absl::StatusOr<TagFilter> ExtractTagFilter(std::string_view query) {
  auto root = Compile(query);
  if (!root.ok()) return root.status();
  const MetricsExpr* m = root->metrics.get();
  while (m && m->kind == MetricsExpr::Kind::kMath) m = m->lhs.get();
  const Element& pipeline = m ? *m->pipeline : *root->pipeline;
  FetchPlan plan = PlanFetch(pipeline);
  TagFilter out;
  out.conditions = std::move(plan.conditions);
  out.all_conditions = plan.all_conditions;
  return out;
}

bool IsTraceQLQueryError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kInvalidArgument ||
         status.code() == absl::StatusCode::kUnimplemented;
}

uint64_t DefaultStepNs(uint64_t start_ns, uint64_t end_ns) {
  constexpr uint64_t kMs = 1000000, kS = 1000 * kMs;
  uint64_t delta = end_ns > start_ns ? end_ns - start_ns : 0;
  uint64_t baseline = delta / 240;
  if (delta < 60 * kS) {
    uint64_t g = 50 * kMs;
    return baseline > g ? baseline / g * g : g;
  }
  for (uint64_t g : {3600 * kS, 300 * kS, 60 * kS, 15 * kS, 5 * kS, kS}) {
    if (baseline > g) return baseline / g * g;
  }
  return kS;
}

}  // namespace otelbox::query::traceql

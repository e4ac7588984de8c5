#include "query/logql/engine.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "absl/status/status.h"
#include "query/logql/evaluator.h"
#include "query/logql/parser.h"
#include "query/logql/pipeline_builder.h"
#include "storage/log_querier.h"

namespace otelbox::query::logql {

std::string LabelListString(const LabelList& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ", ";
    out += labels[i].name;
    out += "=\"";
    for (unsigned char c : labels[i].value) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
    }
    out += '"';
  }
  out += "}";
  return out;
}

namespace {

// Loki keeps the evaluation order for instant queries that sort by value.
bool SortsByValue(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kVectorAgg:
      if (e.op == "sort" || e.op == "sort_desc") return true;
      return SortsByValue(*e.left);
    case Expr::Kind::kLabelReplace: return SortsByValue(*e.left);
    case Expr::Kind::kBinary: return SortsByValue(*e.left) || SortsByValue(*e.right);
    default: return false;
  }
}

void CollectMatchers(const Expr& e, std::vector<storage::Matcher>* out) {
  switch (e.kind) {
    case Expr::Kind::kLogSelector: out->insert(out->end(), e.log.matchers.begin(), e.log.matchers.end()); break;
    case Expr::Kind::kRangeAgg:
      out->insert(out->end(), e.range.selector.matchers.begin(), e.range.selector.matchers.end());
      break;
    case Expr::Kind::kVectorAgg:
    case Expr::Kind::kLabelReplace: CollectMatchers(*e.left, out); break;
    case Expr::Kind::kBinary:
      CollectMatchers(*e.left, out);
      CollectMatchers(*e.right, out);
      break;
    default: break;
  }
}

QueryResult MetricResult(const Expr& e, const QueryParams& p, const Steps& steps, bool instant,
                         EvalContext* ctx) {
  QueryResult result;
  if (e.kind == Expr::Kind::kLiteral) {
    if (instant) {
      result.value = Scalar{p.start_ns, e.value};
    } else {
      Series s;
      for (size_t i = 0; i < steps.count; ++i) s.points.push_back(Point{steps.At(i), e.value});
      result.value = Matrix{std::move(s)};
    }
    return result;
  }
  std::vector<StepVector> steps_out = EvalMetric(e, steps, ctx);
  const int64_t max_series = ctx->options->max_series;
  auto series_limit = [&] {
    return absl::ResourceExhaustedError(
        "maximum number of series (" + std::to_string(max_series) +
        ") reached for a single query; consider reducing query cardinality by adding more "
        "specific stream selectors, reducing the time range, or aggregating results with "
        "functions like sum(), count() or topk()");
  };
  if (instant) {
    Vector vec;
    const StepVector& sv = steps_out[0];
    if (max_series > 0 && static_cast<int64_t>(sv.size()) > max_series) ThrowStatus(series_limit());
    for (const Sample& s : sv) vec.push_back(VectorSample{ctx->labels.Get(s.labels), steps.At(0), s.v});
    if (!SortsByValue(e)) {
      std::stable_sort(vec.begin(), vec.end(),
                       [](const VectorSample& a, const VectorSample& b) { return a.labels < b.labels; });
    }
    if (ctx->stats) ctx->stats->total_entries_returned += static_cast<int64_t>(vec.size());
    result.value = std::move(vec);
    return result;
  }
  std::map<uint32_t, size_t> index;
  Matrix m;
  int64_t points = 0;
  for (size_t i = 0; i < steps_out.size(); ++i) {
    for (const Sample& s : steps_out[i]) {
      auto [it, inserted] = index.emplace(s.labels, m.size());
      if (inserted) {
        if (max_series > 0 && static_cast<int64_t>(m.size()) >= max_series) ThrowStatus(series_limit());
        m.push_back(Series{ctx->labels.Get(s.labels), {}});
      }
      m[it->second].points.push_back(Point{steps.At(i), s.v});
      ++points;
    }
  }
  std::sort(m.begin(), m.end(), [](const Series& a, const Series& b) { return a.labels < b.labels; });
  if (ctx->stats) ctx->stats->total_entries_returned += points;
  result.value = std::move(m);
  return result;
}

}  // namespace

Engine::Engine(storage::LogQuerier* querier, EngineOptions options)
    : querier_(querier),
      options_(options),
      pool_(std::make_unique<ScanPool>(options.scan_helpers >= 0 ? static_cast<size_t>(options.scan_helpers)
                                                                  : ScanPool::DefaultHelpers())) {}

Engine::~Engine() = default;

absl::StatusOr<QueryResult> Engine::Query(const QueryParams& p) const {
  auto started = std::chrono::steady_clock::now();
  auto parsed = ParseExpr(p.query);
  if (!parsed.ok()) return parsed.status();
  const Expr& e = **parsed;
  const bool instant = p.step_ns <= 0;
  if (!instant && p.end_ns < p.start_ns) {
    return absl::InvalidArgumentError("end timestamp must not be before start time");
  }
  QueryResult result;
  EvalContext ctx;
  ctx.querier = querier_;
  ctx.pool = pool_.get();
  ctx.tenant = p.tenant;
  ctx.options = &options_;
  ctx.stats = &result.stats;
  ctx.instant = instant;
  ctx.deadline = started + std::chrono::milliseconds(options_.timeout_ms);
  try {
    if (e.IsLog()) {
      if (instant && p.start_ns == p.end_ns) {
        return absl::InvalidArgumentError(
            "log queries are not supported as an instant query type, please change your query "
            "to a range query type");
      }
      if (p.limit <= 0) return absl::InvalidArgumentError("limit must be a positive value");
      if (options_.max_entries_limit > 0 && p.limit > options_.max_entries_limit) {
        return absl::InvalidArgumentError("max entries limit per query exceeded, limit > max_entries_limit_per_query (" +
                                          std::to_string(p.limit) + " > " +
                                          std::to_string(options_.max_entries_limit) + ")");
      }
      result.value = EvalLogQuery(e.log, p, &ctx);
    } else {
      Steps steps;
      if (instant) {
        steps = Steps{p.end_ns, 0, 1};
      } else {
        steps.start_ns = p.start_ns;
        steps.step_ns = p.step_ns;
        steps.count = static_cast<size_t>((p.end_ns - p.start_ns) / p.step_ns) + 1;
        if (static_cast<int64_t>(steps.count) > options_.max_points_per_series) {
          return absl::InvalidArgumentError(
              "exceeded maximum resolution of " + std::to_string(options_.max_points_per_series) +
              " data points per timeseries. Try decreasing the query resolution (?step=XX)");
        }
      }
      QueryResult mr = MetricResult(e, p, steps, instant, &ctx);
      result.value = std::move(mr.value);
    }
  } catch (const EvalError& err) {
    return err.status;
  }
  const storage::LogScanStats& ss = ctx.scan_stats;
  result.stats.bytes_processed = ss.decompressed_bytes + ss.head_bytes;
  result.stats.lines_processed = ss.decompressed_lines + ss.head_lines;
  result.stats.exec_time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count();
  return result;
}

absl::StatusOr<QueryKind> CheckQuery(std::string_view query) {
  auto parsed = ParseExpr(query);
  if (!parsed.ok()) return parsed.status();
  return (*parsed)->IsLog() ? QueryKind::kLog : QueryKind::kMetric;
}

absl::StatusOr<std::string> FormatQuery(std::string_view query) {
  auto parsed = ParseExpr(query);
  if (!parsed.ok()) return parsed.status();
  return Print(**parsed);
}

absl::StatusOr<std::vector<storage::Matcher>> ParseSelector(std::string_view selector) {
  auto parsed = ParseExpr(selector);
  if (!parsed.ok()) return parsed.status();
  if (!(*parsed)->IsLog() || !(*parsed)->log.stages.empty()) {
    return absl::InvalidArgumentError("only label matchers are supported");
  }
  return (*parsed)->log.matchers;
}

absl::StatusOr<std::vector<storage::Matcher>> QueryMatchers(std::string_view query) {
  auto parsed = ParseExpr(query);
  if (!parsed.ok()) return parsed.status();
  std::vector<storage::Matcher> out;
  CollectMatchers(**parsed, &out);
  return out;
}

// ---- live tail

struct TailQuery::Impl {
  LogSelectorExpr selector;
  std::unique_ptr<Pipeline> pipeline;
  LabelsBuilder lbs;
};

TailQuery::TailQuery(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TailQuery::~TailQuery() = default;

absl::StatusOr<std::unique_ptr<TailQuery>> TailQuery::Create(std::string_view query) {
  auto parsed = ParseExpr(query);
  if (!parsed.ok()) return parsed.status();
  if (!(*parsed)->IsLog()) {
    return absl::InvalidArgumentError("only log queries are supported for tailing");
  }
  auto impl = std::make_unique<Impl>();
  impl->selector = std::move((*parsed)->log);
  auto p = BuildPipeline(impl->selector.stages);
  if (!p.ok()) return p.status();
  impl->pipeline = *std::move(p);
  return std::unique_ptr<TailQuery>(new TailQuery(std::move(impl)));
}

const std::vector<storage::Matcher>& TailQuery::matchers() const { return impl_->selector.matchers; }

bool TailQuery::MatchesStream(const storage::Labels& stream_labels) const {
  for (const auto& m : impl_->selector.matchers) {
    if (!m.Matches(stream_labels.Get(m.name()))) return false;
  }
  return true;
}

std::optional<TailedEntry> TailQuery::Process(const storage::Labels& stream_labels,
                                              const storage::LogEntry& entry) {
  Impl& im = *impl_;
  im.lbs.SetStream(&stream_labels.items());
  im.lbs.StartEntry(entry.metadata);
  std::string_view line = entry.line;
  if (!im.pipeline->Process(entry.t_ns, line, im.lbs)) return std::nullopt;
  TailedEntry out;
  im.lbs.Labels(&out.labels);
  CategorizedLabels cat = im.lbs.Categorized();
  out.stream_labels = std::move(cat.stream);
  out.entry.t_ns = entry.t_ns;
  out.entry.line.assign(line);
  out.entry.structured_metadata = std::move(cat.structured_metadata);
  out.entry.parsed = std::move(cat.parsed);
  return out;
}

}  // namespace otelbox::query::logql

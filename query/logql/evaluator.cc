#include "query/logql/evaluator.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_map>

#include <re2/re2.h>

#include "query/logql/binary_op.h"
#include "query/logql/pipeline_builder.h"

namespace otelbox::query::logql {

void ThrowStatus(absl::Status s) { throw EvalError{std::move(s)}; }

void ThrowFirstError(std::vector<absl::Status>* errors) {
  for (absl::Status& e : *errors) {
    if (!e.ok() && e.code() != absl::StatusCode::kDeadlineExceeded) ThrowStatus(std::move(e));
  }
  for (absl::Status& e : *errors) {
    if (!e.ok()) ThrowStatus(std::move(e));
  }
}

size_t LabelTable::Hash::operator()(const LabelList& l) const {
  size_t h = 0xcbf29ce484222325ULL;
  for (const auto& x : l) {
    h = (h ^ std::hash<std::string_view>()(x.name)) * 0x100000001b3ULL;
    h = (h ^ std::hash<std::string_view>()(x.value)) * 0x100000001b3ULL;
  }
  return h;
}

uint32_t LabelTable::Intern(const LabelList& labels) {
  auto it = index_.find(labels);
  if (it != index_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(sets_.size());
  auto ins = index_.emplace(labels, id).first;
  sets_.push_back(&ins->first);
  return id;
}

void EvalContext::CheckDeadline() {
  if ((++deadline_counter & 1023) != 0) return;
  if (std::chrono::steady_clock::now() > deadline) {
    ThrowStatus(absl::DeadlineExceededError("query timed out"));
  }
}

void EvalContext::HoldSamples(int64_t n) {
  held_samples += n;
  if (held_samples > options->max_samples) {
    ThrowStatus(absl::ResourceExhaustedError(
        "query processing would load too many samples into memory"));
  }
}

absl::Status PipelineError(const LabelList& labels) {
  std::string err;
  for (const auto& l : labels) {
    if (l.name == kErrorLabel) err = l.value;
  }
  return absl::InvalidArgumentError(
      "pipeline error: '" + err + "' for series: '" + LabelListString(labels) +
      "'.\nUse a label filter to intentionally skip this error. (e.g | __error__!=\"" + err +
      "\").\nTo skip all potential errors you can match empty errors.(e.g __error__=\"\")\nThe "
      "label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n");
}

std::string ExpandTemplate(std::string_view tmpl, const std::vector<std::string_view>& groups,
                           const std::map<std::string, int>& names) {
  std::string out;
  auto is_name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  for (size_t i = 0; i < tmpl.size();) {
    char c = tmpl[i];
    if (c != '$' || i + 1 >= tmpl.size()) {
      out += c;
      ++i;
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    std::string name;
    size_t j = i + 1;
    if (tmpl[j] == '{') {
      size_t close = tmpl.find('}', j);
      if (close == std::string_view::npos) {
        out += c;
        ++i;
        continue;
      }
      name = std::string(tmpl.substr(j + 1, close - j - 1));
      bool ok = !name.empty();
      for (char ch : name) ok = ok && is_name_char(ch);
      if (!ok) {
        out += c;
        ++i;
        continue;
      }
      j = close + 1;
    } else {
      while (j < tmpl.size() && is_name_char(tmpl[j])) name += tmpl[j++];
      if (name.empty()) {
        out += c;
        ++i;
        continue;
      }
    }
    i = j;
    bool numeric = std::all_of(name.begin(), name.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    int idx = -1;
    if (numeric) {
      idx = name.size() > 9 ? -1 : std::stoi(name);
    } else if (auto it = names.find(name); it != names.end()) {
      idx = it->second;
    }
    if (idx >= 0 && static_cast<size_t>(idx) < groups.size()) out += groups[idx];
  }
  return out;
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool HasErrorLabel(const LabelList& labels) {
  bool err = false, preserve = false;
  for (const auto& l : labels) {
    if (l.name == kErrorLabel) err = true;
    if (l.name == "__preserve_error__" && l.value == "true") preserve = true;
  }
  return err && !preserve;
}

LabelList ApplyGrouping(const LabelList& in, const std::vector<std::string>& groups, bool without) {
  LabelList out;
  out.reserve(in.size());
  for (const auto& l : in) {
    bool listed = std::find(groups.begin(), groups.end(), l.name) != groups.end();
    if (listed != without) out.push_back(l);
  }
  return out;
}

// ---- range aggregations

struct Point {
  int64_t t;
  double v;
};

double Quantile(double q, std::vector<double> values) {
  if (values.empty()) return kNaN;
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  std::sort(values.begin(), values.end());
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) + values[static_cast<size_t>(upper)] * weight;
}

// Loki's extrapolatedRate (adapted from Prometheus; ns timestamps, window from the query).
double ExtrapolatedRate(const Point* p, size_t n, int64_t range_ns, int64_t range_end) {
  if (n < 2) return 0;
  int64_t range_start = range_end - range_ns;
  double result = p[n - 1].v - p[0].v;
  double last = 0;
  for (size_t i = 0; i < n; ++i) {
    if (p[i].v < last) result += last;
    last = p[i].v;
  }
  double to_start = static_cast<double>(p[0].t - range_start) / 1e9;
  double to_end = static_cast<double>(range_end - p[n - 1].t) / 1e9;
  double sampled = static_cast<double>(p[n - 1].t - p[0].t) / 1e9;
  double avg_between = sampled / static_cast<double>(n - 1);
  double threshold = avg_between * 1.1;
  if (to_start >= threshold) to_start = avg_between / 2;
  double to_zero = to_start;
  if (result > 0 && p[0].v >= 0) to_zero = sampled * (p[0].v / result);
  if (to_zero < to_start) to_start = to_zero;
  if (to_end >= threshold) to_end = avg_between / 2;
  double interval = sampled + to_start + to_end;
  result = result * (interval / sampled);
  return result / (static_cast<double>(range_ns) / 1e9);
}

double AggregateWindow(const std::string& op, const Point* p, size_t n, int64_t range_ns,
                       int64_t window_end, bool unwrapped, std::optional<double> param) {
  double secs = static_cast<double>(range_ns) / 1e9;
  if (op == "count_over_time") return static_cast<double>(n);
  if (op == "absent_over_time") return 1;
  if (op == "rate" && !unwrapped) return static_cast<double>(n) / secs;
  if (op == "rate_counter") return ExtrapolatedRate(p, n, range_ns, window_end);
  if (op == "first_over_time") return p[0].v;
  if (op == "last_over_time") return p[n - 1].v;
  if (op == "max_over_time") {
    double m = p[0].v;
    for (size_t i = 0; i < n; ++i) {
      if (p[i].v > m || std::isnan(m)) m = p[i].v;
    }
    return m;
  }
  if (op == "min_over_time") {
    double m = p[0].v;
    for (size_t i = 0; i < n; ++i) {
      if (p[i].v < m || std::isnan(m)) m = p[i].v;
    }
    return m;
  }
  if (op == "avg_over_time") {
    double mean = 0, count = 0;
    for (size_t i = 0; i < n; ++i) {
      double v = p[i].v;
      count++;
      if (std::isinf(mean)) {
        if (std::isinf(v) && (mean > 0) == (v > 0)) continue;
        if (!std::isinf(v) && !std::isnan(v)) continue;
      }
      mean += v / count - mean / count;
    }
    return mean;
  }
  if (op == "stdvar_over_time" || op == "stddev_over_time") {
    double aux = 0, count = 0, mean = 0;
    for (size_t i = 0; i < n; ++i) {
      count++;
      double delta = p[i].v - mean;
      mean += delta / count;
      aux += delta * (p[i].v - mean);
    }
    return op == "stdvar_over_time" ? aux / count : std::sqrt(aux / count);
  }
  if (op == "quantile_over_time") {
    std::vector<double> values(n);
    for (size_t i = 0; i < n; ++i) values[i] = p[i].v;
    return Quantile(param.value_or(0), std::move(values));
  }
  // sum_over_time, bytes_over_time, bytes_rate, rate (unwrapped)
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i].v;
  if (op == "bytes_rate" || op == "rate") return sum / secs;
  return sum;
}

// Loki's absentLabels: the selector's equality matchers, minus names matched otherwise.
LabelList AbsentLabels(const std::vector<storage::Matcher>& matchers) {
  LabelList out;
  std::vector<std::string> empty;
  for (const auto& m : matchers) {
    if (m.name() == "__name__") continue;
    bool has = std::any_of(out.begin(), out.end(), [&](const storage::Label& l) { return l.name == m.name(); });
    if (m.type() == storage::MatchType::kEqual && !has) {
      out.push_back({m.name(), m.value()});
    } else {
      empty.push_back(m.name());
    }
  }
  std::erase_if(out, [&](const storage::Label& l) {
    return std::find(empty.begin(), empty.end(), l.name) != empty.end();
  });
  std::sort(out.begin(), out.end());
  return out;
}

// Loki's canInjectVectorGrouping: `sum` over these range aggregations (without their own
// grouping) may reduce labels at extraction; the result is the same, the series far fewer.
bool CanPushDownSum(const Expr& vec) {
  if (vec.op != "sum" || vec.left->kind != Expr::Kind::kRangeAgg || vec.left->grouping) return false;
  const std::string& op = vec.left->op;
  return op == "bytes_over_time" || op == "bytes_rate" || op == "sum_over_time" || op == "rate" ||
         op == "count_over_time";
}

void CollectFilterLabels(const LabelFilterExpr& f, std::vector<std::string>* out) {
  if (f.kind == LabelFilterExpr::Kind::kAnd || f.kind == LabelFilterExpr::Kind::kOr) {
    for (const LabelFilterExpr& c : f.children) CollectFilterLabels(c, out);
    return;
  }
  out->push_back(f.name);
}

// Loki's parser hints: the labels a range aggregation reads after `| json`, when that is
// knowable: its stages are only line filters, parameterless `| json` and label filters,
// and the result keeps only `by (...)` labels (or none). Then the json parser adds only
// these (grouping, filtered, unwrapped labels); nullopt means extract everything.
std::optional<std::vector<std::string>> JsonHints(const LogRangeExpr& r, bool by, bool no_labels,
                                                  const std::vector<std::string>& groups) {
  if (!by && !no_labels) return std::nullopt;
  std::vector<std::string> need;
  bool has_json = false;
  for (const StageExpr& s : r.selector.stages) {
    switch (s.kind) {
      case StageExpr::Kind::kLineFilter: break;
      case StageExpr::Kind::kJson:
        if (!s.params.empty()) return std::nullopt;
        has_json = true;
        break;
      case StageExpr::Kind::kLabelFilter: CollectFilterLabels(s.label_filter, &need); break;
      default: return std::nullopt;
    }
  }
  if (!has_json) return std::nullopt;
  if (r.unwrap) {
    need.push_back(r.unwrap->label);
    for (const LabelFilterExpr& f : r.unwrap->post_filters) CollectFilterLabels(f, &need);
  }
  if (!no_labels) need.insert(need.end(), groups.begin(), groups.end());
  // A parsed label clashing with a stream label is renamed `<name>_extracted`: the parser
  // must still extract `<name>` for it.
  constexpr std::string_view kSuffix = "_extracted";
  for (size_t i = 0, n = need.size(); i < n; ++i) {
    if (need[i].size() > kSuffix.size() && need[i].ends_with(kSuffix)) {
      need.push_back(need[i].substr(0, need[i].size() - kSuffix.size()));
    }
  }
  std::sort(need.begin(), need.end());
  need.erase(std::unique(need.begin(), need.end()), need.end());
  return need;
}

// `grouping` is the range aggregation's own, or the one pushed down from a parent `sum`.
std::vector<StepVector> EvalRangeAggregation(const Expr& e, const std::optional<Grouping>& grouping,
                                             const Steps& steps, EvalContext* ctx) {
  const LogRangeExpr& r = e.range;
  std::unique_ptr<Pipeline> post;
  std::optional<Unwrap> unwrap;
  if (r.unwrap) {
    auto p = BuildPostFilters(*r.unwrap);
    if (!p.ok()) ThrowStatus(p.status());
    post = *std::move(p);
    unwrap.emplace(r.unwrap->label, r.unwrap->conversion);
  }
  // Grouping applied at extraction (Loki's sample extractor): `by` keeps the listed labels;
  // otherwise the unwrapped label is dropped.
  bool group = grouping.has_value();
  bool without = group && grouping->without;
  std::vector<std::string> groups = group ? grouping->labels : std::vector<std::string>{};
  // Loki's Grouping.Singleton (`by ()` or a pushed-down bare `sum`): no labels at all;
  // absent_over_time never needs them either.
  const bool no_labels = (group && !without && groups.empty()) || e.op == "absent_over_time";
  if (unwrap && (!group || without)) {
    group = true;
    without = true;
    groups.push_back(unwrap->label());
  }
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  const std::optional<std::vector<std::string>> hints = JsonHints(r, group && !without, no_labels, groups);
  const std::vector<std::string>* json_labels = hints ? &*hints : nullptr;
  auto pipeline = BuildPipeline(r.selector.stages, json_labels);
  if (!pipeline.ok()) ThrowStatus(pipeline.status());
  // The empty set first, as it always was (ids order the output series).
  (void)ctx->labels.Intern({});
  const bool bytes_value = e.op == "bytes_over_time" || e.op == "bytes_rate";

  const int64_t last_end = steps.At(steps.count - 1) - r.offset_ns;
  const int64_t scan_start = steps.start_ns - r.offset_ns - r.range_ns + 1;
  const int64_t scan_end = last_end + 1;

  auto streams = ctx->querier->SelectStreams(ctx->tenant, r.selector.matchers, scan_start, scan_end);
  if (!streams.ok()) ThrowStatus(streams.status());
  if (ctx->stats) ctx->stats->streams += static_cast<int64_t>(streams->size());

  // Streams are scanned concurrently (ctx->pool), each into its own label table and point
  // lists; they are then merged in stream order, so global label ids keep the serial
  // first-seen order (streams sorted by labels, entries by time) and results and the first
  // error reported stay deterministic.
  struct StreamSeries {
    LabelTable labels;
    std::vector<std::vector<Point>> points;  // by local label id
  };
  struct Worker {
    std::unique_ptr<Pipeline> pipe;
    std::unique_ptr<Pipeline> post;
    std::optional<Unwrap> unwrap;
    LabelsBuilder lbs;
    std::vector<storage::Label> metadata;
    LabelList scratch;
    storage::LogScanStats scan_stats;
    int64_t post_filter_lines = 0;
    int64_t unflushed_samples = 0;
    uint32_t deadline_counter = 0;
  };
  const size_t n_workers = ScanPool::MaxWorkers(ctx->pool);
  std::vector<std::unique_ptr<Worker>> workers(n_workers);
  workers[0] = std::make_unique<Worker>();
  workers[0]->pipe = *std::move(pipeline);
  workers[0]->post = std::move(post);
  workers[0]->unwrap = std::move(unwrap);
  std::vector<StreamSeries> per_stream(streams->size());
  std::vector<absl::Status> errors(streams->size());
  std::atomic<bool> failed{false};
  std::atomic<int64_t> held{ctx->held_samples};
  const std::vector<std::string> literals = RequiredLiterals(r.selector.stages);
  const auto deadline = ctx->deadline;
  const int64_t max_samples = ctx->options->max_samples;
  const int64_t max_series = ctx->options->max_intermediate_series;
  auto series_limit = [&] {
    return absl::ResourceExhaustedError(
        "maximum number of series (" + std::to_string(max_series) +
        ") reached while evaluating a range aggregation; aggregate with sum by (...) or "
        "reduce the labels with drop/keep");
  };
  auto samples_limit = [] {
    return absl::ResourceExhaustedError("query processing would load too many samples into memory");
  };

  ScanPool::ForEachOn(ctx->pool, streams->size(), [&](size_t wi, size_t si) {
    if (failed.load(std::memory_order_relaxed)) return;
    if (!workers[wi]) {
      auto w = std::make_unique<Worker>();
      auto p = BuildPipeline(r.selector.stages, json_labels);
      if (!p.ok()) {
        errors[si] = p.status();
        failed = true;
        return;
      }
      w->pipe = *std::move(p);
      if (r.unwrap) {
        auto pp = BuildPostFilters(*r.unwrap);
        if (!pp.ok()) {
          errors[si] = pp.status();
          failed = true;
          return;
        }
        w->post = *std::move(pp);
        w->unwrap.emplace(r.unwrap->label, r.unwrap->conversion);
      }
      workers[wi] = std::move(w);
    }
    Worker& w = *workers[wi];
    StreamSeries& out = per_stream[si];
    const auto& stream = (*streams)[si];
    w.lbs.SetStream(&stream.labels.items());
    storage::LogScanOptions opts;
    opts.stats = &w.scan_stats;
    opts.line_contains = literals;
    Pipeline& pipe = *w.pipe;
    LabelList& scratch = w.scratch;
    LabelsBuilder& lbs = w.lbs;
    // Local id of the series of entries no stage changed (an index: points may reallocate).
    uint32_t unchanged_id = UINT32_MAX;
    auto fail = [&](absl::Status s) {
      errors[si] = std::move(s);
      failed = true;
      return false;
    };
    absl::Status st = ctx->querier->ScanStream(
        ctx->tenant, stream.id, scan_start, scan_end, storage::LogDirection::kForward, opts,
        [&](const storage::LogEntryView& ev) {
          if ((++w.deadline_counter & 1023) == 0) {
            if (failed.load(std::memory_order_relaxed)) return false;
            if (std::chrono::steady_clock::now() > deadline) {
              return fail(absl::DeadlineExceededError("query timed out"));
            }
          }
          w.metadata.resize(ev.metadata.size());
          for (size_t i = 0; i < ev.metadata.size(); ++i) {
            w.metadata[i].name.assign(ev.metadata[i].name);
            w.metadata[i].value.assign(ev.metadata[i].value);
          }
          lbs.StartEntry(w.metadata);
          std::string_view line = ev.line;
          if (!pipe.Process(ev.t_ns, line, lbs)) return true;
          double v;
          if (w.unwrap) {
            if (!w.unwrap->Extract(lbs, &v)) return true;
            if (!w.post->Process(ev.t_ns, line, lbs)) return true;
          } else {
            v = bytes_value ? static_cast<double>(line.size()) : 1.0;
          }
          w.post_filter_lines++;
          std::vector<Point>* target;
          bool plain = !lbs.HasError() && lbs.Unchanged();
          if (plain && unchanged_id != UINT32_MAX) {
            target = &out.points[unchanged_id];
          } else {
            uint32_t id;
            if (lbs.HasError()) {
              // Errors keep every label so the failure names the series (GroupedLabels).
              lbs.Labels(&scratch);
              id = out.labels.Intern(scratch);
            } else if (no_labels) {
              scratch.clear();
              id = out.labels.Intern(scratch);
            } else if (group && !without) {
              // `by`: read just the grouping labels, reusing the scratch strings.
              size_t n = 0;
              for (const std::string& g : groups) {
                std::optional<std::string_view> gv = lbs.Get(g);
                if (!gv) continue;
                if (scratch.size() <= n) scratch.emplace_back();
                scratch[n].name.assign(g);
                scratch[n].value.assign(*gv);
                ++n;
              }
              scratch.resize(n);
              id = out.labels.Intern(scratch);
            } else {
              lbs.Labels(&scratch);
              if (group) {
                std::erase_if(scratch, [&](const storage::Label& l) {
                  return std::binary_search(groups.begin(), groups.end(), l.name);
                });
              }
              id = out.labels.Intern(scratch);
            }
            if (id >= out.points.size()) {
              // A subset of the query's series: over the limit here means over it overall.
              if (static_cast<int64_t>(out.points.size()) >= max_series) return fail(series_limit());
              out.points.resize(id + 1);
            }
            target = &out.points[id];
            if (plain) unchanged_id = id;
          }
          target->push_back(Point{ev.t_ns, v});
          if (++w.unflushed_samples == 1024) {
            w.unflushed_samples = 0;
            if (held.fetch_add(1024, std::memory_order_relaxed) + 1024 > max_samples) {
              return fail(samples_limit());
            }
          }
          return true;
        });
    if (!st.ok()) fail(std::move(st));
  });
  for (const auto& w : workers) {
    if (!w) continue;
    ctx->scan_stats += w->scan_stats;
    if (ctx->stats) ctx->stats->post_filter_lines += w->post_filter_lines;
  }
  ThrowFirstError(&errors);

  std::unordered_map<uint32_t, std::vector<Point>> series;
  for (StreamSeries& ss : per_stream) {
    for (uint32_t local = 0; local < ss.points.size(); ++local) {
      uint32_t id = ctx->labels.Intern(ss.labels.Get(local));
      auto [sit, fresh] = series.try_emplace(id);
      if (fresh && static_cast<int64_t>(series.size()) > max_series) ThrowStatus(series_limit());
      std::vector<Point>& pts = ss.points[local];
      ctx->HoldSamples(static_cast<int64_t>(pts.size()));
      if (sit->second.empty()) {
        sit->second = std::move(pts);
      } else {
        sit->second.insert(sit->second.end(), pts.begin(), pts.end());
      }
    }
    ss = StreamSeries{};
  }

  // Series in first-seen order (ids are assigned in scan order: streams sorted by labels,
  // entries by time), so results and the first error reported are deterministic.
  std::vector<std::pair<uint32_t, std::vector<Point>*>> ordered;
  ordered.reserve(series.size());
  for (auto& [id, pts] : series) {
    if (!std::is_sorted(pts.begin(), pts.end(), [](const Point& a, const Point& b) { return a.t < b.t; })) {
      std::stable_sort(pts.begin(), pts.end(), [](const Point& a, const Point& b) { return a.t < b.t; });
    }
    ordered.emplace_back(id, &pts);
  }
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  // Series-major: each series visits only the steps whose window holds one of its points
  // (a high-cardinality series with one entry costs range/step steps, not all of them).
  std::vector<StepVector> out(steps.count);
  const bool absent = e.op == "absent_over_time";
  std::vector<bool> any(absent ? steps.count : 0);
  // The first step whose window end (At(i) - offset) is at or after t.
  auto first_step_at_or_after = [&](int64_t t) -> size_t {
    int64_t rel = t + r.offset_ns - steps.start_ns;
    if (rel <= 0 || steps.step_ns <= 0) return 0;
    return static_cast<size_t>((rel + steps.step_ns - 1) / steps.step_ns);
  };
  for (const auto& [id, pts_ptr] : ordered) {
    const std::vector<Point>& pts = *pts_ptr;
    const bool has_error = HasErrorLabel(ctx->labels.Get(id));
    size_t lo = 0, hi = 0;
    size_t i = first_step_at_or_after(pts.front().t);
    while (i < steps.count) {
      int64_t we = steps.At(i) - r.offset_ns;
      int64_t ws = we - r.range_ns;
      while (hi < pts.size() && pts[hi].t <= we) ++hi;
      while (lo < pts.size() && pts[lo].t <= ws) ++lo;
      if (lo >= pts.size()) break;
      if (lo >= hi) {
        // Empty window: jump to the first step that reaches the next point.
        size_t next = first_step_at_or_after(pts[lo].t);
        i = std::max(i + 1, next);
        continue;
      }
      if (has_error) ThrowStatus(PipelineError(ctx->labels.Get(id)));
      if (absent) {
        any[i] = true;
      } else {
        double v = AggregateWindow(e.op, pts.data() + lo, hi - lo, r.range_ns, we,
                                   r.unwrap.has_value(), e.param);
        out[i].push_back(Sample{id, v});
      }
      ++i;
    }
    ctx->CheckDeadline();
  }
  if (absent) {
    uint32_t absent_id = ctx->labels.Intern(AbsentLabels(r.selector.matchers));
    for (size_t i = 0; i < steps.count; ++i) {
      if (!any[i]) out[i].push_back(Sample{absent_id, 1});
    }
  }
  return out;
}

// ---- vector aggregations

// NaN sorts last in both directions (Loki's value heaps).
bool ValueLess(double a, double b, bool desc) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return desc ? a > b : a < b;
}

// `keys` caches the grouping key of an input label set across steps.
StepVector AggregateStep(const Expr& e, const StepVector& in, EvalContext* ctx,
                         std::unordered_map<uint32_t, uint32_t>* keys) {
  const std::string& op = e.op;
  static const Grouping kNoGrouping;
  const Grouping& g = e.grouping ? *e.grouping : kNoGrouping;
  struct Group {
    uint32_t labels;
    double value = 0, mean = 0;
    int64_t count = 0;
    std::vector<Sample> members;
  };
  std::vector<Group> groups;
  std::unordered_map<uint32_t, size_t> index;
  for (const Sample& s : in) {
    uint32_t key;
    if (auto k = keys->find(s.labels); k != keys->end()) {
      key = k->second;
    } else {
      key = ctx->labels.Intern(ApplyGrouping(ctx->labels.Get(s.labels), g.labels, g.without));
      keys->emplace(s.labels, key);
    }
    auto [it, inserted] = index.emplace(key, groups.size());
    if (inserted) {
      Group ng;
      ng.labels = key;
      ng.value = s.v;
      ng.mean = s.v;
      ng.count = 1;
      if (op == "stddev" || op == "stdvar") ng.value = 0;
      ng.members.push_back(s);
      groups.push_back(std::move(ng));
      continue;
    }
    Group& gr = groups[it->second];
    if (op == "sum") {
      gr.value += s.v;
    } else if (op == "avg") {
      gr.count++;
      if (std::isinf(gr.mean)) {
        if (std::isinf(s.v) && (gr.mean > 0) == (s.v > 0)) continue;
        if (!std::isinf(s.v) && !std::isnan(s.v)) continue;
      }
      gr.mean += (s.v - gr.mean) / static_cast<double>(gr.count);
    } else if (op == "max") {
      if (gr.value < s.v || std::isnan(gr.value)) gr.value = s.v;
    } else if (op == "min") {
      if (gr.value > s.v || std::isnan(gr.value)) gr.value = s.v;
    } else if (op == "count") {
      gr.count++;
    } else if (op == "stddev" || op == "stdvar") {
      gr.count++;
      double delta = s.v - gr.mean;
      gr.mean += delta / static_cast<double>(gr.count);
      gr.value += delta * (s.v - gr.mean);
    } else {
      gr.members.push_back(s);
    }
  }
  StepVector out;
  for (Group& gr : groups) {
    if (op == "topk" || op == "bottomk" || op == "approx_topk" || op == "sort" || op == "sort_desc") {
      bool desc = op == "topk" || op == "approx_topk" || op == "sort_desc";
      std::stable_sort(gr.members.begin(), gr.members.end(),
                       [&](const Sample& a, const Sample& b) { return ValueLess(a.v, b.v, desc); });
      size_t n = gr.members.size();
      if (op != "sort" && op != "sort_desc") n = std::min<size_t>(n, static_cast<size_t>(e.k));
      out.insert(out.end(), gr.members.begin(), gr.members.begin() + static_cast<std::ptrdiff_t>(n));
      continue;
    }
    double v = gr.value;
    if (op == "avg") v = gr.mean;
    if (op == "count") v = static_cast<double>(gr.count);
    if (op == "stddev") v = std::sqrt(gr.value / static_cast<double>(gr.count));
    if (op == "stdvar") v = gr.value / static_cast<double>(gr.count);
    out.push_back(Sample{gr.labels, v});
  }
  return out;
}

// ---- binary operations

uint32_t Signature(const LabelList& l, const VectorMatching& m, EvalContext* ctx) {
  if (m.on) return ctx->labels.Intern(ApplyGrouping(l, m.matching, false));
  return ctx->labels.Intern(ApplyGrouping(l, m.matching, true));
}

// Loki's resultMetric.
LabelList ResultMetric(const LabelList& lhs, const LabelList& rhs, const VectorMatching& m) {
  LabelList out;
  if (m.card == VectorMatching::Card::kOneToOne) {
    out = ApplyGrouping(lhs, m.matching, !m.on);
  } else {
    out = lhs;
  }
  for (const std::string& name : m.include) {
    std::erase_if(out, [&](const storage::Label& l) { return l.name == name; });
    for (const auto& l : rhs) {
      if (l.name == name && !l.value.empty()) out.push_back(l);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

StepVector VectorBinaryStep(const Expr& e, const StepVector& lhs_in, const StepVector& rhs_in,
                            EvalContext* ctx) {
  const VectorMatching& m = e.matching;
  std::vector<uint32_t> lsig(lhs_in.size()), rsig(rhs_in.size());
  for (size_t i = 0; i < lhs_in.size(); ++i) lsig[i] = Signature(ctx->labels.Get(lhs_in[i].labels), m, ctx);
  for (size_t i = 0; i < rhs_in.size(); ++i) rsig[i] = Signature(ctx->labels.Get(rhs_in[i].labels), m, ctx);
  const std::string& op = e.op;
  if (op == "and" || op == "or" || op == "unless") {
    StepVector out;
    if (op == "and") {
      if (lhs_in.empty() || rhs_in.empty()) return out;
      std::unordered_map<uint32_t, bool> right(rsig.size());
      for (uint32_t s : rsig) right[s] = true;
      for (size_t i = 0; i < lhs_in.size(); ++i) {
        if (right.count(lsig[i])) out.push_back(lhs_in[i]);
      }
    } else if (op == "or") {
      if (lhs_in.empty()) return rhs_in;
      if (rhs_in.empty()) return lhs_in;
      std::unordered_map<uint32_t, bool> left;
      for (size_t i = 0; i < lhs_in.size(); ++i) {
        left[lsig[i]] = true;
        out.push_back(lhs_in[i]);
      }
      for (size_t i = 0; i < rhs_in.size(); ++i) {
        if (!left.count(rsig[i])) out.push_back(rhs_in[i]);
      }
    } else {
      if (lhs_in.empty() || rhs_in.empty()) return lhs_in;
      std::unordered_map<uint32_t, bool> right;
      for (uint32_t s : rsig) right[s] = true;
      for (size_t i = 0; i < lhs_in.size(); ++i) {
        if (!right.count(lsig[i])) out.push_back(lhs_in[i]);
      }
    }
    return out;
  }
  const StepVector* lhs = &lhs_in;
  const StepVector* rhs = &rhs_in;
  bool swapped = m.card == VectorMatching::Card::kOneToMany;
  if (swapped) {
    std::swap(lhs, rhs);
    std::swap(lsig, rsig);
  }
  std::unordered_map<uint32_t, size_t> right;
  for (size_t i = 0; i < rhs->size(); ++i) {
    if (!right.emplace(rsig[i], i).second) {
      ThrowStatus(absl::InvalidArgumentError(
          std::string("found duplicate series on the ") + (swapped ? "left" : "right") +
          " hand-side;many-to-many matching not allowed: matching labels must be unique on one side"));
    }
  }
  std::unordered_map<uint32_t, std::vector<uint32_t>> matched;
  StepVector out;
  const bool comparison = IsComparison(op);
  for (size_t i = 0; i < lhs->size(); ++i) {
    auto it = right.find(lsig[i]);
    if (it == right.end()) continue;
    const Sample& ls = (*lhs)[i];
    const Sample& rs = (*rhs)[it->second];
    LabelList metric = ResultMetric(ctx->labels.Get(ls.labels), ctx->labels.Get(rs.labels), m);
    uint32_t metric_id = ctx->labels.Intern(metric);
    auto [mit, first] = matched.try_emplace(lsig[i]);
    if (m.card == VectorMatching::Card::kOneToOne) {
      if (!first) {
        ThrowStatus(absl::InvalidArgumentError(
            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"));
      }
    } else {
      if (std::find(mit->second.begin(), mit->second.end(), metric_id) != mit->second.end()) {
        ThrowStatus(absl::InvalidArgumentError(
            "multiple matches for labels: grouping labels must ensure unique matches"));
      }
      mit->second.push_back(metric_id);
    }
    double l = ls.v, r = rs.v;
    if (swapped) std::swap(l, r);
    std::optional<double> v = SampleBinary(op, l, r, comparison && !e.return_bool, l);
    if (v) out.push_back(Sample{metric_id, *v});
  }
  return out;
}

std::vector<StepVector> EvalNode(const Expr& e, const Steps& steps, EvalContext* ctx);

std::vector<StepVector> EvalBinary(const Expr& e, const Steps& steps, EvalContext* ctx) {
  bool l_lit = e.left->kind == Expr::Kind::kLiteral;
  bool r_lit = e.right->kind == Expr::Kind::kLiteral;
  if (l_lit || r_lit) {
    // Loki's LiteralStepEvaluator: the literal applies to every sample of the other leg,
    // labels unchanged; a comparison filter keeps the vector side's value.
    const Expr& vec_expr = l_lit ? *e.right : *e.left;
    double lit = l_lit ? e.left->value : e.right->value;
    std::vector<StepVector> in = EvalNode(vec_expr, steps, ctx);
    bool filter = IsComparison(e.op) && !e.return_bool;
    for (StepVector& sv : in) {
      StepVector out;
      out.reserve(sv.size());
      for (const Sample& s : sv) {
        double l = l_lit ? lit : s.v;
        double r = l_lit ? s.v : lit;
        std::optional<double> v = SampleBinary(e.op, l, r, filter, s.v);
        if (v) out.push_back(Sample{s.labels, *v});
      }
      sv = std::move(out);
    }
    return in;
  }
  std::vector<StepVector> l = EvalNode(*e.left, steps, ctx);
  std::vector<StepVector> r = EvalNode(*e.right, steps, ctx);
  std::vector<StepVector> out(steps.count);
  for (size_t i = 0; i < steps.count; ++i) out[i] = VectorBinaryStep(e, l[i], r[i], ctx);
  return out;
}

std::vector<StepVector> EvalLabelReplace(const Expr& e, const Steps& steps, EvalContext* ctx) {
  std::vector<StepVector> in = EvalNode(*e.left, steps, ctx);
  // Loki compiles "^(?:regex)$" without (?s), unlike Prometheus.
  RE2::Options opts;
  opts.set_log_errors(false);
  RE2 re("^(?:" + e.regex + ")$", opts);
  if (!re.ok()) ThrowStatus(absl::InvalidArgumentError("invalid regex in label_replace: " + re.error()));
  std::map<std::string, int> names(re.NamedCapturingGroups().begin(), re.NamedCapturingGroups().end());
  std::unordered_map<uint32_t, uint32_t> cache;
  int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(static_cast<size_t>(ngroups));
  for (StepVector& sv : in) {
    for (Sample& s : sv) {
      auto it = cache.find(s.labels);
      if (it != cache.end()) {
        s.labels = it->second;
        continue;
      }
      const LabelList& metric = ctx->labels.Get(s.labels);
      std::string src;
      for (const auto& l : metric) {
        if (l.name == e.src) src = l.value;
      }
      uint32_t result = s.labels;
      if (re.Match(src, 0, src.size(), RE2::UNANCHORED, groups.data(), ngroups)) {
        std::vector<std::string_view> gv;
        for (const auto& g : groups) gv.emplace_back(g.data() ? std::string_view(g.data(), g.size()) : std::string_view());
        std::string res = ExpandTemplate(e.replacement, gv, names);
        LabelList out;
        for (const auto& l : metric) {
          if (l.name != e.dst) out.push_back(l);
        }
        if (!res.empty()) out.push_back({e.dst, res});
        std::sort(out.begin(), out.end());
        result = ctx->labels.Intern(out);
      }
      cache[s.labels] = result;
      s.labels = result;
    }
  }
  return in;
}

std::vector<StepVector> EvalNode(const Expr& e, const Steps& steps, EvalContext* ctx) {
  switch (e.kind) {
    case Expr::Kind::kRangeAgg: return EvalRangeAggregation(e, e.grouping, steps, ctx);
    case Expr::Kind::kVectorAgg: {
      if (e.op == "approx_topk" && !ctx->instant) {
        ThrowStatus(absl::InvalidArgumentError("count min sketches are only supported on instant queries"));
      }
      std::vector<StepVector> in;
      if (CanPushDownSum(e)) {
        in = EvalRangeAggregation(*e.left, e.grouping.value_or(Grouping{}), steps, ctx);
      } else {
        in = EvalNode(*e.left, steps, ctx);
      }
      std::unordered_map<uint32_t, uint32_t> keys;
      for (StepVector& sv : in) sv = AggregateStep(e, sv, ctx, &keys);
      return in;
    }
    case Expr::Kind::kBinary: return EvalBinary(e, steps, ctx);
    case Expr::Kind::kLabelReplace: return EvalLabelReplace(e, steps, ctx);
    case Expr::Kind::kVector: {
      uint32_t empty = ctx->labels.Intern({});
      return std::vector<StepVector>(steps.count, StepVector{Sample{empty, e.value}});
    }
    case Expr::Kind::kLiteral: {
      // Only reached below a vector aggregation (`sum(1)`): Loki treats it as a vector
      // without labels.
      uint32_t empty = ctx->labels.Intern({});
      return std::vector<StepVector>(steps.count, StepVector{Sample{empty, e.value}});
    }
    case Expr::Kind::kLogSelector:
      ThrowStatus(absl::InvalidArgumentError("unexpected log selector in a metric expression"));
  }
  return {};
}

}  // namespace

std::vector<StepVector> EvalMetric(const Expr& e, const Steps& steps, EvalContext* ctx) {
  return EvalNode(e, steps, ctx);
}

}  // namespace otelbox::query::logql

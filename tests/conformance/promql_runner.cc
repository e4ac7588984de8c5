#include "tests/conformance/promql_runner.h"

#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "tests/conformance/promql_text.h"
#include "query/common/value.h"
#include "query/promql/ast_printer.h"
#include "query/promql/engine.h"
#include "query/promql/histogram_math.h"
#include "query/promql/parser.h"
#include "re2/re2.h"
#include "storage/db.h"
#include "storage/metrics/metric_store.h"
#include "storage/model/sample.h"
#include "tests/conformance/promql_script.h"
#include "tests/conformance/temp_dir.h"

namespace otelbox::conformance {
namespace {

using query::Matrix;
using query::QueryResult;
using query::Vector;
using storage::Labels;

constexpr std::string_view kTenant = "conformance";
constexpr double kEpsilon = 1e-6;                          // upstream's defaultEpsilon
constexpr double kMinNormal = 2.2250738585072014e-308;     // smallest normal float64
constexpr size_t kMaxReasonChars = 240;

// ---------------------------------------------------------------------------------------
// Comparison helpers (FORMAT.md §11; upstream util/almost.Equal).

bool AlmostEqual(double a, double b) {
  if (storage::IsStaleNaN(a) || storage::IsStaleNaN(b)) {
    return storage::IsStaleNaN(a) && storage::IsStaleNaN(b);
  }
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  double abs_sum = std::fabs(a) + std::fabs(b);
  double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < kEpsilon * kMinNormal;
  return diff / std::min(abs_sum, std::numeric_limits<double>::max()) < kEpsilon;
}

std::string FormatFloat(double v) {
  if (storage::IsStaleNaN(v)) return "stale";
  return query::promql::FormatFloat(v);
}

std::string FormatList(const std::vector<double>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) Append(&out, i ? " " : "", FormatFloat(v[i]));
  return out + "]";
}

// A histogram in the script notation (compacted; several spans shown as offset:span lists).
std::string FormatHistogram(const storage::FloatHistogram& in) {
  storage::FloatHistogram h = in;
  query::promql::HistogramCompact(&h);
  std::string out = Cat("{{schema:", h.schema, " count:", FormatFloat(h.count), " sum:",
                        FormatFloat(h.sum));
  if (h.zero_count != 0) Append(&out, " z_bucket:", FormatFloat(h.zero_count));
  if (h.zero_threshold != 0) Append(&out, " z_bucket_w:", FormatFloat(h.zero_threshold));
  auto spans = [&](const char* name, const std::vector<storage::BucketSpan>& sp,
                   const std::vector<double>& b) {
    if (b.empty()) return;
    Append(&out, " ", name, ":", FormatList(b), " spans:[");
    for (size_t i = 0; i < sp.size(); ++i) Append(&out, i ? " " : "", sp[i].offset, "/", sp[i].length);
    out += "]";
  };
  spans("buckets", h.positive_spans, h.positive_buckets);
  spans("n_buckets", h.negative_spans, h.negative_buckets);
  if (!h.custom_values.empty()) Append(&out, " custom_values:", FormatList(h.custom_values));
  static const char* kHints[] = {"unknown", "reset", "not_reset", "gauge"};
  Append(&out, " counter_reset_hint:", kHints[static_cast<int>(h.counter_reset_hint)], "}}");
  return out;
}

// FORMAT.md §11 (upstream's compareNativeHistogram), both sides compacted.
bool HistogramMatches(const SequenceValue& want, const storage::FloatHistogram& got_in) {
  storage::FloatHistogram exp = want.h, got = got_in;
  query::promql::HistogramCompact(&exp);
  query::promql::HistogramCompact(&got);
  if (exp.schema != got.schema || !AlmostEqual(exp.count, got.count) ||
      !AlmostEqual(exp.sum, got.sum)) {
    return false;
  }
  if (exp.schema == storage::kCustomBucketsSchema && exp.custom_values != got.custom_values) {
    return false;
  }
  if (exp.zero_threshold != got.zero_threshold || !AlmostEqual(exp.zero_count, got.zero_count)) {
    return false;
  }
  auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!AlmostEqual(a[i], b[i])) return false;
    }
    return true;
  };
  if (exp.negative_spans != got.negative_spans || !same(exp.negative_buckets, got.negative_buckets)) {
    return false;
  }
  if (exp.positive_spans != got.positive_spans || !same(exp.positive_buckets, got.positive_buckets)) {
    return false;
  }
  return !want.hint_set || exp.counter_reset_hint == got.counter_reset_hint;
}

std::string FormatValue(const SequenceValue& v) {
  switch (v.kind) {
    case SequenceValue::Kind::kFloat: return FormatFloat(v.value);
    case SequenceValue::Kind::kOmitted: return "_";
    case SequenceValue::Kind::kStale: return "stale";
    case SequenceValue::Kind::kHistogram: return Cat("{{", v.histogram, "}}");
  }
  return "?";
}

std::string FormatSamples(const std::vector<storage::Sample>& samples) {
  std::string out;
  for (const auto& s : samples) {
    Append(&out, out.empty() ? "" : " ", FormatFloat(s.value), "@", s.t_ms);
  }
  return out;
}

std::string FormatHistograms(const std::vector<storage::HistogramSample>& hs) {
  std::string out;
  for (const auto& s : hs) Append(&out, out.empty() ? "" : " ", FormatHistogram(s.h), "@", s.t_ms);
  return out;
}

std::string FormatElement(const query::VectorElement& e) {
  return e.h ? FormatHistogram(*e.h) : FormatFloat(e.v);
}

// A result value, one series per line (truncated).
std::string FormatResult(const query::Value& value) {
  constexpr size_t kMaxSeries = 30;
  std::string out;
  if (auto* s = std::get_if<query::Scalar>(&value)) return Cat("scalar ", FormatFloat(s->v));
  if (auto* s = std::get_if<query::String>(&value)) return Cat("string \"", s->v, "\"");
  if (auto* v = std::get_if<Vector>(&value)) {
    out = Cat("vector (", v->size(), " series)");
    for (size_t i = 0; i < v->size() && i < kMaxSeries; ++i) {
      Append(&out, "\n      ", (*v)[i].labels.ToString(), " ", FormatElement((*v)[i]));
    }
    if (v->size() > kMaxSeries) Append(&out, "\n      ...");
    return out;
  }
  const Matrix& m = std::get<Matrix>(value);
  out = Cat("matrix (", m.size(), " series)");
  for (size_t i = 0; i < m.size() && i < kMaxSeries; ++i) {
    Append(&out, "\n      ", m[i].labels.ToString(), " ", FormatSamples(m[i].samples), " ",
           FormatHistograms(m[i].histograms));
  }
  if (m.size() > kMaxSeries) Append(&out, "\n      ...");
  return out;
}

std::string FormatExpected(const EvalCmd& cmd) {
  if (cmd.expected_scalar) return Cat("scalar ", FormatFloat(*cmd.expected_scalar));
  if (cmd.expected_string) return Cat("string \"", *cmd.expected_string, "\"");
  std::string out = Cat(cmd.expected.size(), " series");
  if (cmd.expected.empty()) out = "empty result";
  for (const auto& e : cmd.expected) {
    Append(&out, "\n      ", e.series.labels.ToString());
    for (const auto& v : e.series.values) Append(&out, " ", FormatValue(v));
  }
  return out;
}

using ExpectedMap = std::map<Labels, const ExpectedSeries*>;

ExpectedMap BuildExpected(const EvalCmd& cmd) {
  ExpectedMap m;
  for (const auto& e : cmd.expected) m[e.series.labels] = &e;  // duplicates: the last wins
  return m;
}

// Empty string = match. Upstream's compareResult for an instant vector.
std::string CompareVector(const EvalCmd& cmd, const Vector& got) {
  if (cmd.expected_scalar) return "expected a scalar result, but got a vector";
  if (cmd.expected_string) return "expected a string result, but got a vector";
  ExpectedMap expected = BuildExpected(cmd);
  std::set<Labels> seen;
  for (size_t pos = 0; pos < got.size(); ++pos) {
    const auto& el = got[pos];
    if (!seen.insert(el.labels).second) {
      return Cat("duplicate series ", el.labels.ToString(), " in result");
    }
    auto it = expected.find(el.labels);
    if (it == expected.end()) {
      return Cat("unexpected series ", el.labels.ToString(), " in result, value ",
                          FormatFloat(el.v));
    }
    const ExpectedSeries& exp = *it->second;
    if (cmd.ordered && exp.position != static_cast<int>(pos + 1)) {
      return Cat("expected series ", el.labels.ToString(), " at position ", exp.position,
                          " but it was at ", pos + 1);
    }
    if (exp.series.values.empty()) return Cat("expected series without value: ", el.labels.ToString());
    const SequenceValue& v = exp.series.values[0];
    if (v.kind == SequenceValue::Kind::kHistogram) {
      if (!el.h) {
        return Cat("expected a histogram for ", el.labels.ToString(), " but got float ",
                   FormatFloat(el.v));
      }
      if (!HistogramMatches(v, *el.h)) {
        return Cat("expected {{", v.histogram, "}} for ", el.labels.ToString(), " but got ",
                   FormatHistogram(*el.h));
      }
      continue;
    }
    if (el.h) {
      return Cat("expected float ", FormatValue(v), " for ", el.labels.ToString(),
                 " but got histogram ", FormatHistogram(*el.h));
    }
    if (v.kind == SequenceValue::Kind::kOmitted || !AlmostEqual(v.value, el.v)) {
      return Cat("expected ", FormatValue(v), " for ", el.labels.ToString(), " but got ",
                          FormatFloat(el.v));
    }
  }
  for (const auto& [labels, exp] : expected) {
    if (!seen.contains(labels)) return Cat("expected series ", labels.ToString(), " not found");
  }
  return "";
}

// Upstream's compareResult for a matrix: expected position i sits at start + i*step.
std::string CompareMatrix(const EvalCmd& cmd, const Matrix& got, int64_t start_ms, int64_t end_ms,
                          int64_t step_ms) {
  if (cmd.ordered) return "expected an ordered result, but the query returned a matrix";
  if (cmd.expected_scalar) return "expected a scalar result, but got a matrix";
  if (cmd.expected_string) return "expected a string result, but got a matrix";
  for (size_t i = 1; i < got.size(); ++i) {
    if (got[i - 1].labels > got[i].labels) {
      return Cat("matrix is not sorted by labels: ", got[i - 1].labels.ToString(),
                          " before ", got[i].labels.ToString());
    }
  }
  ExpectedMap expected = BuildExpected(cmd);
  std::set<Labels> seen;
  for (const auto& s : got) {
    auto it = expected.find(s.labels);
    if (it == expected.end()) {
      return Cat("unexpected series ", s.labels.ToString(), " in result: ",
                          FormatSamples(s.samples));
    }
    if (!seen.insert(s.labels).second) {
      return Cat("duplicate series ", s.labels.ToString(), " in result");
    }
    std::vector<storage::Sample> want;
    std::vector<std::pair<int64_t, const SequenceValue*>> want_h;
    const auto& values = it->second->series.values;
    for (size_t i = 0; i < values.size(); ++i) {
      int64_t t = start_ms + static_cast<int64_t>(i) * step_ms;
      if (t > end_ms) {
        return Cat("expected ", values.size(), " points for ", s.labels.ToString(),
                            ", but the query time range cannot return this many points");
      }
      if (values[i].kind == SequenceValue::Kind::kHistogram) {
        want_h.push_back({t, &values[i]});
      } else if (values[i].kind != SequenceValue::Kind::kOmitted) {
        want.push_back({t, values[i].value});
      }
    }
    if (want.size() != s.samples.size() || want_h.size() != s.histograms.size()) {
      return Cat("expected ", want.size(), " float and ", want_h.size(), " histogram points for ",
                 s.labels.ToString(), " (", FormatSamples(want), ") but got ", s.samples.size(),
                 " and ", s.histograms.size(), " (", FormatSamples(s.samples), " ",
                 FormatHistograms(s.histograms), ")");
    }
    for (size_t i = 0; i < want.size(); ++i) {
      if (want[i].t_ms != s.samples[i].t_ms || !AlmostEqual(want[i].value, s.samples[i].value)) {
        return Cat("for ", s.labels.ToString(), " expected ", FormatSamples(want),
                            " but got ", FormatSamples(s.samples));
      }
    }
    for (size_t i = 0; i < want_h.size(); ++i) {
      if (want_h[i].first != s.histograms[i].t_ms ||
          !HistogramMatches(*want_h[i].second, s.histograms[i].h)) {
        return Cat("for ", s.labels.ToString(), " expected {{", want_h[i].second->histogram,
                   "}}@", want_h[i].first, " but got ", FormatHistograms(s.histograms));
      }
    }
  }
  for (const auto& [labels, exp] : expected) {
    if (!seen.contains(labels)) return Cat("expected series ", labels.ToString(), " not found");
  }
  return "";
}

std::string CompareResult(const EvalCmd& cmd, const query::Value& value) {
  if (auto* s = std::get_if<query::Scalar>(&value)) {
    if (!cmd.expected_scalar) return Cat("expected a vector or matrix, but got scalar ", FormatFloat(s->v));
    if (!AlmostEqual(*cmd.expected_scalar, s->v)) {
      return Cat("expected scalar ", FormatFloat(*cmd.expected_scalar), " but got ", FormatFloat(s->v));
    }
    return "";
  }
  if (auto* s = std::get_if<query::String>(&value)) {
    std::string want = cmd.expected_string.value_or("");
    if (want != s->v) return Cat("expected string \"", want, "\" but got \"", s->v, "\"");
    return "";
  }
  if (auto* v = std::get_if<Vector>(&value)) return CompareVector(cmd, *v);
  const Matrix& m = std::get<Matrix>(value);
  if (cmd.is_range) return CompareMatrix(cmd, m, cmd.start_ms, cmd.end_ms, cmd.step_ms);
  if (cmd.expect_range_vector) {
    return CompareMatrix(cmd, m, cmd.range_start_ms, cmd.range_end_ms, cmd.range_step_ms);
  }
  // An instant query that returned a matrix without `expect range vector`: upstream's
  // range is [eval time, epoch], so only an empty expectation can match.
  return CompareMatrix(cmd, m, cmd.start_ms, std::min<int64_t>(cmd.start_ms, 0), 0);
}

// ---------------------------------------------------------------------------------------
// Annotations (FORMAT.md §12).

struct Annotations {
  std::vector<std::string> warnings;
  std::vector<std::string> infos;
  bool infos_supported = false;  // the result type has a channel for infos
};

// QueryResult has `warnings` today. An engine that renders infos into it ("PromQL info:
// ...") or grows an `infos` member is picked up without changing the runner.
template <typename R>
Annotations GetAnnotations(const R& r) {
  Annotations a;
  for (const auto& w : r.warnings) {
    (std::string_view(w).starts_with("PromQL info:") ? a.infos : a.warnings).push_back(std::string(w));
  }
  if constexpr (requires { r.infos; }) {
    for (const auto& i : r.infos) a.infos.push_back(std::string(i));
    a.infos_supported = true;
  }
  if (!a.infos.empty()) a.infos_supported = true;
  return a;
}

bool AnnotationMatches(const AnnotationExpectation& e, const std::string& text) {
  switch (e.match) {
    case AnnotationExpectation::Match::kAny: return true;
    case AnnotationExpectation::Match::kMessage: return e.text == text;
    case AnnotationExpectation::Match::kRegex: return RE2::PartialMatch(text, RE2(e.text, RE2::Quiet));
  }
  return false;
}

std::string CheckAnnotationsOfType(std::string_view kind, const std::vector<AnnotationExpectation>& want,
                                   const std::vector<std::string>& got) {
  if (want.empty()) return "";
  if (got.empty()) return Cat("expected ", kind, " annotations but none were produced");
  for (const auto& e : want) {
    bool found = false;
    for (const auto& g : got) found = found || AnnotationMatches(e, g);
    if (!found) {
      return Cat("no ", kind, " annotation matches \"", e.text, "\"; got: ",
                          Join(got, " | "));
    }
  }
  for (const auto& g : got) {
    bool found = false;
    for (const auto& e : want) found = found || AnnotationMatches(e, g);
    if (!found) return Cat("unexpected ", kind, " annotation \"", g, "\"");
  }
  return "";
}

// Returns {reason, detail}; empty reason = ok.
std::pair<std::string, std::string> CheckAnnotations(const EvalCmd& cmd, const Annotations& a) {
  bool wants_info = cmd.require_info || !cmd.info.empty();
  if (wants_info && a.infos.empty() && !a.infos_supported) {
    return {"annotations not supported: info", "the engine has no info annotations yet"};
  }
  if (cmd.require_warn && a.warnings.empty()) return {"annotations: missing warn", "expected warnings, got none"};
  if (cmd.require_info && a.infos.empty()) return {"annotations: missing info", "expected infos, got none"};
  if (std::string e = CheckAnnotationsOfType("warn", cmd.warn, a.warnings); !e.empty()) {
    return {a.warnings.empty() ? "annotations: missing warn" : "annotations: wrong warn", e};
  }
  if (std::string e = CheckAnnotationsOfType("info", cmd.info, a.infos); !e.empty()) {
    return {a.infos.empty() ? "annotations: missing info" : "annotations: wrong info", e};
  }
  if (cmd.no_warn && !a.warnings.empty()) {
    return {"annotations: unexpected warn", Join(a.warnings, " | ")};
  }
  if (cmd.no_info && !a.infos.empty()) {
    return {"annotations: unexpected info", Join(a.infos, " | ")};
  }
  return {"", ""};
}

// ---------------------------------------------------------------------------------------
// Lexical scans of a query (no parser: they must work for syntax our parser lacks).

struct Token {
  enum Kind { kIdent, kString, kPunct } kind;
  std::string text;
  size_t begin = 0;
  int brace_depth = 0;  // inside `{...}` of a selector
};

std::vector<Token> Lex(std::string_view q) {
  std::vector<Token> out;
  int depth = 0;
  for (size_t i = 0; i < q.size();) {
    char c = q[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      ++i;
      continue;
    }
    if (c == '"' || c == '\'' || c == '`') {
      size_t pos = i;
      absl::StatusOr<std::string> s = ParseQuoted(q, &pos);
      if (!s.ok()) {
        ++i;  // unterminated: skip the quote, keep scanning
        continue;
      }
      out.push_back({Token::kString, *s, i, depth});
      i = pos;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':') {
      size_t b = i;
      while (i < q.size() && (std::isalnum(static_cast<unsigned char>(q[i])) || q[i] == '_' || q[i] == ':')) ++i;
      out.push_back({Token::kIdent, std::string(q.substr(b, i - b)), b, depth});
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      // Numbers and durations ("5m", "1e3", "0x1f"): one token, never an identifier.
      size_t b = i;
      while (i < q.size() && (std::isalnum(static_cast<unsigned char>(q[i])) || q[i] == '.')) ++i;
      out.push_back({Token::kPunct, std::string(q.substr(b, i - b)), b, depth});
      continue;
    }
    if (c == '{') ++depth;
    out.push_back({Token::kPunct, std::string(1, c), i, depth});
    if (c == '}' && depth > 0) --depth;
    ++i;
  }
  return out;
}

const std::set<std::string, std::less<>>& ExperimentalFunctions() {
  static const auto* kSet = new std::set<std::string, std::less<>>{
      "histogram_quantiles", "double_exponential_smoothing", "info", "mad_over_time",
      "ts_of_first_over_time", "ts_of_last_over_time", "ts_of_min_over_time",
      "ts_of_max_over_time", "sort_by_label", "sort_by_label_desc", "start_timestamp",
      "start", "end", "range", "step", "min_of", "max_of"};
  return *kSet;
}

// True when a bracket's content is more than `<duration>` / `<duration>:<duration>`.
bool IsDurationArithmetic(const std::vector<Token>& t, size_t open, size_t close) {
  for (size_t i = open + 1; i < close; ++i) {
    // Identifiers need no rule: a call has '(' and ":5m" of a subquery is lexed as one.
    const std::string& s = t[i].text;
    if (s == "+" || s == "-" || s == "*" || s == "/" || s == "%" || s == "^" || s == "(") return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// The store of one script (until `clear`).

// The engine settings upstream's harness uses (FORMAT.md §14). EngineOptions is being
// extended while the engine grows, so each field is set only if it exists.
template <typename O>
void ApplyUpstreamSettings(O& o) {
  o.lookback_delta_ms = 5 * 60 * 1000;
  // Upstream's harness has no per-series point limit (that is an HTTP API check).
  if constexpr (requires { o.max_points_per_series; }) o.max_points_per_series = 100'000'000;
  if constexpr (requires { o.max_samples; }) o.max_samples = 10'000;
  if constexpr (requires { o.timeout_ms; }) o.timeout_ms = 100'000;
  if constexpr (requires { o.default_evaluation_interval_ms; }) o.default_evaluation_interval_ms = 60'000;
  if constexpr (requires { o.enable_experimental; }) o.enable_experimental = true;
  if constexpr (requires { o.enable_delayed_name_removal; }) o.enable_delayed_name_removal = true;
}

class Store {
 public:
  static absl::StatusOr<std::unique_ptr<Store>> Open() {
    auto s = std::unique_ptr<Store>(new Store());
    if (s->dir_.path().empty()) return absl::InternalError("cannot create a temp directory");
    storage::DatabaseOptions dbo;
    dbo.block_cache_bytes = 8 << 20;
    dbo.write_buffer_total_bytes = 16 << 20;
    dbo.now_ms = [] { return int64_t{0}; };
    dbo.metric_retention_ms = 0;  // off: scripts live at t = 0
    absl::StatusOr<std::unique_ptr<storage::Database>> db = storage::Database::Open(s->dir_.path(), dbo);
    if (!db.ok()) return db.status();
    s->db_ = std::move(*db);
    storage::MetricStoreOptions mo;
    mo.retention_ms = 0;
    mo.now_ms = [] { return int64_t{0}; };
    absl::StatusOr<std::unique_ptr<storage::MetricStore>> ms =
        storage::MetricStore::Open(s->db_.get(), mo, nullptr);
    if (!ms.ok()) return ms.status();
    s->metrics_ = std::move(*ms);
    query::promql::EngineOptions eo;
    ApplyUpstreamSettings(eo);
    s->engine_ = std::make_unique<query::promql::Engine>(s->metrics_.get(), eo);
    return s;
  }

  storage::MetricStore* metrics() { return metrics_.get(); }
  query::promql::Engine* engine() { return engine_.get(); }

  bool has_start_timestamps = false;
  // Per series: the newest histogram loaded, and whether a float came after it (for the
  // counter-reset hints storage reports, see HintAsStored).
  struct LastSample {
    int64_t t_ms = 0;
    bool is_histogram = false;
    storage::FloatHistogram h;
  };
  std::map<Labels, LastSample> last;

 private:
  Store() = default;
  TempDir dir_{"otelbox-promql"};  // declared first: removed after the database is closed
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::MetricStore> metrics_;
  std::unique_ptr<query::promql::Engine> engine_;
};

// The counter-reset hint Prometheus' TSDB reports for a histogram read back, which the
// scripts' expectations assume: gauges stay gauges; the first histogram of a series (or
// after a float) and one that starts a new chunk because of a counter reset read back as
// "unknown" (upstream issue 15346); every other one as "not_reset".
storage::CounterResetHint HintAsStored(const storage::FloatHistogram& h,
                                       const Store::LastSample* prev) {
  using H = storage::CounterResetHint;
  if (h.counter_reset_hint == H::kGaugeType) return H::kGaugeType;
  if (prev == nullptr || !prev->is_histogram) return H::kUnknown;
  if (prev->h.counter_reset_hint == H::kGaugeType) return H::kUnknown;
  if (h.counter_reset_hint == H::kCounterReset) return H::kUnknown;
  storage::FloatHistogram probe = h;
  probe.counter_reset_hint = H::kUnknown;
  if (query::promql::HistogramDetectReset(probe, prev->h)) return H::kUnknown;
  return H::kNotCounterReset;
}

// load_with_nhcb (FORMAT.md §7): classic `_bucket`/`_count`/`_sum` series as one
// custom-bucket histogram per base series and timestamp (upstream's convertnhcb).
void ConvertClassicHistograms(const std::map<Labels, std::vector<storage::Sample>>& floats,
                              std::map<Labels, std::vector<storage::HistogramSample>>* out) {
  struct Temp {
    std::vector<std::pair<double, double>> buckets;  // (le, cumulative count)
    double count = 0;
    double sum = 0;
    bool has_count = false;
    bool bad = false;
  };
  std::map<Labels, std::map<int64_t, Temp>> groups;
  for (const auto& [labels, samples] : floats) {
    std::string name(labels.Get(storage::kMetricNameLabel));
    int kind = 0;  // 1 bucket, 2 count, 3 sum
    std::string base;
    for (auto [suffix, k] : {std::pair{"_bucket", 1}, {"_sum", 3}, {"_count", 2}}) {
      std::string_view sv(suffix);
      if (kind == 0 && std::string_view(name).ends_with(sv)) {
        kind = k;
        base = name.substr(0, name.size() - sv.size());
      }
    }
    if (kind == 0) continue;
    double le = 0;
    if (kind == 1) {
      std::string le_text(labels.Get("le"));
      char* end = nullptr;
      le = std::strtod(le_text.c_str(), &end);
      if (le_text.empty() || end != le_text.c_str() + le_text.size() || std::isnan(le)) continue;
    }
    std::vector<storage::Label> ls;
    for (const auto& l : labels) {
      if (l.name == "le" || l.name == storage::kMetricNameLabel) continue;
      ls.push_back(l);
    }
    ls.push_back({std::string(storage::kMetricNameLabel), base});
    Labels key(std::move(ls));
    for (const auto& s : samples) {
      Temp& t = groups[key][s.t_ms];
      if (kind == 2) {
        t.count = s.value;
        t.has_count = true;
      } else if (kind == 3) {
        t.sum = s.value;
      } else {
        auto it = std::lower_bound(t.buckets.begin(), t.buckets.end(), le,
                                   [](const auto& b, double v) { return b.first < v; });
        if (it == t.buckets.end() || it->first != le) t.buckets.insert(it, {le, s.value});
      }
    }
  }
  for (auto& [key, by_t] : groups) {
    auto& dst = (*out)[key];
    for (auto& [t, temp] : by_t) {
      if (!temp.has_count && !temp.buckets.empty()) temp.count = temp.buckets.back().second;
      if (temp.buckets.empty() || temp.buckets.back().first != INFINITY) {
        temp.buckets.push_back({INFINITY, temp.count});
      }
      storage::FloatHistogram h;
      h.schema = storage::kCustomBucketsSchema;
      h.count = temp.count;
      h.sum = temp.sum;
      h.positive_spans.push_back({0, static_cast<uint32_t>(temp.buckets.size())});
      double prev = 0;
      for (const auto& [le, c] : temp.buckets) {
        h.positive_buckets.push_back(c - prev);
        prev = c;
        if (le != INFINITY) h.custom_values.push_back(le);
      }
      query::promql::HistogramCompact(&h);
      dst.push_back({t, std::move(h)});
    }
  }
}

absl::Status Load(const LoadCmd& cmd, Store* store) {
  if (cmd.has_start_timestamps) store->has_start_timestamps = true;
  std::map<Labels, const SeriesLine*> lines;  // a later line with the same labels wins
  for (const auto& s : cmd.series) lines[s.labels] = &s;
  std::map<Labels, std::vector<storage::Sample>> floats;
  std::map<Labels, std::vector<storage::HistogramSample>> histograms;
  for (const auto& [labels, line] : lines) {
    for (size_t i = 0; i < line->values.size(); ++i) {
      const SequenceValue& v = line->values[i];
      int64_t t = static_cast<int64_t>(i) * cmd.interval_ms;
      switch (v.kind) {
        case SequenceValue::Kind::kFloat: floats[labels].push_back({t, v.value}); break;
        case SequenceValue::Kind::kStale: floats[labels].push_back({t, storage::StaleNaN()}); break;
        case SequenceValue::Kind::kOmitted: break;
        case SequenceValue::Kind::kHistogram: histograms[labels].push_back({t, v.h}); break;
      }
    }
  }
  if (cmd.with_nhcb) ConvertClassicHistograms(floats, &histograms);

  storage::MetricBatch batch;
  std::set<Labels> all;
  for (const auto& [l, f] : floats) all.insert(l);
  for (const auto& [l, h] : histograms) all.insert(l);
  for (const auto& labels : all) {
    storage::SeriesSamples ss;
    ss.labels = labels;
    auto fit = floats.find(labels);
    if (fit != floats.end()) ss.samples = fit->second;
    auto hit = histograms.find(labels);
    if (hit != histograms.end()) ss.histograms = hit->second;
    // Walk both kinds in time order to set the hints as storage would report them.
    size_t fi = 0;
    auto last_it = store->last.find(labels);
    Store::LastSample* prev = last_it == store->last.end() ? nullptr : &last_it->second;
    Store::LastSample cur;
    for (auto& h : ss.histograms) {
      while (fi < ss.samples.size() && ss.samples[fi].t_ms < h.t_ms) {
        cur = {ss.samples[fi].t_ms, false, {}};
        prev = &cur;
        ++fi;
      }
      storage::FloatHistogram original = h.h;
      h.h.counter_reset_hint = HintAsStored(h.h, prev);
      Store::LastSample next{h.t_ms, true, original};
      cur = std::move(next);
      prev = &cur;
    }
    if (fi < ss.samples.size()) cur = {ss.samples.back().t_ms, false, {}};
    if (!ss.samples.empty() || !ss.histograms.empty()) store->last[labels] = cur;
    if (!ss.samples.empty() || !ss.histograms.empty()) batch.series.push_back(std::move(ss));
  }
  if (batch.series.empty()) return absl::OkStatus();
  absl::StatusOr<storage::AppendStats> st =
      store->metrics()->Append(kTenant, batch, storage::RejectPolicy::kRejectBatch);
  if (!st.ok()) return st.status();
  if (st->samples_rejected > 0) {
    return absl::InternalError(Cat(st->samples_rejected, " samples rejected: ", st->first_rejection));
  }
  return absl::OkStatus();
}

std::string FirstLine(std::string_view s) {
  std::string out(s.substr(0, s.find('\n')));
  if (out.size() > kMaxReasonChars) out = out.substr(0, kMaxReasonChars) + "...";
  return out;
}

// Runs the engine; a thrown exception becomes an error (a crash must not end the run).
absl::StatusOr<QueryResult> Execute(query::promql::Engine* engine, const std::string& expr,
                                    bool range, int64_t start_ms, int64_t end_ms, int64_t step_ms) {
  try {
    if (range) return engine->Range(kTenant, expr, start_ms, end_ms, step_ms);
    return engine->Instant(kTenant, expr, start_ms);
  } catch (const std::exception& e) {
    return absl::InternalError(Cat("engine threw: ", e.what()));
  } catch (...) {
    return absl::InternalError("engine threw a non-std exception");
  }
}

// Print(Parse(expr)) must parse again and print the same (STYLE.md 3.4). Empty = ok or
// not applicable (the expression does not parse: the engine reports that).
std::string RoundTrip(const std::string& expr) {
  try {
    auto first = query::promql::ParseExpr(expr);
    if (!first.ok()) return "";
    std::string printed = query::promql::Print(**first);
    auto second = query::promql::ParseExpr(printed);
    if (!second.ok()) {
      return Cat("printed form `", printed, "` does not parse: ", std::string(second.status().message()));
    }
    std::string reprinted = query::promql::Print(**second);
    if (reprinted != printed) {
      return Cat("print is not stable: `", printed, "` then `", reprinted, "`");
    }
  } catch (const std::exception& e) {
    return Cat("parser/printer threw: ", e.what());
  }
  return "";
}

bool UsesQueryContextFunctions(const std::string& expr) {
  static const RE2 re(R"((start|end|range|step)\(\))");
  return RE2::PartialMatch(expr, re);
}

CaseResult RunEval(const std::string& file, const EvalCmd& cmd, Store* store,
                   const RunnerOptions& options) {
  CaseResult r;
  r.key = Cat(file, ":", cmd.line);
  r.line = cmd.line;
  r.query = cmd.expr;
  r.feature = GatedFeature(cmd.expr);
  auto fail = [&](std::string reason, std::string detail) {
    r.outcome = Outcome::kFailed;
    if (!r.feature.empty()) reason = Cat("experimental (", r.feature, "): ", reason);
    r.reason = FirstLine(reason);
    r.detail = std::move(detail);
    return r;
  };
  auto skip = [&](std::string reason) {
    r.outcome = Outcome::kSkipped;
    r.reason = std::move(reason);
    return r;
  };
  if (!cmd.script_error.empty()) return fail("script error: " + cmd.script_error, cmd.script_error);
  if (store->has_start_timestamps) return skip("start timestamps");
  absl::StatusOr<QueryResult> res = Execute(store->engine(), cmd.expr, cmd.is_range, cmd.start_ms,
                                            cmd.end_ms, cmd.step_ms);
  const std::string expected_text = FormatExpected(cmd);
  if (!res.ok()) {
    const std::string msg(res.status().message());
    if (cmd.expect_fail) {
      if (cmd.fail_message && *cmd.fail_message != msg) {
        return fail("wrong error message",
                    Cat("expected error: ", *cmd.fail_message, "\n    got error: ", msg));
      }
      if (cmd.fail_regex && !RE2::PartialMatch(msg, RE2(*cmd.fail_regex, RE2::Quiet))) {
        return fail("wrong error message",
                    Cat("expected error matching: ", *cmd.fail_regex, "\n    got error: ", msg));
      }
    } else {
      std::string detail = Cat("expected: ", expected_text, "\n    got error: ",
                                        res.status().ToString());
      if (res.status().code() == absl::StatusCode::kUnimplemented) {
        return fail("not supported yet: " + msg, detail);
      }
      return fail("error: " + msg, detail);
    }
  } else {
    if (cmd.expect_fail) {
      return fail("wrong result: expected an error",
                  Cat("expected an error", cmd.fail_message ? ": " + *cmd.fail_message : "",
                               "\n    got: ", FormatResult(res->value)));
    }
    if (std::string diff = CompareResult(cmd, res->value); !diff.empty()) {
      return fail("wrong result", Cat(diff, "\n    expected: ", expected_text,
                                               "\n    got: ", FormatResult(res->value)));
    }
    auto [reason, detail] = CheckAnnotations(cmd, GetAnnotations(*res));
    if (!reason.empty()) return fail(reason, detail);

    // FORMAT.md §15.2: the same expression as a range query around T gives the same points.
    if (options.range_cross_check && !cmd.is_range && !cmd.expect_range_vector &&
        !cmd.expected_string && !cmd.ordered && !UsesQueryContextFunctions(cmd.expr)) {
      const int64_t t = cmd.start_ms;
      absl::StatusOr<QueryResult> rr =
          Execute(store->engine(), cmd.expr, true, t - 60'000, t + 60'000, 60'000);
      if (!rr.ok()) {
        return fail("range-mode cross-check: " + std::string(rr.status().message()),
                    Cat("the instant query passed; as a range query: ", rr.status().ToString()));
      }
      const Matrix* m = std::get_if<Matrix>(&rr->value);
      if (m == nullptr) {
        return fail("range-mode cross-check: result is not a matrix", FormatResult(rr->value));
      }
      for (size_t i = 1; i < m->size(); ++i) {
        if ((*m)[i - 1].labels > (*m)[i].labels) {
          return fail("range-mode cross-check: matrix not sorted", FormatResult(rr->value));
        }
      }
      Vector at_t;
      for (const auto& s : *m) {
        for (const auto& p : s.samples) {
          if (p.t_ms == t) {
            at_t.push_back({s.labels, p.t_ms, p.value, {}});
            break;
          }
        }
        for (const auto& p : s.histograms) {
          if (p.t_ms == t) {
            at_t.push_back({s.labels, p.t_ms, 0, p.h});
            break;
          }
        }
      }
      std::string diff;
      if (std::holds_alternative<query::Scalar>(res->value)) {
        diff = at_t.empty() || at_t[0].h ? "no point at the evaluation time"
                            : CompareResult(cmd, query::Scalar{t, at_t[0].v});
      } else {
        diff = CompareResult(cmd, at_t);
      }
      if (!diff.empty()) {
        return fail("range-mode cross-check: wrong result",
                    Cat(diff, "\n    expected: ", expected_text,
                                 "\n    got (range mode): ", FormatResult(rr->value)));
      }
    }
  }
  if (options.round_trip) {
    if (std::string e = RoundTrip(cmd.expr); !e.empty()) return fail("round trip: " + e, e);
  }
  r.outcome = Outcome::kPassed;
  return r;
}

}  // namespace

std::string GatedFeature(const std::string& expr) {
  std::vector<Token> t = Lex(expr);
  // Experimental functions first: they name the feature best.
  for (size_t i = 0; i < t.size(); ++i) {
    const Token& tok = t[i];
    const bool next_is_paren = i + 1 < t.size() && t[i + 1].text == "(";
    if (tok.kind != Token::kIdent || tok.brace_depth != 0) continue;
    if ((tok.text == "limitk" || tok.text == "limit_ratio") && i + 1 < t.size() &&
        (next_is_paren || t[i + 1].text == "by" || t[i + 1].text == "without")) {
      return tok.text;
    }
    if (next_is_paren && ExperimentalFunctions().contains(tok.text)) {
      // `@ start()` / `@ end()` are standard PromQL.
      if ((tok.text == "start" || tok.text == "end") && i > 0 && t[i - 1].text == "@") continue;
      return tok.text;
    }
  }
  for (size_t i = 0; i < t.size(); ++i) {
    const Token& tok = t[i];
    const bool next_is_paren = i + 1 < t.size() && t[i + 1].text == "(";
    if (tok.kind == Token::kIdent && tok.brace_depth == 0) {
      // After a range (`x[1m] anchored`), an instant selector (`x smoothed`,
      // `x{a="b"} smoothed`) or its modifiers (`x @ 100 smoothed`, `x offset -1m smoothed`).
      if ((tok.text == "anchored" || tok.text == "smoothed") && i > 0 && !next_is_paren) {
        const Token& prev = t[i - 1];
        if (prev.text == "]" || prev.text == "}" || prev.text == ")" ||
            (prev.kind == Token::kIdent && prev.brace_depth == 0) ||
            (prev.kind == Token::kPunct &&
             (std::isdigit(static_cast<unsigned char>(prev.text[0])) || prev.text[0] == '.'))) {
          return tok.text;
        }
      }
      if (next_is_paren && (tok.text == "fill" || tok.text == "fill_left" || tok.text == "fill_right")) {
        return "fill modifiers";
      }
      if (tok.text == "offset" && i + 1 < t.size() &&
          (t[i + 1].text == "(" || (t[i + 1].text == "-" && i + 2 < t.size() && t[i + 2].text == "("))) {
        return "duration arithmetic";
      }
    }
    if (tok.kind == Token::kPunct && tok.text == "[") {
      size_t close = i + 1;
      while (close < t.size() && t[close].text != "]") ++close;
      if (close < t.size() && IsDurationArithmetic(t, i, close)) return "duration arithmetic";
    }
  }
  return "";
}

absl::StatusOr<FileResult> RunScriptFile(const std::string& path, const RunnerOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(Cat("cannot read ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  FileResult result;
  result.file = std::filesystem::path(path).filename().string();
  Script script = ParseScript(result.file, buf.str());
  result.errors = script.errors;

  std::set<std::string> only(options.only.begin(), options.only.end());
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open();
  if (!store.ok()) return store.status();
  for (const Command& c : script.commands) {
    if (std::holds_alternative<ClearCmd>(c)) {
      store->reset();  // close the old database before opening the next one
      store = Store::Open();
      if (!store.ok()) return store.status();
    } else if (auto* load = std::get_if<LoadCmd>(&c)) {
      if (absl::Status s = Load(*load, store->get()); !s.ok()) {
        result.errors.push_back(Cat(result.file, ":", load->line, ": load: ", s.ToString()));
      }
    } else {
      const EvalCmd& eval = std::get<EvalCmd>(c);
      if (!only.empty() && !only.contains(Cat(result.file, ":", eval.line))) continue;
      result.cases.push_back(RunEval(result.file, eval, store->get(), options));
    }
  }
  result.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - started)
                       .count();
  return result;
}

}  // namespace otelbox::conformance

#include "tests/conformance/logql_runner.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include <re2/re2.h>

#include "query/logql/ast.h"
#include "query/logql/engine.h"
#include "query/logql/parser.h"
#include "storage/db.h"
#include "storage/logs/log_store.h"
#include "tests/conformance/logql_script.h"
#include "tests/conformance/promql_text.h"
#include "tests/conformance/temp_dir.h"

namespace otelbox::conformance::logqltest {
namespace {

namespace logql = query::logql;
constexpr std::string_view kTenant = "fake";

class Store {
 public:
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::vector<LoadEntry>& entries, bool flush) {
    auto s = std::unique_ptr<Store>(new Store());
    if (s->dir_.path().empty()) return absl::InternalError("cannot create a temp directory");
    // A fixed clock a day after the scripts' epoch; retention off.
    const int64_t now_ms = kEpochNs / 1'000'000 + 24 * 3600 * 1000;
    storage::DatabaseOptions dbo;
    dbo.block_cache_bytes = 8 << 20;
    dbo.write_buffer_total_bytes = 16 << 20;
    dbo.now_ms = [now_ms] { return now_ms; };
    dbo.metric_retention_ms = 0;
    dbo.log_retention_ms = 0;
    dbo.trace_retention_ms = 0;
    auto db = storage::Database::Open(s->dir_.path(), dbo);
    if (!db.ok()) return db.status();
    s->db_ = std::move(*db);
    storage::LogStoreOptions lo;
    lo.retention_ms = 0;
    lo.now_ms = [now_ms] { return now_ms; };
    lo.background_flush = false;
    auto ls = storage::LogStore::Open(s->db_.get(), lo, nullptr);
    if (!ls.ok()) return ls.status();
    s->logs_ = std::move(*ls);
    // One batch, streams in first-appearance order, entries in file order.
    storage::LogBatch batch;
    std::map<storage::Labels, size_t> index;
    for (const LoadEntry& e : entries) {
      auto [it, inserted] = index.emplace(e.stream, batch.streams.size());
      if (inserted) batch.streams.push_back(storage::LogStream{e.stream, {}});
      batch.streams[it->second].entries.push_back(e.entry);
    }
    if (!batch.streams.empty()) {
      auto st = s->logs_->Append(kTenant, batch);
      if (!st.ok()) return st.status();
      if (st->entries_rejected > 0) {
        return absl::InternalError(Cat("the store rejected ", st->entries_rejected, " entries"));
      }
      if (flush) {
        absl::Status f = s->logs_->FlushHead();
        if (!f.ok()) return f;
      }
    }
    logql::EngineOptions eo;
    eo.max_series = 100000;
    s->engine_ = std::make_unique<logql::Engine>(s->logs_.get(), eo);
    return s;
  }
  ~Store() {
    engine_.reset();
    logs_.reset();
    db_.reset();
  }
  logql::Engine* engine() { return engine_.get(); }

 private:
  Store() = default;
  TempDir dir_{"otelbox-logql"};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::LogStore> logs_;
  std::unique_ptr<logql::Engine> engine_;
};

// ---- judging (FORMAT.md §6)

bool FloatEqual(double want, double got) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got);
  if (std::isinf(want) || std::isinf(got)) return want == got;
  double diff = std::fabs(want - got);
  if (diff <= 1e-9) return true;
  return diff / std::max(std::fabs(want), std::fabs(got)) <= 1e-9;
}

std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream o;
  o.precision(17);
  o << v;
  return o.str();
}

std::string LabelsText(const LabelList& l) { return logql::LabelListString(l); }

struct Verdict {
  std::string reason;
  std::string detail;
};

Verdict Mismatch(std::string detail) { return Verdict{"wrong result", std::move(detail)}; }

std::string DescribeResult(const logql::ResultValue& v) {
  std::string out = Cat("got ", logql::ResultTypeName(v), ":");
  if (auto* vec = std::get_if<logql::Vector>(&v)) {
    for (const auto& s : *vec) Append(&out, "\n      ", LabelsText(s.labels), " ", Num(s.v));
  } else if (auto* m = std::get_if<logql::Matrix>(&v)) {
    for (const auto& s : *m) {
      Append(&out, "\n      ", LabelsText(s.labels));
      for (const auto& p : s.points) Append(&out, " ", Num(p.v), "@", (p.t_ns - kEpochNs) / 1'000'000, "ms");
    }
  } else if (auto* sc = std::get_if<logql::Scalar>(&v)) {
    Append(&out, " ", Num(sc->v));
  } else if (auto* st = std::get_if<logql::Streams>(&v)) {
    for (const auto& s : *st) {
      Append(&out, "\n      ", LabelsText(s.labels));
      for (const auto& e : s.entries) Append(&out, "\n        ", (e.t_ns - kEpochNs) / 1'000'000, "ms \"", e.line, "\"");
    }
  }
  return out;
}

Verdict JudgeInstant(const Eval& ev, const logql::ResultValue& v) {
  const auto* vec = std::get_if<logql::Vector>(&v);
  if (!vec) return Verdict{"wrong result type", Cat("want vector, ", DescribeResult(v))};
  if (vec->size() != ev.series.size()) {
    return Mismatch(Cat("want ", ev.series.size(), " series, ", DescribeResult(v)));
  }
  std::map<LabelList, size_t> got;
  for (size_t i = 0; i < vec->size(); ++i) {
    if ((*vec)[i].t_ns != ev.end_ns) return Mismatch("sample timestamp is not the eval time");
    if (!got.emplace((*vec)[i].labels, i).second) return Mismatch(Cat("duplicate series ", LabelsText((*vec)[i].labels)));
  }
  for (size_t k = 0; k < ev.series.size(); ++k) {
    const ExpectedSeries& want = ev.series[k];
    auto it = got.find(want.labels);
    if (it == got.end()) return Mismatch(Cat("missing ", LabelsText(want.labels), "; ", DescribeResult(v)));
    if (want.values.size() != 1 || !want.values[0]) return Verdict{"script error", "instant series needs one value"};
    double g = (*vec)[it->second].v;
    if (!FloatEqual(*want.values[0], g)) {
      return Mismatch(Cat(LabelsText(want.labels), ": want ", Num(*want.values[0]), ", got ", Num(g)));
    }
    if (ev.ordered && it->second != k) return Mismatch(Cat("order differs; ", DescribeResult(v)));
  }
  return {};
}

Verdict JudgeRange(const Eval& ev, const logql::ResultValue& v) {
  const auto* m = std::get_if<logql::Matrix>(&v);
  if (!m) return Verdict{"wrong result type", Cat("want matrix, ", DescribeResult(v))};
  size_t steps = static_cast<size_t>((ev.end_ns - ev.start_ns) / ev.step_ns) + 1;
  if (m->size() != ev.series.size()) return Mismatch(Cat("want ", ev.series.size(), " series, ", DescribeResult(v)));
  std::map<LabelList, const logql::Series*> got;
  for (const auto& s : *m) {
    if (!got.emplace(s.labels, &s).second) return Mismatch(Cat("duplicate series ", LabelsText(s.labels)));
  }
  for (const ExpectedSeries& want : ev.series) {
    if (want.values.size() != steps) {
      return Verdict{"script error", Cat("want ", steps, " values, the script has ", want.values.size())};
    }
    auto it = got.find(want.labels);
    if (it == got.end()) return Mismatch(Cat("missing ", LabelsText(want.labels), "; ", DescribeResult(v)));
    std::map<int64_t, double> points;
    for (const auto& p : it->second->points) {
      if ((p.t_ns - ev.start_ns) % ev.step_ns != 0 || p.t_ns < ev.start_ns || p.t_ns > ev.end_ns) {
        return Mismatch(Cat(LabelsText(want.labels), ": point off the steps; ", DescribeResult(v)));
      }
      if (!points.emplace(p.t_ns, p.v).second) return Mismatch("two points at one step");
    }
    for (size_t i = 0; i < steps; ++i) {
      int64_t t = ev.start_ns + static_cast<int64_t>(i) * ev.step_ns;
      auto p = points.find(t);
      if (!want.values[i]) {
        if (p != points.end()) return Mismatch(Cat(LabelsText(want.labels), ": unexpected point at step ", i, "; ", DescribeResult(v)));
        continue;
      }
      if (p == points.end()) return Mismatch(Cat(LabelsText(want.labels), ": no point at step ", i, "; ", DescribeResult(v)));
      if (!FloatEqual(*want.values[i], p->second)) {
        return Mismatch(Cat(LabelsText(want.labels), " step ", i, ": want ", Num(*want.values[i]), ", got ", Num(p->second)));
      }
    }
  }
  return {};
}

Verdict JudgeEntries(const Eval& ev, const logql::ResultValue& v) {
  const auto* st = std::get_if<logql::Streams>(&v);
  if (!st) return Verdict{"wrong result type", Cat("want streams, ", DescribeResult(v))};
  std::map<LabelList, std::vector<const ExpectedEntry*>> want;
  for (const auto& e : ev.entries) want[e.labels].push_back(&e);
  if (want.size() != st->size()) return Mismatch(Cat("want ", want.size(), " streams, ", DescribeResult(v)));
  for (const auto& s : *st) {
    auto it = want.find(s.labels);
    if (it == want.end()) return Mismatch(Cat("unexpected stream ", LabelsText(s.labels), "; ", DescribeResult(v)));
    if (it->second.size() != s.entries.size()) {
      return Mismatch(Cat(LabelsText(s.labels), ": want ", it->second.size(), " entries; ", DescribeResult(v)));
    }
    for (size_t i = 0; i < s.entries.size(); ++i) {
      const ExpectedEntry& w = *it->second[i];
      const logql::StreamEntry& g = s.entries[i];
      if (w.t_ns != g.t_ns || w.line != g.line) return Mismatch(Cat(LabelsText(s.labels), " entry ", i, " differs; ", DescribeResult(v)));
      if (w.metadata && *w.metadata != g.structured_metadata) {
        return Mismatch(Cat(LabelsText(s.labels), " entry ", i, ": metadata ", LabelsText(g.structured_metadata)));
      }
      if (w.parsed && *w.parsed != g.parsed) {
        return Mismatch(Cat(LabelsText(s.labels), " entry ", i, ": parsed ", LabelsText(g.parsed)));
      }
    }
  }
  return {};
}

Verdict Judge(const Eval& ev, const absl::StatusOr<logql::QueryResult>& res) {
  if (ev.expect == Eval::Expect::kFail) {
    if (res.ok()) return Verdict{"expected failure", DescribeResult(res->value)};
    std::string msg(res.status().message());
    if (!ev.fail_msg.empty() && msg.find(ev.fail_msg) == std::string::npos) {
      return Verdict{"wrong error message", Cat("want substring \"", ev.fail_msg, "\", got: ", msg)};
    }
    if (!ev.fail_regex.empty()) {
      RE2 re(ev.fail_regex);
      if (!RE2::PartialMatch(msg, re)) {
        return Verdict{"wrong error message", Cat("want /", ev.fail_regex, "/, got: ", msg)};
      }
    }
    return {};
  }
  if (!res.ok()) {
    std::string msg(res.status().message());
    std::string first = msg.substr(0, msg.find('\n'));
    return Verdict{Cat("error: ", first.substr(0, 160)), msg};
  }
  const logql::ResultValue& v = res->value;
  switch (ev.expect) {
    case Eval::Expect::kEmpty: {
      bool empty = false;
      if (auto* vec = std::get_if<logql::Vector>(&v)) empty = vec->empty();
      if (auto* m = std::get_if<logql::Matrix>(&v)) empty = m->empty();
      if (auto* s = std::get_if<logql::Streams>(&v)) empty = s->empty();
      if (!empty) return Mismatch(Cat("want empty, ", DescribeResult(v)));
      return {};
    }
    case Eval::Expect::kScalar: {
      const auto* sc = std::get_if<logql::Scalar>(&v);
      if (!sc) return Verdict{"wrong result type", Cat("want scalar, ", DescribeResult(v))};
      if (!FloatEqual(ev.scalar, sc->v)) return Mismatch(Cat("want ", Num(ev.scalar), ", got ", Num(sc->v)));
      return {};
    }
    case Eval::Expect::kEntries: return JudgeEntries(ev, v);
    case Eval::Expect::kSeries:
      return ev.kind == Eval::Kind::kInstant ? JudgeInstant(ev, v) : JudgeRange(ev, v);
    case Eval::Expect::kFail: break;
  }
  return {};
}

// Print(Parse(q)) must parse back to the same text.
std::string RoundTrip(const std::string& query) {
  auto e = logql::ParseExpr(query);
  if (!e.ok()) return "";
  std::string printed = logql::Print(**e);
  auto again = logql::ParseExpr(printed);
  if (!again.ok()) {
    // Folded constants like NaN and Inf have no LogQL literal syntax.
    if (printed.find("NaN") != std::string::npos || printed.find("Inf") != std::string::npos) return "";
    return Cat("printed form does not parse: ", printed, " (", std::string(again.status().message()), ")");
  }
  std::string reprinted = logql::Print(**again);
  if (reprinted != printed) return Cat("printed ", printed, " reprinted ", reprinted);
  return "";
}

}  // namespace

absl::StatusOr<FileResult> RunScriptFile(const std::string& path, const RunnerOptions& options) {
  auto started = std::chrono::steady_clock::now();
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(Cat("cannot read ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  Script script = ParseScript(buf.str());
  FileResult out;
  out.file = std::filesystem::path(path).filename().string();
  for (const auto& e : script.errors) out.errors.push_back(e);

  std::vector<LoadEntry> loaded;
  std::unique_ptr<Store> store;
  bool dirty = true;
  for (const Step& step : script.steps) {
    if (step.kind == Step::Kind::kClear) {
      loaded.clear();
      store.reset();
      dirty = true;
      continue;
    }
    if (step.kind == Step::Kind::kLoad) {
      loaded.insert(loaded.end(), step.load.begin(), step.load.end());
      dirty = true;
      continue;
    }
    const Eval& ev = step.eval;
    CaseResult cr;
    cr.key = Cat(out.file, ":", ev.line);
    cr.line = ev.line;
    cr.query = ev.query;
    if (!options.only.empty() &&
        std::find(options.only.begin(), options.only.end(), cr.key) == options.only.end()) {
      continue;
    }
    if (dirty) {
      store.reset();
      auto s = Store::Open(loaded, options.flush);
      if (!s.ok()) return s.status();
      store = std::move(*s);
      dirty = false;
    }
    logql::QueryParams p;
    p.tenant = kTenant;
    p.query = ev.query;
    p.start_ns = ev.start_ns;
    p.end_ns = ev.end_ns;
    p.step_ns = ev.step_ns;
    p.direction = logql::Direction::kForward;
    p.limit = 1000;
    if (ev.kind == Eval::Kind::kLogs) {
      p.limit = ev.limit;
      p.direction = ev.backward ? logql::Direction::kBackward : logql::Direction::kForward;
    }
    absl::StatusOr<logql::QueryResult> res = store->engine()->Query(p);
    Verdict v = Judge(ev, res);
    if (v.reason.empty() && options.round_trip) {
      std::string rt = RoundTrip(ev.query);
      if (!rt.empty()) v = Verdict{"round trip", rt};
    }
    if (!v.reason.empty()) {
      cr.outcome = Outcome::kFailed;
      cr.reason = v.reason;
      cr.detail = v.detail;
    }
    out.cases.push_back(std::move(cr));
  }
  out.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  return out;
}

}  // namespace otelbox::conformance::logqltest

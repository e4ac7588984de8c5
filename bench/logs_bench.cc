// Logs benchmark: realistic JSON and logfmt application logs (a handful of stream labels,
// high-cardinality ids inside the lines) ingested, measured, then scanned.
//
//   logs_bench [--raw-mb 1024] [--mode store|http] [--protocol json|protobuf]
//              [--corpus requests|uniform] [--batch-lines 2000] [--threads 2]
//              [--zstd-level 1] [--block-kb 1024] [--query-reps 3] [--help]
//
// Corpus (`--help` prints the same): 24 streams (6 apps x prod/staging x 2 pods; half JSON,
// half logfmt). `requests` (default) is shaped like real service logs: per stream 8
// interleaved requests in flight, each 2-5 lines sharing one trace_id, span_id, user_id,
// client_ip and path, messages from a small set, 12% background lines without ids.
// `uniform` makes every line its own request (fresh random ids in every line: the
// incompressible worst case; zstd -19 reaches only ~16% on it).
//
// --mode store (default): the LogStore in-process on a fresh directory: ingest MB/s and
//   lines/s (wall clock, background flushes included, final head flush included) and per
//   CPU-second, bytes on disk / raw bytes after a flush and full compaction, then
//   line-filter scan GB/s of raw logs (storage scan + substring search, as a `|= "..."`
//   query does), single-threaded and over `--threads` streams in parallel.
// --mode http: starts the real otelbox, pushes the same logs to POST /loki/api/v1/push
//   (JSON, or snappy protobuf with --protocol protobuf; several connections), then times
//   /loki/api/v1/query_range for a line-filter query, a json-parser + label-filter query
//   and sum by (level) (rate(...[1m])): wall time and otelbox's CPU seconds (from
//   /proc/<pid>/stat), so figures on a shared machine can be read per CPU-second.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <snappy.h>

#include "loki/push.pb.h"
#include "storage/db.h"
#include "storage/logs/log_store.h"
#include "tests/integration/http_client.h"
#include "tests/integration/otelbox_process.h"

namespace {

using otelbox::storage::Label;
using otelbox::storage::Labels;
using otelbox::storage::LogBatch;
using otelbox::storage::LogEntry;
using otelbox::storage::LogStream;
using Clock = std::chrono::steady_clock;

struct Options {
  int64_t raw_mb = 1024;
  std::string mode = "store";
  int batch_lines = 2000;
  int threads = 2;
  std::string protocol = "json";  // --mode http: json or protobuf (snappy)
  std::string corpus = "requests";  // or "uniform": every line a fresh request (see MakeCorpus)
  int zstd_level = 1;               // --mode store: LogStoreOptions::compression_level
  int64_t block_kb = 1024;          // --mode store: LogStoreOptions::block_target_bytes / 1024
  int query_reps = 3;               // --mode http: runs of each query
  std::string dump_sample;  // write 1 MB of one JSON and one logfmt stream's lines here
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU seconds (user + system) of the whole process: on a shared machine wall-clock figures
// depend on the neighbours; MB per CPU-second does not.
double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Peak resident set of this process (VmHWM), MB.
double PeakRssMb() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  double mb = 0;
  while (std::fgets(line, sizeof line, f)) {
    long kb;
    if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) mb = kb / 1024.0;
  }
  std::fclose(f);
  return mb;
}

// --- Corpus -------------------------------------------------------------------------------

struct StreamSpec {
  Labels labels;
  bool json;
};

std::vector<StreamSpec> MakeStreams() {
  // 6 services x 2 pods x 2 environments: 24 streams, the label shape of a small
  // Kubernetes deployment scraped by Promtail/Alloy.
  const char* apps[] = {"api", "web", "worker", "auth", "billing", "search"};
  std::vector<StreamSpec> out;
  for (int a = 0; a < 6; ++a) {
    for (const char* env : {"prod", "staging"}) {
      for (int pod = 0; pod < 2; ++pod) {
        bool json = a % 2 == 0;
        out.push_back({Labels{{"app", apps[a]},
                              {"env", env},
                              {"namespace", "shop"},
                              {"pod", std::string(apps[a]) + "-7d9f8c6b5-" + char('a' + pod) + "x" + char('k' + a)},
                              {"format", json ? "json" : "logfmt"}},
                       json});
      }
    }
  }
  return out;
}

class LineGenerator {
 public:
  explicit LineGenerator(uint64_t seed) : rng_(seed) {}

  std::string Hex(int n) {
    static const char* kHex = "0123456789abcdef";
    std::string s(n, '0');
    for (int i = 0; i < n; ++i) s[i] = kHex[rng_() & 15];
    return s;
  }

  std::string Line(bool json, int64_t t_ns) {
    static const char* kLevels[] = {"info", "info", "info", "info", "info", "info", "debug", "debug", "warn", "error"};
    static const char* kMethods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
    static const char* kPaths[] = {"/api/v1/users/", "/api/v1/orders/", "/api/v1/cart/", "/healthz", "/api/v1/products/", "/api/v1/search"};
    static const char* kMsgs[] = {"request completed", "request completed", "request completed", "cache miss", "db query slow", "upstream timeout", "payment authorized", "retrying request"};
    static const int kStatus[] = {200, 200, 200, 200, 200, 201, 204, 301, 400, 404, 500, 503};
    // Fields every real service logs from small sets: its caller and the client agent.
    static const char* kCallers[] = {"handlers/orders.go:142", "handlers/users.go:88", "middleware/log.go:57",
                                     "store/postgres.go:311", "clients/payments.go:203", "cache/redis.go:96"};
    static const char* kAgents[] = {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
                                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                                    "okhttp/4.12.0", "Go-http-client/1.1", "curl/8.5.0",
                                    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"};
    const char* caller = kCallers[rng_() % 6];
    const char* agent = kAgents[rng_() % 6];
    const char* level = kLevels[rng_() % 10];
    const char* method = kMethods[rng_() % 6];
    std::string path = kPaths[rng_() % 6];
    if (path.back() == '/') path += std::to_string(rng_() % 1000000);
    const char* msg = kMsgs[rng_() % 8];
    int status = kStatus[rng_() % 12];
    std::string trace = Hex(32), span = Hex(16);
    std::string user = "u-" + std::to_string(rng_() % 500000);
    double dur = static_cast<double>(rng_() % 200000) / 100.0;
    int64_t bytes = static_cast<int64_t>(rng_() % 50000);
    char ts[40];
    std::time_t secs = static_cast<std::time_t>(t_ns / 1'000'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    size_t n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(ts + n, sizeof ts - n, ".%06dZ", static_cast<int>((t_ns / 1000) % 1000000));
    char buf[1024];
    int len;
    if (json) {
      len = std::snprintf(buf, sizeof buf,
                          "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\",\"method\":\"%s\",\"path\":\"%s\","
                          "\"status\":%d,\"duration_ms\":%.2f,\"bytes\":%" PRId64 ",\"trace_id\":\"%s\","
                          "\"span_id\":\"%s\",\"user_id\":\"%s\",\"client_ip\":\"10.%d.%d.%d\",\"caller\":\"%s\","
                          "\"user_agent\":\"%s\"}",
                          ts, level, msg, method, path.c_str(), status, dur, bytes, trace.c_str(),
                          span.c_str(), user.c_str(), int(rng_() % 256), int(rng_() % 256), int(rng_() % 256),
                          caller, agent);
    } else {
      len = std::snprintf(buf, sizeof buf,
                          "ts=%s level=%s msg=\"%s\" method=%s path=%s status=%d duration=%.2fms "
                          "bytes=%" PRId64 " trace_id=%s span_id=%s user_id=%s client_ip=10.%d.%d.%d caller=%s "
                          "user_agent=\"%s\"",
                          ts, level, msg, method, path.c_str(), status, dur, bytes, trace.c_str(),
                          span.c_str(), user.c_str(), int(rng_() % 256), int(rng_() % 256), int(rng_() % 256),
                          caller, agent);
    }
    return std::string(buf, static_cast<size_t>(len));
  }

 private:
  std::mt19937_64 rng_;
};

// The default corpus ("requests"), shaped like real service logs: few distinct messages,
// ids as the variable part, and the ids of one request repeated on each of its lines.
// Per stream, 8 requests are in flight at once (their lines interleave, as concurrent
// handlers' do). A request has one trace_id (32 hex), span_id (16 hex), user_id (of 500k),
// client_ip (of 4096 addresses), method, path (ids up to 1e6), user agent (of 6) and writes
// 2-5 lines: "request started", 0-3 of "db query" / "cache hit" / "cache miss" /
// "upstream call" / "db query slow" (debug/info/warn, with their own duration), and
// "request completed" with status, duration_ms and bytes (level error for 5xx, warn for
// 4xx, else info). 12% of lines are background lines without request ids (pool stats,
// cache refresh, metrics flush, gc; with counters).
class RequestLineGenerator {
 public:
  explicit RequestLineGenerator(uint64_t seed, size_t streams) : base_(seed), rng_(seed + 1), inflight_(streams) {
    for (int i = 0; i < 4096; ++i) {
      ips_.push_back("10." + std::to_string(rng_() % 256) + "." + std::to_string(rng_() % 256) + "." +
                     std::to_string(rng_() % 256));
    }
  }

  std::string Line(size_t stream, bool json, int64_t t_ns) {
    static const char* kCallers[] = {"handlers/orders.go:142", "handlers/users.go:88", "middleware/log.go:57",
                                     "store/postgres.go:311", "clients/payments.go:203", "cache/redis.go:96"};
    char ts[40];
    std::time_t secs = static_cast<std::time_t>(t_ns / 1'000'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    size_t n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(ts + n, sizeof ts - n, ".%06dZ", static_cast<int>((t_ns / 1000) % 1000000));
    Fields f;
    f.ts = ts;
    if (rng_() % 100 < 12) {
      static const char* kBg[] = {"connection pool stats", "cache refreshed", "metrics flushed", "gc completed"};
      f.level = rng_() % 4 == 0 ? "debug" : "info";
      f.msg = kBg[rng_() % 4];
      f.caller = kCallers[rng_() % 6];
      f.extra_name = "count";
      f.extra = static_cast<int64_t>(rng_() % 5000);
      return Render(json, f, nullptr);
    }
    auto& slots = inflight_[stream];
    if (slots.empty()) slots.resize(8);
    Request& r = slots[rng_() % slots.size()];
    if (r.lines_left == 0) Start(&r);
    f.caller = r.caller;
    if (r.lines_done == 0) {
      f.level = "info";
      f.msg = "request started";
    } else if (r.lines_left == 1) {
      static const int kStatus[] = {200, 200, 200, 200, 200, 201, 204, 301, 400, 404, 500, 503};
      f.status = kStatus[rng_() % 12];
      f.level = f.status >= 500 ? "error" : f.status >= 400 ? "warn" : "info";
      f.msg = "request completed";
      f.duration_ms = static_cast<double>(rng_() % 200000) / 100.0;
      f.bytes = static_cast<int64_t>(rng_() % 50000);
    } else {
      static const char* kSteps[] = {"db query", "cache hit", "cache miss", "upstream call", "db query", "db query slow"};
      int k = static_cast<int>(rng_() % 6);
      f.msg = kSteps[k];
      f.level = k == 5 ? "warn" : (k == 1 || k == 2) ? "debug" : "info";
      f.duration_ms = static_cast<double>(rng_() % 50000) / 100.0;
    }
    f.access_line = r.lines_left == 1;
    --r.lines_left;
    ++r.lines_done;
    return Render(json, f, &r);
  }

 private:
  struct Request {
    int lines_left = 0, lines_done = 0;
    std::string trace, span, user, path;
    const char *method = "", *agent = "", *caller = "", *ip = "";
  };
  struct Fields {
    const char *ts = "", *level = "", *msg = "", *caller = "";
    int status = 0;  // 0: absent
    double duration_ms = -1;
    int64_t bytes = -1;
    const char* extra_name = nullptr;
    int64_t extra = 0;
    bool access_line = false;  // "request completed": also the user agent
  };

  void Start(Request* r) {
    static const char* kMethods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
    static const char* kPaths[] = {"/api/v1/users/", "/api/v1/orders/", "/api/v1/cart/", "/healthz", "/api/v1/products/", "/api/v1/search"};
    static const char* kAgents[] = {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
                                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                                    "okhttp/4.12.0", "Go-http-client/1.1", "curl/8.5.0",
                                    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"};
    static const char* kCallers[] = {"handlers/orders.go:142", "handlers/users.go:88", "middleware/log.go:57",
                                     "store/postgres.go:311", "clients/payments.go:203", "cache/redis.go:96"};
    r->lines_left = 2 + static_cast<int>(rng_() % 4);
    r->lines_done = 0;
    r->trace = base_.Hex(32);
    r->span = base_.Hex(16);
    r->user = "u-" + std::to_string(rng_() % 500000);
    r->path = kPaths[rng_() % 6];
    if (r->path.back() == '/') r->path += std::to_string(rng_() % 1000000);
    r->method = kMethods[rng_() % 6];
    r->agent = kAgents[rng_() % 6];
    r->caller = kCallers[rng_() % 6];
    r->ip = ips_[rng_() % ips_.size()].c_str();
  }

  std::string Render(bool json, const Fields& f, const Request* r) {
    std::string o;
    o.reserve(512);
    char num[64];
    auto field = [&](const char* k, std::string_view v, bool quote) {
      if (json) {
        o += o.empty() ? "{\"" : ",\"";
        o += k;
        o += quote ? "\":\"" : "\":";
        o += v;
        if (quote) o += '"';
      } else {
        if (!o.empty()) o += ' ';
        o += k;
        o += '=';
        bool q = quote && v.find(' ') != std::string_view::npos;
        if (q) o += '"';
        o += v;
        if (q) o += '"';
      }
    };
    field("ts", f.ts, true);
    field("level", f.level, true);
    field("msg", f.msg, true);
    if (r) {
      field("method", r->method, true);
      field("path", r->path, true);
    }
    if (f.status) field("status", std::to_string(f.status), false);
    if (f.duration_ms >= 0) {
      std::snprintf(num, sizeof num, json ? "%.2f" : "%.2fms", f.duration_ms);
      field(json ? "duration_ms" : "duration", num, false);
    }
    if (f.bytes >= 0) field("bytes", std::to_string(f.bytes), false);
    if (f.extra_name) field(f.extra_name, std::to_string(f.extra), false);
    if (r) {
      field("trace_id", r->trace, true);
      field("span_id", r->span, true);
      field("user_id", r->user, true);
      field("client_ip", r->ip, true);
    }
    field("caller", f.caller, true);
    if (r && f.access_line) field("user_agent", r->agent, true);
    if (json) o += '}';
    return o;
  }

  LineGenerator base_;
  std::mt19937_64 rng_;
  std::vector<std::string> ips_;
  std::vector<std::vector<Request>> inflight_;
};

struct Corpus {
  std::vector<LogBatch> batches;
  int64_t raw_bytes = 0;
  int64_t lines = 0;
  int64_t start_ns = 0, end_ns = 0;
};

// Lines arrive over the last `span` ending now, round-robin over streams, each batch
// holding consecutive lines of every stream (as an agent batches per push).
Corpus MakeCorpus(const Options& o, const std::vector<StreamSpec>& streams) {
  Corpus c;
  const int64_t target = o.raw_mb << 20;
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t span_ns = 2LL * 3600 * 1'000'000'000;  // two hours of logs
  // Average line sizes (uniform ~376 bytes, requests ~270): the lines end before now, as
  // Loki rejects timestamps more than 10 minutes ahead.
  const int64_t approx_lines = target / (o.corpus == "uniform" ? 300 : 250);
  const int64_t step_ns = std::max<int64_t>(1, span_ns / std::max<int64_t>(1, approx_lines));
  c.start_ns = now_ns - span_ns;
  int64_t t = c.start_ns;
  LineGenerator gen(42);
  RequestLineGenerator requests(42, streams.size());
  const bool uniform = o.corpus == "uniform";
  const int per_stream = std::max(1, o.batch_lines / static_cast<int>(streams.size()));
  while (c.raw_bytes < target) {
    LogBatch b;
    for (size_t si = 0; si < streams.size(); ++si) {
      const StreamSpec& s = streams[si];
      LogStream ls;
      ls.labels = s.labels;
      for (int i = 0; i < per_stream; ++i) {
        t += step_ns;
        std::string line = uniform ? gen.Line(s.json, t) : requests.Line(si, s.json, t);
        c.raw_bytes += static_cast<int64_t>(line.size());
        ++c.lines;
        ls.entries.push_back(LogEntry{t, std::move(line), {}});
      }
      b.streams.push_back(std::move(ls));
    }
    c.batches.push_back(std::move(b));
  }
  c.end_ns = t + 1;
  return c;
}

std::string CorpusDescription(const Options& o) {
  if (o.corpus == "uniform") {
    return "  every line a separate request: fresh random trace_id/span_id/user_id/client_ip/path id per line";
  }
  return "  per stream 8 interleaved in-flight requests of 2-5 lines each sharing trace_id, span_id,\n"
         "  user_id, client_ip, path; messages from a set of 11; 12% background lines without ids";
}

// --- In-process store --------------------------------------------------------------------

int RunStore(const Options& o) {
  auto streams = MakeStreams();
  auto t0 = Clock::now();
  Corpus corpus = MakeCorpus(o, streams);
  std::printf("corpus '%s': %.1f MB raw, %" PRId64 " lines, %zu streams, %zu batches (generated in %.1fs)\n",
              o.corpus.c_str(), corpus.raw_bytes / 1048576.0, corpus.lines, streams.size(), corpus.batches.size(),
              Seconds(Clock::now() - t0));
  std::printf("%s\n", CorpusDescription(o).c_str());
  std::printf("store: zstd level %d, block target %" PRId64 " KiB\n", o.zstd_level, o.block_kb);

  if (!o.dump_sample.empty()) {
    for (int k : {0, 4}) {
      std::string out;
      for (const LogBatch& b : corpus.batches) {
        for (const LogEntry& e : b.streams[k].entries) out += e.line + "\n";
        if (out.size() > (1 << 20)) break;
      }
      FILE* f = std::fopen((o.dump_sample + (k ? ".logfmt" : ".json")).c_str(), "w");
      std::fwrite(out.data(), 1, out.size(), f);
      std::fclose(f);
    }
    return 0;
  }
  otelbox::testing::TempDir dir;
  otelbox::storage::DatabaseOptions dbo;
  auto db = otelbox::storage::Database::Open(dir.path(), dbo);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(db.status().message()).c_str());
    return 1;
  }
  otelbox::storage::LogStoreOptions lo;
  lo.compression_level = o.zstd_level;
  lo.block_target_bytes = o.block_kb << 10;
  auto store = otelbox::storage::LogStore::Open(db->get(), lo, nullptr);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }

  // Ingest: `threads` pushers share the batches, as concurrent push requests do.
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  t0 = Clock::now();
  const double cpu0 = ProcessCpuSeconds();
  std::vector<std::thread> pushers;
  for (int i = 0; i < o.threads; ++i) {
    pushers.emplace_back([&] {
      for (size_t b; (b = next.fetch_add(1)) < corpus.batches.size();) {
        auto r = (*store)->Append("fake", corpus.batches[b]);
        if (!r.ok() || r->entries_rejected > 0) failed = true;
      }
    });
  }
  for (auto& t : pushers) t.join();
  auto append_done = Clock::now();
  if (auto s = (*store)->FlushHead(); !s.ok()) failed = true;
  auto ingest_s = Seconds(Clock::now() - t0);
  const double ingest_cpu = ProcessCpuSeconds() - cpu0;
  if (failed) {
    std::fprintf(stderr, "append failed\n");
    return 1;
  }
  std::printf("ingest: %.1f MB/s, %.0f lines/s (%.2fs; appends alone %.2fs, %d pushers)\n",
              corpus.raw_bytes / 1048576.0 / ingest_s, corpus.lines / ingest_s, ingest_s,
              Seconds(append_done - t0), o.threads);
  std::printf("bench process peak RSS %.0f MB (corpus %.0f MB of it)\n", PeakRssMb(), corpus.raw_bytes / 1048576.0);
  std::printf("ingest CPU: %.1f MB per CPU-second (%.2f CPU-s: append, WAL, head, zstd blocks)\n",
              corpus.raw_bytes / 1048576.0 / ingest_cpu, ingest_cpu);

  (void)(*db)->FlushAll();
  (void)(*db)->CompactAll();
  using otelbox::storage::ColumnFamily;
  uint64_t disk = 0;
  for (ColumnFamily f : {ColumnFamily::kLogStreams, ColumnFamily::kLogStreamsById, ColumnFamily::kLogPostings,
                         ColumnFamily::kLogBlocks, ColumnFamily::kLogHead}) {
    uint64_t b = (*db)->LiveSstBytes(f);
    disk += b;
    std::printf("  %-18s %10.1f MB\n", otelbox::storage::Database::FamilyName(f), b / 1048576.0);
  }
  std::printf("on disk: %.1f MB = %.1f%% of raw (log families, after flush + compaction)\n",
              disk / 1048576.0, 100.0 * static_cast<double>(disk) / static_cast<double>(corpus.raw_bytes));

  // Scans: a needle that occurs rarely, as `|= "<trace id>"` does.
  const std::string needle = "trace_id\":\"00000";
  auto selected = (*store)->SelectStreams("fake", {*otelbox::storage::Matcher::Create(
                                                      otelbox::storage::MatchType::kEqual, "namespace", "shop")},
                                          corpus.start_ns, corpus.end_ns);
  if (!selected.ok()) return 1;
  struct ScanCase {
    int threads;
    bool hint;  // pass the literal as LogScanOptions::line_contains, as the LogQL engine does
  };
  for (ScanCase sc : {ScanCase{1, false}, ScanCase{1, true}, ScanCase{o.threads, true}}) {
    const int threads = sc.threads;
    std::atomic<size_t> si{0};
    std::atomic<int64_t> bytes{0}, hits{0};
    t0 = Clock::now();
    const double scan_cpu0 = ProcessCpuSeconds();
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i) {
      ts.emplace_back([&] {
        int64_t my_bytes = 0, my_hits = 0;
        for (size_t k; (k = si.fetch_add(1)) < selected->size();) {
          otelbox::storage::LogScanOptions so;
          so.metadata = false;
          if (sc.hint) so.line_contains = {needle};
          otelbox::storage::LogScanStats st;
          so.stats = &st;
          (void)(*store)->ScanStream("fake", (*selected)[k].id, corpus.start_ns, corpus.end_ns,
                                     otelbox::storage::LogDirection::kForward, so,
                                     [&](const otelbox::storage::LogEntryView& e) {
                                       if (e.line.find(needle) != std::string_view::npos) ++my_hits;
                                       return true;
                                     });
          my_bytes += st.decompressed_bytes + st.head_bytes;
        }
        bytes += my_bytes;
        hits += my_hits;
      });
    }
    for (auto& t : ts) t.join();
    double s = Seconds(Clock::now() - t0);
    double cpu = ProcessCpuSeconds() - scan_cpu0;
    std::printf("line-filter scan, %d thread(s), %-14s: %.2f GB/s of raw logs wall, %.2f GB per CPU-second "
                "(%.1f MB in %.2fs, %" PRId64 " hits)\n",
                threads, sc.hint ? "literal hint" : "visit all", bytes.load() / 1e9 / s, bytes.load() / 1e9 / cpu, bytes.load() / 1048576.0, s,
                hits.load());
  }
  // Backward with a limit, as Grafana's Explore asks (limit 1000, newest first).
  t0 = Clock::now();
  int64_t got = 0;
  for (const auto& s : *selected) {
    int64_t n = 0;
    (void)(*store)->ScanStream("fake", s.id, corpus.start_ns, corpus.end_ns,
                               otelbox::storage::LogDirection::kBackward, {},
                               [&](const otelbox::storage::LogEntryView&) { return ++n < 1000; });
    got += n;
  }
  std::printf("newest 1000 per stream, backward: %.1f ms for %zu streams (%" PRId64 " entries)\n",
              Seconds(Clock::now() - t0) * 1000, selected->size(), got);

  // High cardinality: a trace_id sent as a stream label, one new stream per request.
  const ColumnFamily log_families[] = {ColumnFamily::kLogStreams, ColumnFamily::kLogStreamsById,
                                       ColumnFamily::kLogPostings, ColumnFamily::kLogBlocks, ColumnFamily::kLogHead};
  std::vector<uint64_t> per_family(5);
  auto family_bytes = [&] {
    (void)(*db)->FlushAll();
    (void)(*db)->CompactAll();
    uint64_t b = 0;
    for (int i = 0; i < 5; ++i) {
      per_family[i] = (*db)->LiveSstBytes(log_families[i]);
      b += per_family[i];
    }
    return b;
  };
  const uint64_t before = family_bytes();
  const std::vector<uint64_t> per_family_before = per_family;
  constexpr int kHcStreams = 100000, kPerBatch = 1000;
  LineGenerator gen(7);
  int64_t hc_raw = 0;
  std::vector<LogBatch> hc;
  for (int i = 0; i < kHcStreams; i += kPerBatch) {
    LogBatch b;
    for (int j = i; j < i + kPerBatch; ++j) {
      LogStream ls;
      ls.labels = Labels{{"app", "checkout"}, {"env", "prod"}, {"trace_id", gen.Hex(32)}};
      for (int k = 0; k < 2; ++k) {
        std::string line = gen.Line(true, corpus.end_ns + j * 1000 + k);
        hc_raw += static_cast<int64_t>(line.size());
        ls.entries.push_back(LogEntry{corpus.end_ns + j * 1000 + k, std::move(line), {}});
      }
      b.streams.push_back(std::move(ls));
    }
    hc.push_back(std::move(b));
  }
  t0 = Clock::now();
  const double hc_cpu0 = ProcessCpuSeconds();
  for (const LogBatch& b : hc) {
    auto r = (*store)->Append("fake", b);
    if (!r.ok() || r->entries_written != 2 * kPerBatch) {
      std::fprintf(stderr, "high-cardinality append failed\n");
      return 1;
    }
  }
  (void)(*store)->FlushHead();
  const double hc_s = Seconds(Clock::now() - t0), hc_cpu = ProcessCpuSeconds() - hc_cpu0;
  const uint64_t after = family_bytes();
  std::printf("high cardinality: %d new streams (trace_id label) x 2 lines: %.0f streams/s wall, %.0f per "
              "CPU-second, none rejected; %.0f bytes on disk per stream (%.1f%% of its %.0f raw bytes)\n",
              kHcStreams, kHcStreams / hc_s, kHcStreams / hc_cpu,
              static_cast<double>(after - before) / kHcStreams,
              100.0 * static_cast<double>(after - before) / static_cast<double>(hc_raw),
              static_cast<double>(hc_raw) / kHcStreams);
  for (int i = 0; i < 5; ++i) {
    std::printf("  %-18s %6.0f bytes per stream\n", otelbox::storage::Database::FamilyName(log_families[i]),
                static_cast<double>(per_family[i] - per_family_before[i]) / kHcStreams);
  }
  return 0;
}

// --- Over HTTP ----------------------------------------------------------------------------

// utime + stime of another process, from /proc (clock ticks -> seconds).
double PidCpuSeconds(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return 0;
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  unsigned long utime = 0, stime = 0;
  // Fields after the command: state(3) ... utime(14) stime(15).
  std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out->append(buf);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

std::string PushJson(const LogBatch& b) {
  std::string out = "{\"streams\":[";
  for (size_t i = 0; i < b.streams.size(); ++i) {
    if (i) out.push_back(',');
    out += "{\"stream\":{";
    bool first = true;
    for (const Label& l : b.streams[i].labels) {
      if (!first) out.push_back(',');
      first = false;
      AppendJsonString(&out, l.name);
      out.push_back(':');
      AppendJsonString(&out, l.value);
    }
    out += "},\"values\":[";
    for (size_t j = 0; j < b.streams[i].entries.size(); ++j) {
      if (j) out.push_back(',');
      out += "[\"" + std::to_string(b.streams[i].entries[j].t_ns) + "\",";
      AppendJsonString(&out, b.streams[i].entries[j].line);
      out.push_back(']');
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

std::string PushProtobuf(const LogBatch& b) {
  logproto::PushRequest req;
  for (const LogStream& s : b.streams) {
    auto* st = req.add_streams();
    st->set_labels(s.labels.ToString());
    for (const LogEntry& e : s.entries) {
      auto* en = st->add_entries();
      en->mutable_timestamp()->set_seconds(e.t_ns / 1'000'000'000);
      en->mutable_timestamp()->set_nanos(static_cast<int32_t>(e.t_ns % 1'000'000'000));
      en->set_line(e.line);
    }
  }
  std::string raw = req.SerializeAsString(), out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

int RunHttp(const Options& o) {
  auto streams = MakeStreams();
  Corpus corpus = MakeCorpus(o, streams);
  std::printf("corpus '%s': %.1f MB raw, %" PRId64 " lines, %zu streams\n", o.corpus.c_str(),
              corpus.raw_bytes / 1048576.0, corpus.lines, streams.size());
  std::printf("%s\n", CorpusDescription(o).c_str());
  otelbox::testing::TempDir dir;
  otelbox::testing::OtelboxProcess proc({"--data-dir", dir.path(), "--otlp-grpc-listen", "off",
                                         "--otlp-http-listen", "off"});
  if (!proc.ok()) {
    std::fprintf(stderr, "otelbox: %s\n", proc.error().c_str());
    return 1;
  }
  // Bodies are encoded up front: the figure is otelbox's, not the generator's.
  std::vector<std::string> bodies;
  bodies.reserve(corpus.batches.size());
  const bool proto = o.protocol == "protobuf";
  for (const LogBatch& b : corpus.batches) bodies.push_back(proto ? PushProtobuf(b) : PushJson(b));
  std::atomic<size_t> next{0};
  std::atomic<int> errors{0};
  const double server_cpu0 = PidCpuSeconds(proc.pid());
  auto t0 = Clock::now();
  std::vector<std::thread> pushers;
  for (int i = 0; i < std::max(2, o.threads); ++i) {
    pushers.emplace_back([&] {
      for (size_t b; (b = next.fetch_add(1)) < bodies.size();) {
        auto r = otelbox::testing::HttpRequest(
            proc.http(), "POST", "/loki/api/v1/push", bodies[b],
            {{"Content-Type", proto ? "application/x-protobuf" : "application/json"}});
        if (r.status != 204) {
          if (errors++ == 0) std::fprintf(stderr, "push: %d %s\n", r.status, r.body.c_str());
        }
      }
    });
  }
  for (auto& t : pushers) t.join();
  double s = Seconds(Clock::now() - t0);
  const double server_cpu = PidCpuSeconds(proc.pid()) - server_cpu0;
  std::printf("push (%s over HTTP): %.1f MB/s raw, %.0f lines/s (%.2fs, %d errors); otelbox used "
              "%.2f CPU-s = %.1f MB per CPU-second\n",
              proto ? "snappy protobuf" : "JSON", corpus.raw_bytes / 1048576.0 / s, corpus.lines / s, s,
              errors.load(), server_cpu,
              corpus.raw_bytes / 1048576.0 / server_cpu);
  std::printf("otelbox RSS after push: %.0f MB\n", proc.RssBytes() / 1048576.0);

  struct Query {
    const char* name;
    std::string logql;
  };
  const Query queries[] = {
      {"line filter", "{namespace=\"shop\"} |= \"trace_id\\\":\\\"00000\""},
      {"json + label filter", "{format=\"json\"} | json | status >= 500 | duration_ms > 1000"},
      {"sum by level rate", "sum by (level) (rate({format=\"json\"} | json [1m]))"},
  };
  const std::string range = "&start=" + std::to_string(corpus.start_ns) + "&end=" + std::to_string(corpus.end_ns);
  // Each query `query_reps` times; wall and otelbox's CPU (/proc/<pid>/stat) per run. The
  // scan rate is raw corpus bytes over time (each query reads every line of its streams).
  const double json_share = 0.5;  // 12 of the 24 streams are JSON
  for (const Query& q : queries) {
    const bool json_only = q.logql.find("{format=\"json\"}") != std::string::npos;
    const double scanned_gb = corpus.raw_bytes / 1e9 * (json_only ? json_share : 1.0);
    for (int rep = 0; rep < o.query_reps; ++rep) {
      const double cpu0 = PidCpuSeconds(proc.pid());
      t0 = Clock::now();
      auto r = otelbox::testing::HttpGet(
          proc.http(), "/loki/api/v1/query_range?limit=1000&step=60&query=" +
                           otelbox::testing::UrlEncode(q.logql) + range);
      const double wall = Seconds(Clock::now() - t0), cpu = PidCpuSeconds(proc.pid()) - cpu0;
      std::printf("query_range %-20s %7.1f ms wall, %6.2f CPU-s (%.2f GB raw: %.2f GB/s wall, %.2f GB per "
                  "CPU-s)  status %d  %zu bytes\n",
                  q.name, wall * 1000, cpu, scanned_gb, scanned_gb / wall, cpu > 0 ? scanned_gb / cpu : 0.0,
                  r.status, r.body.size());
      if (r.status != 200) std::printf("  %s\n", r.body.substr(0, 300).c_str());
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    std::string k = argv[i], v = i + 1 < argc ? argv[i + 1] : "";
    if (v.empty() && k != "--help") k = "--missing-value";
    if (k == "--raw-mb") o.raw_mb = std::stoll(v);
    else if (k == "--mode") o.mode = v;
    else if (k == "--batch-lines") o.batch_lines = std::stoi(v);
    else if (k == "--threads") o.threads = std::stoi(v);
    else if (k == "--dump-sample") o.dump_sample = v;
    else if (k == "--protocol") o.protocol = v;
    else if (k == "--corpus") o.corpus = v;
    else if (k == "--zstd-level") o.zstd_level = std::stoi(v);
    else if (k == "--block-kb") o.block_kb = std::stoll(v);
    else if (k == "--query-reps") o.query_reps = std::stoi(v);
    else {
      std::fprintf(k == "--help" ? stdout : stderr,
                   "usage: logs_bench [--raw-mb N] [--mode store|http] [--protocol json|protobuf]\n"
                   "                  [--corpus requests|uniform] [--batch-lines N] [--threads N]\n"
                   "                  [--zstd-level N] [--block-kb N] [--query-reps N] [--dump-sample PATH]\n"
                   "corpus 'requests' (default): 24 streams (6 apps x 2 envs x 2 pods; JSON or logfmt),\n"
                   "  8 interleaved requests in flight per stream, each 2-5 lines sharing its trace_id,\n"
                   "  span_id, user_id, client_ip, path; 12%% background lines without ids.\n"
                   "corpus 'uniform': every line its own request (fresh random ids in every line).\n");
      return k == "--help" ? 0 : 2;
    }
  }
  return o.mode == "http" ? RunHttp(o) : RunStore(o);
}

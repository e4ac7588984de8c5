// logql_scan_bench: LogQL engine throughput in-process over the real LogStore (no HTTP):
// generates logfmt application logs, flushes them into compressed blocks, then runs line
// filter, parser and aggregation queries and prints MB/s of raw log scanned per query.
// The HTTP end-to-end figures are logs_bench's; this isolates the engine + store scan.
//
//   logql_scan_bench [--mb 256] [--streams 8] [--runs 3]

#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "query/logql/engine.h"
#include "storage/db.h"
#include "storage/logs/log_store.h"

namespace otelbox {
namespace {

constexpr int64_t kSec = 1'000'000'000;

// CPU time of this thread: on a shared machine wall time says more about the neighbours.
double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

int Main(int argc, char** argv) {
  int64_t mb = 256;
  int streams = 8;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--mb") mb = std::atoll(argv[i + 1]);
    if (a == "--streams") streams = std::atoi(argv[i + 1]);
    if (a == "--runs") runs = std::atoi(argv[i + 1]);
  }
  std::string dir = (std::filesystem::temp_directory_path() / "otelbox-logqlbench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) return 1;
  const int64_t now_ms = 1767225600LL * 1000;
  const int64_t start_ns = now_ms * 1'000'000 - 3600 * kSec;
  {
    storage::DatabaseOptions dbo;
    dbo.now_ms = [now_ms] { return now_ms; };
    auto db = storage::Database::Open(dir, dbo);
    if (!db.ok()) {
      std::fprintf(stderr, "open: %s\n", std::string(db.status().message()).c_str());
      return 1;
    }
    storage::LogStoreOptions lo;
    lo.now_ms = [now_ms] { return now_ms; };
    lo.background_flush = false;
    auto store = storage::LogStore::Open(db->get(), lo, nullptr);
    if (!store.ok()) return 1;

    // Generate: lines spread over the last hour, round-robin over streams.
    std::mt19937_64 rng(42);
    const char* levels[] = {"info", "info", "info", "debug", "warn", "error"};
    const char* methods[] = {"GET", "GET", "POST", "PUT", "DELETE"};
    const int64_t target = mb << 20;
    int64_t bytes = 0, lines = 0;
    auto t0 = std::chrono::steady_clock::now();
    const int64_t est_lines = target / 230;
    const int64_t step_ns = std::max<int64_t>(1, 3600 * kSec / std::max<int64_t>(1, est_lines));
    while (bytes < target) {
      storage::LogBatch batch;
      for (int s = 0; s < streams; ++s) {
        batch.streams.push_back(storage::LogStream{
            storage::Labels{{"app", "app" + std::to_string(s)}, {"env", s % 2 ? "prod" : "dev"}}, {}});
      }
      for (int k = 0; k < 20000 && bytes < target; ++k) {
        int s = static_cast<int>(lines % streams);
        char line[512];
        int status = rng() % 50 == 0 ? 500 + static_cast<int>(rng() % 4) : 200 + static_cast<int>(rng() % 2);
        int n = std::snprintf(line, sizeof line,
                              "level=%s caller=handler.go:%d msg=\"request served\" method=%s "
                              "path=/api/v1/users/%llu status=%d duration=%.1fms "
                              "trace_id=%016llx user_id=u%llu",
                              levels[rng() % 6], static_cast<int>(rng() % 400), methods[rng() % 5],
                              static_cast<unsigned long long>(rng() % 100000), status,
                              static_cast<double>(rng() % 5000) / 10.0,
                              static_cast<unsigned long long>(rng()),
                              static_cast<unsigned long long>(rng() % 1000000));
        batch.streams[s].entries.push_back(storage::LogEntry{start_ns + lines * step_ns, std::string(line, n), {}});
        bytes += n;
        ++lines;
      }
      auto st = (*store)->Append("fake", batch);
      if (!st.ok()) {
        std::fprintf(stderr, "append: %s\n", std::string(st.status().message()).c_str());
        return 1;
      }
    }
    (void)(*store)->FlushHead();
    double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("loaded %lld lines, %.1f MB raw in %.1f s (%.1f MB/s, %d streams)\n",
                static_cast<long long>(lines), bytes / 1048576.0, load_s, bytes / 1048576.0 / load_s, streams);

    query::logql::Engine engine(store->get());
    struct Q {
      const char* name;
      std::string query;
      int64_t step_ns;
    };
    const int64_t end_ns = start_ns + 3600 * kSec;
    std::vector<Q> queries = {
        {"line filter (rare)", R"(sum(count_over_time({app=~"app.*"} |= "trace_id=deadbeef" [1h])))", 0},
        {"line filter (substring)", R"(sum(count_over_time({app=~"app.*"} |= "status=503" [1h])))", 0},
        {"line filter (regex)", R"(sum(count_over_time({app=~"app.*"} |~ "status=5[0-9]{2}" [1h])))", 0},
        {"logfmt + sum by", R"(sum by (level) (count_over_time({app=~"app.*"} | logfmt [1h])))", 0},
        {"logfmt + filter, range 1m", R"(sum by (status) (rate({app=~"app.*"} | logfmt | duration > 400ms [1m])))", 60 * kSec},
        {"unwrap quantile by app", R"(quantile_over_time(0.99, {app=~"app.*"} | logfmt | unwrap duration(duration) [1h]) by (app))", 0},
        {"high-card. no pushdown 1m", R"(max by (level) (count_over_time({app=~"app.*"} | logfmt [1m])))", 60 * kSec},
        {"log query |= limit 100", R"({app=~"app.*"} |= "user_id=u42")", -1},
    };
    std::printf("%-28s %9s %9s %11s %11s %8s\n", "query", "wall ms", "cpu ms", "MB/s (cpu)",
                "Mlines/s", "result");
    for (const Q& q : queries) {
      std::vector<double> ms, cpu;
      int64_t processed = 0, nlines = 0;
      size_t result_size = 0;
      for (int r = 0; r < runs; ++r) {
        query::logql::QueryParams p;
        p.tenant = "fake";
        p.query = q.query;
        if (q.step_ns < 0) {
          p.start_ns = start_ns;
          p.end_ns = end_ns + 1;
          p.step_ns = 0;
          p.limit = 100;
        } else if (q.step_ns == 0) {
          p.start_ns = p.end_ns = end_ns;
        } else {
          p.start_ns = start_ns;
          p.end_ns = end_ns;
          p.step_ns = q.step_ns;
        }
        auto t = std::chrono::steady_clock::now();
        double c0 = ThreadCpuMs();
        auto res = engine.Query(p);
        cpu.push_back(ThreadCpuMs() - c0);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
        if (!res.ok()) {
          std::printf("%-28s ERROR %s\n", q.name, std::string(res.status().message()).c_str());
          break;
        }
        processed = res->stats.bytes_processed;
        nlines = res->stats.lines_processed;
        result_size = std::visit([](const auto& v) -> size_t {
          if constexpr (requires { v.size(); }) {
            return v.size();
          } else {
            return 1;
          }
        }, res->value);
      }
      if (ms.size() != static_cast<size_t>(runs)) continue;
      std::sort(ms.begin(), ms.end());
      std::sort(cpu.begin(), cpu.end());
      double med = ms[ms.size() / 2];
      double cmed = cpu[cpu.size() / 2];
      std::printf("%-28s %9.1f %9.1f %11.1f %11.2f %8zu\n", q.name, med, cmed,
                  processed / 1048576.0 / (cmed / 1000), nlines / 1e6 / (cmed / 1000), result_size);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

}  // namespace
}  // namespace otelbox

int main(int argc, char** argv) { return otelbox::Main(argc, argv); }

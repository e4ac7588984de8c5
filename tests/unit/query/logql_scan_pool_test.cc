// ScanPool (query/logql/scan_pool.h): every index runs exactly once, worker ids are unique
// among concurrent calls, several queries may share one pool, and a pool without helpers
// runs everything on the caller.

#include "query/logql/scan_pool.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "query/logql/engine.h"
#include "tests/unit/query/logql_memory_querier.h"

namespace otelbox::query::logql {
namespace {

TEST(LogqlScanPool, RunsEveryIndexOnceWithDistinctWorkers) {
  ScanPool pool(3);
  ASSERT_EQ(pool.max_workers(), 4u);
  std::vector<std::atomic<int>> runs(1000);
  std::vector<std::atomic<int>> busy(pool.max_workers());
  std::atomic<bool> overlap{false};
  pool.ForEach(runs.size(), [&](size_t worker, size_t i) {
    ASSERT_LT(worker, busy.size());
    if (busy[worker].fetch_add(1) != 0) overlap = true;  // two calls with one worker id
    runs[i].fetch_add(1);
    std::this_thread::yield();
    busy[worker].fetch_sub(1);
  });
  EXPECT_FALSE(overlap);
  for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << i;
}

TEST(LogqlScanPool, ConcurrentCallersShareThePool) {
  ScanPool pool(1);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) {
        std::atomic<int64_t> sum{0};
        pool.ForEach(100, [&](size_t, size_t i) { sum += static_cast<int64_t>(i); });
        EXPECT_EQ(sum.load(), 4950);
        total += sum.load();
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 4 * 50 * 4950);
}

TEST(LogqlScanPool, WithoutHelpersRunsOnCallerInOrder) {
  ScanPool pool(0);
  std::vector<size_t> seen;
  const auto caller = std::this_thread::get_id();
  pool.ForEach(5, [&](size_t worker, size_t i) {
    EXPECT_EQ(worker, 0u);
    EXPECT_EQ(std::this_thread::get_id(), caller);
    seen.push_back(i);
  });
  EXPECT_EQ(seen, (std::vector<size_t>{0, 1, 2, 3, 4}));
  seen.clear();
  ScanPool::ForEachOn(nullptr, 3, [&](size_t, size_t i) { seen.push_back(i); });
  EXPECT_EQ(seen, (std::vector<size_t>{0, 1, 2}));
}

// The engine gives the same answers with and without concurrent stream scans (limits,
// directions, first-seen series order, json parser hints).
std::string Render(const QueryResult& r) {
  std::string out;
  if (const auto* streams = std::get_if<Streams>(&r.value)) {
    for (const Stream& s : *streams) {
      out += LabelListString(s.labels) + "\n";
      for (const StreamEntry& e : s.entries) out += " " + std::to_string(e.t_ns) + " " + e.line + "\n";
    }
  } else if (const auto* m = std::get_if<Matrix>(&r.value)) {
    for (const Series& s : *m) {
      out += LabelListString(s.labels) + "\n";
      for (const Point& p : s.points) out += " " + std::to_string(p.t_ns) + "=" + std::to_string(p.v) + "\n";
    }
  }
  return out;
}

TEST(LogqlScanPool, EngineResultsDoNotDependOnConcurrency) {
  constexpr int64_t kSec = 1'000'000'000;
  testing::MemoryLogQuerier store;
  const char* levels[] = {"info", "warn", "error", "debug"};
  for (int s = 0; s < 12; ++s) {
    for (int i = 0; i < 200; ++i) {
      int64_t t = ((i * 37 + s * 11) % 600) * kSec;  // equal timestamps across streams
      std::string line = R"({"level":")" + std::string(levels[(i + s) % 4]) + R"(","s":)" + std::to_string(i % 3) +
                         R"(,"n":)" + std::to_string(i) +
                         R"(,"req":{"id":")" + std::to_string(s) + R"("}})";
      if (i % 50 == 7) line = "not json " + std::to_string(i);
      store.Push(storage::Labels{{"app", "x"}, {"s", std::to_string(s)}}, storage::LogEntry{t, line, {}});
    }
  }
  EngineOptions serial_opts;
  serial_opts.scan_helpers = 0;
  EngineOptions parallel_opts;
  parallel_opts.scan_helpers = 3;
  Engine serial(&store, serial_opts), parallel(&store, parallel_opts);
  const std::vector<std::string> queries = {
      R"({app="x"})",
      R"({app="x"} |= "warn")",
      R"({app="x"} | json | level="error")",
      R"(sum by (level) (count_over_time({app="x"} | json | __error__="" [1m])))",
      R"(sum by (level, req_id) (rate({app="x"} |= "level" | json [2m])))",
      R"(sum by (s_extracted) (count_over_time({app="x"} | json | __error__="" [1m])))",
      R"(count_over_time({app="x"} | json | __error__="" | keep level, req_id [1m]))",
      R"(sum by (level) (count_over_time({app="x"} | json [1m])))",  // pipeline error
  };
  int compared = 0;
  for (const std::string& q : queries) {
    for (Direction dir : {Direction::kForward, Direction::kBackward}) {
      QueryParams p;
      p.tenant = "fake";
      p.query = q;
      p.start_ns = 0;
      p.end_ns = 600 * kSec;
      p.step_ns = 60 * kSec;
      p.direction = dir;
      p.limit = 37;
      auto a = serial.Query(p);
      auto b = parallel.Query(p);
      ASSERT_EQ(a.ok(), b.ok()) << q;
      if (!a.ok()) {
        EXPECT_EQ(a.status(), b.status()) << q;
        continue;
      }
      EXPECT_EQ(Render(*a), Render(*b)) << q;
      EXPECT_FALSE(Render(*a).empty()) << q;
      ++compared;
    }
  }
  EXPECT_GE(compared, 12);

  // Parser hints (only the labels the aggregation reads) give what full extraction gives:
  // `| line_format "{{ __line__ }}"` changes nothing but turns hints off.
  const std::vector<std::pair<std::string, std::string>> hinted = {
      {R"(sum by (level) (count_over_time({app="x"} | json | __error__="" [1m])))", "level="},
      {R"(sum by (s_extracted, level) (count_over_time({app="x"} | json | __error__="" | n > 10 [1m])))",
       "s_extracted="},
      {R"(sum by (req_id) (sum_over_time({app="x"} | json | __error__="" | unwrap n [2m])))", "req_id="},
  };
  for (const auto& [q, label] : hinted) {
    std::string full = q;
    const size_t at = full.find(" | unwrap") != std::string::npos ? full.find(" | unwrap") : full.find(" [");
    full.insert(at, R"( | line_format "{{ __line__ }}")");
    QueryParams p;
    p.tenant = "fake";
    p.start_ns = 0;
    p.end_ns = 600 * kSec;
    p.step_ns = 60 * kSec;
    p.query = q;
    auto a = parallel.Query(p);
    p.query = full;
    auto b = parallel.Query(p);
    ASSERT_TRUE(a.ok()) << q << ": " << a.status();
    ASSERT_TRUE(b.ok()) << full << ": " << b.status();
    EXPECT_EQ(Render(*a), Render(*b)) << q;
    EXPECT_NE(Render(*a).find(label), std::string::npos) << q << "\n" << Render(*a);
  }
}

}  // namespace
}  // namespace otelbox::query::logql

// LogQL engine over an in-memory LogQuerier: log queries (direction, limit, interval,
// categorized labels), metric queries, errors, live tail.

#include <gtest/gtest.h>

#include "query/logql/engine.h"
#include "tests/unit/query/logql_memory_querier.h"

namespace otelbox::query::logql {
namespace {

constexpr int64_t kSec = 1'000'000'000;

class LogqlEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Labels api{{"app", "api"}, {"env", "prod"}};
    storage::Labels web{{"app", "web"}};
    for (int i = 0; i < 6; ++i) {
      std::string level = i % 2 ? "error" : "info";
      store_.Push(api, storage::LogEntry{i * 10 * kSec, "level=" + level + " n=" + std::to_string(i),
                                         {{"trace_id", "t" + std::to_string(i)}}});
    }
    for (int i = 0; i < 3; ++i) {
      store_.Push(web, storage::LogEntry{(i * 10 + 5) * kSec, R"({"status":)" + std::to_string(200 + i) + "}", {}});
    }
  }

  absl::StatusOr<QueryResult> Run(std::string_view q, int64_t start, int64_t end, int64_t step = 0,
                                  Direction dir = Direction::kBackward, int64_t limit = 100) {
    QueryParams p;
    p.tenant = "fake";
    p.query = q;
    p.start_ns = start;
    p.end_ns = end;
    p.step_ns = step;
    p.direction = dir;
    p.limit = limit;
    return engine_.Query(p);
  }

  testing::MemoryLogQuerier store_;
  Engine engine_{&store_};
};

TEST_F(LogqlEngineTest, LogQueryBackwardWithLimit) {
  auto r = Run(R"({app=~"api|web"})", 0, 100 * kSec, 0, Direction::kBackward, 3);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& streams = std::get<Streams>(r->value);
  std::vector<int64_t> times;
  for (const auto& s : streams) {
    for (const auto& e : s.entries) times.push_back(e.t_ns / kSec);
  }
  std::sort(times.begin(), times.end());
  EXPECT_EQ(times, (std::vector<int64_t>{30, 40, 50}));
  EXPECT_EQ(r->stats.total_entries_returned, 3);
  EXPECT_GT(r->stats.lines_processed, 0);
}

TEST_F(LogqlEngineTest, LogQueryForwardFilterAndParser) {
  auto r = Run(R"({app="api"} |= "error" | logfmt | n > 1)", 0, 100 * kSec, 0, Direction::kForward);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& streams = std::get<Streams>(r->value);
  ASSERT_EQ(streams.size(), 2u);  // n=3 and n=5 differ in the parsed `n`
  EXPECT_EQ(streams[0].entries[0].line, "level=error n=3");
  EXPECT_EQ(LabelListString(streams[0].labels),
            R"({app="api", env="prod", level="error", n="3", trace_id="t3"})");
  // Categorized: stream labels, structured metadata and parsed labels apart.
  EXPECT_EQ(LabelListString(streams[0].stream_labels), R"({app="api", env="prod"})");
  EXPECT_EQ(LabelListString(streams[0].entries[0].structured_metadata), R"({trace_id="t3"})");
  EXPECT_EQ(LabelListString(streams[0].entries[0].parsed), R"({level="error", n="3"})");
}

TEST_F(LogqlEngineTest, EndIsExclusiveForLogQueries) {
  // Structured metadata is part of an entry's labels: one stream per trace_id here.
  auto r = Run(R"({app="api"})", 10 * kSec, 30 * kSec, 0, Direction::kForward);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& streams = std::get<Streams>(r->value);
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0].entries[0].t_ns, 10 * kSec);
  EXPECT_EQ(streams[1].entries[0].t_ns, 20 * kSec);
}

TEST_F(LogqlEngineTest, InstantMetricQuery) {
  auto r = Run(R"(sum by (level) (count_over_time({app="api"} | logfmt [1m])))", 50 * kSec, 50 * kSec);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& v = std::get<Vector>(r->value);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(LabelListString(v[0].labels), R"({level="error"})");
  EXPECT_EQ(v[0].v, 3);
  EXPECT_EQ(v[1].v, 3);
  EXPECT_EQ(v[0].t_ns, 50 * kSec);
}

TEST_F(LogqlEngineTest, RangeMetricQueryWindows) {
  // Windows (T-20s, T]: at 20s {10,20} -> 2, at 40s {30,40} -> 2, at 0s {0} -> 1.
  auto r = Run(R"(sum(count_over_time({app="api"}[20s])))", 0, 40 * kSec, 20 * kSec);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0].points.size(), 3u);
  EXPECT_EQ(m[0].points[0].v, 1);
  EXPECT_EQ(m[0].points[1].v, 2);
  EXPECT_EQ(m[0].points[2].v, 2);
}

TEST_F(LogqlEngineTest, UnwrapAndErrors) {
  auto ok = Run(R"(max_over_time({app="web"} | json | unwrap status [1m]))", 60 * kSec, 60 * kSec);
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(std::get<Vector>(ok->value).size(), 1u);
  EXPECT_EQ(std::get<Vector>(ok->value)[0].v, 202);
  // logfmt over JSON lines fails unless the error is filtered.
  auto bad = Run(R"(count_over_time({app="web"} | json | unwrap nope [1m]))", 60 * kSec, 60 * kSec);
  EXPECT_FALSE(bad.ok());
  auto err = Run(R"(sum(count_over_time({app="api"} | json [1m])))", 60 * kSec, 60 * kSec);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(std::string(err.status().message()).find("pipeline error: 'JSONParserErr'"), std::string::npos);
  auto filtered = Run(R"(sum(count_over_time({app="api"} | json | __error__="" [1m])))", 60 * kSec, 60 * kSec);
  ASSERT_TRUE(filtered.ok()) << filtered.status();
  EXPECT_TRUE(std::get<Vector>(filtered->value).empty());
}

TEST_F(LogqlEngineTest, ParseErrorsAreInvalidArgument) {
  auto r = Run(R"({app="api"} |=)", 0, 10 * kSec, kSec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(r.status().message()).rfind("parse error at line 1, col 15", 0), 0u) << r.status();
  auto instant_log = Run(R"({app="api"})", 10 * kSec, 10 * kSec);
  EXPECT_EQ(instant_log.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LogqlEngineTest, ScalarAndVector) {
  auto s = Run("1 + 2", 10 * kSec, 10 * kSec);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(std::get<Scalar>(s->value).v, 3);
  auto v = Run("vector(2) * 3", 0, 20 * kSec, 10 * kSec);
  ASSERT_TRUE(v.ok()) << v.status();
  const auto& m = std::get<Matrix>(v->value);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].points.size(), 3u);
  EXPECT_EQ(m[0].points[2].v, 6);
}

// The limit over many streams keeps exactly the globally newest/oldest entries, whatever
// order the streams are scanned in.
TEST(LogqlLimit, ManyStreamsMatchNaiveMerge) {
  testing::MemoryLogQuerier store;
  std::vector<int64_t> all;
  for (int s = 0; s < 20; ++s) {
    for (int i = 0; i < 30; ++i) {
      int64_t t = ((i * 37 + s * 11) % 300) * kSec;
      all.push_back(t);
      store.Push(storage::Labels{{"app", "x"}, {"s", std::to_string(s)}}, storage::LogEntry{t, "l", {}});
    }
  }
  std::sort(all.begin(), all.end());
  Engine engine(&store);
  for (Direction dir : {Direction::kForward, Direction::kBackward}) {
    QueryParams p;
    p.tenant = "fake";
    p.query = R"({app="x"})";
    p.start_ns = 0;
    p.end_ns = 1000 * kSec;
    p.direction = dir;
    p.limit = 25;
    auto r = engine.Query(p);
    ASSERT_TRUE(r.ok()) << r.status();
    std::vector<int64_t> got;
    for (const auto& st : std::get<Streams>(r->value)) {
      for (const auto& e : st.entries) got.push_back(e.t_ns);
    }
    std::sort(got.begin(), got.end());
    std::vector<int64_t> want = dir == Direction::kForward
                                    ? std::vector<int64_t>(all.begin(), all.begin() + 25)
                                    : std::vector<int64_t>(all.end() - 25, all.end());
    EXPECT_EQ(got, want);
  }
}

// Every truncation of rich queries is either an error Status or a result: no crash.
TEST_F(LogqlEngineTest, MutatedQueriesNeverCrash) {
  const std::vector<std::string> seeds = {
      R"q(sum by (level) (rate({app=~"api|web"} |= "e" | logfmt | n > 1 | line_format "{{.n}}" [30s])) / on (level) group_left count_over_time({app="api"} | json [1m]))q",
      R"q(topk(1, max_over_time({app="web"} | json | unwrap status | __error__="" [1m]) by (app)) or label_replace(vector(1), "a", "$1", "b", "(.*)"))q",
      R"q({app=~"api|web"} |~ "level=(info|error)" | logfmt | drop n | keep level, app | label_format x="{{.level}}")q",
  };
  int ok = 0;
  for (const std::string& seed : seeds) {
    for (size_t i = 0; i <= seed.size(); ++i) {
      std::string q = seed.substr(0, i);
      auto instant = Run(q, 60 * kSec, 60 * kSec);
      auto range = Run(q, 0, 60 * kSec, 20 * kSec);
      ok += instant.ok() + range.ok();
    }
  }
  EXPECT_GT(ok, 3);
}

TEST(LogqlTail, FiltersNewEntries) {
  auto t = TailQuery::Create(R"({app="api"} |= "error" | logfmt | line_format "{{.n}}")");
  ASSERT_TRUE(t.ok()) << t.status();
  storage::Labels api{{"app", "api"}};
  storage::Labels web{{"app", "web"}};
  EXPECT_TRUE((*t)->MatchesStream(api));
  EXPECT_FALSE((*t)->MatchesStream(web));
  EXPECT_FALSE((*t)->Process(api, storage::LogEntry{1, "level=info n=1", {}}).has_value());
  auto e = (*t)->Process(api, storage::LogEntry{2, "level=error n=2", {}});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->entry.line, "2");
  EXPECT_EQ(LabelListString(e->labels), R"({app="api", level="error", n="2"})");
  EXPECT_FALSE(TailQuery::Create(R"(rate({app="api"}[1m]))").ok());
}

TEST(LogqlHelpers, SelectorAndFormat) {
  auto m = ParseSelector(R"({app="api", env=~"p.*"})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->size(), 2u);
  EXPECT_FALSE(ParseSelector(R"({app="api"} |= "x")").ok());
  auto f = FormatQuery(R"(sum(rate({app="a"}|="x"[5m])) by(pod))");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, R"(sum by (pod)(rate({app="a"} |= "x"[5m])))");
  auto k = CheckQuery(R"({app="a"})");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, QueryKind::kLog);
}

}  // namespace
}  // namespace otelbox::query::logql

// The per-entry hot path must not allocate once warm: LabelsBuilder reuses its string slots,
// line filters and parsers work on views. Counts global operator new calls (this binary
// replaces it; the count is only read here).

#include <atomic>
#include <cstdlib>
#include <new>

#include "tests/unit/query/logql_pipeline_test_util.h"

namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace otelbox::query::logql {
namespace {

using testing::Must;

TEST(LogqlPipelineAllocations, WarmEntriesDoNotAllocate) {
  Pipeline p;
  p.Add(Must(MakeLineFilter(LineFilterOp::kContains, {{"level="}})));
  p.Add(Must(MakeLogfmtParser(false, false, {})));
  p.Add(Must(MakeLabelFilter(LabelFilterSpec::Duration("duration_of_request", CompareOp::kGt, 1))));
  p.Add(Must(MakeLabelFilter(LabelFilterSpec::String("level_of_this_entry", storage::MatchType::kEqual, "info"))));
  const std::vector<Label> stream = testing::L({{"application_name", "a-rather-long-application"},
                                                {"environment_name", "production-cluster-1"}});
  const std::vector<Label> metadata = {{"trace_identifier_x", "0123456789abcdef0123"},
                                       {"span_identifier_xx", "0123456789abcdef"}};
  const std::string lines[2] = {
      "level_of_this_entry=info duration_of_request=1500ms message_text=\"a long enough message\" level=x",
      "level_of_this_entry=warn duration_of_request=2500ms message_text=\"another long message!\" level=y"};
  LabelsBuilder lbs;
  lbs.SetStream(&stream);
  size_t kept = 0;
  auto run = [&](int n) {
    for (int i = 0; i < n; ++i) {
      lbs.StartEntry(metadata);
      std::string_view line = lines[i % 2];
      if (p.Process(i, line, lbs)) ++kept;
    }
  };
  {
    // The counter works: a heap allocation is seen.
    size_t b = g_allocations.load();
    auto probe = std::make_unique<std::string>(100, 'x');
    EXPECT_GE(g_allocations.load() - b, 2u);
  }
  run(10);  // warm up: slot strings and caches grow to size
  size_t before = g_allocations.load();
  run(1000);
  EXPECT_EQ(g_allocations.load() - before, 0u);
  EXPECT_EQ(kept, 505u);  // the "info" lines
}

}  // namespace
}  // namespace otelbox::query::logql

// The metric store's in-memory read paths must answer exactly what RocksDB holds: the
// recent chunk windows kept by head flushes (storage/metrics/recent_chunks.h), the label
// sets by id (storage/index/label_index.h), the per-day label names and values
// (storage/index/day_labels_cache.h) and the head's range lookup. Each test checks them
// against a model of the writes and against a reopened store (empty caches, RocksDB only).

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/keys.h"
#include "storage/metrics/metric_store.h"
#include "test_util.h"

namespace otelbox::storage {
namespace {

using testing::Eq;
using testing::kNowMs;
using testing::Re;
using testing::TempDir;

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kDay = 24 * kHourMs;
constexpr std::string_view kTenant = "fake";

class MetricStoreCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    DatabaseOptions dbo;
    dbo.now_ms = [this] { return now_.load(); };
    auto db = Database::Open(dir_.path(), dbo);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    MetricStoreOptions o;
    o.now_ms = [this] { return now_.load(); };
    o.head_flush_interval = std::chrono::hours(1);  // tests flush by hand
    auto store = MetricStore::Open(db_.get(), o, nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Reopen() {
    store_.reset();
    db_.reset();
    Open();
  }

  // Writes and records in the model (the later write of a timestamp wins).
  void Write(const Labels& labels, const std::vector<Sample>& samples) {
    MetricBatch b;
    b.series.push_back({labels, samples, {}, {}});
    auto r = store_->Append(kTenant, b, RejectPolicy::kRejectBatch);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const Sample& s : samples) model_[labels][s.t_ms] = s.value;
  }

  // Every series of `name` over [from, to] must be what the model holds.
  void ExpectModel(const std::string& name, int64_t from, int64_t to, const std::string& where) {
    auto got = store_->Select(kTenant, {Eq("__name__", name)}, from, to);
    ASSERT_TRUE(got.ok()) << got.status();
    std::map<Labels, std::vector<Sample>> want;
    for (const auto& [labels, points] : model_) {
      if (labels.Get("__name__") != name) continue;
      for (auto it = points.lower_bound(from); it != points.end() && it->first <= to; ++it) {
        want[labels].push_back({it->first, it->second});
      }
    }
    std::erase_if(want, [](const auto& e) { return e.second.empty(); });
    ASSERT_EQ(got->size(), want.size()) << where << " [" << from << ", " << to << "]";
    size_t i = 0;
    for (const auto& [labels, samples] : want) {
      EXPECT_EQ((*got)[i].labels, labels) << where;
      EXPECT_EQ((*got)[i].samples, samples) << where << " " << labels.ToString() << " [" << from
                                            << ", " << to << "]";
      ++i;
    }
  }

  TempDir dir_;
  std::atomic<int64_t> now_{kNowMs};
  std::unique_ptr<Database> db_;
  std::unique_ptr<MetricStore> store_;
  std::map<Labels, std::map<int64_t, double>> model_;
};

Labels Series(int i) {
  return Labels{{"__name__", "m"}, {"i", std::to_string(i)}, {"job", i % 2 ? "a" : "b"}};
}

// Many flushes (more than a kept window folds), rewrites of flushed samples, backfill into
// windows the cache does not keep, a series jumping windows ahead, and a restart (the
// next flush seeds the cache from RocksDB): short selects (the cached path) must always
// equal the model, and so must long ones (scans) and a reopened store.
TEST_F(MetricStoreCacheTest, RecentWindowsMatchRocksDbThroughFlushesRewritesAndRestarts) {
  const int64_t w = ChunkWindowStart(kNowMs - kDay);
  std::mt19937_64 rng(7);
  auto check = [&](const std::string& where) {
    const std::pair<int64_t, int64_t> ranges[] = {
        {w + kChunkWindowMs - 300'000, w + kChunkWindowMs + 300'000},  // across a boundary
        {w + 2 * kChunkWindowMs - 60'000, w + 2 * kChunkWindowMs + kChunkWindowMs},
        {w + 30'000, w + 600'000},
        {w - 2 * kChunkWindowMs, w + 2 * kChunkWindowMs - 1},
        {w - kDay, w + kDay}};
    for (auto [from, to] : ranges) ExpectModel("m", from, to, where);
  };
  int64_t t = w;
  for (int round = 0; round < 30; ++round) {
    for (int i = 0; i < 6; ++i) {
      std::vector<Sample> samples;
      for (int k = 0; k < 5; ++k) samples.push_back({t + k * 15'000 + i, double(rng() % 1000)});
      if (round % 4 == 1) samples.push_back({t - 30'000 + i, -1.0 * round});       // rewrite
      if (round % 7 == 3) samples.push_back({w - kChunkWindowMs + round, 0.5});  // backfill
      Write(Series(i), samples);
    }
    if (round == 20) Write(Series(5), {{w + 6 * kChunkWindowMs, 42}});  // jumps ahead
    t += 5 * 15'000 + kChunkWindowMs / 12;  // about 12 rounds per window
    ASSERT_TRUE(store_->FlushHead().ok());
    check("round " + std::to_string(round));
    if (round == 12) {
      ASSERT_TRUE(db_->CompactAll().ok());
      check("compacted");
    }
    if (round == 15) {
      Reopen();
      check("reopened");
    }
  }
  // Unflushed writes on top of cached windows: the head wins.
  Write(Series(0), {{t - 15'000, 1e9}});
  check("head on top");
  Reopen();
  check("final reopen");
}

// Flushes moving samples from the head into the kept windows while queries read: a query
// must never miss a sample that was written before it started (no gap in the series),
// whichever side of a flush it reads it from.
TEST_F(MetricStoreCacheTest, ConcurrentFlushesNeverHideWrittenSamples) {
  const int64_t w = ChunkWindowStart(kNowMs - kDay);
  constexpr int kSamples = 3000;
  std::atomic<int> written{0};
  std::atomic<bool> failed{false};
  std::thread writer([&] {
    for (int i = 0; i < kSamples && !failed; ++i) {
      MetricBatch b;
      for (int s = 0; s < 4; ++s) {
        b.series.push_back({Series(s), {{w + i * 5'000, double(i)}}, {}, {}});
      }
      if (!store_->Append(kTenant, b, RejectPolicy::kRejectBatch).ok()) failed = true;
      written = i + 1;
      if (i % 50 == 49 && !store_->FlushHead().ok()) failed = true;
    }
  });
  // Checks one read; "" when it holds. The samples written before the query started must
  // all be there, in order; later ones (written while it ran) may or may not be.
  auto check_once = [&](int before) -> std::string {
    // The last samples written (a short select: the kept windows' path).
    const int first = std::max(0, before - 400);
    auto got = store_->Select(kTenant, {Eq("__name__", "m")}, w + first * 5'000,
                              w + (before + 100) * 5'000);
    if (!got.ok()) return std::string(got.status().message());
    if (got->size() != 4u) return "series: " + std::to_string(got->size());
    for (const SeriesData& sd : *got) {
      const size_t must = static_cast<size_t>(before - first);
      if (sd.samples.size() < must) {
        return "written " + std::to_string(before) + ", read " + std::to_string(sd.samples.size());
      }
      for (size_t k = 0; k < must; ++k) {
        if (sd.samples[k].t_ms != w + (first + static_cast<int64_t>(k)) * 5'000) {
          return "written " + std::to_string(before) + ": sample " + std::to_string(k) + " at " +
                 std::to_string(sd.samples[k].t_ms);
        }
      }
    }
    return "";
  };
  int checks = 0;
  std::string error;
  while (written < kSamples && !failed) {
    const int before = written.load();
    if (before == 0) continue;
    error = check_once(before);
    if (!error.empty()) {
      failed = true;  // stops the writer; asserted once it has been joined
      break;
    }
    ++checks;
  }
  writer.join();
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_FALSE(failed);
  EXPECT_GT(checks, 10);
}

// The head's samples of a range, found walking back from the newest or by binary search,
// in order or not.
TEST_F(MetricStoreCacheTest, HeadRangesInAndOutOfOrder) {
  const int64_t w = ChunkWindowStart(kNowMs - kDay);
  std::vector<Sample> in_order;
  for (int k = 0; k < 300; ++k) in_order.push_back({w + k * 15'000, double(k)});
  Write(Series(0), in_order);
  Write(Series(1), {{w + 45'000, 1}, {w + 15'000, 2}, {w + 45'000, 3}, {w + 30'000, 4}});
  for (auto [from, to] : std::vector<std::pair<int64_t, int64_t>>{
           {w, w}, {w + 14'000, w + 16'000}, {w + 299 * 15'000, w + kDay},
           {w + 200 * 15'000 + 1, w + 210 * 15'000 - 1}, {w + 10 * 15'000, w + 280 * 15'000},
           {w - kDay, w - 1}, {w + 300 * 15'000, w + kDay}, {w - kDay, w + kDay}}) {
    ExpectModel("m", from, to, "head");
  }
}

// Label sets come from memory for series this process has seen, from RocksDB otherwise.
TEST_F(MetricStoreCacheTest, LabelSetsFromMemoryAndAfterRestart) {
  for (int i = 0; i < 20; ++i) Write(Series(i), {{kNowMs - 1000, double(i)}});
  ExpectModel("m", kNowMs - kHourMs, kNowMs, "fresh");
  auto odd = store_->Series(kTenant, {{Eq("job", "a")}}, kNowMs - kHourMs, kNowMs, 0);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->size(), 10u);
  Reopen();
  ExpectModel("m", kNowMs - kHourMs, kNowMs, "reopened");
  Write(Series(3), {{kNowMs, 3}});  // seen again: cached
  ExpectModel("m", kNowMs - kHourMs, kNowMs, "mixed");
  // Another tenant's matching postings never pick up this tenant's label sets.
  MetricBatch b;
  b.series.push_back({Labels{{"__name__", "m"}, {"i", "other"}}, {{kNowMs, 1}}, {}, {}});
  ASSERT_TRUE(store_->Append("other", b, RejectPolicy::kRejectBatch).ok());
  auto other = store_->Select("other", {Eq("__name__", "m")}, kNowMs - kHourMs, kNowMs);
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ((*other)[0].labels.Get("i"), "other");
}

// Label names and values without match[] come from the per-day copy once a day was
// asked for: series created afterwards (also in a new day, in another tenant, after a
// restart) must show up, and ranges must select days.
TEST_F(MetricStoreCacheTest, LabelValuesFollowNewSeriesAfterTheDayIsLoaded) {
  using Names = std::vector<std::string>;
  const int64_t today = DayOf(kNowMs) * kDay;
  auto values = [&](std::string_view name, int64_t from, int64_t to, std::string_view tenant = kTenant) {
    auto r = store_->LabelValues(tenant, name, {}, from, to, 0);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Names{};
  };
  auto names = [&](int64_t from, int64_t to) {
    auto r = store_->LabelNames(kTenant, {}, from, to, 0);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Names{};
  };
  Write(Labels{{"__name__", "up"}, {"instance", "b"}}, {{today + 1000, 1}});
  EXPECT_EQ(values("instance", today, today + kDay - 1), (Names{"b"}));  // loads today
  Write(Labels{{"__name__", "up"}, {"instance", "a"}, {"zone", "z1"}}, {{today + 2000, 1}});
  Write(Labels{{"__name__", "up"}, {"instance", "c"}}, {{today - kDay + 5, 1}});  // yesterday
  EXPECT_EQ(values("instance", today, today + kDay - 1), (Names{"a", "b"}));
  EXPECT_EQ(values("instance", today - kDay, today + kDay - 1), (Names{"a", "b", "c"}));
  EXPECT_EQ(values("instance", today - kDay, today - 1), (Names{"c"}));
  EXPECT_EQ(values("instance", kMinTimeMs, kMaxTimeMs), (Names{"a", "b", "c"}));
  EXPECT_EQ(names(today, today + kDay - 1), (Names{"__name__", "instance", "zone"}));
  EXPECT_EQ(names(today - kDay, today - 1), (Names{"__name__", "instance"}));
  EXPECT_TRUE(values("instance", today, today + kDay - 1, "other").empty());
  EXPECT_TRUE(values("nope", today, today + kDay - 1).empty());
  // match[] still selects series exactly.
  auto matched = store_->LabelValues(kTenant, "instance", {{Re("zone", ".+")}}, today,
                                     today + kDay - 1, 0);
  ASSERT_TRUE(matched.ok());
  EXPECT_EQ(*matched, (Names{"a"}));
  // A series written again for a day (its postings already there) changes nothing.
  Write(Labels{{"__name__", "up"}, {"instance", "b"}}, {{today + 3000, 1}});
  EXPECT_EQ(values("instance", today, today + kDay - 1), (Names{"a", "b"}));
  Reopen();
  Write(Labels{{"__name__", "up"}, {"instance", "d"}}, {{today + 4000, 1}});
  EXPECT_EQ(values("instance", today, today + kDay - 1), (Names{"a", "b", "d"}));
  Write(Labels{{"__name__", "up"}, {"instance", "e"}}, {{today + 5000, 1}});
  EXPECT_EQ(values("instance", today, today + kDay - 1), (Names{"a", "b", "d", "e"}));
}

}  // namespace
}  // namespace otelbox::storage

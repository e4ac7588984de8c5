#include "storage/metrics/metric_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "rocksdb/db.h"
#include "storage/keys.h"
#include "test_util.h"

namespace otelbox::storage {
namespace {

using testing::Eq;
using testing::kNowMs;
using testing::Neq;
using testing::Nre;
using testing::Re;
using testing::TempDir;

constexpr int64_t kRetentionMs = 15LL * 24 * 3600 * 1000;
constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kDay = 24 * kHourMs;
constexpr std::string_view kTenant = "fake";

SeriesSamples S(Labels labels, std::vector<Sample> samples) {
  SeriesSamples s;
  s.labels = std::move(labels);
  s.samples = std::move(samples);
  return s;
}

MetricBatch B(std::vector<SeriesSamples> series) {
  MetricBatch b;
  b.series = std::move(series);
  return b;
}

class MetricStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    DatabaseOptions dbo;
    dbo.now_ms = [this] { return now_.load(); };
    dbo.metric_retention_ms = kRetentionMs;
    auto db = Database::Open(dir_.path(), dbo);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    MetricStoreOptions o;
    o.retention_ms = kRetentionMs;
    o.now_ms = [this] { return now_.load(); };
    auto store = MetricStore::Open(db_.get(), o, &metrics_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Reopen() {
    store_.reset();
    db_.reset();
    Open();
  }

  AppendStats Write(const MetricBatch& batch, std::string_view tenant = kTenant) {
    auto r = store_->Append(tenant, batch, RejectPolicy::kRejectBatch);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : AppendStats{};
  }

  std::vector<SeriesData> Select(const MatcherSet& m, int64_t start = kNowMs - 10 * kDay,
                                 int64_t end = kNowMs + kDay, std::string_view tenant = kTenant) {
    auto r = store_->Select(tenant, m, start, end);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<SeriesData>{};
  }

  std::vector<Labels> SelectLabels(const MatcherSet& m) {
    std::vector<Labels> out;
    for (auto& s : Select(m)) out.push_back(s.labels);
    return out;
  }

  int CountKeys(ColumnFamily f) {
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(f)));
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  }

  TempDir dir_;
  std::atomic<int64_t> now_{kNowMs};
  SelfMetrics metrics_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<MetricStore> store_;
};

const Labels kUpA{{"__name__", "up"}, {"job", "api"}, {"instance", "a"}};
const Labels kUpB{{"__name__", "up"}, {"job", "api"}, {"instance", "b"}, {"env", "prod"}};
const Labels kUpC{{"__name__", "up"}, {"job", "db"}, {"instance", "c"}};

TEST_F(MetricStoreTest, AppendThenSelectReadsBack) {
  AppendStats st = Write(B({S(kUpA, {{kNowMs - 30000, 1}, {kNowMs - 15000, 0}})}));
  EXPECT_EQ(st.samples_written, 2);
  EXPECT_EQ(st.series_created, 1);
  auto got = Select({Eq("__name__", "up")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, kUpA);
  EXPECT_EQ(got[0].samples, (std::vector<Sample>{{kNowMs - 30000, 1}, {kNowMs - 15000, 0}}));
  // Range bounds are inclusive and filter samples.
  got = Select({Eq("__name__", "up")}, kNowMs - 15000, kNowMs);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples, (std::vector<Sample>{{kNowMs - 15000, 0}}));
  // Series without samples in range are dropped.
  EXPECT_TRUE(Select({Eq("__name__", "up")}, kNowMs - 1000, kNowMs).empty());
  // Other tenants see nothing.
  EXPECT_TRUE(Select({Eq("__name__", "up")}, kNowMs - kDay, kNowMs, "other").empty());
}

TEST_F(MetricStoreTest, AllMatcherTypes) {
  Write(B({S(kUpA, {{kNowMs, 1}}), S(kUpB, {{kNowMs, 2}}), S(kUpC, {{kNowMs, 3}})}));
  using V = std::vector<Labels>;
  EXPECT_EQ(SelectLabels({Eq("job", "api")}), (V{kUpB, kUpA}));  // sorted: env < instance
  // != on a label that is missing from a and c: they match (missing reads as "").
  EXPECT_EQ(SelectLabels({Eq("__name__", "up"), Neq("env", "prod")}), (V{kUpA, kUpC}));
  EXPECT_EQ(SelectLabels({Re("job", "a.*")}), (V{kUpB, kUpA}));
  EXPECT_EQ(SelectLabels({Eq("__name__", "up"), Nre("job", "a.*")}), (V{kUpC}));
  EXPECT_EQ(SelectLabels({Eq("__name__", "up"), Eq("env", "")}), (V{kUpA, kUpC}));
  EXPECT_EQ(SelectLabels({Re("__name__", "u.|x")}), (V{kUpB, kUpA, kUpC}));
  EXPECT_EQ(SelectLabels({Re("instance", "a|c"), Neq("job", "db")}), (V{kUpA}));
  EXPECT_EQ(SelectLabels({Eq("job", "api"), Re("env", ".*")}), (V{kUpB, kUpA}));  // matches empty
  EXPECT_TRUE(SelectLabels({Eq("job", "nope")}).empty());
  EXPECT_TRUE(SelectLabels({Eq("job", "api"), Eq("instance", "c")}).empty());

  auto bad = store_->Select(kTenant, {Neq("env", "prod")}, 0, kNowMs);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "vector selector must contain at least one non-empty matcher");
  auto bad_series = store_->Series(kTenant, {{Re("job", ".*")}}, 0, kNowMs, 0);
  ASSERT_FALSE(bad_series.ok());
  EXPECT_EQ(bad_series.status().message(), "match[] must contain at least one non-empty matcher");
}

TEST_F(MetricStoreTest, OutOfOrderBackfillDuplicatesAndRewrites) {
  const int64_t t0 = kNowMs - 3 * kDay;
  Write(B({S(kUpA, {{t0 + 60000, 6}, {t0 + 30000, 3}})}));   // out of order within a batch
  Write(B({S(kUpA, {{t0, 0}, {t0 + 45000, 4.5}})}));          // older samples later
  Write(B({S(kUpA, {{t0 - 2 * kDay, -2}})}));                 // backfill two days back
  Write(B({S(kUpA, {{t0 + 30000, 3}, {t0 + 30000, 3}})}));    // duplicates: idempotent
  Write(B({S(kUpA, {{t0 + 45000, 45}})}));                    // rewrite: later wins
  Write(B({S(kUpA, {{t0 + 90000, 9}, {t0 + 90000, 99}})}));   // same batch: later wins
  std::vector<Sample> want{{t0 - 2 * kDay, -2}, {t0, 0},      {t0 + 30000, 3},
                           {t0 + 45000, 45},    {t0 + 60000, 6}, {t0 + 90000, 99}};
  auto got = Select({Eq("__name__", "up")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples, want);

  // The same after a head flush and compaction (partial and full merges inside RocksDB),
  // with more out-of-order writes in the head on top of flushed chunks (the head, being
  // newer, wins), and again once those are flushed too.
  ASSERT_TRUE(store_->FlushHead().ok());
  ASSERT_TRUE(db_->FlushAll().ok());
  Write(B({S(kUpA, {{t0 + 15000, 1.5}, {t0 + 60000, 60}})}));
  want = {{t0 - 2 * kDay, -2}, {t0, 0}, {t0 + 15000, 1.5}, {t0 + 30000, 3},
          {t0 + 45000, 45},    {t0 + 60000, 60}, {t0 + 90000, 99}};
  got = Select({Eq("__name__", "up")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples, want);
  ASSERT_TRUE(store_->FlushHead().ok());
  ASSERT_TRUE(db_->CompactAll().ok());
  got = Select({Eq("__name__", "up")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples, want);
}

// Short selects read each window's raw merge operands (no fold in RocksDB), long ones scan
// folded values: both must give the same samples over several flushes' operands with
// rewrites and backfill (later wins), before and after compaction folds them.
TEST_F(MetricStoreTest, ShortSelectsOverUnfoldedOperandsMatchScans) {
  const int64_t w = ChunkWindowStart(kNowMs - kDay);
  std::vector<Sample> want;
  for (int flush = 0; flush < 4; ++flush) {
    std::vector<Sample> batch;
    for (int i = 0; i < 40; ++i) batch.push_back({w + (flush * 40 + i) * 15000, flush * 100.0 + i});
    if (flush > 0) batch.push_back({w + 15000 * 3, 1000.0 + flush});  // rewrite: later wins
    if (flush == 3) batch.push_back({w - 7000, 0.25});                // previous window
    Write(B({S(kUpA, batch)}));
    ASSERT_TRUE(store_->FlushHead().ok());
  }
  Write(B({S(kUpA, {{w + 15000 * 161, 7}})}));  // one more in the head
  for (int i = 0; i < 160; ++i) want.push_back({w + i * 15000, (i / 40) * 100.0 + i % 40});
  want[3].value = 1003;
  want.insert(want.begin(), Sample{w - 7000, 0.25});
  want.push_back({w + 15000 * 161, 7});
  auto cut = [&](int64_t from, int64_t to) {
    std::vector<Sample> out;
    for (const Sample& s : want) {
      if (s.t_ms >= from && s.t_ms <= to) out.push_back(s);
    }
    return out;
  };
  for (bool compacted : {false, true}) {
    if (compacted) ASSERT_TRUE(db_->CompactAll().ok());
    const std::pair<int64_t, int64_t> ranges[] = {
        {w + 15000 * 150, w + 15000 * 170}, {w - 60000, w + 60000},
        {w + 15000 * 2, w + 15000 * 4},      {w - kDay, w + kDay}};
    for (auto [from, to] : ranges) {
      auto got = Select({Eq("__name__", "up")}, from, to);
      ASSERT_EQ(got.size(), 1u) << from << " " << compacted;
      EXPECT_EQ(got[0].samples, cut(from, to)) << from << " " << compacted;
    }
  }
}

// Selects over many series read them on two threads: the result must be what the
// same series give one at a time (one series: one thread), in label order, with chunk
// operands, head samples and series without samples in range mixed through the set.
TEST_F(MetricStoreTest, SelectOverManySeriesMatchesSeriesOneAtATime) {
  const int64_t w = ChunkWindowStart(kNowMs - kHourMs);
  constexpr int kSeries = 1500;
  auto labels = [](int i) {
    return Labels{{"__name__", "m"}, {"i", std::to_string(i)}, {"parity", i % 2 ? "odd" : "even"}};
  };
  for (int flush = 0; flush < 3; ++flush) {
    std::vector<SeriesSamples> batch;
    for (int i = 0; i < kSeries; ++i) {
      if (i % 7 == 3 && flush < 2) continue;  // only recent samples
      std::vector<Sample> samples;
      for (int k = 0; k < 20; ++k) samples.push_back({w + (flush * 20 + k) * 15000, i * 1.5 + flush * 20 + k});
      batch.push_back(S(labels(i), std::move(samples)));
    }
    Write(B(std::move(batch)));
    if (flush < 2) ASSERT_TRUE(store_->FlushHead().ok());  // the last stays in the head
  }
  const std::pair<int64_t, int64_t> ranges[] = {{w + 15000 * 35, w + 15000 * 45},
                                                {w, w + 15000 * 10}, {w - kDay, w + kDay}};
  for (auto [from, to] : ranges) {
    auto all = Select({Eq("__name__", "m")}, from, to);
    std::vector<SeriesData> want;
    for (int i = 0; i < kSeries; ++i) {
      auto one = Select({Eq("__name__", "m"), Eq("i", std::to_string(i))}, from, to);
      ASSERT_LE(one.size(), 1u);
      for (auto& s : one) want.push_back(std::move(s));
    }
    std::sort(want.begin(), want.end(),
              [](const SeriesData& a, const SeriesData& b) { return a.labels < b.labels; });
    ASSERT_EQ(all.size(), want.size()) << from;
    ASSERT_GT(all.size(), 512u);
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(all[i].labels, want[i].labels) << i;
      EXPECT_EQ(all[i].samples, want[i].samples) << i;
    }
  }
}

TEST_F(MetricStoreTest, SamplesAcrossWindowBoundariesAndStaleNaN) {
  const int64_t w = ChunkWindowStart(kNowMs - kDay);
  std::vector<Sample> samples;
  for (int64_t t = w - 60000; t <= w + 3 * kChunkWindowMs; t += 15000) samples.push_back({t, double(t % 1000)});
  samples.push_back({w + 3 * kChunkWindowMs + 15000, StaleNaN()});
  Write(B({S(kUpA, samples)}));
  auto got = Select({Eq("job", "api")});
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].samples.size(), samples.size());
  for (size_t i = 0; i + 1 < samples.size(); ++i) EXPECT_EQ(got[0].samples[i], samples[i]);
  EXPECT_TRUE(IsStaleNaN(got[0].samples.back().value));
  // A range inside one window.
  got = Select({Eq("job", "api")}, w + kChunkWindowMs + 1, w + kChunkWindowMs + 30000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples.size(), 2u);
}

TEST_F(MetricStoreTest, RetentionRejectBatch) {
  const int64_t too_old = kNowMs - kRetentionMs - 1;
  auto r = store_->Append(kTenant, B({S(kUpA, {{kNowMs, 1}}), S(kUpB, {{too_old, 2}})}),
                          RejectPolicy::kRejectBatch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("out of bounds"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("instance=\"b\""), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("2023-12-30T23:59:59.999Z"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("older than retention 15d"), std::string::npos) << r.status();
  EXPECT_TRUE(Select({Eq("__name__", "up")}).empty());  // nothing written
}

TEST_F(MetricStoreTest, RetentionDropSample) {
  const int64_t too_old = kNowMs - kRetentionMs - 1;
  auto r = store_->Append(kTenant, B({S(kUpA, {{kNowMs, 1}, {too_old, 9}}), S(kUpB, {{too_old, 2}})}),
                          RejectPolicy::kDropSample);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->samples_written, 1);
  EXPECT_EQ(r->samples_rejected, 2);
  EXPECT_EQ(r->series_created, 1);
  EXPECT_NE(r->first_rejection.find("out of bounds"), std::string::npos);
  auto got = Select({Eq("__name__", "up")}, kMinTimeMs, kMaxTimeMs);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples, (std::vector<Sample>{{kNowMs, 1}}));
  EXPECT_NE(metrics_.RenderText().find("otelbox_ingest_rejected_samples_total 2"), std::string::npos);
}

TEST_F(MetricStoreTest, InvalidLabelsRejected) {
  auto r = store_->Append(kTenant, B({S(Labels{{"job", "x"}}, {{kNowMs, 1}})}), RejectPolicy::kRejectBatch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  r = store_->Append(kTenant, B({S(Labels{}, {{kNowMs, 1}})}), RejectPolicy::kRejectBatch);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  r = store_->Append(kTenant, B({S(Labels{{"job", "x"}}, {{kNowMs, 1}}), S(kUpA, {{kNowMs, 1}})}),
                     RejectPolicy::kDropSample);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->samples_rejected, 1);
  EXPECT_EQ(r->samples_written, 1);
}

TEST_F(MetricStoreTest, ReadsClampToRetentionAndCompactionDropsExpired) {
  Write(B({S(kUpA, {{kNowMs - 2 * kDay, 1}, {kNowMs, 2}})}));
  ASSERT_TRUE(store_->FlushHead().ok());  // head -> chunk merge operands
  ASSERT_TRUE(db_->FlushAll().ok());
  now_ += kRetentionMs - kDay;  // the first sample is now past retention
  auto got = Select({Eq("__name__", "up")}, kMinTimeMs, kMaxTimeMs);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples, (std::vector<Sample>{{kNowMs, 2}}));
  EXPECT_EQ(CountKeys(ColumnFamily::kChunks), 2);
  store_->EnforceRetention();
  EXPECT_EQ(CountKeys(ColumnFamily::kChunks), 1);
  EXPECT_EQ(CountKeys(ColumnFamily::kPostings), 3);  // one day of 3 labels left
  now_ += 2 * kDay;
  store_->EnforceRetention();
  EXPECT_EQ(CountKeys(ColumnFamily::kChunks), 0);
  EXPECT_EQ(CountKeys(ColumnFamily::kPostings), 0);
  EXPECT_TRUE(Select({Eq("__name__", "up")}, kMinTimeMs, kMaxTimeMs).empty());
}

TEST_F(MetricStoreTest, ReopenKeepsEverything) {
  MetricBatch b = B({S(kUpA, {{kNowMs - 1000, 1}}), S(kUpC, {{kNowMs - 2 * kDay, 3}})});
  b.metadata.push_back({"up", MetricType::kGauge, "Up or down.", ""});
  b.series[0].exemplars.push_back({Labels{{"trace_id", "abc"}}, kNowMs - 1000, 1});
  Write(b);
  Reopen();
  auto got = Select({Eq("__name__", "up")});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].labels, kUpA);
  EXPECT_EQ(got[0].samples, (std::vector<Sample>{{kNowMs - 1000, 1}}));
  EXPECT_EQ(got[1].labels, kUpC);

  // Existing series are found again; new series get ids that do not collide.
  AppendStats st = Write(B({S(kUpA, {{kNowMs, 2}}), S(kUpB, {{kNowMs, 20}})}));
  EXPECT_EQ(st.series_created, 1);
  got = Select({Eq("__name__", "up")});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].labels, kUpB);
  EXPECT_EQ(got[0].samples, (std::vector<Sample>{{kNowMs, 20}}));
  EXPECT_EQ(got[1].labels, kUpA);
  EXPECT_EQ(got[1].samples, (std::vector<Sample>{{kNowMs - 1000, 1}, {kNowMs, 2}}));
  EXPECT_EQ(got[2].samples, (std::vector<Sample>{{kNowMs - 2 * kDay, 3}}));

  auto md = store_->Metadata(kTenant, "", 0);
  ASSERT_TRUE(md.ok());
  ASSERT_EQ(md->size(), 1u);
  EXPECT_EQ((*md)[0].help, "Up or down.");
  auto ex = store_->Exemplars(kTenant, {Eq("__name__", "up")}, kNowMs - kDay, kNowMs);
  ASSERT_TRUE(ex.ok());
  ASSERT_EQ(ex->size(), 1u);
  EXPECT_EQ((*ex)[0].exemplars[0].labels.Get("trace_id"), "abc");

  // Flushed to SSTs and reopened again (not only WAL replay).
  ASSERT_TRUE(db_->FlushAll().ok());
  Reopen();
  EXPECT_EQ(Select({Eq("__name__", "up")}).size(), 3u);
}

TEST_F(MetricStoreTest, LabelNamesValuesAndSeries) {
  const Labels other{{"__name__", "http_requests_total"}, {"job", "api"}, {"code", "200"}};
  Write(B({S(kUpA, {{kNowMs, 1}}), S(kUpB, {{kNowMs, 2}}), S(kUpC, {{kNowMs, 3}}),
           S(other, {{kNowMs, 4}})}));
  const int64_t start = kNowMs - kHourMs, end = kNowMs;
  using Names = std::vector<std::string>;

  auto names = store_->LabelNames(kTenant, {}, start, end, 0);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, (Names{"__name__", "code", "env", "instance", "job"}));
  names = store_->LabelNames(kTenant, {{Eq("job", "db")}}, start, end, 0);
  EXPECT_EQ(*names, (Names{"__name__", "instance", "job"}));
  names = store_->LabelNames(kTenant, {}, start, end, 2);
  EXPECT_EQ(*names, (Names{"__name__", "code"}));

  auto values = store_->LabelValues(kTenant, "job", {}, start, end, 0);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (Names{"api", "db"}));
  values = store_->LabelValues(kTenant, "__name__", {}, start, end, 0);
  EXPECT_EQ(*values, (Names{"http_requests_total", "up"}));
  values = store_->LabelValues(kTenant, "instance", {{Eq("job", "api")}}, start, end, 0);
  EXPECT_EQ(*values, (Names{"a", "b"}));
  values = store_->LabelValues(kTenant, "instance", {{Eq("job", "api")}, {Eq("job", "db")}}, start, end, 2);
  EXPECT_EQ(*values, (Names{"a", "b"}));
  values = store_->LabelValues(kTenant, "nope", {}, start, end, 0);
  EXPECT_TRUE(values->empty());

  auto series = store_->Series(kTenant, {{Eq("job", "api")}}, start, end, 0);
  ASSERT_TRUE(series.ok());
  EXPECT_EQ(*series, (std::vector<Labels>{other, kUpB, kUpA}));
  series = store_->Series(kTenant, {{Eq("__name__", "up"), Neq("env", "prod")}, {Eq("code", "200")}},
                          start, end, 0);
  EXPECT_EQ(*series, (std::vector<Labels>{other, kUpA, kUpC}));
  series = store_->Series(kTenant, {{Re("__name__", ".+")}}, start, end, 2);
  EXPECT_EQ(series->size(), 2u);
  series = store_->Series(kTenant, {}, start, end, 0);
  EXPECT_EQ(series->size(), 4u);
}

TEST_F(MetricStoreTest, DayPartitionsLimitQueries) {
  const Labels old_series{{"__name__", "temp"}, {"room", "cellar"}};
  const Labels new_series{{"__name__", "temp"}, {"room", "attic"}};
  const int64_t today = DayOf(kNowMs) * kDay;
  Write(B({S(old_series, {{today - 5 * kDay + 1000, 10}})}));
  Write(B({S(new_series, {{today + 1000, 20}})}));
  auto values = store_->LabelValues(kTenant, "room", {}, today, today + kDay - 1, 0);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::vector<std::string>{"attic"}));
  values = store_->LabelValues(kTenant, "room", {}, today - 5 * kDay, today - 4 * kDay, 0);
  EXPECT_EQ(*values, (std::vector<std::string>{"cellar"}));
  values = store_->LabelValues(kTenant, "room", {}, kMinTimeMs, kMaxTimeMs, 0);
  EXPECT_EQ(*values, (std::vector<std::string>{"attic", "cellar"}));
  auto series = store_->Series(kTenant, {{Eq("__name__", "temp")}}, today, today + kDay - 1, 0);
  ASSERT_TRUE(series.ok());
  EXPECT_EQ(*series, (std::vector<Labels>{new_series}));
  EXPECT_TRUE(store_->LabelNames(kTenant, {}, today - 3 * kDay, today - 2 * kDay, 0)->empty());
  auto got = Select({Eq("__name__", "temp")}, kMinTimeMs, kMaxTimeMs);
  EXPECT_EQ(got.size(), 2u);
}

TEST_F(MetricStoreTest, MetadataWrittenOnChangeAndQueried) {
  MetricBatch b;
  b.metadata = {{"up", MetricType::kGauge, "Up.", ""},
                {"http_requests_total", MetricType::kCounter, "Requests.", "requests"}};
  Write(b);
  auto md = store_->Metadata(kTenant, "", 0);
  ASSERT_TRUE(md.ok());
  ASSERT_EQ(md->size(), 2u);
  EXPECT_EQ((*md)[0].family, "http_requests_total");
  EXPECT_EQ((*md)[0].type, MetricType::kCounter);
  EXPECT_EQ((*md)[0].unit, "requests");
  EXPECT_EQ(store_->Metadata(kTenant, "", 1)->size(), 1u);
  b.metadata = {{"up", MetricType::kGauge, "Up, changed.", ""}};
  Write(b);
  md = store_->Metadata(kTenant, "up", 0);
  ASSERT_EQ(md->size(), 1u);
  EXPECT_EQ((*md)[0].help, "Up, changed.");
  EXPECT_TRUE(store_->Metadata(kTenant, "missing", 0)->empty());
  EXPECT_TRUE(store_->Metadata("other", "", 0)->empty());
}

TEST_F(MetricStoreTest, ExemplarsInRange) {
  SeriesSamples s = S(kUpA, {{kNowMs - 2000, 1}});
  s.exemplars = {{Labels{{"trace_id", "t1"}}, kNowMs - 2000, 1},
                 {Labels{{"trace_id", "t2"}}, kNowMs - 1000, 2}};
  Write(B({s, S(kUpC, {{kNowMs, 3}})}));
  auto ex = store_->Exemplars(kTenant, {Eq("__name__", "up")}, kNowMs - 1500, kNowMs);
  ASSERT_TRUE(ex.ok()) << ex.status();
  ASSERT_EQ(ex->size(), 1u);
  EXPECT_EQ((*ex)[0].series_labels, kUpA);
  ASSERT_EQ((*ex)[0].exemplars.size(), 1u);
  EXPECT_EQ((*ex)[0].exemplars[0], (Exemplar{Labels{{"trace_id", "t2"}}, kNowMs - 1000, 2}));
  ex = store_->Exemplars(kTenant, {Eq("job", "api")}, kNowMs - kHourMs, kNowMs);
  EXPECT_EQ((*ex)[0].exemplars.size(), 2u);
}

TEST_F(MetricStoreTest, ConcurrentAppendsCreateOneIdPerSeries) {
  constexpr int kThreads = 4, kSeries = 200;
  std::atomic<int64_t> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSeries; ++i) {
        Labels l{{"__name__", "c"}, {"i", std::to_string(i)}};
        auto r = store_->Append(kTenant, B({S(l, {{kNowMs - t * 1000, double(t)}})}),
                                RejectPolicy::kRejectBatch);
        ASSERT_TRUE(r.ok()) << r.status();
        created += r->series_created;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), kSeries);
  EXPECT_EQ(CountKeys(ColumnFamily::kSeries), kSeries);
  EXPECT_EQ(CountKeys(ColumnFamily::kSeriesById), kSeries);
  auto got = Select({Eq("__name__", "c")});
  ASSERT_EQ(got.size(), size_t{kSeries});
  for (const auto& s : got) EXPECT_EQ(s.samples.size(), size_t{kThreads}) << s.labels.ToString();
  EXPECT_NE(metrics_.RenderText().find("otelbox_series 200"), std::string::npos)
      << metrics_.RenderText();
}

}  // namespace
}  // namespace otelbox::storage

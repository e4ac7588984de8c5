// Native histograms through MetricStore: head, head log replay, flushed chunks, merges
// with floats, retention, validation and staleness.

#include <gtest/gtest.h>

#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/keys.h"
#include "storage/metrics/metric_store.h"
#include "test_util.h"

namespace otelbox::storage {
namespace {

using testing::Eq;
using testing::kNowMs;
using testing::TempDir;

constexpr int64_t kRetentionMs = 15LL * 24 * 3600 * 1000;
constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr std::string_view kTenant = "fake";
const Labels kLatency{{"__name__", "latency"}, {"job", "api"}};

FloatHistogram Exponential(double n) {
  FloatHistogram h;
  h.schema = 1;
  h.zero_threshold = 0.001;
  h.zero_count = n;
  h.positive_spans = {{0, 2}, {1, 1}};
  h.positive_buckets = {n, 2 * n, 3 * n};
  h.negative_spans = {{-1, 1}};
  h.negative_buckets = {n};
  h.count = 8 * n;
  h.sum = 12.5 * n;
  return h;
}

FloatHistogram Custom(double n) {
  FloatHistogram h;
  h.schema = kCustomBucketsSchema;
  h.custom_values = {0.25, 1, 4};
  h.positive_spans = {{0, 4}};
  h.positive_buckets = {n, 0, 2 * n, 0.5};
  h.count = 3 * n + 0.5;
  h.sum = 10 * n;
  return h;
}

HistogramSample H(int64_t t_ms, FloatHistogram h) { return HistogramSample{t_ms, std::move(h)}; }

MetricBatch Batch(const Labels& labels, std::vector<Sample> floats,
                  std::vector<HistogramSample> histograms) {
  MetricBatch b;
  SeriesSamples& s = b.series.emplace_back();
  s.labels = labels;
  s.samples = std::move(floats);
  s.histograms = std::move(histograms);
  return b;
}

class MetricStoreHistogramTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    DatabaseOptions dbo;
    dbo.now_ms = [] { return kNowMs; };
    dbo.metric_retention_ms = kRetentionMs;
    auto db = Database::Open(dir_.path(), dbo);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    MetricStoreOptions o;
    o.retention_ms = kRetentionMs;
    o.now_ms = [] { return kNowMs; };
    auto store = MetricStore::Open(db_.get(), o, nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // A restart that sees only what a kill -9 leaves: a second store on the same database
  // rebuilds its head from the head log alone (the first one, whose destructor would flush
  // its head, stays alive until the end, as RocksDB allows one opener per directory).
  void CrashAndReopen() {
    crashed_ = std::move(store_);
    MetricStoreOptions o;
    o.retention_ms = kRetentionMs;
    o.now_ms = [] { return kNowMs; };
    auto store = MetricStore::Open(db_.get(), o, nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Reopen() {
    store_.reset();
    crashed_.reset();
    db_.reset();
    Open();
  }

  AppendStats Write(const MetricBatch& batch) {
    auto r = store_->Append(kTenant, batch, RejectPolicy::kRejectBatch);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : AppendStats{};
  }

  SeriesData SelectOne(int64_t start = kNowMs - 10 * kDay, int64_t end = kNowMs + kDay) {
    auto r = store_->Select(kTenant, {Eq("__name__", "latency"), Eq("job", "api")}, start, end);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->size() != 1) {
      ADD_FAILURE() << "expected one series, got " << (r.ok() ? r->size() : 0);
      return {};
    }
    return (*r)[0];
  }

  // The same answer from the head, after a flush into chunks, and after compaction.
  void ExpectEverywhere(const std::vector<Sample>& floats,
                        const std::vector<HistogramSample>& histograms) {
    for (int stage = 0; stage < 3; ++stage) {
      if (stage == 1) ASSERT_TRUE(store_->FlushHead().ok());
      if (stage == 2) ASSERT_TRUE(db_->CompactAll().ok());
      SeriesData got = SelectOne();
      EXPECT_EQ(got.samples, floats) << "stage " << stage;
      EXPECT_EQ(got.histograms, histograms) << "stage " << stage;
    }
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<MetricStore> crashed_;
  std::unique_ptr<MetricStore> store_;
};

TEST_F(MetricStoreHistogramTest, RoundTripHeadFlushCompaction) {
  const int64_t t0 = kNowMs - kDay;
  FloatHistogram reset = Exponential(1);
  reset.counter_reset_hint = CounterResetHint::kCounterReset;
  FloatHistogram gauge = Custom(2);
  gauge.counter_reset_hint = CounterResetHint::kGaugeType;
  std::vector<HistogramSample> want{H(t0, Exponential(1)), H(t0 + 15000, Exponential(2)),
                                    H(t0 + 30000, reset),  H(t0 + 45000, Custom(1)),
                                    H(t0 + 60000, gauge),  H(t0 + 75000, Custom(3))};
  AppendStats st = Write(Batch(kLatency, {}, want));
  EXPECT_EQ(st.samples_written, 6);
  EXPECT_EQ(st.series_created, 1);
  ExpectEverywhere({}, want);
  // Range bounds are inclusive.
  SeriesData got = SelectOne(t0 + 15000, t0 + 30000);
  ASSERT_EQ(got.histograms.size(), 2u);
  EXPECT_EQ(got.histograms[1], want[2]);
}

TEST_F(MetricStoreHistogramTest, MixingKindsAtDifferentTimestamps) {
  const int64_t w = ChunkWindowStart(kNowMs - kDay);
  // Floats and histograms interleaved in one window and across a window boundary.
  Write(Batch(kLatency, {{w + 1000, 1}, {w + 3000, 3}, {w + kChunkWindowMs + 1000, 5}},
              {H(w + 2000, Exponential(2)), H(w + kChunkWindowMs - 1, Custom(4))}));
  ExpectEverywhere({{w + 1000, 1}, {w + 3000, 3}, {w + kChunkWindowMs + 1000, 5}},
                   {H(w + 2000, Exponential(2)), H(w + kChunkWindowMs - 1, Custom(4))});
}

TEST_F(MetricStoreHistogramTest, LaterWriteReplacesWhateverTheKind) {
  const int64_t t = kNowMs - kDay;
  Write(Batch(kLatency, {{t, 1}, {t + 1000, 2}}, {H(t + 2000, Exponential(1))}));
  ASSERT_TRUE(store_->FlushHead().ok());  // older data in chunks
  // The head overrides flushed samples of the other kind, in both directions.
  Write(Batch(kLatency, {{t + 2000, 20}}, {H(t, Exponential(5))}));
  SeriesData got = SelectOne();
  EXPECT_EQ(got.samples, (std::vector<Sample>{{t + 1000, 2}, {t + 2000, 20}}));
  EXPECT_EQ(got.histograms, (std::vector<HistogramSample>{H(t, Exponential(5))}));
  // Rewritten again in the head: the newest of the head writes wins.
  Write(Batch(kLatency, {{t, 7}}, {}));
  ExpectEverywhere({{t, 7}, {t + 1000, 2}, {t + 2000, 20}}, {});
  // Same Append, same timestamp: the histogram counts as written after the float.
  Write(Batch(kLatency, {{t + 5000, 1}}, {H(t + 5000, Custom(1))}));
  ExpectEverywhere({{t, 7}, {t + 1000, 2}, {t + 2000, 20}}, {H(t + 5000, Custom(1))});
}

TEST_F(MetricStoreHistogramTest, HeadLogReplayAfterCrash) {
  const int64_t t = kNowMs - 2 * kDay;
  Write(Batch(kLatency, {{t, 1}}, {H(t + 1000, Exponential(1)), H(t + 2000, Custom(1))}));
  ASSERT_TRUE(store_->FlushHead().ok());
  Write(Batch(kLatency, {{t + 3000, 3}}, {H(t + 4000, Exponential(2)), H(t + 1000, Custom(9))}));
  // A second series in the same record, histograms only.
  const Labels other{{"__name__", "latency"}, {"job", "db"}};
  Write(Batch(other, {}, {H(t, Exponential(7))}));
  CrashAndReopen();
  const std::vector<Sample> floats{{t, 1}, {t + 3000, 3}};
  const std::vector<HistogramSample> hists{H(t + 1000, Custom(9)), H(t + 2000, Custom(1)),
                                           H(t + 4000, Exponential(2))};
  auto r = store_->Select(kTenant, {Eq("job", "db")}, kNowMs - 10 * kDay, kNowMs);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].histograms, (std::vector<HistogramSample>{H(t, Exponential(7))}));
  ExpectEverywhere(floats, hists);
  Reopen();  // clean shutdown: everything in chunks
  ExpectEverywhere(floats, hists);
}

TEST_F(MetricStoreHistogramTest, StaleMarkers) {
  const int64_t t = kNowMs - kDay;
  // A float StaleNaN ends a histogram series; a histogram whose sum is StaleNaN (how
  // Prometheus writes a histogram series' staleness marker) is stored as one.
  FloatHistogram stale = Exponential(1);
  stale.sum = StaleNaN();
  Write(Batch(kLatency, {{t + 2000, StaleNaN()}},
              {H(t, Exponential(1)), H(t + 1000, Exponential(2)), H(t + 4000, Exponential(3)),
               H(t + 5000, stale)}));
  for (int stage = 0; stage < 2; ++stage) {
    if (stage == 1) ASSERT_TRUE(store_->FlushHead().ok());
    SeriesData got = SelectOne();
    ASSERT_EQ(got.samples.size(), 2u);
    EXPECT_EQ(got.samples[0].t_ms, t + 2000);
    EXPECT_TRUE(IsStaleNaN(got.samples[0].value));
    EXPECT_EQ(got.samples[1].t_ms, t + 5000);
    EXPECT_TRUE(IsStaleNaN(got.samples[1].value));
    EXPECT_EQ(got.histograms.size(), 3u);
  }
}

TEST_F(MetricStoreHistogramTest, RetentionAndValidation) {
  const int64_t too_old = kNowMs - kRetentionMs - 1;
  auto r = store_->Append(kTenant, Batch(kLatency, {}, {H(kNowMs, Exponential(1)), H(too_old, Custom(1))}),
                          RejectPolicy::kRejectBatch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("out of bounds"), std::string::npos) << r.status();

  FloatHistogram bad = Exponential(1);
  bad.positive_buckets.pop_back();  // spans say 3 buckets
  r = store_->Append(kTenant, Batch(kLatency, {}, {H(kNowMs, bad)}), RejectPolicy::kRejectBatch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("invalid histogram"), std::string::npos) << r.status();
  EXPECT_TRUE(store_->Select(kTenant, {Eq("__name__", "latency")}, kMinTimeMs, kMaxTimeMs)->empty());

  // Drop policy: the rest is written, the bad ones counted.
  r = store_->Append(kTenant,
                     Batch(kLatency, {{kNowMs, 1}}, {H(kNowMs - 1000, Exponential(1)), H(too_old, Custom(1)),
                                                     H(kNowMs - 2000, bad)}),
                     RejectPolicy::kDropSample);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->samples_written, 2);
  EXPECT_EQ(r->samples_rejected, 2);
  SeriesData got = SelectOne(kMinTimeMs, kMaxTimeMs);
  EXPECT_EQ(got.histograms, (std::vector<HistogramSample>{H(kNowMs - 1000, Exponential(1))}));
  // Reads clamp to retention.
  EXPECT_TRUE(store_->Select(kTenant, {Eq("__name__", "latency")}, kMinTimeMs, too_old)->empty());
}

TEST_F(MetricStoreHistogramTest, HeadCountsHistogramsByMemoryAndFlushesToZero) {
  MetricHead head(db_.get());
  ASSERT_TRUE(head.Recover().ok());
  const std::vector<Sample> floats{{kNowMs, 1}};
  const std::vector<HistogramSample> hists{H(kNowMs + 1, Exponential(1)), H(kNowMs + 2, Custom(1))};
  rocksdb::WriteBatch wb;
  auto lock = head.LockForAppend();
  head.AddRecord(kTenant, {{7, &floats, &hists}}, &wb);
  ASSERT_TRUE(db_->db()->Write(rocksdb::WriteOptions(), &wb).ok());
  head.Apply(kTenant, {{7, &floats, &hists}});
  lock.unlock();
  // A histogram weighs at least its struct's size in 16-byte samples.
  EXPECT_GE(head.buffered_samples(), 1 + 2 * static_cast<int64_t>(sizeof(HistogramSample) / 16));
  SampleWrites got;
  head.Collect(7, kMinTimeMs, kMaxTimeMs, &got);
  EXPECT_EQ(got.floats(), floats);
  EXPECT_EQ(got.histograms(), hists);
  ASSERT_TRUE(head.Flush(false).ok());
  EXPECT_EQ(head.buffered_samples(), 0);
}

TEST_F(MetricStoreHistogramTest, SampleCountCountsHistograms) {
  MetricBatch b = Batch(kLatency, {{1, 1}}, {H(2, Exponential(1)), H(3, Exponential(1))});
  EXPECT_EQ(b.SampleCount(), 3u);
}

}  // namespace
}  // namespace otelbox::storage

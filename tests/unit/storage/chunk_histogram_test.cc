#include "storage/metrics/chunk_histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "storage/metrics/chunk_mixed.h"
#include "storage/metrics/chunk_xor.h"
#include "storage/metrics/sample_writes.h"
#include "storage/model/sample.h"

namespace otelbox::storage {
namespace {

// An exponential histogram with positive, negative and zero buckets.
FloatHistogram Exponential(double scale) {
  FloatHistogram h;
  h.schema = 3;
  h.zero_threshold = 1e-128;
  h.zero_count = 2 * scale;
  h.positive_spans = {{-2, 2}, {3, 3}};
  h.positive_buckets = {1 * scale, 2 * scale, 0, 5 * scale, 1 * scale};
  h.negative_spans = {{0, 1}};
  h.negative_buckets = {3 * scale};
  h.count = h.zero_count + 12 * scale;
  h.sum = 17.25 * scale;
  return h;
}

FloatHistogram Custom() {
  FloatHistogram h;
  h.schema = kCustomBucketsSchema;
  h.custom_values = {0.1, 0.5, 1, 5};
  h.positive_spans = {{0, 2}, {2, 1}};
  h.positive_buckets = {3, 0.5, 7};
  h.count = 10.5;
  h.sum = 33.3;
  h.counter_reset_hint = CounterResetHint::kNotCounterReset;
  return h;
}

std::vector<HistogramSample> Decode(const std::string& chunk) {
  std::vector<HistogramSample> out;
  EXPECT_TRUE(DecodeHistogramChunk(chunk, &out).ok());
  return out;
}

TEST(ChunkHistogramTest, RoundTripsEveryField) {
  std::vector<HistogramSample> in;
  int64_t t = -5000;  // negative times too
  for (int i = 0; i < 40; ++i) {
    HistogramSample s;
    t += 15000 + (i % 3) * 7;
    s.t_ms = t;
    s.h = i % 10 == 7 ? Custom() : Exponential(i + 1);
    if (i == 5) s.h.counter_reset_hint = CounterResetHint::kCounterReset;
    if (i == 6) s.h.counter_reset_hint = CounterResetHint::kGaugeType;
    if (i == 9) s.h.sum = std::nan("");
    if (i == 11) s.h.positive_buckets[1] = 0.1;  // a float count: raw bits
    if (i == 12) s.h.schema = -4;                // layout change
    if (i == 13) s.h.zero_count = -0.0;          // -0 keeps its sign bit
    in.push_back(s);
  }
  std::string chunk = EncodeHistogramChunk(in);
  EXPECT_EQ(static_cast<uint8_t>(chunk[0]), static_cast<uint8_t>(ChunkEncoding::kHistogram));
  auto out = Decode(chunk);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].t_ms, in[i].t_ms) << i;
    if (i == 9) {
      EXPECT_TRUE(std::isnan(out[i].h.sum));
      out[i].h.sum = in[i].h.sum = 0;
    }
    EXPECT_EQ(out[i], in[i]) << i;
  }
  EXPECT_TRUE(std::signbit(out[13].h.zero_count));
  // Steady counters with an unchanged layout cost about a byte per bucket plus the sum
  // (raw here: 17.25 * n is not an integer) and a few bytes of header.
  std::vector<HistogramSample> steady;
  for (int i = 0; i < 120; ++i) steady.push_back({i * 15000LL, Exponential(100 + i)});
  const std::string steady_chunk = EncodeHistogramChunk(steady);
  EXPECT_LT(steady_chunk.size(), 120u * 20) << steady_chunk.size();
  EXPECT_EQ(Decode(steady_chunk), steady);
}

TEST(ChunkHistogramTest, StaleNaNSumSurvivesBitExactly) {
  HistogramSample s{1000, Exponential(1)};
  s.h.sum = StaleNaN();
  auto out = Decode(EncodeHistogramChunk(std::vector<HistogramSample>{s}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(IsStaleNaN(out[0].h.sum));
}

TEST(ChunkHistogramTest, CorruptInputIsDataLossNeverACrash) {
  std::vector<HistogramSample> in{{1000, Exponential(1)}, {2000, Exponential(2)}, {3000, Custom()}};
  const std::string chunk = EncodeHistogramChunk(in);
  for (size_t cut = 0; cut < chunk.size(); ++cut) {
    std::vector<HistogramSample> out;
    EXPECT_FALSE(DecodeHistogramChunk(std::string_view(chunk).substr(0, cut), &out).ok()) << cut;
    EXPECT_LT(out.size(), in.size());
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string garbage = chunk;
    garbage[1 + rng() % (garbage.size() - 1)] = static_cast<char>(rng());
    std::vector<HistogramSample> out;
    (void)DecodeHistogramChunk(garbage, &out);  // must not crash or allocate wildly
    ResolvedSamples any;
    (void)DecodeAnyChunk(garbage, &any);
  }
}

TEST(ChunkHistogramTest, HistogramErrorRejectsMalformed) {
  EXPECT_EQ(HistogramError(Exponential(1)), "");
  EXPECT_EQ(HistogramError(Custom()), "");
  FloatHistogram h = Exponential(1);
  h.positive_buckets.pop_back();
  EXPECT_NE(HistogramError(h), "");
  h = Exponential(1);
  h.schema = 9;
  EXPECT_NE(HistogramError(h), "");
  h = Exponential(1);
  h.positive_spans[1].offset = -1;
  EXPECT_NE(HistogramError(h), "");
  h = Exponential(1);
  h.custom_values = {1};
  EXPECT_NE(HistogramError(h), "");
  h = Exponential(1);
  h.negative_buckets[0] = -1;
  EXPECT_NE(HistogramError(h), "");
  h = Custom();
  h.custom_values = {1, 0.5, 2, 3};
  EXPECT_NE(HistogramError(h), "");
  h = Custom();
  h.negative_spans = {{0, 1}};
  h.negative_buckets = {1};
  EXPECT_NE(HistogramError(h), "");
  h = Custom();
  h.positive_spans = {{0, 2}, {4, 1}};  // index 6 > 4 bounds + the +Inf bucket
  EXPECT_NE(HistogramError(h), "");
}

TEST(SampleWritesTest, NewestWriteWinsAcrossKinds) {
  SampleWrites w;
  w.AddFloat({10, 1});
  w.AddHistogram({10, Exponential(1)});  // replaces the float at 10
  w.AddHistogram({20, Exponential(2)});
  w.AddFloat({20, 2});                   // replaces the histogram at 20
  w.AddFloat({5, 0.5});
  w.AddHistogram({30, Exponential(3)});
  w.AddHistogram({30, Exponential(4)});  // same kind: later wins
  ResolvedSamples r = w.Resolve();
  EXPECT_EQ(r.floats, (std::vector<Sample>{{5, 0.5}, {20, 2}}));
  ASSERT_EQ(r.histograms.size(), 2u);
  EXPECT_EQ(r.histograms[0], (HistogramSample{10, Exponential(1)}));
  EXPECT_EQ(r.histograms[1], (HistogramSample{30, Exponential(4)}));

  // AppendInRange keeps the order and filters by time.
  SampleWrites older;
  older.AddHistogram({20, Exponential(9)});
  older.AppendInRange(w, 10, 25);  // brings (10 f), (10 h), (20 h), (20 f)
  r = older.Resolve();
  EXPECT_EQ(r.floats, (std::vector<Sample>{{20, 2}}));
  ASSERT_EQ(r.histograms.size(), 1u);
  EXPECT_EQ(r.histograms[0].t_ms, 10);
}

TEST(ChunkMixedTest, MergeAcrossKindsLaterChunkWins) {
  ResolvedSamples a;
  a.floats = {{10, 1}, {30, 3}};
  a.histograms = {{20, Exponential(2)}};
  ResolvedSamples b;
  b.histograms = {{10, Exponential(1)}, {40, Custom()}};
  ResolvedSamples c;
  c.floats = {{20, 22}};
  const std::string ca = EncodeAnyChunk(a), cb = EncodeAnyChunk(b), cc = EncodeAnyChunk(c);
  EXPECT_EQ(static_cast<uint8_t>(ca[0]), static_cast<uint8_t>(ChunkEncoding::kMixed));
  EXPECT_EQ(static_cast<uint8_t>(cb[0]), static_cast<uint8_t>(ChunkEncoding::kHistogram));
  EXPECT_TRUE(IsFloatChunk(cc));
  std::vector<std::string_view> chunks{ca, cb, cc};
  int corrupt = 0;
  const std::string merged = MergeAnyChunks(chunks, &corrupt);
  EXPECT_EQ(corrupt, 0);
  ResolvedSamples got;
  ASSERT_TRUE(DecodeAnyChunk(merged, &got).ok());
  EXPECT_EQ(got.floats, (std::vector<Sample>{{20, 22}, {30, 3}}));
  ASSERT_EQ(got.histograms.size(), 2u);
  EXPECT_EQ(got.histograms[0], (HistogramSample{10, Exponential(1)}));
  EXPECT_EQ(got.histograms[1], (HistogramSample{40, Custom()}));
  // Re-merging is idempotent; float-only input gives exactly MergeChunks' bytes.
  std::vector<std::string_view> again{merged, merged};
  EXPECT_EQ(MergeAnyChunks(again, nullptr), merged);
  const std::string f1 = EncodeChunk(std::vector<Sample>{{1, 1}, {2, 2}});
  const std::string f2 = EncodeChunk(std::vector<Sample>{{2, 3}});
  std::vector<std::string_view> floats{f1, f2};
  EXPECT_EQ(MergeAnyChunks(floats, nullptr), MergeChunks(floats, nullptr));
}

}  // namespace
}  // namespace otelbox::storage

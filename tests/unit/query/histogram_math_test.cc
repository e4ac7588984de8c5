#include "query/promql/histogram_math.h"

#include <gtest/gtest.h>

#include <cmath>

namespace otelbox::query::promql {
namespace {

using storage::BucketSpan;
using storage::CounterResetHint;

FloatHistogram Exp(int32_t schema, double count, double sum, std::vector<BucketSpan> spans,
                   std::vector<double> buckets) {
  FloatHistogram h;
  h.schema = schema;
  h.count = count;
  h.sum = sum;
  h.positive_spans = std::move(spans);
  h.positive_buckets = std::move(buckets);
  return h;
}

FloatHistogram Custom(std::vector<double> bounds, std::vector<double> buckets) {
  FloatHistogram h;
  h.schema = storage::kCustomBucketsSchema;
  h.custom_values = std::move(bounds);
  h.positive_spans = {{0, static_cast<uint32_t>(buckets.size())}};
  for (double b : buckets) h.count += b;
  h.positive_buckets = std::move(buckets);
  return h;
}

TEST(HistogramMathTest, BucketBounds) {
  EXPECT_EQ(ExponentialBucketBound(0, 0), 1);
  EXPECT_EQ(ExponentialBucketBound(1, 0), 2);
  EXPECT_EQ(ExponentialBucketBound(-1, 0), 0.5);
  EXPECT_DOUBLE_EQ(ExponentialBucketBound(1, 1), std::sqrt(2.0));
  EXPECT_EQ(ExponentialBucketBound(1, -1), 4);
}

TEST(HistogramMathTest, AddReducesToTheSmallerSchema) {
  // Schema 1 buckets 1 and 2 are (1, sqrt2] and (sqrt2, 2]: both fall into schema 0's (1,2].
  FloatHistogram a = Exp(1, 3, 6, {{1, 2}}, {1, 2});
  FloatHistogram b = Exp(0, 4, 4, {{0, 2}}, {1, 3});
  HistogramOpNotes notes;
  ASSERT_TRUE(HistogramAdd(&a, b, false, &notes));
  EXPECT_EQ(a.schema, 0);
  EXPECT_EQ(a.count, 7);
  EXPECT_EQ(a.sum, 10);
  EXPECT_EQ(a.positive_spans, (std::vector<BucketSpan>{{0, 2}}));
  EXPECT_EQ(a.positive_buckets, (std::vector<double>{1, 6}));
  EXPECT_FALSE(notes.counter_reset_collision);
}

TEST(HistogramMathTest, SubtractDropsEmptyBucketsAndWidensZeroBucket) {
  FloatHistogram a = Exp(0, 5, 5, {{0, 3}}, {1, 2, 2});
  FloatHistogram b = Exp(0, 3, 3, {{0, 2}}, {1, 2});
  b.zero_threshold = 1;  // covers bucket 0 (0.5, 1]
  HistogramOpNotes notes;
  ASSERT_TRUE(HistogramAdd(&a, b, true, &notes));
  EXPECT_EQ(a.zero_threshold, 1);
  EXPECT_EQ(a.zero_count, 1);  // a's bucket 0 moved into the zero bucket
  EXPECT_EQ(a.positive_spans, (std::vector<BucketSpan>{{2, 1}}));
  EXPECT_EQ(a.positive_buckets, (std::vector<double>{2}));
}

TEST(HistogramMathTest, CustomBucketsReconcileAndRefuseExponential) {
  FloatHistogram a = Custom({1, 2, 5}, {1, 1, 1, 1});
  FloatHistogram b = Custom({2, 5}, {2, 0, 1});
  HistogramOpNotes notes;
  ASSERT_TRUE(HistogramAdd(&a, b, false, &notes));
  EXPECT_TRUE(notes.custom_bounds_reconciled);
  EXPECT_EQ(a.custom_values, (std::vector<double>{2, 5}));
  EXPECT_EQ(a.positive_buckets, (std::vector<double>{4, 1, 2}));
  FloatHistogram e = Exp(0, 1, 1, {{0, 1}}, {1});
  EXPECT_FALSE(HistogramAdd(&a, e, false, &notes));
}

TEST(HistogramMathTest, BadInputStaysDefined) {
  FloatHistogram a = Exp(0, 1, 1, {{0, 1}}, {1});
  FloatHistogram b = a;
  b.zero_threshold = std::nan("");  // must not loop forever
  HistogramOpNotes notes;
  EXPECT_TRUE(HistogramAdd(&a, b, false, &notes));
  FloatHistogram odd = Exp(40, 1, 1, {{3, 1}}, {1});  // no such schema
  EXPECT_TRUE(HistogramAdd(&odd, a, false, &notes));
  EXPECT_TRUE(std::isfinite(ExponentialBucketBound(3, 40)));
}

TEST(HistogramMathTest, CounterResetHints) {
  FloatHistogram a = Exp(0, 1, 1, {{0, 1}}, {1});
  a.counter_reset_hint = CounterResetHint::kCounterReset;
  FloatHistogram b = a;
  b.counter_reset_hint = CounterResetHint::kNotCounterReset;
  HistogramOpNotes notes;
  ASSERT_TRUE(HistogramAdd(&a, b, false, &notes));
  EXPECT_TRUE(notes.counter_reset_collision);
  EXPECT_EQ(a.counter_reset_hint, CounterResetHint::kUnknown);
}

TEST(HistogramMathTest, DetectReset) {
  FloatHistogram prev = Exp(0, 3, 3, {{0, 2}}, {1, 2});
  FloatHistogram grown = Exp(0, 4, 4, {{0, 2}}, {2, 2});
  FloatHistogram moved = Exp(0, 4, 4, {{1, 2}}, {2, 2});  // bucket 0 emptied
  EXPECT_FALSE(HistogramDetectReset(grown, prev));
  EXPECT_TRUE(HistogramDetectReset(moved, prev));
  EXPECT_TRUE(HistogramDetectReset(prev, grown));  // count went down
  FloatHistogram finer = grown;
  finer.schema = 1;
  EXPECT_TRUE(HistogramDetectReset(finer, prev));
  grown.counter_reset_hint = CounterResetHint::kCounterReset;
  EXPECT_TRUE(HistogramDetectReset(grown, prev));
}

TEST(HistogramMathTest, TrimUpperInterpolatesInsideTheBucket) {
  FloatHistogram h = Custom({10, 20}, {4, 6, 0});
  HistogramTrimBuckets(&h, 15, /*upper=*/true);
  EXPECT_EQ(h.count, 4 + 3);
  // (-Inf,10] keeps 4 at midpoint 5 (lower taken as 0), (10,15] keeps 3 at 12.5.
  EXPECT_DOUBLE_EQ(h.sum, 4 * 5 + 3 * 12.5);
  EXPECT_EQ(h.positive_buckets, (std::vector<double>{4, 3}));
}

TEST(HistogramMathTest, KahanSumKeepsSmallTerms) {
  FloatHistogram a = Exp(0, 1, 1, {}, {});
  FloatHistogram big = Exp(0, 1, 1e100, {}, {});
  FloatHistogram minus = Exp(0, 1, -1e100, {}, {});
  HistogramKahanSum sum(a);
  HistogramOpNotes notes;
  ASSERT_TRUE(sum.Add(big, &notes));
  ASSERT_TRUE(sum.Add(a, &notes));
  ASSERT_TRUE(sum.Add(minus, &notes));
  FloatHistogram r = sum.Result();
  EXPECT_EQ(r.count, 4);
  EXPECT_EQ(r.sum, 2);  // plain addition would give 0
}

TEST(HistogramMathTest, StringAsPrometheusPrintsIt) {
  FloatHistogram h = Exp(0, 20, 10, {{0, 2}}, {1, 2});
  h.zero_threshold = 0.001;
  h.zero_count = 2;
  h.negative_spans = {{0, 2}};
  h.negative_buckets = {1, 2};
  EXPECT_EQ(HistogramString(h),
            "{count:20, sum:10, [-2,-1):2, [-1,-0.5):1, [-0.001,0.001]:2, (0.5,1]:1, (1,2]:2}");
}

}  // namespace
}  // namespace otelbox::query::promql

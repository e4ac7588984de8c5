#include "storage/metrics/chunk_decimal.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "storage/metrics/chunk_xor.h"

namespace otelbox::storage {
namespace {

std::vector<Sample> Regular(std::vector<double> values) {
  std::vector<Sample> out;
  for (size_t i = 0; i < values.size(); ++i) out.push_back({1'700'000'000'000 + int64_t(i) * 15'000, values[i]});
  return out;
}

void ExpectBitExact(const std::vector<Sample>& want, const std::vector<Sample>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].t_ms, got[i].t_ms) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(want[i].value), std::bit_cast<uint64_t>(got[i].value))
        << i << ": " << want[i].value << " vs " << got[i].value;
  }
}

TEST(ChunkDecimalTest, RoundTripsDecimalsBitExactly) {
  std::mt19937_64 rng(7);
  std::vector<double> values;
  // As node_exporter computes CPU seconds: clock ticks / 100, so each value is the double
  // nearest to a two-decimal number.
  int64_t ticks = 1234567;
  for (int i = 0; i < 500; ++i) {
    ticks += static_cast<int64_t>(rng() % 1500);
    values.push_back(static_cast<double>(ticks) / 100);
  }
  values.push_back(0.1);
  values.push_back(-3.25);
  values.push_back(0);
  values.push_back(9007199254740991.0);  // 2^53 - 1 at scale 0 is fine on its own
  auto samples = Regular(values);
  samples.pop_back();  // ... but not mixed with two-decimal values (too many digits)
  std::string body;
  ASSERT_TRUE(EncodeDecimalChunk(samples, &body));
  std::vector<Sample> got;
  ASSERT_TRUE(DecodeDecimalChunk(body, &got).ok());
  ExpectBitExact(samples, got);
}

// On a regular interval the range decode jumps over the samples before the range
// (summing mantissa deltas only): it must give exactly the filtered full decode at every
// cut, for constant, narrow and wide (54-bit) mantissa delta columns.
TEST(ChunkDecimalTest, RangeDecodeOnRegularIntervalsMatchesFilteredFullDecode) {
  std::mt19937_64 rng(11);
  std::vector<std::vector<double>> columns(5);
  for (int i = 0; i < 480; ++i) {
    columns[0].push_back(42);                                        // constant
    columns[1].push_back(i * 7.0);                                   // steady counter
    columns[2].push_back(static_cast<double>(i * 100 + rng() % 60)); // noisy counter
    columns[3].push_back(static_cast<double>(rng() % 100000) / 1000); // gauge, 3 decimals
    // Mantissas from -2^52 to 2^52: deltas need 54 bits.
    columns[4].push_back(static_cast<double>(static_cast<int64_t>(rng() >> 11) - (int64_t{1} << 52)));
  }
  columns.push_back({5});       // one sample
  columns.push_back({5, 6.5});  // two samples
  for (const auto& values : columns) {
    const std::vector<Sample> samples = Regular(values);
    std::string body;
    ASSERT_TRUE(EncodeDecimalChunk(samples, &body));
    const int64_t first = samples.front().t_ms, last = samples.back().t_ms;
    std::vector<std::pair<int64_t, int64_t>> ranges = {
        {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()},
        {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max()},
        {last + 1, last + 2}, {last - 300'000, last}, {last - 300'000, last - 1},
        {first + 1, std::numeric_limits<int64_t>::max()}, {first + 600'000, first + 400'000}};
    for (int64_t cut = first - 15'000; cut <= last + 15'000; cut += 7'500) {
      ranges.push_back({cut, last});
      ranges.push_back({cut + 1, cut + 1});
      ranges.push_back({cut - 1, cut + 60'000});
    }
    for (auto [from, to] : ranges) {
      std::vector<Sample> want;
      for (const Sample& s : samples) {
        if (s.t_ms >= from && s.t_ms <= to) want.push_back(s);
      }
      std::vector<Sample> got;
      ASSERT_TRUE(DecodeDecimalChunkRange(body, from, to, &got).ok());
      ExpectBitExact(want, got);
    }
  }
}

TEST(ChunkDecimalTest, IrregularTimesAndNegativeTimestamps) {
  std::vector<Sample> s = {{-5000, 1}, {-10, 2}, {0, 3}, {7, 4}, {1'000'000'000'000, 5}};
  std::string body;
  ASSERT_TRUE(EncodeDecimalChunk(s, &body));
  std::vector<Sample> got;
  ASSERT_TRUE(DecodeDecimalChunk(body, &got).ok());
  ExpectBitExact(s, got);
}

TEST(ChunkDecimalTest, NotApplicableFallsBackToXor) {
  const double kNotDecimal[] = {std::numeric_limits<double>::quiet_NaN(), StaleNaN(),
                                std::numeric_limits<double>::infinity(), -0.0, 1.0 / 3, 1e300};
  for (double bad : kNotDecimal) {
    auto samples = Regular({1, 2, bad, 4});
    std::string body;
    EXPECT_FALSE(EncodeDecimalChunk(samples, &body)) << bad;
    // EncodeChunk still stores it, as XOR, bit-exactly.
    std::string chunk = EncodeChunk(samples);
    EXPECT_EQ(chunk[0], static_cast<char>(ChunkEncoding::kXor));
    std::vector<Sample> got;
    ASSERT_TRUE(DecodeChunk(chunk, &got).ok());
    ExpectBitExact(samples, got);
  }
}

TEST(ChunkDecimalTest, EncodeChunkPicksTheSmallerEncoding) {
  std::vector<double> constant(480, 1), counter;
  std::mt19937_64 rng(3);
  double c = 1e9;
  for (int i = 0; i < 480; ++i) counter.push_back(c += static_cast<double>(rng() % 200));
  // A constant at a regular interval: both columns are zero bits wide.
  std::string constant_chunk = EncodeChunk(Regular(constant));
  EXPECT_EQ(constant_chunk[0], static_cast<char>(ChunkEncoding::kDecimal));
  EXPECT_LT(constant_chunk.size(), 24u);
  std::vector<double> noise;
  for (int i = 0; i < 480; ++i) noise.push_back(std::bit_cast<double>(rng() >> 2));
  EXPECT_EQ(EncodeChunk(Regular(noise))[0], static_cast<char>(ChunkEncoding::kXor));
  std::string chunk = EncodeChunk(Regular(counter));
  EXPECT_EQ(chunk[0], static_cast<char>(ChunkEncoding::kDecimal));
  std::printf("integer counter, 480 samples: %.3f bytes/sample\n", double(chunk.size()) / 480);
  EXPECT_LT(chunk.size(), 480u * 1.1);  // 8-bit offsets, nothing for the regular interval
  std::vector<Sample> got;
  for (ChunkIterator it(chunk); it.Valid(); it.Next()) got.push_back(it.current());
  ExpectBitExact(Regular(counter), got);
}

TEST(ChunkDecimalTest, CorruptInputIsDataLossNotACrash) {
  std::string body;
  ASSERT_TRUE(EncodeDecimalChunk(Regular({1, 2, 3, 4, 5}), &body));
  std::mt19937_64 rng(11);
  for (size_t cut = 0; cut + 1 < body.size(); ++cut) {
    std::vector<Sample> got;
    EXPECT_FALSE(DecodeDecimalChunk(body.substr(0, cut), &got).ok()) << cut;
  }
  for (int i = 0; i < 2000; ++i) {
    std::string garbage = body;
    garbage[rng() % garbage.size()] = static_cast<char>(rng());
    std::vector<Sample> got;
    (void)DecodeDecimalChunk(garbage, &got);  // any status; must not crash or hang
    std::string chunk = std::string(1, static_cast<char>(ChunkEncoding::kDecimal)) + garbage;
    for (ChunkIterator it(chunk); it.Valid(); it.Next()) {
    }
  }
}

}  // namespace
}  // namespace otelbox::storage

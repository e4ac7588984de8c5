#include "storage/metrics/chunk_xor.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace otelbox::storage {
namespace {

std::vector<Sample> Decode(std::string_view chunk) {
  std::vector<Sample> out;
  EXPECT_TRUE(DecodeChunk(chunk, &out).ok());
  return out;
}

// Bitwise comparison: NaN != NaN for operator==, and StaleNaN must keep its payload.
void ExpectSameSamples(const std::vector<Sample>& got, const std::vector<Sample>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].t_ms, want[i].t_ms) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(got[i].value), std::bit_cast<uint64_t>(want[i].value)) << i;
  }
}

void ExpectRoundTrip(const std::vector<Sample>& samples) {
  std::string chunk = EncodeChunk(samples);
  ExpectSameSamples(Decode(chunk), samples);
}

TEST(ChunkXorTest, EmptyAndOneSample) {
  ExpectRoundTrip({});
  ExpectRoundTrip({{1000, 1.5}});
  ExpectRoundTrip({{-5, -2.25}});
}

TEST(ChunkXorTest, SpecialValues) {
  const double inf = std::numeric_limits<double>::infinity();
  ExpectRoundTrip({{0, 1},
                   {15000, std::nan("")},
                   {30000, StaleNaN()},
                   {45000, inf},
                   {60000, -inf},
                   {75000, 0.0},
                   {90000, -0.0},
                   {105000, std::numeric_limits<double>::denorm_min()},
                   {120000, std::numeric_limits<double>::max()},
                   {135000, StaleNaN()}});
  std::vector<Sample> got = Decode(EncodeChunk(std::vector<Sample>{{1, StaleNaN()}, {2, 3}}));
  EXPECT_TRUE(IsStaleNaN(got[0].value));
}

TEST(ChunkXorTest, TimestampShapes) {
  // Negative times, irregular intervals, big gaps, every dod bucket and the 64-bit one.
  std::vector<Sample> s;
  int64_t t = -10'000'000;
  const int64_t steps[] = {1, 1, 15000, 15000, 15001, 14999, 8191, 8192, 65535, 65536,
                           524287, 524288, 1LL << 40, 1, 1LL << 61, 3};
  double v = 0;
  for (int64_t step : steps) {
    s.push_back({t, v});
    t += step;
    v += 0.5;
  }
  s.push_back({t, v});
  ExpectRoundTrip(s);
  ExpectRoundTrip({{std::numeric_limits<int64_t>::min(), 1},
                   {std::numeric_limits<int64_t>::max(), 2}});
}

TEST(ChunkXorTest, RandomValuesRoundTrip) {
  std::mt19937_64 rng(42);
  std::vector<Sample> s;
  int64_t t = 1'700'000'000'000;
  for (int i = 0; i < 2000; ++i) {
    t += 1 + static_cast<int64_t>(rng() % 100000);
    double v = (i % 3 == 0) ? std::bit_cast<double>(rng()) : static_cast<double>(rng() % 1000) / 7;
    s.push_back({t, v});
  }
  ExpectRoundTrip(s);
}

TEST(ChunkXorTest, CorruptChunkIsDataLossNotCrash) {
  std::vector<Sample> s;
  for (int i = 0; i < 100; ++i) s.push_back({i * 15000LL, i * 1.25});
  std::string chunk = EncodeChunk(s);
  for (size_t cut = 0; cut < chunk.size(); ++cut) {
    std::vector<Sample> out;
    EXPECT_FALSE(DecodeChunk(std::string_view(chunk).substr(0, cut), &out).ok()) << cut;
    EXPECT_LE(out.size(), s.size());
  }
  std::string huge_count = "\xff\xff\xff\xff\x0f";  // count ~ 4e9 with no data
  std::vector<Sample> out;
  EXPECT_FALSE(DecodeChunk(huge_count, &out).ok());
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::string garbage = chunk;
    garbage[rng() % garbage.size()] ^= static_cast<char>(1 + rng() % 255);
    out.clear();
    (void)DecodeChunk(garbage, &out);  // must not crash; may or may not detect
  }
}

TEST(ChunkXorTest, EncodeSamplesSortsAndLaterWins) {
  std::string chunk = EncodeSamples({{30, 3}, {10, 1}, {20, 2}, {10, 11}});
  ExpectSameSamples(Decode(chunk), {{10, 11}, {20, 2}, {30, 3}});
}

TEST(ChunkXorTest, MergeOutOfOrderDuplicatesAndLaterWins) {
  std::string a = EncodeChunk(std::vector<Sample>{{10, 1}, {20, 2}, {30, 3}});
  std::string b = EncodeChunk(std::vector<Sample>{{5, 0.5}, {20, 22}, {40, 4}});  // OOO + rewrite
  std::string c = EncodeChunk(std::vector<Sample>{{10, 1}, {20, 22}});             // duplicates
  std::vector<std::string_view> chunks{a, b, c};
  int corrupt = 0;
  std::string merged = MergeChunks(chunks, &corrupt);
  EXPECT_EQ(corrupt, 0);
  ExpectSameSamples(Decode(merged), {{5, 0.5}, {10, 1}, {20, 22}, {30, 3}, {40, 4}});

  // Idempotent: merging the same operand again changes nothing.
  std::vector<std::string_view> again{merged, b};
  EXPECT_EQ(MergeChunks(again, nullptr), merged);

  // Later wins even when the later chunk is entirely older in time.
  std::string d = EncodeChunk(std::vector<Sample>{{5, 99}});
  std::vector<std::string_view> with_d{merged, d};
  EXPECT_EQ(Decode(MergeChunks(with_d, nullptr))[0].value, 99);
}

TEST(ChunkXorTest, MergeSkipsCorruptOperand) {
  std::string a = EncodeChunk(std::vector<Sample>{{10, 1}});
  std::string bad = "\x05";  // five samples declared, none present
  std::string b = EncodeChunk(std::vector<Sample>{{20, 2}});
  std::vector<std::string_view> chunks{a, bad, b};
  int corrupt = 0;
  std::string merged = MergeChunks(chunks, &corrupt);
  EXPECT_EQ(corrupt, 1);
  ExpectSameSamples(Decode(merged), {{10, 1}, {20, 2}});
}

// The figure the design asks for, on 15 s scrapes of one 2 h window: a counter with
// noisy increments (worst realistic case), a counter with a steady rate, a slowly
// changing gauge and a constant.
// DecodeChunkRange must give exactly the samples of DecodeChunk within the range, for both
// encodings (integers pick decimal, random doubles XOR), at every cut.
TEST(ChunkXorTest, DecodeChunkRangeMatchesFullDecodeFiltered) {
  std::mt19937_64 rng(7);
  std::vector<Sample> ints, doubles;
  int64_t t = 1'700'000'000'000;
  for (int i = 0; i < 300; ++i) {
    t += 15'000 + static_cast<int64_t>(rng() % 3) - 1;
    ints.push_back({t, static_cast<double>(i * 3 + rng() % 5)});
    doubles.push_back({t, std::ldexp(static_cast<double>(rng() >> 11), -40)});
  }
  for (const auto* samples : {&ints, &doubles}) {
    const std::string chunk = EncodeChunk(*samples);
    const int64_t first = samples->front().t_ms, last = samples->back().t_ms;
    const std::pair<int64_t, int64_t> ranges[] = {
        {first, last}, {first - 1, first}, {last, last + 1}, {first + 1, last - 1},
        {first + 600'000, first + 900'000}, {last - 300'000, last}, {last + 1, last + 2},
        {first - 10, first - 1}, {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}};
    for (auto [from, to] : ranges) {
      std::vector<Sample> want;
      for (const Sample& s : Decode(chunk)) {
        if (s.t_ms >= from && s.t_ms <= to) want.push_back(s);
      }
      std::vector<Sample> got = {{1, 2}};  // appends after what is there
      ASSERT_TRUE(DecodeChunkRange(chunk, from, to, &got).ok());
      ASSERT_FALSE(got.empty());
      EXPECT_EQ(got.front().t_ms, 1);
      got.erase(got.begin());
      ExpectSameSamples(got, want);
    }
  }
  std::vector<Sample> out;
  EXPECT_EQ(DecodeChunkRange("\x07", 0, 1, &out).code(), absl::StatusCode::kDataLoss);
}

TEST(ChunkXorTest, BytesPerSampleForRegularData) {
  std::mt19937_64 rng(1);
  const int kSamples = 480;
  std::vector<Sample> noisy, steady, gauge, constant;
  double c = 1000, sc = 5000, g = 50;
  for (int i = 0; i < kSamples; ++i) {
    int64_t t = 1'700'000'000'000 + i * 15'000LL;
    c += static_cast<double>(rng() % 20);  // 0..19 requests per scrape
    sc += (rng() % 8 == 0) ? 2 : 1;        // ~1 event per scrape
    if (rng() % 10 == 0) g += (rng() % 2 ? 1 : -1);
    noisy.push_back({t, c});
    steady.push_back({t, sc});
    gauge.push_back({t, g});
    constant.push_back({t, 1});
  }
  auto bps = [&](const std::vector<Sample>& s) { return double(EncodeChunk(s).size()) / kSamples; };
  std::printf("bytes/sample (480 samples, 15 s): noisy counter %.3f, steady counter %.3f, "
              "slow gauge %.3f, constant %.3f\n",
              bps(noisy), bps(steady), bps(gauge), bps(constant));
  // Counters that change on every scrape pay ~12 bits per value in the Gorilla scheme.
  EXPECT_LE(bps(noisy), 2.0);
  EXPECT_LE(bps(steady), 2.0);
  EXPECT_LE(bps(gauge), 1.5);
  EXPECT_LE(bps(constant), 0.35);
}

}  // namespace
}  // namespace otelbox::storage

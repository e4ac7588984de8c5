#include "storage/metrics/chunk_bits.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "storage/metrics/chunk_decimal.h"
#include "storage/metrics/chunk_xor.h"

namespace otelbox::storage {
namespace {

using chunk_bits::BitReader;
using chunk_bits::BitWriter;

uint64_t Low(uint64_t v, int bits) { return bits >= 64 ? v : v & ((uint64_t{1} << bits) - 1); }

// The byte-at-a-time packing the word-at-a-time writer replaced: the reference layout.
std::string ReferencePack(const std::vector<std::pair<uint64_t, int>>& fields) {
  std::string out;
  int free_bits = 0;
  for (auto [bits, nbits] : fields) {
    while (nbits > 0) {
      if (free_bits == 0) {
        out.push_back('\0');
        free_bits = 8;
      }
      const int take = std::min(free_bits, nbits);
      const uint64_t part = Low(bits >> (nbits - take), take);
      out.back() = static_cast<char>(static_cast<uint8_t>(out.back()) | (part << (free_bits - take)));
      free_bits -= take;
      nbits -= take;
    }
  }
  return out;
}

TEST(ChunkBitsTest, EveryWidthRoundTripsAndMatchesBytewisePacking) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::pair<uint64_t, int>> fields;
    for (int i = 0; i < 300; ++i) {
      const int nbits = round == 0 ? i % 65 : static_cast<int>(rng() % 65);  // 0..64
      fields.push_back({rng(), nbits});
    }
    BitWriter w;
    for (auto [bits, nbits] : fields) w.Write(bits, nbits);  // high garbage bits ignored
    std::string packed;
    w.AppendTo(&packed);
    ASSERT_EQ(packed, ReferencePack(fields)) << round;
    size_t total = 0;
    for (auto [bits, nbits] : fields) total += nbits;
    EXPECT_EQ(w.bit_count(), total);

    BitReader r(packed);
    for (size_t i = 0; i < fields.size(); ++i) {
      uint64_t got = 0;
      ASSERT_TRUE(r.Read(fields[i].second, &got)) << i;
      EXPECT_EQ(got, Low(fields[i].first, fields[i].second)) << round << " field " << i;
    }
    uint64_t rest = 0;
    const int padding = static_cast<int>(packed.size() * 8 - total);
    EXPECT_TRUE(r.Read(padding, &rest));
    EXPECT_EQ(rest, 0u);
    EXPECT_FALSE(r.Read(1, &rest));
  }
}

TEST(ChunkBitsTest, ReadPastTheEndFailsWithoutConsuming) {
  const std::string bytes("\xA5\x0F", 2);
  BitReader r(bytes);
  uint64_t v = 0;
  EXPECT_FALSE(r.Read(17, &v));
  EXPECT_FALSE(r.Read(64, &v));
  ASSERT_TRUE(r.Read(16, &v));
  EXPECT_EQ(v, 0xA50Fu);
  EXPECT_TRUE(r.Read(0, &v));
  EXPECT_FALSE(r.Read(1, &v));
}

TEST(ChunkBitsTest, AppendToLetsTheWriterContinue) {
  BitWriter w;
  w.Write(0b101, 3);
  std::string first;
  w.AppendTo(&first);
  EXPECT_EQ(first, std::string("\xA0", 1));
  w.Write(~uint64_t{0}, 64);
  std::string second;
  w.AppendTo(&second);
  ASSERT_EQ(second.size(), 9u);
  EXPECT_EQ(static_cast<uint8_t>(second[0]), 0xBF);
  EXPECT_EQ(static_cast<uint8_t>(second[8]), 0xE0);
}

void ExpectBitExact(const std::vector<Sample>& want, const std::vector<Sample>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].t_ms, got[i].t_ms) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(want[i].value), std::bit_cast<uint64_t>(got[i].value)) << i;
  }
}

// Reference for EncodeChunk's choice: both encodings built in full, the smaller kept.
std::string BothEncodings(const std::vector<Sample>& samples) {
  ChunkEncoder enc;
  for (const Sample& s : samples) enc.Append(s.t_ms, s.value);
  std::string xor_chunk = enc.Finish();
  std::string decimal(1, static_cast<char>(ChunkEncoding::kDecimal));
  if (samples.size() > 1 && EncodeDecimalChunk(samples, &decimal) && decimal.size() < xor_chunk.size()) {
    return decimal;
  }
  return xor_chunk;
}

TEST(ChunkBitsTest, EncodeChunkKeepsTheSmallerEncodingAndRoundTrips) {
  std::mt19937_64 rng(9);
  const double kStale = std::bit_cast<double>(uint64_t{0x7ff0000000000002});
  const double specials[] = {std::numeric_limits<double>::quiet_NaN(), kStale,
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(), -0.0, 0.0};
  for (int round = 0; round < 400; ++round) {
    const size_t n = 1 + rng() % 300;
    std::vector<Sample> samples;
    int64_t t = static_cast<int64_t>(rng() % 2'000'000'000'000) - 1'000'000'000'000;
    int64_t counter = static_cast<int64_t>(rng() % 1000);
    for (size_t i = 0; i < n; ++i) {
      switch (round % 5) {
        case 0: t += 15'000; break;                                       // regular
        case 1: t += 14'000 + static_cast<int64_t>(rng() % 2'000); break;  // jitter
        case 2: t += 1 + static_cast<int64_t>(rng() % (int64_t{1} << 40)); break;
        default: t += 1 + static_cast<int64_t>(rng() % 60'000); break;
      }
      double v;
      switch (round % 4) {
        case 0: v = static_cast<double>(counter += static_cast<int64_t>(rng() % 100)); break;
        case 1: v = static_cast<double>(counter += static_cast<int64_t>(rng() % 5000)) / 100; break;
        case 2: v = std::bit_cast<double>(rng()); break;  // any bits, NaNs included
        default: v = rng() % 10 == 0 ? specials[rng() % 6] : 42.5; break;
      }
      samples.push_back({t, v});
    }
    const std::string chunk = EncodeChunk(samples);
    ASSERT_EQ(chunk, BothEncodings(samples)) << round;
    // The chunk merge operator passes a lone operand through on this property.
    const std::string_view one[] = {chunk};
    ASSERT_EQ(MergeChunks(one, nullptr), chunk) << round;
    std::vector<Sample> got;
    ASSERT_TRUE(DecodeChunk(chunk, &got).ok()) << round;
    ExpectBitExact(samples, got);
  }
}

TEST(ChunkBitsTest, DecimalColumnsOfEveryWidthRoundTrip) {
  // Mantissa deltas spanning 0..53 bits and timestamp dods up to 64 bits (wrapping).
  std::mt19937_64 rng(5);
  for (int width = 0; width <= 64; ++width) {
    std::vector<Sample> samples;
    int64_t m = 0;
    uint64_t t = 0;
    for (int i = 0; i < 40; ++i) {
      const int vw = std::min(width, 52);
      const int64_t step = vw == 0 ? 0 : static_cast<int64_t>(Low(rng(), vw));
      m = (m + step) % (int64_t{1} << 52);
      t += 1 + (width >= 63 ? Low(rng(), 62) : Low(rng(), std::max(width - 1, 0)));
      samples.push_back({static_cast<int64_t>(t) + std::numeric_limits<int64_t>::min() / 2,
                         static_cast<double>(m)});
    }
    std::string body;
    ASSERT_TRUE(EncodeDecimalChunk(samples, &body)) << width;
    std::vector<Sample> got;
    ASSERT_TRUE(DecodeDecimalChunk(body, &got).ok()) << width;
    ExpectBitExact(samples, got);
  }
}

}  // namespace
}  // namespace otelbox::storage

#include "storage/metrics/chunk_xor.h"

#include <algorithm>
#include <bit>

#include "storage/coding.h"
#include "storage/metrics/chunk_decimal.h"

namespace otelbox::storage {
namespace {

// Delta-of-delta buckets, as Prometheus' XOR chunk: (prefix bits, prefix length, payload
// bits). Payloads are two's complement; anything wider goes in the 64-bit bucket.
struct Bucket {
  uint64_t prefix;
  int prefix_bits;
  int value_bits;
};
constexpr Bucket kBuckets[] = {{0b10, 2, 14}, {0b110, 3, 17}, {0b1110, 4, 20}};

bool FitsSigned(int64_t v, int bits) {
  int64_t lo = -(int64_t{1} << (bits - 1));
  int64_t hi = (int64_t{1} << (bits - 1)) - 1;
  return v >= lo && v <= hi;
}

uint64_t Mask(int bits) { return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1; }

int64_t SignExtend(uint64_t v, int bits) {
  if (bits >= 64) return static_cast<int64_t>(v);
  uint64_t sign = uint64_t{1} << (bits - 1);
  return static_cast<int64_t>((v ^ sign) - sign);
}

}  // namespace

void ChunkEncoder::Append(int64_t t_ms, double value) {
  uint64_t vbits = std::bit_cast<uint64_t>(value);
  if (count_ == 0) {
    first_t_ms_ = t_ms;
    first_value_bits_ = vbits;
  } else {
    // Modular arithmetic: exact for any int64 inputs, the 64-bit bucket holds the rest.
    uint64_t delta = static_cast<uint64_t>(t_ms) - static_cast<uint64_t>(t_ms_);
    int64_t dod = static_cast<int64_t>(delta - delta_);
    if (dod == 0) {
      WriteBit(false);
    } else {
      bool written = false;
      for (const Bucket& b : kBuckets) {
        if (FitsSigned(dod, b.value_bits)) {
          WriteBits(b.prefix, b.prefix_bits);
          WriteBits(static_cast<uint64_t>(dod) & Mask(b.value_bits), b.value_bits);
          written = true;
          break;
        }
      }
      if (!written) {
        WriteBits(0b1111, 4);
        WriteBits(static_cast<uint64_t>(dod), 64);
      }
    }
    delta_ = delta;

    uint64_t x = vbits ^ value_bits_;
    if (x == 0) {
      WriteBit(false);
    } else {
      WriteBit(true);
      int leading = std::min(std::countl_zero(x), 31);
      int trailing = std::countr_zero(x);
      // Reuse the previous window when x fits it and reusing is not dearer than
      // describing a tight new window (11 control bits).
      const int new_sig = 64 - leading - trailing;
      if (leading_ >= 0 && leading >= leading_ && trailing >= trailing_ &&
          64 - leading_ - trailing_ <= new_sig + 11) {
        WriteBit(false);
        int sig = 64 - leading_ - trailing_;
        WriteBits(x >> trailing_, sig);
      } else {
        WriteBit(true);
        WriteBits(static_cast<uint64_t>(leading), 5);
        WriteBits(static_cast<uint64_t>(new_sig & 63), 6);  // 64 is written as 0
        WriteBits(x >> trailing, new_sig);
        leading_ = leading;
        trailing_ = trailing;
      }
    }
  }
  t_ms_ = t_ms;
  value_bits_ = vbits;
  ++count_;
}

std::string ChunkEncoder::Finish() const {
  std::string out;
  out.reserve(bits_.bit_count() / 8 + 21);
  out.push_back(static_cast<char>(ChunkEncoding::kXor));
  PutVarint64(&out, count_);
  if (count_ > 0) {
    PutVarsint64(&out, first_t_ms_);
    PutFixed64BE(&out, first_value_bits_);
    bits_.AppendTo(&out);
  }
  return out;
}

ChunkIterator::ChunkIterator(std::string_view chunk) {
  if (chunk.empty()) {
    Fail("empty chunk");
    return;
  }
  const auto encoding = static_cast<ChunkEncoding>(chunk[0]);
  chunk.remove_prefix(1);
  if (encoding == ChunkEncoding::kDecimal) {
    // Decimal chunks are decoded whole (they are small); the iterator walks the result.
    status_ = DecodeDecimalChunk(chunk, &decoded_);
    count_ = decoded_.size();
    decimal_ = true;
    valid_ = !decoded_.empty();
    if (valid_) current_ = decoded_[0];
    index_ = 1;
    return;
  }
  if (encoding != ChunkEncoding::kXor) {
    Fail("unknown chunk encoding");
    return;
  }
  if (!GetVarint64(&chunk, &count_)) {
    Fail("truncated header");
    return;
  }
  if (count_ == 0) return;
  int64_t t;
  uint64_t v;
  if (!GetVarsint64(&chunk, &t) || !GetFixed64BE(&chunk, &v)) {
    Fail("truncated first sample");
    return;
  }
  // Each further sample takes at least 2 bits: reject absurd counts before iterating.
  if ((count_ - 1) / 4 > chunk.size()) {
    Fail("sample count exceeds chunk size");
    return;
  }
  bits_ = chunk_bits::BitReader(chunk);
  current_ = Sample{t, std::bit_cast<double>(v)};
  value_bits_ = v;
  index_ = 1;
  valid_ = true;
}

void ChunkIterator::Fail(const char* what) {
  valid_ = false;
  status_ = absl::DataLossError(std::string("corrupt chunk: ") + what);
}

void ChunkIterator::Next() {
  if (!valid_) return;
  if (index_ >= count_) {
    valid_ = false;
    return;
  }
  if (decimal_) {
    current_ = decoded_[index_++];
    return;
  }
  // Timestamp.
  uint64_t bit;
  int64_t dod = 0;
  int prefix_len = 0;
  while (prefix_len < 4) {
    if (!ReadBits(1, &bit)) return Fail("truncated timestamp");
    if (bit == 0) break;
    ++prefix_len;
  }
  if (prefix_len > 0) {
    int width = prefix_len == 4 ? 64 : kBuckets[prefix_len - 1].value_bits;
    uint64_t raw;
    if (!ReadBits(width, &raw)) return Fail("truncated timestamp");
    dod = SignExtend(raw, width);
  }
  delta_ += static_cast<uint64_t>(dod);
  current_.t_ms = static_cast<int64_t>(static_cast<uint64_t>(current_.t_ms) + delta_);

  // Value.
  if (!ReadBits(1, &bit)) return Fail("truncated value");
  if (bit == 1) {
    if (!ReadBits(1, &bit)) return Fail("truncated value");
    if (bit == 1) {
      uint64_t leading, sig;
      if (!ReadBits(5, &leading) || !ReadBits(6, &sig)) return Fail("truncated value");
      if (sig == 0) sig = 64;
      if (leading + sig > 64) return Fail("bad XOR window");
      leading_ = static_cast<int>(leading);
      trailing_ = static_cast<int>(64 - leading - sig);
    } else if (leading_ < 0) {
      return Fail("XOR window reused before being set");
    }
    int sig = 64 - leading_ - trailing_;
    uint64_t x;
    if (!ReadBits(sig, &x)) return Fail("truncated value");
    value_bits_ ^= x << trailing_;
  }
  current_.value = std::bit_cast<double>(value_bits_);
  ++index_;
}

namespace {

// A lower bound of the size of the XOR chunk of `samples`, computed without encoding it:
// exact timestamp bits, and for each changed value at least its '1x' control bits and its
// significant bits (a reused window is never narrower than the tight one).
size_t XorChunkSizeLowerBound(std::span<const Sample> samples) {
  std::string header;
  PutVarint64(&header, samples.size());
  if (samples.empty()) return 1 + header.size();
  PutVarsint64(&header, samples[0].t_ms);
  uint64_t bits = 0;
  uint64_t prev_delta = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    const uint64_t delta =
        static_cast<uint64_t>(samples[i].t_ms) - static_cast<uint64_t>(samples[i - 1].t_ms);
    const int64_t dod = static_cast<int64_t>(delta - prev_delta);
    prev_delta = delta;
    if (dod == 0) {
      bits += 1;
    } else {
      int b = 68;
      for (const Bucket& bucket : kBuckets) {
        if (FitsSigned(dod, bucket.value_bits)) {
          b = bucket.prefix_bits + bucket.value_bits;
          break;
        }
      }
      bits += b;
    }
    const uint64_t x = std::bit_cast<uint64_t>(samples[i].value) ^
                       std::bit_cast<uint64_t>(samples[i - 1].value);
    bits += x == 0 ? 1 : 2 + 64 - std::min(std::countl_zero(x), 31) - std::countr_zero(x);
  }
  return 1 + header.size() + 8 + (bits + 7) / 8;
}

}  // namespace

std::string EncodeChunk(std::span<const Sample> sorted_unique) {
  // The smaller of the two encodings. Constant series stay XOR (about 2 bits a sample);
  // integer and few-decimal series move to decimal chunks (bench/ingest_load).
  std::string decimal_chunk;
  bool decimal_ok = false;
  if (sorted_unique.size() > 1) {
    decimal_chunk.push_back(static_cast<char>(ChunkEncoding::kDecimal));
    decimal_ok = EncodeDecimalChunk(sorted_unique, &decimal_chunk);
    // Same choice as below without building the XOR chunk when it cannot be smaller
    // (bench/promql_bench: the merge operator runs this on every read of an uncompacted key).
    if (decimal_ok && decimal_chunk.size() < XorChunkSizeLowerBound(sorted_unique)) {
      return decimal_chunk;
    }
  }
  ChunkEncoder enc;
  for (const Sample& s : sorted_unique) enc.Append(s.t_ms, s.value);
  std::string xor_chunk = enc.Finish();
  if (decimal_ok && decimal_chunk.size() < xor_chunk.size()) return decimal_chunk;
  return xor_chunk;
}

std::string EncodeSamples(std::vector<Sample> samples) {
  std::stable_sort(samples.begin(), samples.end(),
                   [](const Sample& a, const Sample& b) { return a.t_ms < b.t_ms; });
  std::vector<Sample> unique;
  unique.reserve(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i + 1 < samples.size() && samples[i + 1].t_ms == samples[i].t_ms) continue;
    unique.push_back(samples[i]);
  }
  return EncodeChunk(unique);
}

absl::Status DecodeChunk(std::string_view chunk, std::vector<Sample>* out) {
  ChunkIterator it(chunk);
  for (; it.Valid(); it.Next()) out->push_back(it.current());
  return it.status();
}

absl::Status DecodeChunkRange(std::string_view chunk, int64_t start_ms, int64_t end_ms,
                              std::vector<Sample>* out) {
  if (!chunk.empty() && static_cast<ChunkEncoding>(chunk[0]) == ChunkEncoding::kDecimal) {
    // Straight into `out`, without the iterator's own copy of the whole chunk.
    return DecodeDecimalChunkRange(chunk.substr(1), start_ms, end_ms, out);
  }
  ChunkIterator it(chunk);
  for (; it.Valid(); it.Next()) {
    const Sample& s = it.current();
    if (s.t_ms < start_ms) continue;
    if (s.t_ms > end_ms) break;
    out->push_back(s);
  }
  return it.status();
}

std::string MergeChunks(std::span<const std::string_view> chunks_oldest_first,
                        int* corrupt_chunks) {
  std::vector<Sample> all;
  bool sorted = true;  // true while every chunk starts after the previous one ended
  for (std::string_view chunk : chunks_oldest_first) {
    size_t before = all.size();
    if (!DecodeChunk(chunk, &all).ok() && corrupt_chunks) ++*corrupt_chunks;
    if (before > 0 && all.size() > before && all[before].t_ms <= all[before - 1].t_ms) {
      sorted = false;
    }
  }
  if (sorted) return EncodeChunk(all);  // the common case: in-order appends
  return EncodeSamples(std::move(all));  // stable sort keeps later chunks last
}

}  // namespace otelbox::storage

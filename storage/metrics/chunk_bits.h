#pragma once
// MSB-first bit packing shared by the XOR and decimal chunk codecs (storage/FORMAT.md).
// Both work a 64-bit word at a time instead of a byte at a time: bench/promql_bench spent
// most of its instant-query time in the byte-wise loops these replace (the chunk merge
// operator decodes and re-encodes on every read of a not yet compacted key).

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace otelbox::storage::chunk_bits {

inline uint64_t LoadBE64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
  return w;
}

// Accumulates bits; AppendTo writes them zero-padded to a byte. Not thread-safe.
class BitWriter {
 public:
  void Reserve(size_t bytes) { bytes_.reserve(bytes); }

  // Appends the low `nbits` (0..64) of `bits`, most significant first.
  void Write(uint64_t bits, int nbits) {
    if (nbits == 0) return;
    if (nbits < 64) bits &= (uint64_t{1} << nbits) - 1;
    const int space = 64 - acc_bits_;  // 1..64
    if (nbits < space) {
      acc_ = (acc_ << nbits) | bits;
      acc_bits_ += nbits;
      return;
    }
    const int rest = nbits - space;  // 0..63
    const uint64_t word = (space == 64 ? 0 : acc_ << space) | (bits >> rest);
    char buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(word >> (56 - 8 * i));
    bytes_.append(buf, 8);
    acc_ = rest == 0 ? 0 : bits & ((uint64_t{1} << rest) - 1);
    acc_bits_ = rest;
  }

  size_t bit_count() const { return bytes_.size() * 8 + acc_bits_; }

  // Appends everything written so far, zero-padded to a byte boundary. The writer may
  // keep writing afterwards.
  void AppendTo(std::string* out) const {
    out->append(bytes_);
    if (acc_bits_ == 0) return;
    const uint64_t word = acc_ << (64 - acc_bits_);
    for (int i = 0; i < (acc_bits_ + 7) / 8; ++i) {
      out->push_back(static_cast<char>(word >> (56 - 8 * i)));
    }
  }

 private:
  std::string bytes_;  // whole 64-bit words
  uint64_t acc_ = 0;   // the low acc_bits_ bits are pending
  int acc_bits_ = 0;
};

// Reads what BitWriter wrote. The bytes must outlive the reader.
class BitReader {
 public:
  BitReader() = default;
  explicit BitReader(std::string_view in) : in_(in) {}

  // Reads `nbits` (0..64) into *out; false (nothing consumed) past the end.
  bool Read(int nbits, uint64_t* out) {
    if (static_cast<size_t>(nbits) > in_.size() * 8 - pos_) return false;
    if (nbits == 0) {
      *out = 0;
      return true;
    }
    if (nbits > 56) {  // a 64-bit load covers 57 bits at any bit offset
      *out = Peek(nbits - 32) << 32;
      pos_ += nbits - 32;
      *out |= Peek(32);
      pos_ += 32;
      return true;
    }
    *out = Peek(nbits);
    pos_ += nbits;
    return true;
  }

  // The wrapping sum of the next `n` values of `nbits` bits each (0..64), consumed.
  // REQUIRES: n * nbits bits remain.
  uint64_t ConsumeSum(int nbits, size_t n) {
    uint64_t sum = 0;
    if (nbits == 0) return 0;
    if (nbits > 56) {
      for (size_t i = 0; i < n; ++i) {
        uint64_t v = 0;
        Read(nbits, &v);
        sum += v;
      }
      return sum;
    }
    for (size_t i = 0; i < n; ++i) {
      sum += Peek(nbits);
      pos_ += nbits;
    }
    return sum;
  }

 private:
  // REQUIRES: 1 <= nbits <= 56 and nbits bits remain.
  uint64_t Peek(int nbits) const {
    const size_t byte = pos_ / 8;
    uint64_t w;
    if (byte + 8 <= in_.size()) {
      w = LoadBE64(in_.data() + byte);
    } else {
      w = 0;
      for (size_t i = byte; i < in_.size(); ++i) {
        w |= uint64_t{static_cast<uint8_t>(in_[i])} << (56 - 8 * (i - byte));
      }
    }
    return (w << (pos_ % 8)) >> (64 - nbits);
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace otelbox::storage::chunk_bits

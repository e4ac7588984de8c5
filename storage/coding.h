#pragma once
// The one coding vocabulary of storage/ (STYLE.md 3.6): Put* appends an encoding to a
// string, Get* consumes one from the front of a string_view and returns false when the
// input is truncated or malformed (the caller turns that into DataLoss).
//
// Fixed-width integers are big-endian so that encoded keys sort numerically; signed
// values inside keys go through EncodeOrderedInt64 so that negative values sort first.

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/model/labels.h"

namespace otelbox::storage {

// Varints are inline: block and chunk decoders call them for nearly every field.
inline void PutVarint64(std::string* dst, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  dst->append(buf, n);
}

inline bool GetVarint64(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (size_t i = 0; i < in->size() && i < 10; ++i) {
    uint64_t byte = static_cast<uint8_t>((*in)[i]);
    result |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      *v = result;
      in->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

// Zig-zag varint for signed values.
inline void PutVarsint64(std::string* dst, int64_t v) {
  PutVarint64(dst, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

inline bool GetVarsint64(std::string_view* in, int64_t* v) {
  uint64_t u;
  if (!GetVarint64(in, &u)) return false;
  *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

void PutFixed32BE(std::string* dst, uint32_t v);
bool GetFixed32BE(std::string_view* in, uint32_t* v);
void PutFixed64BE(std::string* dst, uint64_t v);
bool GetFixed64BE(std::string_view* in, uint64_t* v);

// Sign-flipped so that the unsigned big-endian order equals the signed numeric order.
inline uint64_t EncodeOrderedInt64(int64_t v) {
  return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
}
inline int64_t DecodeOrderedInt64(uint64_t v) {
  return static_cast<int64_t>(v ^ (uint64_t{1} << 63));
}
void PutOrderedInt64(std::string* dst, int64_t v);
bool GetOrderedInt64(std::string_view* in, int64_t* v);

// Raw IEEE-754 bits: every NaN payload (StaleNaN included) survives.
void PutDouble(std::string* dst, double v);
bool GetDouble(std::string_view* in, double* v);

// varint length, then the bytes.
void PutLengthPrefixed(std::string* dst, std::string_view s);
bool GetLengthPrefixed(std::string_view* in, std::string_view* s);

// varint count, then (name, value) length-prefixed pairs in sorted order. Equal label
// sets have equal encodings, so the encoding is usable as a key.
void PutLabels(std::string* dst, const Labels& labels);
bool GetLabels(std::string_view* in, Labels* labels);

// The smallest string greater than every string starting with `prefix`; empty when no
// such string exists (prefix is all 0xff). Used to skip a whole key range with one Seek.
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace otelbox::storage

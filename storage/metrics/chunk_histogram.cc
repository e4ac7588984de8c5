#include "storage/metrics/chunk_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "storage/coding.h"
#include "storage/metrics/chunk_xor.h"

namespace otelbox::storage {
namespace {

constexpr uint8_t kHintMask = 0x03;
constexpr uint8_t kSameLayout = 0x04;
constexpr double kMaxExactInt = 9007199254740992.0;  // 2^53

bool IsExactInt(double v) {
  return v == std::trunc(v) && std::fabs(v) <= kMaxExactInt && !(v == 0 && std::signbit(v));
}

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// A count coded against a reference value: varint(zigzag(v - ref) << 1) when both are
// integers (|x| <= 2^53, so the delta fits in 55 bits), else varint(1) + raw bits.
void PutValue(std::string* dst, double v, double ref) {
  if (IsExactInt(v) && IsExactInt(ref)) {
    PutVarint64(dst, ZigZag(static_cast<int64_t>(v) - static_cast<int64_t>(ref)) << 1);
  } else {
    PutVarint64(dst, 1);
    PutDouble(dst, v);
  }
}

bool GetValue(std::string_view* in, double* v, double ref) {
  uint64_t u;
  if (!GetVarint64(in, &u)) return false;
  if (u & 1) return u == 1 && GetDouble(in, v);
  if (!IsExactInt(ref)) return false;
  *v = static_cast<double>(static_cast<int64_t>(ref) + UnZigZag(u >> 1));
  return true;
}

bool SameLayout(const FloatHistogram& a, const FloatHistogram& b) {
  return a.schema == b.schema &&
         std::bit_cast<uint64_t>(a.zero_threshold) == std::bit_cast<uint64_t>(b.zero_threshold) &&
         a.positive_spans == b.positive_spans && a.negative_spans == b.negative_spans &&
         a.positive_buckets.size() == b.positive_buckets.size() &&
         a.negative_buckets.size() == b.negative_buckets.size() &&
         std::equal(a.custom_values.begin(), a.custom_values.end(), b.custom_values.begin(),
                    b.custom_values.end(), [](double x, double y) {
                      return std::bit_cast<uint64_t>(x) == std::bit_cast<uint64_t>(y);
                    });
}

void PutSpans(std::string* dst, const std::vector<BucketSpan>& spans) {
  PutVarint64(dst, spans.size());
  for (const BucketSpan& s : spans) {
    PutVarsint64(dst, s.offset);
    PutVarint64(dst, s.length);
  }
}

// Also returns the number of buckets the spans describe in `*buckets`, bounded by the
// remaining input (each bucket takes at least one byte) so corrupt input can't make us
// allocate much.
bool GetSpans(std::string_view* in, std::vector<BucketSpan>* spans, size_t* buckets) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  spans->resize(n);
  uint64_t total = 0;
  for (BucketSpan& s : *spans) {
    int64_t offset;
    uint64_t length;
    if (!GetVarsint64(in, &offset) || !GetVarint64(in, &length)) return false;
    if (offset < INT32_MIN || offset > INT32_MAX || length > UINT32_MAX) return false;
    s.offset = static_cast<int32_t>(offset);
    s.length = static_cast<uint32_t>(length);
    total += length;
    if (total > in->size()) return false;
  }
  *buckets = total;
  return true;
}

// Buckets are coded against the previous sample's same bucket when the layout did not
// change (counters grow little per scrape), else against the previous bucket.
void PutBuckets(std::string* dst, const std::vector<double>& b, const std::vector<double>* prev) {
  for (size_t i = 0; i < b.size(); ++i) {
    PutValue(dst, b[i], prev ? (*prev)[i] : (i ? b[i - 1] : 0.0));
  }
}

bool GetBuckets(std::string_view* in, size_t n, std::vector<double>* b,
                const std::vector<double>* prev) {
  if (n > in->size()) return false;
  b->resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!GetValue(in, &(*b)[i], prev ? (*prev)[i] : (i ? (*b)[i - 1] : 0.0))) return false;
  }
  return true;
}

std::string CheckSpans(const std::vector<BucketSpan>& spans, size_t buckets, const char* side) {
  uint64_t total = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i > 0 && spans[i].offset < 0) {
      return std::string(side) + " span " + std::to_string(i) + " has a negative offset " +
             std::to_string(spans[i].offset);
    }
    total += spans[i].length;
  }
  if (total != buckets) {
    return std::string(side) + " spans need " + std::to_string(total) + " buckets, have " +
           std::to_string(buckets);
  }
  return "";
}

}  // namespace

std::string HistogramError(const FloatHistogram& h) {
  const bool custom = h.schema == kCustomBucketsSchema;
  if (!custom && (h.schema < -4 || h.schema > 8)) {
    return "histogram has an invalid schema " + std::to_string(h.schema) +
           " (must be -4..8 or -53)";
  }
  if (auto e = CheckSpans(h.positive_spans, h.positive_buckets.size(), "positive"); !e.empty()) {
    return "histogram " + e;
  }
  if (auto e = CheckSpans(h.negative_spans, h.negative_buckets.size(), "negative"); !e.empty()) {
    return "histogram " + e;
  }
  // As Prometheus' Validate: no negative observation counts (NaN passes).
  auto negative = [](double v) { return v < 0; };
  if (negative(h.count) || negative(h.zero_count) ||
      std::any_of(h.positive_buckets.begin(), h.positive_buckets.end(), negative) ||
      std::any_of(h.negative_buckets.begin(), h.negative_buckets.end(), negative)) {
    return "histogram has a negative count";
  }
  if (!custom) {
    if (!h.custom_values.empty()) return "histogram with an exponential schema has custom bounds";
    return "";
  }
  if (!h.negative_spans.empty() || !h.negative_buckets.empty()) {
    return "histogram with custom buckets has negative buckets";
  }
  for (size_t i = 0; i < h.custom_values.size(); ++i) {
    if (std::isnan(h.custom_values[i]) || (i > 0 && h.custom_values[i] <= h.custom_values[i - 1])) {
      return "histogram custom bounds must be increasing";
    }
  }
  // Bucket index i holds (custom_values[i-1], custom_values[i]]; the last one is +Inf.
  int64_t index = 0;
  for (size_t i = 0; i < h.positive_spans.size(); ++i) {
    index += h.positive_spans[i].offset;
    if (index < 0) return "histogram with custom buckets has a negative bucket index";
    index += h.positive_spans[i].length;
  }
  if (index > static_cast<int64_t>(h.custom_values.size()) + 1) {
    return "histogram with custom buckets has more buckets than bounds";
  }
  return "";
}

void PutHistogram(std::string* dst, const FloatHistogram& h, const FloatHistogram* prev) {
  const bool same = prev != nullptr && SameLayout(h, *prev);
  dst->push_back(static_cast<char>((static_cast<uint8_t>(h.counter_reset_hint) & kHintMask) |
                                   (same ? kSameLayout : 0)));
  if (!same) {
    PutVarsint64(dst, h.schema);
    PutDouble(dst, h.zero_threshold);
    PutSpans(dst, h.positive_spans);
    PutSpans(dst, h.negative_spans);
    PutVarint64(dst, h.custom_values.size());
    for (size_t i = 0; i < h.custom_values.size(); ++i) {
      PutValue(dst, h.custom_values[i], i ? h.custom_values[i - 1] : 0.0);
    }
  }
  PutValue(dst, h.count, prev ? prev->count : 0.0);
  PutValue(dst, h.sum, prev ? prev->sum : 0.0);
  PutValue(dst, h.zero_count, prev ? prev->zero_count : 0.0);
  PutBuckets(dst, h.positive_buckets, same ? &prev->positive_buckets : nullptr);
  PutBuckets(dst, h.negative_buckets, same ? &prev->negative_buckets : nullptr);
}

bool GetHistogram(std::string_view* in, FloatHistogram* h, const FloatHistogram* prev) {
  if (in->empty()) return false;
  const uint8_t flags = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  if (flags & ~(kHintMask | kSameLayout)) return false;
  h->counter_reset_hint = static_cast<CounterResetHint>(flags & kHintMask);
  const bool same = (flags & kSameLayout) != 0;
  size_t npos = 0, nneg = 0;
  if (same) {
    if (prev == nullptr) return false;
    h->schema = prev->schema;
    h->zero_threshold = prev->zero_threshold;
    h->positive_spans = prev->positive_spans;
    h->negative_spans = prev->negative_spans;
    h->custom_values = prev->custom_values;
    npos = prev->positive_buckets.size();
    nneg = prev->negative_buckets.size();
  } else {
    int64_t schema;
    uint64_t ncustom;
    if (!GetVarsint64(in, &schema) || schema < INT32_MIN || schema > INT32_MAX) return false;
    h->schema = static_cast<int32_t>(schema);
    if (!GetDouble(in, &h->zero_threshold) || !GetSpans(in, &h->positive_spans, &npos) ||
        !GetSpans(in, &h->negative_spans, &nneg) || !GetVarint64(in, &ncustom) ||
        ncustom > in->size()) {
      return false;
    }
    h->custom_values.resize(ncustom);
    for (size_t i = 0; i < ncustom; ++i) {
      if (!GetValue(in, &h->custom_values[i], i ? h->custom_values[i - 1] : 0.0)) return false;
    }
  }
  return GetValue(in, &h->count, prev ? prev->count : 0.0) &&
         GetValue(in, &h->sum, prev ? prev->sum : 0.0) &&
         GetValue(in, &h->zero_count, prev ? prev->zero_count : 0.0) &&
         GetBuckets(in, npos, &h->positive_buckets, same ? &prev->positive_buckets : nullptr) &&
         GetBuckets(in, nneg, &h->negative_buckets, same ? &prev->negative_buckets : nullptr);
}

std::string EncodeHistogramChunk(std::span<const HistogramSample> sorted_unique) {
  std::string out(1, static_cast<char>(ChunkEncoding::kHistogram));
  PutVarint64(&out, sorted_unique.size());
  uint64_t prev_delta = 0;
  for (size_t i = 0; i < sorted_unique.size(); ++i) {
    const HistogramSample& s = sorted_unique[i];
    if (i == 0) {
      PutVarsint64(&out, s.t_ms);
    } else {
      // Wrapping arithmetic, as the XOR chunk: exact for any int64 times.
      const uint64_t delta =
          static_cast<uint64_t>(s.t_ms) - static_cast<uint64_t>(sorted_unique[i - 1].t_ms);
      PutVarsint64(&out, static_cast<int64_t>(delta - prev_delta));
      prev_delta = delta;
    }
    PutHistogram(&out, s.h, i ? &sorted_unique[i - 1].h : nullptr);
  }
  return out;
}

absl::Status DecodeHistogramChunk(std::string_view chunk, std::vector<HistogramSample>* out) {
  auto corrupt = [](const char* what) {
    return absl::DataLossError(std::string("corrupt histogram chunk: ") + what);
  };
  if (chunk.empty() || static_cast<uint8_t>(chunk[0]) != static_cast<uint8_t>(ChunkEncoding::kHistogram)) {
    return corrupt("not a histogram chunk");
  }
  chunk.remove_prefix(1);
  uint64_t count;
  if (!GetVarint64(&chunk, &count)) return corrupt("truncated header");
  if (count > chunk.size()) return corrupt("sample count exceeds chunk size");
  const size_t first = out->size();
  uint64_t delta = 0;
  int64_t t = 0;
  for (uint64_t i = 0; i < count; ++i) {
    int64_t v;
    if (!GetVarsint64(&chunk, &v)) return corrupt("truncated timestamp");
    if (i == 0) {
      t = v;
    } else {
      delta += static_cast<uint64_t>(v);  // i == 1: previous delta is 0, so v is the delta
      t = static_cast<int64_t>(static_cast<uint64_t>(t) + delta);
    }
    HistogramSample s;
    s.t_ms = t;
    const FloatHistogram* prev = out->size() > first ? &out->back().h : nullptr;
    if (!GetHistogram(&chunk, &s.h, prev)) return corrupt("truncated histogram");
    out->push_back(std::move(s));
  }
  return absl::OkStatus();
}

}  // namespace otelbox::storage

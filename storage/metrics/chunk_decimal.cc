#include "storage/metrics/chunk_decimal.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "storage/coding.h"
#include "storage/metrics/chunk_bits.h"

namespace otelbox::storage {
namespace {

constexpr int kMaxScale = 15;
constexpr double kMaxMantissa = 9007199254740992.0;  // 2^53: exact in a double

// Powers of ten are exact doubles up to 10^22, so m / 10^k is one correctly rounded
// division, the same on every machine.
constexpr double kPow10[kMaxScale + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                          1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

bool SameBits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

// The mantissa of `v` at scale k, if m / 10^k reproduces v bit for bit.
bool MantissaAt(double v, int k, int64_t* m) {
  const double scaled = v * kPow10[k];
  if (!(std::fabs(scaled) < kMaxMantissa)) return false;
  const double rounded = std::nearbyint(scaled);
  if (!SameBits(rounded / kPow10[k], v)) return false;
  *m = static_cast<int64_t>(rounded);
  return true;
}

// Frame of reference: a column of integers as its minimum plus each value's offset from
// it in a fixed bit width. A constant column (a regular scrape interval, an unchanging
// value) costs no bits at all.
void PutColumn(std::string* out, std::span<const int64_t> values) {
  int64_t lo = values.empty() ? 0 : values[0];
  int64_t hi = lo;
  for (int64_t v : values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const int width = std::bit_width(static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo));
  PutVarsint64(out, lo);
  out->push_back(static_cast<char>(width));
  if (width == 0) return;
  chunk_bits::BitWriter bits;
  bits.Reserve((values.size() * width + 7) / 8 + 8);
  for (int64_t v : values) bits.Write(static_cast<uint64_t>(v) - static_cast<uint64_t>(lo), width);
  bits.AppendTo(out);
}

// Reads one column of `n` values written by PutColumn, one value at a time.
class ColumnReader {
 public:
  // False when the column header or its bytes are truncated.
  bool Init(std::string_view* in, size_t n) {
    if (!GetVarsint64(in, &lo_) || in->empty()) return false;
    width_ = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    if (width_ > 64) return false;
    if (width_ > 0 && n > in->size() * 8) return false;
    const size_t bytes = (n * width_ + 7) / 8;
    if (bytes > in->size()) return false;
    bits_ = chunk_bits::BitReader(in->substr(0, bytes));
    in->remove_prefix(bytes);
    return true;
  }
  // True when every value of the column is `*value` (the column takes no bits).
  bool Constant(int64_t* value) const {
    *value = lo_;
    return width_ == 0;
  }
  // The wrapping sum of the next `n` values, consumed. REQUIRES: n values remain.
  int64_t ConsumeSum(size_t n) {
    return static_cast<int64_t>(static_cast<uint64_t>(lo_) * n + bits_.ConsumeSum(width_, n));
  }
  // REQUIRES: fewer than n values read (Init checked that they are all there).
  int64_t Next() {
    uint64_t offset = 0;
    bits_.Read(width_, &offset);
    return static_cast<int64_t>(static_cast<uint64_t>(lo_) + offset);
  }

 private:
  int64_t lo_ = 0;
  int width_ = 0;
  chunk_bits::BitReader bits_;
};

}  // namespace

bool EncodeDecimalChunk(std::span<const Sample> samples, std::string* out) {
  if (samples.empty()) return false;
  // The smallest scale that represents every value exactly: values before the last
  // increase of k are checked again at the final k.
  int k = 0;
  size_t k_raised_at = 0;
  std::vector<int64_t> mantissas(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const double v = samples[i].value;
    if (!std::isfinite(v) || (v == 0 && std::signbit(v))) return false;
    while (!MantissaAt(v, k, &mantissas[i])) {
      if (++k > kMaxScale) return false;
      k_raised_at = i;
    }
  }
  for (size_t i = 0; i < k_raised_at; ++i) {  // earlier values at the final scale
    if (!MantissaAt(samples[i].value, k, &mantissas[i])) return false;
  }
  // Wrapping arithmetic throughout, so any int64 timestamps round-trip. The mantissa
  // deltas overwrite `mantissas` from the back (m_1 is kept for the header).
  auto at = [&](size_t i) { return static_cast<uint64_t>(samples[i].t_ms); };
  const size_t n = samples.size();
  std::vector<int64_t> dods(n > 2 ? n - 2 : 0);
  for (size_t i = 2; i < n; ++i) {
    dods[i - 2] = static_cast<int64_t>((at(i) - at(i - 1)) - (at(i - 1) - at(i - 2)));
  }
  const int64_t m1 = mantissas[0];
  for (size_t i = n - 1; i >= 1; --i) mantissas[i] -= mantissas[i - 1];

  PutVarint64(out, n);
  PutVarsint64(out, samples[0].t_ms);
  PutVarint64(out, static_cast<uint64_t>(k));
  PutVarsint64(out, m1);
  if (n > 1) {
    PutVarsint64(out, static_cast<int64_t>(at(1) - at(0)));
    PutColumn(out, dods);
    PutColumn(out, std::span<const int64_t>(mantissas).subspan(1));
  }
  return true;
}

absl::Status DecodeDecimalChunk(std::string_view in, std::vector<Sample>* out) {
  return DecodeDecimalChunkRange(in, std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max(), out);
}

absl::Status DecodeDecimalChunkRange(std::string_view in, int64_t start_ms, int64_t end_ms,
                                     std::vector<Sample>* out) {
  auto corrupt = [](const char* what) {
    return absl::DataLossError(std::string("corrupt decimal chunk: ") + what);
  };
  uint64_t count = 0, k = 0;
  int64_t t = 0, m = 0;
  if (!GetVarint64(&in, &count) || !GetVarsint64(&in, &t) || !GetVarint64(&in, &k) ||
      !GetVarsint64(&in, &m)) {
    return corrupt("truncated header");
  }
  // A constant column takes no bytes, so the count is bounded by a sanity cap instead.
  if (count == 0 || count > (1u << 24) || k > kMaxScale) return corrupt("bad header");
  const double scale = kPow10[k];
  // Samples before start_ms only advance the running sums (no division, no copy): an
  // instant query reads the last minutes of a 2-hour chunk.
  auto emit = [&](int64_t ts, int64_t mantissa) {
    if (ts >= start_ms) out->push_back({ts, static_cast<double>(mantissa) / scale});
  };
  if (t > end_ms) return absl::OkStatus();
  emit(t, m);
  if (count == 1) return absl::OkStatus();
  int64_t first_delta = 0;
  ColumnReader dods, deltas;
  if (!GetVarsint64(&in, &first_delta) || !dods.Init(&in, count - 2) ||
      !deltas.Init(&in, count - 1)) {
    return corrupt("truncated columns");
  }
  if (start_ms == std::numeric_limits<int64_t>::min()) out->reserve(out->size() + count - 1);
  uint64_t delta = static_cast<uint64_t>(first_delta);
  uint64_t i = 1;
  // A regular interval (every dod 0) puts sample i at t + i * delta: the samples before
  // start_ms are skipped without walking the timestamps, and their mantissa deltas are
  // only summed. An instant query reads the last minutes of a 2-hour chunk.
  int64_t dod = 0;
  if (start_ms > t && first_delta > 0 && dods.Constant(&dod) && dod == 0) {
    // Samples 1..skip have t + i * delta < start_ms (no wrap: i * delta < start_ms - t).
    const uint64_t gap = static_cast<uint64_t>(start_ms) - static_cast<uint64_t>(t);
    const uint64_t skip = std::min<uint64_t>((gap - 1) / delta, count - 1);
    t = static_cast<int64_t>(static_cast<uint64_t>(t) + skip * delta);
    m = static_cast<int64_t>(static_cast<uint64_t>(m) +
                             static_cast<uint64_t>(deltas.ConsumeSum(skip)));
    i = skip + 1;
  }
  for (; i < count; ++i) {
    if (i >= 2) delta += static_cast<uint64_t>(dods.Next());
    t = static_cast<int64_t>(static_cast<uint64_t>(t) + delta);
    // Timestamps ascend within a chunk: nothing after end_ms is needed.
    if (t > end_ms) break;
    m = static_cast<int64_t>(static_cast<uint64_t>(m) + static_cast<uint64_t>(deltas.Next()));
    emit(t, m);
  }
  return absl::OkStatus();
}

}  // namespace otelbox::storage

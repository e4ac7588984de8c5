#include "storage/metrics/chunk_decimal.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "storage/coding.h"

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
void PutColumn(std::string* out, const std::vector<int64_t>& values) {
  const int64_t lo = values.empty() ? 0 : *std::min_element(values.begin(), values.end());
  const int64_t hi = values.empty() ? 0 : *std::max_element(values.begin(), values.end());
  const int width = std::bit_width(static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo));
  PutVarsint64(out, lo);
  out->push_back(static_cast<char>(width));
  uint64_t acc = 0;
  int acc_bits = 0;
  for (int64_t v : values) {
    uint64_t offset = static_cast<uint64_t>(v) - static_cast<uint64_t>(lo);
    for (int left = width; left > 0;) {  // MSB first, up to 64 bits per value
      int take = std::min(left, 8 - acc_bits);
      acc = (acc << take) | ((offset >> (left - take)) & ((uint64_t{1} << take) - 1));
      acc_bits += take;
      left -= take;
      if (acc_bits == 8) {
        out->push_back(static_cast<char>(acc));
        acc = 0;
        acc_bits = 0;
      }
    }
  }
  if (acc_bits > 0) out->push_back(static_cast<char>(acc << (8 - acc_bits)));
}

bool GetColumn(std::string_view* in, size_t n, std::vector<int64_t>* values) {
  int64_t lo = 0;
  if (!GetVarsint64(in, &lo) || in->empty()) return false;
  const int width = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  if (width > 64) return false;
  const size_t bytes = (n * width + 7) / 8;
  if (bytes > in->size() || (width > 0 && n > in->size() * 8)) return false;
  size_t bit = 0;
  values->resize(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t offset = 0;
    for (int left = width; left > 0;) {
      const int in_byte = static_cast<int>(bit % 8);
      const int take = std::min(left, 8 - in_byte);
      const uint64_t byte = static_cast<uint8_t>((*in)[bit / 8]);
      offset = (offset << take) | ((byte >> (8 - in_byte - take)) & ((uint64_t{1} << take) - 1));
      bit += take;
      left -= take;
    }
    (*values)[i] = static_cast<int64_t>(static_cast<uint64_t>(lo) + offset);
  }
  in->remove_prefix(bytes);
  return true;
}

}  // namespace

bool EncodeDecimalChunk(std::span<const Sample> samples, std::string* out) {
  if (samples.empty()) return false;
  // The smallest scale that represents every value exactly.
  int k = 0;
  std::vector<int64_t> mantissas(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const double v = samples[i].value;
    if (!std::isfinite(v) || (v == 0 && std::signbit(v))) return false;
    while (!MantissaAt(v, k, &mantissas[i])) {
      if (++k > kMaxScale) return false;
    }
  }
  for (size_t i = 0; i < samples.size(); ++i) {  // earlier values at the final scale
    if (!MantissaAt(samples[i].value, k, &mantissas[i])) return false;
  }
  // Wrapping arithmetic throughout, so any int64 timestamps round-trip.
  auto at = [&](size_t i) { return static_cast<uint64_t>(samples[i].t_ms); };
  std::vector<int64_t> dods, deltas;
  for (size_t i = 2; i < samples.size(); ++i) {
    dods.push_back(static_cast<int64_t>((at(i) - at(i - 1)) - (at(i - 1) - at(i - 2))));
  }
  for (size_t i = 1; i < samples.size(); ++i) deltas.push_back(mantissas[i] - mantissas[i - 1]);

  PutVarint64(out, samples.size());
  PutVarsint64(out, samples[0].t_ms);
  PutVarint64(out, static_cast<uint64_t>(k));
  PutVarsint64(out, mantissas[0]);
  if (samples.size() > 1) {
    PutVarsint64(out, static_cast<int64_t>(at(1) - at(0)));
    PutColumn(out, dods);
    PutColumn(out, deltas);
  }
  return true;
}

absl::Status DecodeDecimalChunk(std::string_view in, std::vector<Sample>* out) {
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
  out->push_back({t, static_cast<double>(m) / kPow10[k]});
  if (count == 1) return absl::OkStatus();
  int64_t first_delta = 0;
  std::vector<int64_t> dods, deltas;
  if (!GetVarsint64(&in, &first_delta) || !GetColumn(&in, count - 2, &dods) ||
      !GetColumn(&in, count - 1, &deltas)) {
    return corrupt("truncated columns");
  }
  uint64_t delta = static_cast<uint64_t>(first_delta);
  for (uint64_t i = 1; i < count; ++i) {
    if (i >= 2) delta += static_cast<uint64_t>(dods[i - 2]);
    t = static_cast<int64_t>(static_cast<uint64_t>(t) + delta);
    m = static_cast<int64_t>(static_cast<uint64_t>(m) + static_cast<uint64_t>(deltas[i - 1]));
    out->push_back({t, static_cast<double>(m) / kPow10[k]});
  }
  return absl::OkStatus();
}

}  // namespace otelbox::storage

#include "storage/logs/log_block.h"

#include <algorithm>
#include <cstring>

#include "storage/coding.h"
#include "storage/zstd_column.h"

namespace otelbox::storage {
namespace {

// Block layouts (persisted): columns as zstd frames, or stored raw. Small blocks (the
// typical block of a high-cardinality stream) are stored raw: zstd gains little on a few
// hundred bytes, while RocksDB's LZ4 over neighbouring rows of `log_blocks` shares the
// repeated structure between streams.
constexpr uint8_t kBlockZstd = 1;
constexpr uint8_t kBlockRaw = 2;
constexpr size_t kMinZstdBytes = 4096;

}  // namespace

std::string EncodeLogBlock(std::span<const LogEntryView> entries, int zstd_level,
                           LogBlockSummary* summary) {
  std::string times_lengths, lines, md;
  size_t line_bytes = 0;
  bool any_md = false;
  for (const LogEntryView& e : entries) {
    line_bytes += e.line.size();
    any_md |= !e.metadata.empty();
  }
  lines.reserve(line_bytes);
  times_lengths.reserve(entries.size() * 4);
  int64_t prev = 0;
  int64_t raw_bytes = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const LogEntryView& e = entries[i];
    if (i == 0) {
      PutVarsint64(&times_lengths, e.t_ns);
    } else {
      PutVarint64(&times_lengths, static_cast<uint64_t>(e.t_ns - prev));
    }
    prev = e.t_ns;
    lines.append(e.line);
    raw_bytes += static_cast<int64_t>(e.line.size());
    if (any_md) {
      PutVarint64(&md, e.metadata.size());
      for (const LabelView& l : e.metadata) {
        PutLengthPrefixed(&md, l.name);
        PutLengthPrefixed(&md, l.value);
        raw_bytes += static_cast<int64_t>(l.name.size() + l.value.size());
      }
    }
  }
  for (const LogEntryView& e : entries) PutVarint64(&times_lengths, e.line.size());

  std::string out;
  PutOrderedInt64(&out, entries.back().t_ns);  // max_t first: the retention filter reads it
  const bool zstd = times_lengths.size() + lines.size() + md.size() >= kMinZstdBytes;
  out.push_back(static_cast<char>(zstd ? kBlockZstd : kBlockRaw));
  PutVarint64(&out, entries.size());
  const int level = zstd ? zstd_level : -1;
  PutColumn(&out, times_lengths, level);
  PutColumn(&out, lines, level);
  PutColumn(&out, md, level);
  summary->min_t_ns = entries.front().t_ns;
  summary->max_t_ns = entries.back().t_ns;
  summary->entries = static_cast<int64_t>(entries.size());
  summary->raw_bytes = raw_bytes;
  summary->stored_bytes = static_cast<int64_t>(out.size());
  return out;
}

std::string EncodeLogBlockIndex(const LogBlockSummary& s) {
  std::string v;
  PutOrderedInt64(&v, s.max_t_ns);  // first, as in the data row
  PutVarint64(&v, static_cast<uint64_t>(s.entries));
  PutVarint64(&v, static_cast<uint64_t>(s.raw_bytes));
  PutVarint64(&v, static_cast<uint64_t>(s.stored_bytes));
  return v;
}

bool DecodeLogBlockIndex(std::string_view in, LogBlockSummary* s) {
  uint64_t entries, raw, stored;
  if (!GetOrderedInt64(&in, &s->max_t_ns) || !GetVarint64(&in, &entries) ||
      !GetVarint64(&in, &raw) || !GetVarint64(&in, &stored)) {
    return false;
  }
  s->entries = static_cast<int64_t>(entries);
  s->raw_bytes = static_cast<int64_t>(raw);
  s->stored_bytes = static_cast<int64_t>(stored);
  return true;
}

absl::Status DecodedLogBlock::Decode(std::string_view in, bool metadata) {
  auto corrupt = [] { return absl::DataLossError("corrupt log block"); };
  int64_t max_t;
  uint64_t count;
  if (!GetOrderedInt64(&in, &max_t) || in.empty()) return corrupt();
  const uint8_t layout = static_cast<uint8_t>(in[0]);
  if (layout != kBlockZstd && layout != kBlockRaw) return corrupt();
  const bool zstd = layout == kBlockZstd;
  in.remove_prefix(1);
  if (!GetVarint64(&in, &count) || count == 0 || count > (1u << 28)) return corrupt();

  std::unique_ptr<char[]> tl;
  size_t tl_size = 0, lines_size = 0, md_size = 0;
  if (!GetColumn(&in, &tl, &tl_size, true, zstd)) return corrupt();
  if (!GetColumn(&in, &lines_, &lines_size, true, zstd)) return corrupt();
  if (!GetColumn(&in, &md_bytes_, &md_size, metadata, zstd)) return corrupt();

  std::string_view col(tl.get(), tl_size);
  t_ns_.resize(count);
  line_offsets_.resize(count + 1);
  int64_t t;
  if (!GetVarsint64(&col, &t)) return corrupt();
  t_ns_[0] = t;
  for (size_t i = 1; i < count; ++i) {
    uint64_t d;
    if (!GetVarint64(&col, &d)) return corrupt();
    t += static_cast<int64_t>(d);
    t_ns_[i] = t;
  }
  uint64_t off = 0;
  line_offsets_[0] = 0;
  for (size_t i = 0; i < count; ++i) {
    uint64_t len;
    if (!GetVarint64(&col, &len)) return corrupt();
    off += len;
    if (off > lines_size) return corrupt();
    line_offsets_[i + 1] = static_cast<uint32_t>(off);
  }

  md_.clear();
  md_begin_.clear();
  if (metadata && md_size > 0) {
    std::string_view m(md_bytes_.get(), md_size);
    md_begin_.resize(count + 1);
    for (size_t i = 0; i < count; ++i) {
      md_begin_[i] = static_cast<uint32_t>(md_.size());
      uint64_t n;
      if (!GetVarint64(&m, &n) || n > m.size()) return corrupt();
      for (uint64_t j = 0; j < n; ++j) {
        LabelView l;
        if (!GetLengthPrefixed(&m, &l.name) || !GetLengthPrefixed(&m, &l.value)) return corrupt();
        md_.push_back(l);
      }
    }
    md_begin_[count] = static_cast<uint32_t>(md_.size());
  }
  return absl::OkStatus();
}

int64_t DecodedLogBlock::entry_bytes(size_t i) const {
  int64_t n = static_cast<int64_t>(line_offsets_[i + 1] - line_offsets_[i]);
  for (const LabelView& l : metadata(i)) n += static_cast<int64_t>(l.name.size() + l.value.size());
  return n;
}

std::vector<uint32_t> DecodedLogBlock::EntriesContaining(size_t lo, size_t hi,
                                                         std::string_view needle) const {
  std::vector<uint32_t> out;
  if (lo >= hi) return out;
  std::string_view all(lines_.get() + line_offsets_[lo], line_offsets_[hi] - line_offsets_[lo]);
  const size_t base = line_offsets_[lo];
  size_t from = 0;
  while (from + needle.size() <= all.size()) {
    size_t p = all.find(needle, from);
    if (p == std::string_view::npos) break;
    const uint32_t abs = static_cast<uint32_t>(base + p);
    // The entry holding the hit; a hit that crosses into the next line is no hit.
    size_t i = static_cast<size_t>(std::upper_bound(line_offsets_.begin() + lo, line_offsets_.begin() + hi + 1, abs) -
                                   line_offsets_.begin()) - 1;
    if (abs + needle.size() <= line_offsets_[i + 1]) {
      out.push_back(static_cast<uint32_t>(i));
      from = line_offsets_[i + 1] - base;  // next line
    } else {
      from = p + 1;
    }
  }
  return out;
}

int64_t DecodedLogBlock::RangeBytes(size_t lo, size_t hi) const {
  if (lo >= hi) return 0;
  int64_t n = static_cast<int64_t>(line_offsets_[hi] - line_offsets_[lo]);
  if (!md_begin_.empty()) {
    for (size_t i = lo; i < hi; ++i) {
      for (const LabelView& l : metadata(i)) n += static_cast<int64_t>(l.name.size() + l.value.size());
    }
  }
  return n;
}

size_t DecodedLogBlock::LowerBound(int64_t t_ns) const {
  return static_cast<size_t>(std::lower_bound(t_ns_.begin(), t_ns_.end(), t_ns) - t_ns_.begin());
}

}  // namespace otelbox::storage

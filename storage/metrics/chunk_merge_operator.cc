#include "storage/metrics/chunk_merge_operator.h"

#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "storage/metrics/chunk_mixed.h"
#include "storage/metrics/chunk_xor.h"

namespace otelbox::storage {
namespace {

class ChunkMergeOperator final : public rocksdb::MergeOperator {
 public:
  const char* Name() const override { return "otelbox.XorChunkMerge.v1"; }

  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const noexcept override {
    // A lone operand is already what MergeChunks would make of it (writers encode sorted
    // unique samples with EncodeChunk, which is deterministic), so it is passed through
    // instead of being decoded and re-encoded on every read (bench/promql_bench). A corrupt
    // one then stays as it is; readers decode its valid prefix and log the rest.
    if (!in.existing_value && in.operand_list.size() == 1 && IsChunkTag(in.operand_list[0])) {
      out->existing_operand = in.operand_list[0];
      return true;
    }
    try {
      std::vector<std::string_view> chunks;
      chunks.reserve(in.operand_list.size() + 1);
      if (in.existing_value) chunks.push_back(in.existing_value->ToStringView());
      for (const auto& op : in.operand_list) chunks.push_back(op.ToStringView());
      Merge(in.key, chunks, &out->new_value);
      return true;
    } catch (...) {
      // Only bad_alloc can get here; failing the merge makes RocksDB report corruption
      // for this key instead of terminating the process.
      return false;
    }
  }

  bool PartialMergeMulti(const rocksdb::Slice& key, const std::deque<rocksdb::Slice>& operands,
                         std::string* new_value, rocksdb::Logger*) const noexcept override {
    try {
      std::vector<std::string_view> chunks;
      chunks.reserve(operands.size());
      for (const auto& op : operands) chunks.push_back(op.ToStringView());
      Merge(key, chunks, new_value);
      return true;
    } catch (...) {
      return false;
    }
  }

 private:
  static bool IsChunkTag(const rocksdb::Slice& chunk) {
    return !chunk.empty() && static_cast<uint8_t>(chunk[0]) <= static_cast<uint8_t>(ChunkEncoding::kMixed);
  }

  static void Merge(const rocksdb::Slice& key, const std::vector<std::string_view>& chunks,
                    std::string* out) {
    int corrupt = 0;
    *out = MergeAnyChunks(chunks, &corrupt);
    if (corrupt > 0) {
      LogError("chunk merge skipped " + std::to_string(corrupt) +
               " corrupt operand(s) of chunk key " + key.ToString(/*hex=*/true));
    }
  }
};

}  // namespace

std::shared_ptr<rocksdb::MergeOperator> NewChunkMergeOperator() {
  return std::make_shared<ChunkMergeOperator>();
}

}  // namespace otelbox::storage

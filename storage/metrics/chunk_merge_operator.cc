#include "storage/metrics/chunk_merge_operator.h"

#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "storage/metrics/chunk_xor.h"

namespace otelbox::storage {
namespace {

class ChunkMergeOperator final : public rocksdb::MergeOperator {
 public:
  const char* Name() const override { return "otelbox.XorChunkMerge.v1"; }

  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const noexcept override {
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
  static void Merge(const rocksdb::Slice& key, const std::vector<std::string_view>& chunks,
                    std::string* out) {
    int corrupt = 0;
    *out = MergeChunks(chunks, &corrupt);
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

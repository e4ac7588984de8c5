#pragma once
// The RocksDB merge operator of the `chunks` column family. It is the metric "head": every
// Append adds one operand (an XOR chunk of that batch's samples for one series and window),
// and reads, flushes and compactions fold operands into one sorted chunk, the later
// operand winning on equal timestamps.

#include <memory>

#include "rocksdb/merge_operator.h"

namespace otelbox::storage {

// Never throws; a corrupt operand is logged and contributes only its decodable prefix.
// The name is persisted in RocksDB's OPTIONS file: never change it.
std::shared_ptr<rocksdb::MergeOperator> NewChunkMergeOperator();

}  // namespace otelbox::storage

#pragma once
// The RocksDB merge operator of the `chunks` column family. Every head flush adds one
// operand per series and window (a chunk of the flushed samples), and reads, memtable
// flushes and compactions fold operands into one sorted chunk, the later operand winning
// on equal timestamps. Reads pay for that fold until a compaction has done it once
// (bench/promql_bench shows it in instant queries).

#include <memory>

#include "rocksdb/merge_operator.h"

namespace otelbox::storage {

// Never throws; a corrupt operand is logged and contributes only its decodable prefix.
// The name is persisted in RocksDB's OPTIONS file: never change it.
std::shared_ptr<rocksdb::MergeOperator> NewChunkMergeOperator();

}  // namespace otelbox::storage

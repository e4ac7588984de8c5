#pragma once
// The one RocksDB instance of otelbox and its column families (DESIGN.md "Storage
// decisions"; layouts in storage/FORMAT.md). Only storage/ internals (the metric store)
// see this header; the seams (appender.h, querier.h) never expose RocksDB.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
class CompactionFilter;
class DB;
class Status;
class WriteBufferManager;
}  // namespace rocksdb

namespace otelbox::storage {

class RetentionClock;

// On-disk format version written to `meta`. Opening a database with another version fails.
// 2: chunks start with a ChunkEncoding byte (XOR or decimal).
inline constexpr uint32_t kFormatVersion = 2;

struct DatabaseOptions {
  // Shared by every column family's blocks, index and filter blocks; filled lazily.
  size_t block_cache_bytes = 32 << 20;
  // Cap on all memtables together (WriteBufferManager).
  size_t write_buffer_total_bytes = 128 << 20;
  // Clock for retention (thread-safe); null means the system clock.
  std::function<int64_t()> now_ms;
  // Metric samples, postings and exemplars older than now - this are dropped by
  // compaction. <= 0 disables retention.
  int64_t metric_retention_ms = 15LL * 24 * 3600 * 1000;
  // The same for log entries and spans (their families' compaction filters).
  int64_t log_retention_ms = 15LL * 24 * 3600 * 1000;
  int64_t trace_retention_ms = 15LL * 24 * 3600 * 1000;
};

// Persisted names never change; the enum only indexes handles.
enum class ColumnFamily : int {
  kMeta = 0,
  kSeries,
  kSeriesById,
  kPostings,
  kChunks,
  kExemplars,
  kHeadLog,
  // Logs (storage/logs/): stream identity and postings reuse the label index design of
  // `series`/`series_by_id`/`postings`; entries live in compressed blocks.
  kLogStreams,
  kLogStreamsById,
  kLogPostings,
  kLogBlocks,
  // Traces (storage/traces/): spans by trace id, time-ordered search blocks, tag index.
  kTraces,
  kSpanSearch,
  kTraceTags,
  // Log head records (WAL-style, transient) and per-stream flush watermarks.
  kLogHead,
};
inline constexpr int kNumColumnFamilies = 15;

// Owns the RocksDB instance. Thread-safe (RocksDB is); Close() must not race with users.
class Database {
 public:
  // Creates the directory, database and column families if missing. FailedPrecondition
  // when the database was written by a newer otelbox (format version), Internal/IOError
  // mapped to absl codes otherwise.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& dir,
                                                        const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Closes RocksDB. Safe to call twice; the destructor calls it. After Close, the handles
  // below are null and nothing may use the database.
  absl::Status Close();

  rocksdb::DB* db() const { return db_; }
  rocksdb::ColumnFamilyHandle* cf(ColumnFamily family) const {
    return handles_[static_cast<int>(family)];
  }
  // The retention cutoff shared with the compaction filters.
  const RetentionClock& retention() const { return *retention_; }
  // The log retention cutoff (DatabaseOptions::log_retention_ms).
  const RetentionClock& log_retention() const { return *log_retention_; }
  // The trace retention cutoff (DatabaseOptions::trace_retention_ms).
  const RetentionClock& trace_retention() const { return *trace_retention_; }
  const std::string& dir() const { return dir_; }

  // Sum of rocksdb.live-sst-files-size over column families (bytes on disk).
  uint64_t LiveSstBytes() const;
  // Live SST bytes of one family (benchmarks report where the bytes go).
  uint64_t LiveSstBytes(ColumnFamily family) const;
  static const char* FamilyName(ColumnFamily family);
  // Sum of rocksdb.cur-size-all-mem-tables over column families.
  uint64_t MemtableBytes() const;
  // Flushes every memtable and waits.
  absl::Status FlushAll();
  // Full manual compaction of every column family (runs the retention filters).
  absl::Status CompactAll();

 private:
  Database() = default;
  uint64_t SumProperty(const char* property) const;

  std::string dir_;
  std::unique_ptr<RetentionClock> retention_;
  std::unique_ptr<rocksdb::CompactionFilter> chunk_filter_;
  std::unique_ptr<rocksdb::CompactionFilter> postings_filter_;
  std::unique_ptr<rocksdb::CompactionFilter> exemplar_filter_;
  std::unique_ptr<RetentionClock> log_retention_;
  std::unique_ptr<rocksdb::CompactionFilter> log_blocks_filter_;
  std::unique_ptr<rocksdb::CompactionFilter> log_postings_filter_;
  std::unique_ptr<RetentionClock> trace_retention_;
  std::unique_ptr<rocksdb::CompactionFilter> traces_filter_;
  std::unique_ptr<rocksdb::CompactionFilter> span_search_filter_;
  std::unique_ptr<rocksdb::CompactionFilter> trace_tags_filter_;
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffer_manager_;
  rocksdb::DB* db_ = nullptr;  // owned; raw so that Close() controls the order
  std::array<rocksdb::ColumnFamilyHandle*, kNumColumnFamilies> handles_{};
};

// rocksdb::Status -> absl::Status with the same meaning (STYLE.md 3.3): Corruption is
// DataLoss, NotFound is NotFound, Busy/TimedOut/TryAgain are Unavailable, the rest Internal.
absl::Status ToAbslStatus(const rocksdb::Status& s, std::string_view context);

}  // namespace otelbox::storage

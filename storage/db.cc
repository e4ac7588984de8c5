#include "storage/db.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "rocksdb/cache.h"
#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"
#include "storage/coding.h"
#include "storage/keys.h"
#include "storage/logs/log_retention.h"
#include "storage/metrics/chunk_merge_operator.h"
#include "storage/retention.h"
#include "storage/traces/trace_retention.h"

namespace otelbox::storage {

absl::Status ToAbslStatus(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = std::string(context) + ": " + s.ToString();
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return absl::UnavailableError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsNotSupported()) return absl::UnimplementedError(msg);
  return absl::InternalError(msg);
}

namespace {

// Persisted names, in ColumnFamily order. Never rename.
constexpr const char* kFamilyNames[kNumColumnFamilies] = {
    "meta",        "series",          "series_by_id", "postings",   "chunks",
    "exemplars",   "head_log",        "log_streams",  "log_streams_by_id", "log_postings",
    "log_blocks",  "traces",          "span_search",  "trace_tags",  "log_head"};

rocksdb::CompressionType Supported(rocksdb::CompressionType wanted) {
  for (auto c : rocksdb::GetSupportedCompressions()) {
    if (c == wanted) return wanted;
  }
  return rocksdb::kNoCompression;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& dir,
                                                         const DatabaseOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError("cannot create data directory " + dir + ": " + ec.message());

  std::unique_ptr<Database> d(new Database());
  d->dir_ = dir;
  d->retention_ = std::make_unique<RetentionClock>(options.now_ms, options.metric_retention_ms);
  d->chunk_filter_ = NewChunkRetentionFilter(d->retention_.get());
  d->postings_filter_ = NewPostingsRetentionFilter(d->retention_.get());
  d->exemplar_filter_ = NewExemplarRetentionFilter(d->retention_.get());
  d->log_retention_ = std::make_unique<RetentionClock>(options.now_ms, options.log_retention_ms);
  d->log_blocks_filter_ = NewLogBlockRetentionFilter(d->log_retention_.get());
  d->log_postings_filter_ = NewPostingsRetentionFilter(d->log_retention_.get());
  d->trace_retention_ =
      std::make_unique<RetentionClock>(options.now_ms, options.trace_retention_ms);
  d->traces_filter_ = NewTraceRetentionFilter(d->trace_retention_.get());
  d->span_search_filter_ = NewSpanSearchRetentionFilter(d->trace_retention_.get());
  d->trace_tags_filter_ = NewTraceTagsRetentionFilter(d->trace_retention_.get());
  d->block_cache_ = rocksdb::NewLRUCache(options.block_cache_bytes);
  d->write_buffer_manager_ =
      std::make_shared<rocksdb::WriteBufferManager>(options.write_buffer_total_bytes);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = false;  // created below, in one call
  db_options.max_background_jobs = 2;
  db_options.write_buffer_manager = d->write_buffer_manager_;
  db_options.keep_log_file_num = 5;
  db_options.max_log_file_size = 16 << 20;
  db_options.max_total_wal_size = 256 << 20;  // forces flushes of idle families' memtables

  // Families: small index CFs get LZ4 and, where point lookups happen, bloom filters; the
  // bulky time-series CFs get zstd.
  auto table_options = [&](bool bloom) {
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = d->block_cache_;
    t.cache_index_and_filter_blocks = true;  // bounded memory: index/filter in the cache
    t.pin_l0_filter_and_index_blocks_in_cache = true;
    t.format_version = 5;
    if (bloom) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    return t;
  };
  auto family_options = [&](bool bloom, rocksdb::CompressionType compression,
                            size_t write_buffer_bytes) {
    rocksdb::ColumnFamilyOptions o;
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options(bloom)));
    o.compression = Supported(compression);
    o.bottommost_compression = o.compression;
    o.write_buffer_size = write_buffer_bytes;
    o.max_write_buffer_number = 2;
    o.level_compaction_dynamic_level_bytes = true;
    return o;
  };
  const rocksdb::CompressionType lz4 = rocksdb::kLZ4Compression;
  const rocksdb::CompressionType zstd = rocksdb::kZSTD;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  // RocksDB always has a "default" family; otelbox keeps it empty.
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, family_options(false, lz4, 1 << 20));
  auto meta = family_options(false, lz4, 4 << 20);
  auto series = family_options(true, lz4, 16 << 20);
  auto series_by_id = family_options(true, lz4, 16 << 20);
  auto postings = family_options(false, lz4, 16 << 20);
  postings.compaction_filter = d->postings_filter_.get();
  // Bloom filters on chunks too: instant queries read the newest windows' merge operands
  // by point lookup (GetMergeOperands), which visits every file of every level, and most
  // files (older windows) hold none of those keys (bench/promql_bench).
  auto chunks = family_options(true, zstd, 32 << 20);
  chunks.merge_operator = NewChunkMergeOperator();
  chunks.compaction_filter = d->chunk_filter_.get();
  auto exemplars = family_options(false, zstd, 8 << 20);
  exemplars.compaction_filter = d->exemplar_filter_.get();
  // The head log holds raw samples for seconds to a minute before a head flush deletes
  // them; compressing them would cost CPU on the ingest path for nothing.
  auto head_log = family_options(false, rocksdb::kNoCompression, 32 << 20);
  // Logs and traces: retention filters and per-family tuning belong to their stores.
  auto log_streams = family_options(true, lz4, 8 << 20);
  auto log_streams_by_id = family_options(true, lz4, 8 << 20);
  auto log_postings = family_options(false, lz4, 8 << 20);
  log_postings.compaction_filter = d->log_postings_filter_.get();
  // Large log blocks are zstd already (LZ4 gives up on them cheaply); small ones (streams
  // of a high-cardinality label) are stored raw, and LZ4 over 16 KiB table blocks shares
  // their repeated structure between neighbouring streams.
  auto log_blocks = family_options(false, lz4, 32 << 20);
  {
    auto t = table_options(false);
    t.block_size = 16 << 10;
    log_blocks.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  }
  log_blocks.compaction_filter = d->log_blocks_filter_.get();
  // Like head_log: raw entries held until their stream's head is flushed into blocks.
  auto log_head = family_options(false, rocksdb::kNoCompression, 64 << 20);
  // Spans arrive at hundreds of thousands a second: span groups and search blocks compress
  // themselves (zstd, once, on the ingest and cutter threads), so flushes and compactions
  // only copy them (RocksDB's own compression there was a third of ingest CPU).
  auto traces = family_options(true, rocksdb::kNoCompression, 32 << 20);
  auto span_search = family_options(false, rocksdb::kNoCompression, 32 << 20);
  // Universal compaction: `traces` keys are random (trace ids), so leveled compaction
  // rewrote the whole bottom level every few flushes (a third of ingest CPU at 5M spans);
  // sorted runs merged by size keep the rewrites of each span logarithmic.
  for (auto* o : {&traces, &span_search}) o->compaction_style = rocksdb::kCompactionStyleUniversal;
  auto trace_tags = family_options(false, lz4, 8 << 20);
  traces.compaction_filter = d->traces_filter_.get();
  span_search.compaction_filter = d->span_search_filter_.get();
  trace_tags.compaction_filter = d->trace_tags_filter_.get();
  rocksdb::ColumnFamilyOptions per_family[kNumColumnFamilies] = {
      meta,        series,    series_by_id, postings,          chunks,
      exemplars,   head_log,  log_streams,  log_streams_by_id, log_postings,
      log_blocks,  traces,    span_search,  trace_tags,        log_head};
  for (int i = 0; i < kNumColumnFamilies; ++i) {
    descriptors.emplace_back(kFamilyNames[i], per_family[i]);
  }

  // Open with the families that exist, then create the missing ones in one call: RocksDB's
  // create_missing_column_families writes and fsyncs an OPTIONS file per family, which
  // made a fresh (--ephemeral) start take ~150 ms of fsyncs.
  std::vector<std::string> existing;
  if (!rocksdb::DB::ListColumnFamilies(db_options, dir, &existing).ok()) {
    existing = {rocksdb::kDefaultColumnFamilyName};  // no database yet
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> to_open, to_create;
  std::vector<int> open_index, create_index;  // index into `descriptors`
  for (int i = 0; i < static_cast<int>(descriptors.size()); ++i) {
    bool exists = std::find(existing.begin(), existing.end(), descriptors[i].name) != existing.end();
    (exists ? to_open : to_create).push_back(descriptors[i]);
    (exists ? open_index : create_index).push_back(i);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> opened, created;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, to_open, &opened, &raw);
  if (!s.ok()) return ToAbslStatus(s, "opening RocksDB at " + dir);
  d->db_ = raw;
  if (!to_create.empty()) {
    s = raw->CreateColumnFamilies(to_create, &created);
    if (!s.ok()) {
      for (auto* h : opened) raw->DestroyColumnFamilyHandle(h);
      for (auto* h : created) raw->DestroyColumnFamilyHandle(h);
      return ToAbslStatus(s, "creating column families in " + dir);
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles(descriptors.size());
  for (size_t j = 0; j < opened.size(); ++j) handles[open_index[j]] = opened[j];
  for (size_t j = 0; j < created.size(); ++j) handles[create_index[j]] = created[j];
  // handles[0] is "default": release it, keep the rest in ColumnFamily order.
  raw->DestroyColumnFamilyHandle(handles[0]);
  for (int i = 0; i < kNumColumnFamilies; ++i) d->handles_[i] = handles[i + 1];

  // Format version: written on creation, checked on every open.
  std::string value;
  auto* meta_cf = d->cf(ColumnFamily::kMeta);
  s = raw->Get(rocksdb::ReadOptions(), meta_cf, MetaKey(MetaRecord::kFormatVersion), &value);
  if (s.IsNotFound()) {
    std::string v;
    PutFixed32BE(&v, kFormatVersion);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = raw->Put(wo, meta_cf, MetaKey(MetaRecord::kFormatVersion), v);
    if (!s.ok()) return ToAbslStatus(s, "writing format version");
  } else if (!s.ok()) {
    return ToAbslStatus(s, "reading format version");
  } else {
    std::string_view in = value;
    uint32_t version;
    if (!GetFixed32BE(&in, &version)) {
      return absl::DataLossError("corrupt format version record in " + dir);
    }
    if (version > kFormatVersion) {
      return absl::FailedPreconditionError(
          "data directory " + dir + " has storage format version " + std::to_string(version) +
          ", newer than the version this otelbox supports (" + std::to_string(kFormatVersion) +
          "); run a newer otelbox or use another directory");
    }
    if (version < kFormatVersion) {
      // Only pre-release builds wrote version 1 (untagged XOR chunks); no migration.
      return absl::FailedPreconditionError(
          "data directory " + dir + " has storage format version " + std::to_string(version) +
          " from a pre-release otelbox; this otelbox reads version " +
          std::to_string(kFormatVersion) + " only: use another directory");
    }
  }
  return d;
}

Database::~Database() { Close().IgnoreError(); }

absl::Status Database::Close() {
  if (db_ == nullptr) return absl::OkStatus();
  for (auto*& h : handles_) {
    if (h) db_->DestroyColumnFamilyHandle(h);
    h = nullptr;
  }
  rocksdb::Status s = db_->Close();
  delete db_;
  db_ = nullptr;
  return ToAbslStatus(s, "closing RocksDB");
}

uint64_t Database::SumProperty(const char* property) const {
  if (db_ == nullptr) return 0;
  uint64_t total = 0;
  for (auto* h : handles_) {
    uint64_t v = 0;
    if (h && db_->GetIntProperty(h, property, &v)) total += v;
  }
  return total;
}

uint64_t Database::LiveSstBytes() const {
  return SumProperty(rocksdb::DB::Properties::kLiveSstFilesSize.c_str());
}

uint64_t Database::LiveSstBytes(ColumnFamily family) const {
  uint64_t v = 0;
  if (db_ != nullptr) db_->GetIntProperty(cf(family), rocksdb::DB::Properties::kLiveSstFilesSize, &v);
  return v;
}

const char* Database::FamilyName(ColumnFamily family) { return kFamilyNames[static_cast<int>(family)]; }

uint64_t Database::MemtableBytes() const {
  return SumProperty(rocksdb::DB::Properties::kCurSizeAllMemTables.c_str());
}

absl::Status Database::FlushAll() {
  if (db_ == nullptr) return absl::UnavailableError("database is closed");
  std::vector<rocksdb::ColumnFamilyHandle*> hs(handles_.begin(), handles_.end());
  rocksdb::FlushOptions fo;
  fo.wait = true;
  return ToAbslStatus(db_->Flush(fo, hs), "flushing memtables");
}

absl::Status Database::CompactAll() {
  if (db_ == nullptr) return absl::UnavailableError("database is closed");
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* h : handles_) {
    auto s = db_->CompactRange(co, h, nullptr, nullptr);
    if (!s.ok()) return ToAbslStatus(s, "compacting");
  }
  return absl::OkStatus();
}

}  // namespace otelbox::storage

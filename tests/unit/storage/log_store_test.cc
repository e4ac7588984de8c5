#include "storage/logs/log_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "rocksdb/db.h"
#include "storage/logs/log_keys.h"
#include "test_util.h"

namespace otelbox::storage {
namespace {

using testing::Eq;
using testing::kNowMs;
using testing::Neq;
using testing::Re;
using testing::TempDir;

constexpr int64_t kNs = 1'000'000;  // ns per ms
constexpr int64_t kNowNs = kNowMs * kNs;
constexpr int64_t kSecNs = 1'000'000'000;
constexpr int64_t kHourNs = 3600 * kSecNs;
constexpr int64_t kDayNs = 24 * kHourNs;
constexpr int64_t kRetentionMs = 7LL * 24 * 3600 * 1000;
constexpr std::string_view kTenant = "fake";

LogEntry E(int64_t t_ns, std::string line, std::vector<Label> md = {}) {
  return LogEntry{t_ns, std::move(line), std::move(md)};
}

LogBatch B(std::vector<LogStream> streams) {
  LogBatch b;
  b.streams = std::move(streams);
  return b;
}

struct Got {
  int64_t t_ns;
  std::string line;
  std::vector<Label> md;
  bool operator==(const Got&) const = default;
};

class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(int64_t block_target_bytes = 1 << 20) {
    DatabaseOptions dbo;
    dbo.now_ms = [this] { return now_ms_.load(); };
    dbo.log_retention_ms = kRetentionMs;
    auto db = Database::Open(dir_.path(), dbo);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    LogStoreOptions o;
    o.retention_ms = kRetentionMs;
    o.now_ms = [this] { return now_ms_.load(); };
    o.background_flush = false;
    o.block_target_bytes = block_target_bytes;
    auto store = LogStore::Open(db_.get(), o, nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Reopen(int64_t block_target_bytes = 1 << 20) {
    store_.reset();
    db_.reset();
    Open(block_target_bytes);
  }

  LogAppendStats Write(const LogBatch& batch, std::string_view tenant = kTenant) {
    auto r = store_->Append(tenant, batch);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : LogAppendStats{};
  }

  void Flush() { ASSERT_TRUE(store_->FlushHead().ok()); }

  std::vector<LogStreamRef> Select(const LogMatcherSet& m, int64_t start = kNowNs - kDayNs,
                                   int64_t end = kNowNs + kDayNs, std::string_view tenant = kTenant) {
    auto r = store_->SelectStreams(tenant, m, start, end);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<LogStreamRef>{};
  }

  std::vector<Got> Scan(const LogMatcherSet& m, LogDirection dir = LogDirection::kForward,
                        int64_t start = kNowNs - kDayNs, int64_t end = kNowNs + kDayNs,
                        bool metadata = true, size_t limit = 0,
                        std::string_view tenant = kTenant) {
    std::vector<Got> out;
    for (const LogStreamRef& s : Select(m, start, end, tenant)) {
      LogScanOptions o;
      o.metadata = metadata;
      auto st = store_->ScanStream(tenant, s.id, start, end, dir, o, [&](const LogEntryView& e) {
        Got g{e.t_ns, std::string(e.line), {}};
        for (const LabelView& l : e.metadata) g.md.push_back(Label{std::string(l.name), std::string(l.value)});
        out.push_back(std::move(g));
        return limit == 0 || out.size() < limit;
      });
      EXPECT_TRUE(st.ok()) << st;
    }
    return out;
  }

  static std::vector<std::string> Lines(const std::vector<Got>& got) {
    std::vector<std::string> out;
    for (const Got& g : got) out.push_back(g.line);
    return out;
  }

  TempDir dir_;
  std::atomic<int64_t> now_ms_{kNowMs};
  std::unique_ptr<Database> db_;
  std::unique_ptr<LogStore> store_;
};

const Labels kApi{{"app", "api"}, {"env", "prod"}};
const Labels kWeb{{"app", "web"}, {"env", "prod"}};

TEST_F(LogStoreTest, RoundTripFromHeadBlocksAndAfterRestart) {
  std::vector<Label> md{{"trace_id", "abc"}, {"level", "info"}};
  auto stats = Write(B({{kApi, {E(kNowNs - 3, "one", md), E(kNowNs - 2, "two"), E(kNowNs - 1, "three")}}}));
  EXPECT_EQ(stats.entries_written, 3);
  EXPECT_EQ(stats.streams_created, 1);
  EXPECT_EQ(stats.bytes_written, 11);
  const std::vector<Got> want{{kNowNs - 3, "one", md}, {kNowNs - 2, "two", {}}, {kNowNs - 1, "three", {}}};
  EXPECT_EQ(Scan({Eq("app", "api")}), want);  // read-after-write from the head
  Flush();
  EXPECT_EQ(Scan({Eq("app", "api")}), want);  // from a block
  Reopen();
  EXPECT_EQ(Scan({Eq("app", "api")}), want);
  auto streams = Select({Eq("app", "api")});
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].labels, kApi);
}

TEST_F(LogStoreTest, HeadIsReplayedAfterRestartWithoutDuplicates) {
  Write(B({{kApi, {E(kNowNs - 10, "a"), E(kNowNs - 9, "b")}}}));
  Flush();
  Write(B({{kApi, {E(kNowNs - 8, "c")}}, {kWeb, {E(kNowNs - 7, "w")}}}));
  Reopen();  // "c" and "w" only in log_head
  EXPECT_EQ(Lines(Scan({Eq("app", "api")})), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Lines(Scan({Eq("app", "web")})), (std::vector<std::string>{"w"}));
  Write(B({{kApi, {E(kNowNs - 6, "d")}}}));
  Flush();
  Reopen();
  EXPECT_EQ(Lines(Scan({Eq("app", "api")})), (std::vector<std::string>{"a", "b", "c", "d"}));
  // New streams after a restart get new ids (no reuse).
  Write(B({{Labels{{"app", "new"}}, {E(kNowNs, "n")}}}));
  EXPECT_EQ(Lines(Scan({Eq("app", "new")})), (std::vector<std::string>{"n"}));
  EXPECT_EQ(Lines(Scan({Eq("app", "web")})), (std::vector<std::string>{"w"}));
}

TEST_F(LogStoreTest, OrderingForwardBackwardAndEqualTimestampsKeepPushOrder) {
  const int64_t t = kNowNs - kHourNs;
  Write(B({{kApi, {E(t + 5, "p5"), E(t + 1, "p1a"), E(t + 3, "p3a")}}}));
  Flush();  // block 1
  Write(B({{kApi, {E(t + 3, "p3b"), E(t + 1, "p1b"), E(t + 4, "p4")}}}));
  Flush();  // block 2 overlaps block 1 (out of order)
  Write(B({{kApi, {E(t + 3, "p3c"), E(t + 0, "p0"), E(t + 1, "p1c")}}}));  // head
  const std::vector<std::string> forward{"p0", "p1a", "p1b", "p1c", "p3a", "p3b", "p3c", "p4", "p5"};
  EXPECT_EQ(Lines(Scan({Eq("app", "api")})), forward);
  std::vector<std::string> backward(forward.rbegin(), forward.rend());
  EXPECT_EQ(Lines(Scan({Eq("app", "api")}, LogDirection::kBackward)), backward);
  // [start, end): end exclusive.
  EXPECT_EQ(Lines(Scan({Eq("app", "api")}, LogDirection::kForward, t + 1, t + 4)),
            (std::vector<std::string>{"p1a", "p1b", "p1c", "p3a", "p3b", "p3c"}));
  EXPECT_EQ(Lines(Scan({Eq("app", "api")}, LogDirection::kBackward, t + 1, t + 4, true, 2)),
            (std::vector<std::string>{"p3c", "p3b"}));
}

TEST_F(LogStoreTest, OutOfOrderAcrossHoursAndSmallBlocks) {
  Reopen(/*block_target_bytes=*/64);
  std::vector<LogEntry> entries;
  std::vector<int64_t> ts;
  // 600 entries over 3 days in scrambled order; many blocks of ~64 bytes.
  for (int i = 0; i < 600; ++i) {
    int64_t t = kNowNs - 3 * kDayNs + ((i * 7919) % 600) * 7 * 60 * kSecNs;
    ts.push_back(t);
    entries.push_back(E(t, "line-" + std::to_string(t)));
  }
  for (size_t i = 0; i < entries.size(); i += 50) {
    Write(B({{kApi, std::vector<LogEntry>(entries.begin() + i, entries.begin() + std::min(i + 50, entries.size()))}}));
    if (i % 100 == 0) Flush();
  }
  std::sort(ts.begin(), ts.end());
  auto check = [&](int64_t start, int64_t end) {
    std::vector<int64_t> want;
    for (int64_t t : ts) if (t >= start && t < end) want.push_back(t);
    auto got = Scan({Eq("app", "api")}, LogDirection::kForward, start, end);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].t_ns, want[i]);
      EXPECT_EQ(got[i].line, "line-" + std::to_string(want[i]));
    }
    auto back = Scan({Eq("app", "api")}, LogDirection::kBackward, start, end);
    ASSERT_EQ(back.size(), want.size());
    for (size_t i = 0; i < back.size(); ++i) EXPECT_EQ(back[i].t_ns, want[want.size() - 1 - i]);
  };
  check(kNowNs - 4 * kDayNs, kNowNs + kDayNs);
  check(kNowNs - 2 * kDayNs + 17 * kSecNs, kNowNs - 2 * kDayNs + 5 * kHourNs);
  Flush();
  check(kNowNs - 3 * kDayNs + 30 * 60 * kSecNs, kNowNs - kDayNs);
  Reopen(64);
  check(kNowNs - 4 * kDayNs, kNowNs + kDayNs);
}

TEST_F(LogStoreTest, LargeZstdBlocksRoundTrip) {
  // Blocks above a few KiB are zstd-compressed (small ones are stored raw): both layouts
  // must read back the same, metadata included.
  Reopen(/*block_target_bytes=*/64 << 10);
  std::vector<LogEntry> entries;
  for (int i = 0; i < 5000; ++i) {
    std::vector<Label> md;
    if (i % 3 == 0) md = {{"trace_id", "t" + std::to_string(i)}, {"level", i % 2 ? "info" : "warn"}};
    entries.push_back(E(kNowNs - kHourNs + i * 1000, "{\"i\":" + std::to_string(i) + ",\"msg\":\"hello world\"}", md));
  }
  Write(B({{kApi, entries}}));
  Flush();
  auto got = Scan({Eq("app", "api")});
  ASSERT_EQ(got.size(), entries.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i], (Got{entries[i].t_ns, entries[i].line, entries[i].metadata})) << i;
  }
  auto back = Scan({Eq("app", "api")}, LogDirection::kBackward, kNowNs - kHourNs + 1000 * 1000, kNowNs - kHourNs + 2000 * 1000);
  ASSERT_EQ(back.size(), 1000u);
  EXPECT_EQ(back.front().line, entries[1999].line);
  EXPECT_EQ(back.back().line, entries[1000].line);
  // Stored compressed: well below the raw size.
  ASSERT_TRUE(db_->FlushAll().ok());
  EXPECT_LT(db_->LiveSstBytes(ColumnFamily::kLogBlocks), 5000u * 30);
}

TEST_F(LogStoreTest, MetadataOptional) {
  std::vector<Label> md{{"user_id", "u1"}};
  Write(B({{kApi, {E(kNowNs, "x", md)}}}));
  EXPECT_EQ(Scan({Eq("app", "api")})[0].md, md);
  EXPECT_TRUE(Scan({Eq("app", "api")}, LogDirection::kForward, kNowNs - kDayNs, kNowNs + 1, false)[0].md.empty());
  Flush();
  EXPECT_EQ(Scan({Eq("app", "api")})[0].md, md);
  EXPECT_TRUE(Scan({Eq("app", "api")}, LogDirection::kForward, kNowNs - kDayNs, kNowNs + 1, false)[0].md.empty());
}

TEST_F(LogStoreTest, LineContainsHintVisitsOnlyMatchingLines) {
  Write(B({{kApi, {E(kNowNs - 5, "GET /a status=200"), E(kNowNs - 4, "POST /b status=500"),
                   E(kNowNs - 3, "GET /c status=50"), E(kNowNs - 2, "0 GET /d status=500")}}}));
  auto scan = [&](std::vector<std::string> literals, LogDirection dir) {
    std::vector<std::string> lines;
    auto streams = Select({Eq("app", "api")});
    LogScanOptions o;
    o.line_contains = std::move(literals);
    LogScanStats stats;
    o.stats = &stats;
    EXPECT_TRUE(store_->ScanStream(kTenant, streams[0].id, kNowNs - kDayNs, kNowNs + kDayNs, dir, o,
                                   [&](const LogEntryView& e) { return lines.emplace_back(e.line), true; }).ok());
    return lines;
  };
  for (int stage = 0; stage < 2; ++stage) {  // head, then a block
    if (stage == 1) Flush();
    EXPECT_EQ(scan({"status=500"}, LogDirection::kForward),
              (std::vector<std::string>{"POST /b status=500", "0 GET /d status=500"}));
    EXPECT_EQ(scan({"GET", "status=500"}, LogDirection::kBackward),
              (std::vector<std::string>{"0 GET /d status=500", "POST /b status=500"}));
    // "500" + "0 GET" spans two lines in the concatenated column: no false hit.
    EXPECT_EQ(scan({"=500 GET"}, LogDirection::kForward), std::vector<std::string>{});
    EXPECT_EQ(scan({""}, LogDirection::kForward).size(), 4u);
  }
}

TEST_F(LogStoreTest, RetentionRejectsOldEntriesAndDropsExpiredBlocks) {
  const int64_t old_ns = kNowNs - kRetentionMs * kNs - kSecNs;
  auto stats = Write(B({{kApi, {E(old_ns, "too old"), E(kNowNs - 6 * kDayNs, "kept")}}}));
  EXPECT_EQ(stats.entries_written, 1);
  EXPECT_EQ(stats.entries_rejected, 1);
  ASSERT_EQ(stats.rejections.size(), 1u);
  EXPECT_EQ(stats.rejections[0].reason, LogRejectReason::kTooOld);
  EXPECT_EQ(stats.rejections[0].labels, kApi);
  EXPECT_EQ(stats.rejections[0].message,
            "entry for stream '{app=\"api\", env=\"prod\"}' has timestamp too old: "
            "2024-01-07T23:59:59Z, oldest acceptable timestamp is: 2024-01-08T00:00:00Z");
  Write(B({{kApi, {E(kNowNs, "new")}}}));
  Flush();
  EXPECT_EQ(Lines(Scan({Eq("app", "api")}, LogDirection::kForward, 0, kNowNs + 1)),
            (std::vector<std::string>{"kept", "new"}));
  now_ms_ += 2 * 24 * 3600 * 1000LL;  // "kept" (6 days old) is now out of retention
  EXPECT_EQ(Lines(Scan({Eq("app", "api")}, LogDirection::kForward, 0, kNowNs + 1)),
            (std::vector<std::string>{"new"}));
  ASSERT_TRUE(db_->FlushAll().ok());
  store_->EnforceRetention();
  // Physically gone: one index + one data row remain (the "new" block).
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(ColumnFamily::kLogBlocks)));
  int rows = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++rows;
  EXPECT_EQ(rows, 2);
}

TEST_F(LogStoreTest, RetentionDropsOldDaysFromTheIndex) {
  Write(B({{Labels{{"app", "old"}}, {E(kNowNs - 6 * kDayNs, "o")}}, {Labels{{"app", "new"}}, {E(kNowNs, "n")}}}));
  Flush();
  auto values = [&] {
    auto v = store_->LabelValues(kTenant, "app", {}, 0, kNowNs + kDayNs);
    EXPECT_TRUE(v.ok());
    return v.ok() ? *v : std::vector<std::string>{};
  };
  EXPECT_EQ(values(), (std::vector<std::string>{"new", "old"}));
  now_ms_ += 2 * 24 * 3600 * 1000LL;
  // Reads clamp to the cutoff at once (the "old" day is before it) ...
  EXPECT_EQ(values(), (std::vector<std::string>{"new"}));
  EXPECT_TRUE(Select({Eq("app", "old")}, 0, kNowNs + kDayNs).empty());
  // ... and compaction removes the postings day.
  ASSERT_TRUE(db_->FlushAll().ok());
  store_->EnforceRetention();
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(ColumnFamily::kLogPostings)));
  int rows = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++rows;
  EXPECT_EQ(rows, 1);  // app=new
}

TEST_F(LogStoreTest, VolumeBucketsByStep) {
  const int64_t t0 = kNowNs - kNowNs % (60 * kSecNs) - 10 * 60 * kSecNs;
  Write(B({{kApi, {E(t0 + kSecNs, "aa"), E(t0 + 61 * kSecNs, "bbb"), E(t0 + 62 * kSecNs, "c")}}}));
  auto vol = store_->Volume(kTenant, {Eq("app", "api")}, t0, t0 + 5 * 60 * kSecNs, {"app"}, 60 * kSecNs, 0);
  ASSERT_TRUE(vol.ok()) << vol.status();
  ASSERT_EQ(vol->size(), 2u);
  EXPECT_EQ((*vol)[0].t_ns, t0);
  EXPECT_EQ((*vol)[0].bytes, 2);
  EXPECT_EQ((*vol)[1].t_ns, t0 + 60 * kSecNs);
  EXPECT_EQ((*vol)[1].bytes, 4);
  EXPECT_EQ((*vol)[1].entries, 2);
}

TEST_F(LogStoreTest, StreamWithoutLabelsIsRejected) {
  auto stats = Write(B({{Labels{}, {E(kNowNs, "x")}}, {kApi, {E(kNowNs, "y")}}}));
  EXPECT_EQ(stats.entries_written, 1);
  EXPECT_EQ(stats.entries_rejected, 1);
  ASSERT_EQ(stats.rejections.size(), 1u);
  EXPECT_EQ(stats.rejections[0].reason, LogRejectReason::kNoLabels);
}

TEST_F(LogStoreTest, LabelNamesValuesSeriesAndMatchers) {
  Write(B({{kApi, {E(kNowNs, "a")}},
           {kWeb, {E(kNowNs, "w")}},
           {Labels{{"app", "db"}, {"region", "eu"}}, {E(kNowNs, "d")}}}));
  auto names = store_->LabelNames(kTenant, {}, kNowNs - kHourNs, kNowNs + kHourNs);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"app", "env", "region"}));
  auto names2 = store_->LabelNames(kTenant, {Eq("app", "db")}, kNowNs - kHourNs, kNowNs + kHourNs);
  ASSERT_TRUE(names2.ok());
  EXPECT_EQ(*names2, (std::vector<std::string>{"app", "region"}));
  auto values = store_->LabelValues(kTenant, "app", {}, kNowNs - kHourNs, kNowNs + kHourNs);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::vector<std::string>{"api", "db", "web"}));
  auto values2 = store_->LabelValues(kTenant, "app", {Eq("env", "prod")}, kNowNs - kHourNs, kNowNs + kHourNs);
  ASSERT_TRUE(values2.ok());
  EXPECT_EQ(*values2, (std::vector<std::string>{"api", "web"}));
  auto series = store_->Series(kTenant, {}, kNowNs - kHourNs, kNowNs + kHourNs);
  ASSERT_TRUE(series.ok());
  EXPECT_EQ(series->size(), 3u);
  auto series2 = store_->Series(kTenant, {{Eq("app", "api")}, {Re("app", "w.*")}}, kNowNs - kHourNs, kNowNs + kHourNs);
  ASSERT_TRUE(series2.ok());
  EXPECT_EQ(*series2, (std::vector<Labels>{kApi, kWeb}));
  EXPECT_EQ(Select({Re("app", ".+"), Neq("app", "web")}).size(), 2u);
  EXPECT_EQ(Select({Eq("env", "prod"), Eq("app", "db")}).size(), 0u);
  // Only empty-matching matchers: rejected as Loki does.
  auto bad = store_->SelectStreams(kTenant, {Re("app", ".*")}, kNowNs - kHourNs, kNowNs + kHourNs);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  // Outside the day partitions of the data: nothing.
  EXPECT_TRUE(Select({Eq("app", "api")}, kNowNs - 3 * kDayNs, kNowNs - 2 * kDayNs).empty());
}

TEST_F(LogStoreTest, TenantsAreIsolated) {
  Write(B({{kApi, {E(kNowNs, "fake-line")}}}));
  Write(B({{kApi, {E(kNowNs, "other-line")}}}), "other");
  EXPECT_EQ(Lines(Scan({Eq("app", "api")})), (std::vector<std::string>{"fake-line"}));
  EXPECT_EQ(Lines(Scan({Eq("app", "api")}, LogDirection::kForward, kNowNs - kDayNs, kNowNs + kDayNs, true, 0, "other")),
            (std::vector<std::string>{"other-line"}));
  // Another tenant's stream id scans nothing.
  auto other = Select({Eq("app", "api")}, kNowNs - kDayNs, kNowNs + kDayNs, "other");
  ASSERT_EQ(other.size(), 1u);
  int visited = 0;
  ASSERT_TRUE(store_->ScanStream(kTenant, other[0].id, kNowNs - kDayNs, kNowNs + kDayNs, LogDirection::kForward, {},
                                 [&](const LogEntryView&) { return ++visited, true; }).ok());
  EXPECT_EQ(visited, 0);
}

TEST_F(LogStoreTest, HighCardinalityLabelsAreStreams) {
  // A trace_id sent as a label: every push a new stream. All accepted and queryable.
  constexpr int kStreams = 3000;
  LogBatch batch;
  for (int i = 0; i < kStreams; ++i) {
    batch.streams.push_back({Labels{{"app", "api"}, {"trace_id", "t" + std::to_string(i)}},
                             {E(kNowNs - i, "req " + std::to_string(i))}});
  }
  auto stats = Write(batch);
  EXPECT_EQ(stats.entries_written, kStreams);
  EXPECT_EQ(stats.streams_created, kStreams);
  Flush();
  auto values = store_->LabelValues(kTenant, "trace_id", {}, kNowNs - kHourNs, kNowNs + kHourNs);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(values->size(), static_cast<size_t>(kStreams));
  EXPECT_EQ(Lines(Scan({Eq("trace_id", "t1234")})), (std::vector<std::string>{"req 1234"}));
  EXPECT_EQ(Select({Eq("app", "api")}).size(), static_cast<size_t>(kStreams));
}

TEST_F(LogStoreTest, IndexStatsAndVolume) {
  Write(B({{kApi, {E(kNowNs - 2, "aaaa"), E(kNowNs - 1, "bb")}}, {kWeb, {E(kNowNs, "c")}}}));
  Flush();
  Write(B({{kApi, {E(kNowNs, "dd", {{"k", "v"}})}}}));
  auto st = store_->IndexStats(kTenant, {Eq("env", "prod")}, kNowNs - kHourNs, kNowNs + kHourNs);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->streams, 2);
  EXPECT_EQ(st->chunks, 3);  // api: block + head, web: block
  EXPECT_EQ(st->entries, 4);
  EXPECT_EQ(st->bytes, 4 + 2 + 1 + 2 + 2);
  auto vol = store_->Volume(kTenant, {Eq("env", "prod")}, kNowNs - kHourNs, kNowNs + kHourNs, {"app"}, 0, 0);
  ASSERT_TRUE(vol.ok()) << vol.status();
  ASSERT_EQ(vol->size(), 2u);
  EXPECT_EQ((*vol)[0].labels, (Labels{{"app", "api"}}));
  EXPECT_EQ((*vol)[0].bytes, 10);
  EXPECT_EQ((*vol)[1].labels, (Labels{{"app", "web"}}));
  EXPECT_EQ((*vol)[1].bytes, 1);
  auto top1 = store_->Volume(kTenant, {Eq("env", "prod")}, kNowNs - kHourNs, kNowNs + kHourNs, {}, 0, 1);
  ASSERT_TRUE(top1.ok());
  ASSERT_EQ(top1->size(), 1u);
  EXPECT_EQ((*top1)[0].labels, kApi);
}

TEST_F(LogStoreTest, TailReceivesNewEntriesAndDropsWhenFull) {
  auto sub = store_->Subscribe(kTenant, 3, nullptr);
  std::atomic<int> ready{0};
  auto other = store_->Subscribe("other", 10, [&] { ++ready; });
  Write(B({{kApi, {E(kNowNs, "t1", {{"k", "v"}}), E(kNowNs + 1, "t2")}}}));
  auto got = sub->Take(10, absl::Seconds(1));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].labels, kApi);
  EXPECT_EQ(got[0].entry, E(kNowNs, "t1", {{"k", "v"}}));
  EXPECT_EQ(got[1].entry.line, "t2");
  EXPECT_TRUE(other->Take(10, absl::Milliseconds(10)).empty());
  EXPECT_EQ(ready.load(), 0);
  Write(B({{kApi, {E(kNowNs, "o")}}}), "other");
  EXPECT_EQ(ready.load(), 1);
  EXPECT_EQ(other->Take(10, absl::ZeroDuration()).size(), 1u);
  // Queue of 3: the 4th and 5th are dropped, ingest is not blocked.
  Write(B({{kApi, {E(kNowNs, "1"), E(kNowNs, "2"), E(kNowNs, "3"), E(kNowNs, "4"), E(kNowNs, "5")}}}));
  EXPECT_EQ(sub->Take(10, absl::ZeroDuration()).size(), 3u);
  std::vector<TailedEntry> dropped;
  EXPECT_EQ(sub->TakeDropped(&dropped), 2);
  EXPECT_EQ(dropped.size(), 2u);
  // Rejected entries are not tailed.
  Write(B({{kApi, {E(0, "ancient")}}}));
  EXPECT_TRUE(sub->Take(10, absl::ZeroDuration()).empty());
  sub.reset();  // unsubscribes
  Write(B({{kApi, {E(kNowNs, "after")}}}));
}

TEST_F(LogStoreTest, ConcurrentAppendsFlushesAndScans) {
  Reopen(/*block_target_bytes=*/512);
  constexpr int kThreads = 4, kPerThread = 300;
  std::atomic<bool> done{false};
  std::thread flusher([&] {
    while (!done) {
      EXPECT_TRUE(store_->FlushHead().ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::thread reader([&] {
    while (!done) {
      // Entries of one writer are always seen as a prefix in order, never twice.
      auto got = Scan({Eq("app", "api"), Eq("w", "0")});
      for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i].line, "w0-" + std::to_string(i));
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kThreads; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerThread; ++i) {
        Write(B({{Labels{{"app", "api"}, {"w", std::to_string(w)}},
                  {E(kNowNs + i, "w" + std::to_string(w) + "-" + std::to_string(i))}}}));
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  flusher.join();
  reader.join();
  EXPECT_EQ(Scan({Eq("app", "api")}).size(), static_cast<size_t>(kThreads * kPerThread));
  Reopen(512);
  EXPECT_EQ(Scan({Eq("app", "api")}).size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_F(LogStoreTest, FullHeadPushesBackInsteadOfGrowing) {
  store_.reset();
  LogStoreOptions o;
  o.retention_ms = kRetentionMs;
  o.now_ms = [this] { return now_ms_.load(); };
  o.background_flush = false;  // nothing drains the head until FlushHead
  o.head_max_bytes = 100;
  auto store = LogStore::Open(db_.get(), o, nullptr);
  ASSERT_TRUE(store.ok());
  store_ = std::move(*store);
  Write(B({{kApi, {E(kNowNs, std::string(300, 'x'))}}}));
  auto r = store_->Append(kTenant, B({{kApi, {E(kNowNs, "more")}}}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  Flush();
  Write(B({{kApi, {E(kNowNs, "more")}}}));
  EXPECT_EQ(Scan({Eq("app", "api")}).size(), 2u);
}

TEST_F(LogStoreTest, BackgroundFlusherMovesHeadIntoBlocks) {
  store_.reset();
  LogStoreOptions o;
  o.retention_ms = kRetentionMs;
  o.now_ms = [this] { return now_ms_.load(); };
  o.block_target_bytes = 100;
  auto store = LogStore::Open(db_.get(), o, nullptr);
  ASSERT_TRUE(store.ok());
  store_ = std::move(*store);
  Write(B({{kApi, {E(kNowNs, std::string(200, 'x'))}}}));
  int rows = 0;
  for (int i = 0; i < 100 && rows == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(ColumnFamily::kLogBlocks)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++rows;
  }
  EXPECT_EQ(rows, 2);
  EXPECT_EQ(Scan({Eq("app", "api")}).size(), 1u);
}

}  // namespace
}  // namespace otelbox::storage

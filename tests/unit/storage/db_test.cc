#include "storage/db.h"

#include <gtest/gtest.h>

#include "rocksdb/db.h"
#include "storage/coding.h"
#include "storage/keys.h"
#include "test_util.h"

namespace otelbox::storage {
namespace {

using testing::TempDir;

TEST(DatabaseTest, OpenCreatesFamiliesAndCloseTwice) {
  TempDir dir;
  auto db = Database::Open(dir.path() + "/data", DatabaseOptions{});
  ASSERT_TRUE(db.ok()) << db.status();
  for (int i = 0; i < kNumColumnFamilies; ++i) {
    EXPECT_NE((*db)->cf(static_cast<ColumnFamily>(i)), nullptr);
  }
  ASSERT_TRUE((*db)->db()->Put(rocksdb::WriteOptions(), (*db)->cf(ColumnFamily::kSeries), "k", "v").ok());
  EXPECT_TRUE((*db)->FlushAll().ok());
  EXPECT_GT((*db)->LiveSstBytes(), 0u);
  EXPECT_TRUE((*db)->CompactAll().ok());
  EXPECT_TRUE((*db)->Close().ok());
  EXPECT_TRUE((*db)->Close().ok());
  EXPECT_EQ((*db)->db(), nullptr);
  db->reset();  // destructor after Close

  auto again = Database::Open(dir.path() + "/data", DatabaseOptions{});
  ASSERT_TRUE(again.ok()) << again.status();
  std::string v;
  ASSERT_TRUE((*again)->db()->Get(rocksdb::ReadOptions(), (*again)->cf(ColumnFamily::kSeries), "k", &v).ok());
  EXPECT_EQ(v, "v");
}

// Writes `version` as the stored format version and reopens.
absl::Status ReopenWithVersion(const std::string& dir, uint32_t version) {
  {
    auto db = Database::Open(dir, DatabaseOptions{});
    if (!db.ok()) return db.status();
    std::string v;
    PutFixed32BE(&v, version);
    auto s = (*db)->db()->Put(rocksdb::WriteOptions(), (*db)->cf(ColumnFamily::kMeta),
                              MetaKey(MetaRecord::kFormatVersion), v);
    if (!s.ok()) return absl::InternalError(s.ToString());
  }
  return Database::Open(dir, DatabaseOptions{}).status();
}

TEST(DatabaseTest, RefusesNewerFormatVersion) {
  TempDir dir;
  auto s = ReopenWithVersion(dir.path(), kFormatVersion + 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("newer"), std::string::npos) << s;
}

TEST(DatabaseTest, RefusesPreReleaseFormatVersion) {
  TempDir dir;
  auto s = ReopenWithVersion(dir.path(), 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("pre-release"), std::string::npos) << s;
}

}  // namespace
}  // namespace otelbox::storage

#include "storage/coding.h"

#include <gtest/gtest.h>

#include <limits>

#include "storage/keys.h"

namespace otelbox::storage {
namespace {

TEST(CodingTest, VarintsRoundTrip) {
  std::string buf;
  const uint64_t values[] = {0, 1, 127, 128, 300, uint64_t{1} << 35, ~uint64_t{0}};
  for (uint64_t v : values) PutVarint64(&buf, v);
  const int64_t signed_values[] = {0, -1, 1, -64, 64, std::numeric_limits<int64_t>::min(),
                                   std::numeric_limits<int64_t>::max()};
  for (int64_t v : signed_values) PutVarsint64(&buf, v);
  std::string_view in = buf;
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(got, v);
  }
  for (int64_t v : signed_values) {
    int64_t got;
    ASSERT_TRUE(GetVarsint64(&in, &got));
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(in.empty());
  uint64_t x;
  std::string_view truncated("\x80\x80", 2);
  EXPECT_FALSE(GetVarint64(&truncated, &x));
}

TEST(CodingTest, OrderedIntsSortNumerically) {
  const int64_t values[] = {std::numeric_limits<int64_t>::min(), -7'200'000, -1, 0, 1,
                            7'200'000, std::numeric_limits<int64_t>::max()};
  std::string prev;
  for (int64_t v : values) {
    std::string enc;
    PutOrderedInt64(&enc, v);
    if (!prev.empty()) {
      EXPECT_LT(prev, enc) << v;
    }
    std::string_view in = enc;
    int64_t got;
    ASSERT_TRUE(GetOrderedInt64(&in, &got));
    EXPECT_EQ(got, v);
    prev = enc;
  }
}

TEST(CodingTest, LengthPrefixedAndLabels) {
  std::string buf;
  PutLengthPrefixed(&buf, "hello");
  Labels labels{{"__name__", "up"}, {"job", "api"}};
  PutLabels(&buf, labels);
  std::string_view in = buf;
  std::string_view s;
  ASSERT_TRUE(GetLengthPrefixed(&in, &s));
  EXPECT_EQ(s, "hello");
  Labels got;
  ASSERT_TRUE(GetLabels(&in, &got));
  EXPECT_EQ(got, labels);
  std::string_view bad("\x05hi", 3);
  EXPECT_FALSE(GetLengthPrefixed(&bad, &s));
}

TEST(CodingTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
}

TEST(KeysTest, FloorDivisionForNegativeTimes) {
  EXPECT_EQ(ChunkWindowStart(0), 0);
  EXPECT_EQ(ChunkWindowStart(7'199'999), 0);
  EXPECT_EQ(ChunkWindowStart(-1), -7'200'000);
  EXPECT_EQ(ChunkWindowStart(-7'200'000), -7'200'000);
  EXPECT_EQ(DayOf(-1), -1);
  EXPECT_EQ(DayOf(86'400'000), 1);
}

TEST(KeysTest, PostingKeyParses) {
  std::string key = PostingKey("t", -3, "job", "api", 42);
  PostingKeyParts parts;
  int depth = 0;
  ASSERT_TRUE(ParsePostingKey(key, &parts, &depth));
  EXPECT_EQ(depth, 5);
  EXPECT_EQ(parts.tenant, "t");
  EXPECT_EQ(parts.day, -3);
  EXPECT_EQ(parts.name, "job");
  EXPECT_EQ(parts.value, "api");
  EXPECT_EQ(parts.id, 42u);
  // Chunk keys of one series sort by window start, negative windows first.
  EXPECT_LT(ChunkKey("t", 1, -7'200'000), ChunkKey("t", 1, 0));
  EXPECT_LT(ChunkKey("t", 1, 7'200'000), ChunkKey("t", 2, -7'200'000));
}

}  // namespace
}  // namespace otelbox::storage

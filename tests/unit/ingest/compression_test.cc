#include "ingest/compression.h"

#include <zlib.h>

#include <string>

#include "gtest/gtest.h"
#include "snappy.h"

namespace otelbox::ingest {
namespace {

std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = in.size();
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = out.size();
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(Compression, GzipRoundTrip) {
  const std::string text = "hello hello hello otelbox";
  auto out = InflateGzip(Gzip(text), 1000);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, text);
}

TEST(Compression, ZlibDeflateAccepted) {
  uLongf len = compressBound(5);
  std::string buf(len, '\0');
  ASSERT_EQ(compress(reinterpret_cast<Bytef*>(buf.data()), &len,
                     reinterpret_cast<const Bytef*>("abcde"), 5),
            Z_OK);
  buf.resize(len);
  auto out = DecodeHttpContentEncoding("deflate", buf, 100);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "abcde");
}

TEST(Compression, GzipBombStopsAtLimit) {
  const std::string zeros(10 << 20, '\0');  // 10 MiB of zeros compress to ~10 KiB
  const std::string bomb = Gzip(zeros);
  ASSERT_LT(bomb.size(), 64u << 10);
  auto out = InflateGzip(bomb, 1 << 20);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  // Exactly at the limit is fine.
  auto ok = InflateGzip(bomb, zeros.size());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), zeros.size());
}

TEST(Compression, GzipCorruptAndTruncated) {
  EXPECT_EQ(InflateGzip("not gzip at all", 100).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string gz = Gzip(std::string(1000, 'x') + "tail");
  EXPECT_EQ(InflateGzip(gz.substr(0, gz.size() / 2), 10000).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InflateGzip("", 100).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Compression, SnappyLimitAndCorruption) {
  std::string compressed;
  snappy::Compress(std::string(5000, 'a').data(), 5000, &compressed);
  auto ok = SnappyUncompress(compressed, 5000);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 5000u);
  EXPECT_EQ(SnappyUncompress(compressed, 4999).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(SnappyUncompress("\xff\xff\xff\xff\xff\xff", 100).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SnappyUncompress(compressed.substr(0, compressed.size() - 3), 10000).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Compression, ContentEncodingDispatch) {
  EXPECT_EQ(*DecodeHttpContentEncoding("", "abc", 10), "abc");
  EXPECT_EQ(*DecodeHttpContentEncoding("identity", "abc", 10), "abc");
  EXPECT_EQ(DecodeHttpContentEncoding("", "abc", 2).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(*DecodeHttpContentEncoding("GZIP", Gzip("abc"), 10), "abc");
  EXPECT_EQ(DecodeHttpContentEncoding("br", "abc", 10).status().code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace otelbox::ingest

#include "common/utf8.h"

#include <gtest/gtest.h>

namespace otelbox {
namespace {

TEST(Utf8Test, ValidAndInvalidLikeGo) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xff"));
  uint32_t rune = 0;
  EXPECT_EQ(DecodeUtf8("\xe2\x82\xac", 0, &rune), 3u);
  EXPECT_EQ(rune, 0x20ACu);
}

TEST(Utf8Test, AppendUtf8AsGoAppendRune) {
  std::string s;
  AppendUtf8(&s, 'a');
  AppendUtf8(&s, 0xE9);     // é
  AppendUtf8(&s, 0x20AC);   // €
  AppendUtf8(&s, 0x1F600);  // 😀
  EXPECT_EQ(s, "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  EXPECT_TRUE(IsValidUtf8(s));
  std::string bad;
  AppendUtf8(&bad, 0xD800);    // surrogate
  AppendUtf8(&bad, 0x110000);  // beyond Unicode
  EXPECT_EQ(bad, "\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace otelbox

#pragma once
// UTF-8 validation as Go's unicode/utf8 does it (the peers are Go programs): overlong
// forms, surrogates and code points above U+10FFFF are invalid.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace otelbox {

// Length (1-4) of the valid UTF-8 sequence at s[i], storing its code point in *rune; 0 when
// the bytes there are not valid UTF-8 (including a sequence cut off by the end of s).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* rune);

bool IsValidUtf8(std::string_view s);

// Appends the UTF-8 form of `rune`, as Go's utf8.AppendRune: surrogates and code points
// above U+10FFFF become U+FFFD.
void AppendUtf8(std::string* out, uint32_t rune);

}  // namespace otelbox

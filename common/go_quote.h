#pragma once
// Go's strconv.Quote (what the peers' %q prints in labels strings, error messages and
// formatted queries), for the cases that occur: ASCII escapes as Go writes them (\a \b \f
// \n \r \t \v, \xNN for other control bytes), valid multi-byte UTF-8 kept as it is, and
// each byte of invalid UTF-8 as \xNN.

#include <string>
#include <string_view>

namespace otelbox {

void AppendGoQuoted(std::string* out, std::string_view s);
std::string GoQuote(std::string_view s);

}  // namespace otelbox

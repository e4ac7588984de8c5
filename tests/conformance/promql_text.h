#pragma once
// Small string helpers of the conformance runner. Debian's Abseil has its own
// absl::string_view (not std::string_view), so absl/strings is avoided here.

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace otelbox::conformance {

inline void AppendOne(std::string* out, std::string_view s) { out->append(s); }
inline void AppendOne(std::string* out, const char* s) { out->append(s); }
inline void AppendOne(std::string* out, const std::string& s) { out->append(s); }
inline void AppendOne(std::string* out, char c) { out->push_back(c); }
template <typename T>
  requires std::is_integral_v<T>
void AppendOne(std::string* out, T v) {
  out->append(std::to_string(v));
}

// Concatenates strings, string_views, chars and integers.
template <typename... Args>
void Append(std::string* out, const Args&... args) {
  (AppendOne(out, args), ...);
}
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  Append(&out, args...);
  return out;
}

inline std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && Lower(s.substr(0, prefix.size())) == Lower(prefix);
}

inline std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.append(sep);
    out.append(parts[i]);
  }
  return out;
}

// Splits at any of `seps`, dropping empty pieces when `skip_empty`.
inline std::vector<std::string_view> Split(std::string_view s, std::string_view seps, bool skip_empty) {
  std::vector<std::string_view> out;
  size_t b = 0;
  while (true) {
    size_t e = s.find_first_of(seps, b);
    std::string_view piece = s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
    if (!skip_empty || !piece.empty()) out.push_back(piece);
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  return out;
}

}  // namespace otelbox::conformance

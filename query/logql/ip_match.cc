// ip("...") matching as Loki's ipFilter does it: the pattern is a Go netip address, prefix or
// netipx range; a line (or label value) matches when an address found by Loki's scan — a
// run of IPv4 or IPv6 characters starting where a "hint" says an address may begin — parses
// and falls inside the pattern.

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "query/logql/pipeline_internal.h"

namespace otelbox::query::logql::internal {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int HexVal(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// netip.ParseAddr's IPv4 form: four decimal fields 0-255, no leading zeros.
bool ParseV4(std::string_view s, uint8_t out[4]) {
  int field = 0;
  size_t i = 0;
  while (field < 4) {
    if (i >= s.size() || !IsDigit(s[i])) return false;
    size_t start = i;
    int v = 0;
    while (i < s.size() && IsDigit(s[i])) {
      v = v * 10 + (s[i] - '0');
      if (v > 255) return false;
      ++i;
    }
    if (i - start > 1 && s[start] == '0') return false;  // leading zero
    out[field++] = static_cast<uint8_t>(v);
    if (field < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

// netip.ParseAddr's IPv6 form (with optional embedded IPv4 tail and %zone).
bool ParseV6(std::string_view s, uint8_t out[16], std::string* zone) {
  zone->clear();
  if (size_t pct = s.find('%'); pct != std::string_view::npos) {
    *zone = std::string(s.substr(pct + 1));
    if (zone->empty()) return false;
    s = s.substr(0, pct);
  }
  std::memset(out, 0, 16);
  int ellipsis = -1;
  int i = 0;  // byte index in out
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    ellipsis = 0;
    s.remove_prefix(2);
    if (s.empty()) return true;
  }
  while (i < 16) {
    size_t off = 0;
    int acc = 0;
    while (off < s.size() && off < 5 && IsHexDigit(s[off])) {
      acc = (acc << 4) + HexVal(s[off]);
      ++off;
    }
    if (off == 0 || off > 4) return false;
    if (off < s.size() && s[off] == '.') {
      // Embedded IPv4 tail.
      if (ellipsis < 0 && i != 12) return false;
      if (i + 4 > 16) return false;
      uint8_t v4[4];
      if (!ParseV4(s, v4)) return false;
      std::memcpy(out + i, v4, 4);
      i += 4;
      s = {};
      break;
    }
    out[i] = static_cast<uint8_t>(acc >> 8);
    out[i + 1] = static_cast<uint8_t>(acc);
    i += 2;
    s.remove_prefix(off);
    if (s.empty()) break;
    if (s[0] != ':') return false;
    if (s.size() == 1) return false;
    s.remove_prefix(1);
    if (s[0] == ':') {
      if (ellipsis >= 0) return false;
      ellipsis = i;
      s.remove_prefix(1);
      if (s.empty()) break;
    }
  }
  if (!s.empty()) return false;
  if (i < 16) {
    if (ellipsis < 0) return false;
    int n = 16 - i;
    for (int j = i - 1; j >= ellipsis; --j) out[j + n] = out[j];
    for (int j = ellipsis + n - 1; j >= ellipsis; --j) out[j] = 0;
  } else if (ellipsis >= 0) {
    return false;  // an ellipsis must stand for at least one group
  }
  return true;
}

int CompareAddr(const IpMatcher::Addr& a, const IpMatcher::Addr& b) {
  if (a.v6 != b.v6) return a.v6 ? 1 : -1;
  int n = a.v6 ? 16 : 4;
  int c = std::memcmp(a.bytes, b.bytes, n);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool Ipv4Hint(const char p[4]) {
  return IsDigit(p[0]) && (p[1] == '.' || p[2] == '.' || p[3] == '.');
}
bool Ipv6Hint(const char p[5]) {
  bool h1 = p[0] == ':' && p[1] == ':' && IsHexDigit(p[2]);
  bool h2 = IsHexDigit(p[0]) && p[1] == ':';
  bool h3 = IsHexDigit(p[0]) && IsHexDigit(p[1]) && p[2] == ':';
  bool h4 = IsHexDigit(p[0]) && IsHexDigit(p[1]) && IsHexDigit(p[2]) && p[3] == ':';
  bool h5 = IsHexDigit(p[0]) && IsHexDigit(p[1]) && IsHexDigit(p[2]) && IsHexDigit(p[3]) &&
            p[4] == ':';
  return h1 || h2 || h3 || h4 || h5;
}

}  // namespace

bool IpMatcher::ParseAddr(std::string_view s, Addr* out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c == ':') {
      out->v6 = true;
      return ParseV6(s, out->bytes, &out->zone);
    }
    if (c == '.') break;
  }
  out->v6 = false;
  out->zone.clear();
  return ParseV4(s, out->bytes);
}

absl::StatusOr<IpMatcher> IpMatcher::Create(std::string_view pattern) {
  IpMatcher m;
  if (ParseAddr(pattern, &m.lo_)) {
    m.kind_ = Kind::kAddr;
    return m;
  }
  // netip.ParsePrefix: addr/bits, no zone, bits decimal without leading zeros.
  if (size_t slash = pattern.rfind('/'); slash != std::string_view::npos) {
    std::string_view addr = pattern.substr(0, slash);
    std::string_view bits = pattern.substr(slash + 1);
    Addr a;
    bool ok = ParseAddr(addr, &a) && a.zone.empty() && !bits.empty() && bits.size() <= 3;
    int b = 0;
    for (size_t i = 0; ok && i < bits.size(); ++i) {
      if (!IsDigit(bits[i])) ok = false;
      else b = b * 10 + (bits[i] - '0');
    }
    if (ok && bits.size() > 1 && bits[0] == '0') ok = false;
    if (ok && b > (a.v6 ? 128 : 32)) ok = false;
    if (ok) {
      m.kind_ = Kind::kPrefix;
      m.lo_ = a;
      m.bits_ = b;
      return m;
    }
  }
  // netipx.ParseIPRange: "from-to", same family, from <= to, no zones.
  if (size_t dash = pattern.find('-'); dash != std::string_view::npos) {
    Addr from, to;
    if (ParseAddr(pattern.substr(0, dash), &from) && ParseAddr(pattern.substr(dash + 1), &to) &&
        from.zone.empty() && to.zone.empty() && from.v6 == to.v6 && CompareAddr(from, to) <= 0) {
      m.kind_ = Kind::kRange;
      m.lo_ = from;
      m.hi_ = to;
      return m;
    }
  }
  std::string quoted = "\"";
  quoted.append(pattern);
  quoted += "\"";
  return absl::InvalidArgumentError("ip: invalid pattern: " + quoted);
}

bool IpMatcher::Contains(const Addr& a) const {
  switch (kind_) {
    case Kind::kAddr:
      return CompareAddr(lo_, a) == 0 && lo_.zone == a.zone;
    case Kind::kPrefix: {
      if (a.v6 != lo_.v6 || !a.zone.empty()) return false;  // Prefix.Contains drops zoned addrs
      int full = bits_ / 8, rest = bits_ % 8;
      if (std::memcmp(a.bytes, lo_.bytes, full) != 0) return false;
      if (rest == 0) return true;
      uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
      return (a.bytes[full] & mask) == (lo_.bytes[full] & mask);
    }
    case Kind::kRange:
      if (a.v6 != lo_.v6 || !a.zone.empty()) return false;
      return CompareAddr(lo_, a) <= 0 && CompareAddr(a, hi_) <= 0;
  }
  return false;
}

bool IpMatcher::MatchesIn(std::string_view line) const {
  const size_t n = line.size();
  if (n == 0) return false;
  auto at = [&](size_t i) -> char { return i < n ? line[i] : '\0'; };
  auto span = [&](size_t start, bool v6) {
    size_t i = start;
    for (; i < n; ++i) {
      char c = line[i];
      bool ok = IsDigit(c) || c == '.' || (v6 && (IsHexDigit(c) || c == ':'));
      if (!ok) break;
    }
    return i - start;
  };
  // Every hint needs a '.' (IPv4) or ':' (IPv6) within the 4 bytes after its start, so jump
  // between separators with memchr and only test the few positions before each one. The
  // positions tested, and the skip after a failed parse, are exactly Loki's.
  const char* data = line.data();
  auto next_of = [&](char c, size_t from) -> size_t {
    if (from >= n) return n;
    const void* p = std::memchr(data + from, c, n - from);
    return p ? static_cast<size_t>(static_cast<const char*>(p) - data) : n;
  };
  size_t next_dot = next_of('.', 0), next_colon = next_of(':', 0);
  size_t i = 0;
  while (i < n) {
    if (next_dot < i) next_dot = next_of('.', i);
    if (next_colon < i) next_colon = next_of(':', i);
    size_t sep = std::min(next_dot, next_colon);
    if (sep >= n) return false;
    size_t k = sep >= 4 ? std::max(i, sep - 4) : i;
    bool resumed = false;
    for (; k <= sep; ++k) {
      char p4[4] = {at(k), at(k + 1), at(k + 2), at(k + 3)};
      if (k + 3 < n && Ipv4Hint(p4)) {
        size_t len = span(k, false);
        Addr a;
        if (ParseAddr(line.substr(k, len), &a) && Contains(a)) return true;
        i = k + len + 1;  // Loki: i += iplen, then the loop's i++
        resumed = true;
        break;
      }
      char p5[5] = {at(k), at(k + 1), at(k + 2), at(k + 3), at(k + 4)};
      if (Ipv6Hint(p5)) {
        size_t len = span(k, true);
        Addr a;
        if (ParseAddr(line.substr(k, len), &a) && Contains(a)) return true;
        i = k + len + 1;
        resumed = true;
        break;
      }
    }
    if (!resumed) i = sep + 1;
  }
  return false;
}

}  // namespace otelbox::query::logql::internal

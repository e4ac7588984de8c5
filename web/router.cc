#include "web/router.h"

#include "storage/model/tenant.h"

namespace otelbox::web {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Unescape(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out->push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(c);
    }
  }
  return true;
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

std::string_view HttpRequest::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

bool HttpRequest::HasParam(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return true;
  }
  return false;
}

std::vector<std::string> HttpRequest::Params(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : params) {
    if (k == name) out.push_back(v);
  }
  return out;
}

HttpResponse HttpResponse::Text(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  return HttpResponse{status, "application/json", std::move(body), {}};
}

std::string_view TenantOf(const HttpRequest& request) {
  std::string_view t = request.Header(storage::kTenantHeader);
  return t.empty() ? storage::kDefaultTenant : t;
}

absl::Status ParseFormEncoded(std::string_view text, KeyValues* out) {
  absl::Status first_error;
  while (!text.empty()) {
    size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key, value;
    bool ok = Unescape(pair.substr(0, eq), &key) &&
              (eq == std::string_view::npos || Unescape(pair.substr(eq + 1), &value));
    if (!ok) {
      // Like Go: skip the pair, remember the first error, keep going.
      if (first_error.ok()) {
        first_error = absl::InvalidArgumentError("invalid URL escape in \"" + std::string(pair) + "\"");
      }
      continue;
    }
    out->emplace_back(std::move(key), std::move(value));
  }
  return first_error;
}

void Router::Handle(std::string path, std::vector<std::string> methods, Handler handler) {
  for (auto& r : routes_) {
    if (!r.is_prefix && r.prefix == path) {
      r.methods = std::move(methods);
      r.handler = std::move(handler);
      return;
    }
  }
  Route r;
  r.pattern = path;
  r.prefix = std::move(path);
  r.methods = std::move(methods);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

void Router::HandlePrefix(std::string prefix, std::string suffix, std::string tail_name,
                          std::vector<std::string> methods, Handler handler) {
  Route r;
  r.pattern = prefix + ":" + tail_name + suffix;
  r.prefix = std::move(prefix);
  r.suffix = std::move(suffix);
  r.is_prefix = true;
  r.methods = std::move(methods);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

HttpResponse Router::Dispatch(HttpRequest& request, std::string* pattern) const {
  const std::string& path = request.path;
  for (const auto& r : routes_) {
    std::string tail;
    if (r.is_prefix) {
      if (path.size() <= r.prefix.size() + r.suffix.size()) continue;
      if (path.compare(0, r.prefix.size(), r.prefix) != 0) continue;
      if (path.compare(path.size() - r.suffix.size(), r.suffix.size(), r.suffix) != 0) continue;
      tail = path.substr(r.prefix.size(), path.size() - r.prefix.size() - r.suffix.size());
      if (tail.find('/') != std::string::npos) continue;
    } else if (path != r.prefix) {
      continue;
    }
    *pattern = r.pattern;
    bool allowed = false;
    for (const auto& m : r.methods) allowed = allowed || m == request.method;
    if (!allowed) {
      std::string allow;
      for (const auto& m : r.methods) allow += (allow.empty() ? "" : ", ") + m;
      HttpResponse resp = HttpResponse::Text(
          405, "405 method not allowed, supported: [" + allow + "]\n");
      resp.headers.emplace_back("Allow", allow);
      return resp;
    }
    request.path_tail = std::move(tail);
    return r.handler(request);
  }
  *pattern = "";
  return HttpResponse::Text(404, "404 page not found\n");
}

}  // namespace otelbox::web

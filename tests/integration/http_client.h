#pragma once
// A blocking HTTP/1.1 client for tests (one connection per request), built on Beast.

#include <map>
#include <string>
#include <vector>

namespace otelbox::testing {

struct HttpResult {
  int status = 0;  // 0 when the request failed at the transport level
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;
};

// `host_port` like "127.0.0.1:9090"; `target` like "/api/v1/series?match[]=up".
HttpResult HttpRequest(const std::string& host_port, const std::string& method,
                       const std::string& target, const std::string& body = "",
                       const std::vector<std::pair<std::string, std::string>>& headers = {});

inline HttpResult HttpGet(const std::string& host_port, const std::string& target) {
  return HttpRequest(host_port, "GET", target);
}

// application/x-www-form-urlencoded encoding of one value.
std::string UrlEncode(const std::string& s);

}  // namespace otelbox::testing

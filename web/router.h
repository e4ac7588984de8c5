#pragma once
// Transport-neutral requests, responses and routing. http_server.cc adapts Beast to these;
// handlers never see Beast. A Router is filled before serving starts and is read-only
// afterwards (thread-safe for concurrent Dispatch).

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace otelbox::web {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded, without the query string
  // URL query parameters followed by those of an application/x-www-form-urlencoded body
  // (Go's Request.Form order), decoded ('+' is a space).
  KeyValues params;
  KeyValues headers;   // as received
  std::string body;    // as received (gzip bodies are not decoded)
  // For prefix routes: the part of the path the pattern captured (e.g. a label name).
  std::string path_tail;

  // Case-insensitive; "" when absent.
  std::string_view Header(std::string_view name) const;
  // The first value of `name`, or "" (Go's FormValue).
  std::string_view Param(std::string_view name) const;
  bool HasParam(std::string_view name) const;
  std::vector<std::string> Params(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  KeyValues headers;  // extra headers (e.g. Allow, Retry-After)

  static HttpResponse Text(int status, std::string body);
  static HttpResponse Json(int status, std::string body);
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

// The tenant of a request: X-Scope-OrgID, or storage::kDefaultTenant.
std::string_view TenantOf(const HttpRequest& request);

// Decodes an application/x-www-form-urlencoded string into `out` (appending).
// InvalidArgument on a bad %-escape, as Go's url.ParseQuery.
absl::Status ParseFormEncoded(std::string_view text, KeyValues* out);

class Router {
 public:
  // Exact path. `methods` e.g. {"GET", "POST"}. Registering a path twice replaces it.
  void Handle(std::string path, std::vector<std::string> methods, Handler handler);

  // Paths `prefix` + <tail> + `suffix` where tail is non-empty and has no '/';
  // the tail is passed in HttpRequest::path_tail. Pattern for metrics:
  // prefix + ":tail" + suffix, e.g. "/api/v1/label/:name/values" given `tail_name`.
  void HandlePrefix(std::string prefix, std::string suffix, std::string tail_name,
                    std::vector<std::string> methods, Handler handler);

  // Finds the route; unknown path -> 404 text, known path with another method -> 405 with
  // an Allow header. `*pattern` is the matched route's pattern (or "" when none matched),
  // for the handler label of otelbox_http_requests_total. Handler exceptions propagate.
  HttpResponse Dispatch(HttpRequest& request, std::string* pattern) const;

 private:
  struct Route {
    std::string prefix;  // the exact path for exact routes
    std::string suffix;
    bool is_prefix = false;
    std::string pattern;
    std::vector<std::string> methods;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace otelbox::web

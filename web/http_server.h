#pragma once
// An asynchronous HTTP/1.1 server (Boost.Beast) that hands every request to a Router.
// The io_context is run by the caller on any number of threads; each connection runs on
// its own strand. Limits (body, headers, timeouts) are enforced in the read loop, and
// nothing a client sends can crash or wedge the server: parse errors answer 400 and close,
// oversized bodies 413, handler exceptions 500.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "absl/status/statusor.h"
#include "common/self_metrics.h"
#include "web/router.h"
#include "web/websocket.h"

namespace otelbox::web {

struct ServerLimits {
  // OTLP's recommended 64 MiB plus room for framing; over it: 413.
  size_t body_limit_bytes = (64u << 20) + (64u << 10);
  size_t header_limit_bytes = 64u << 10;  // over it: 431
  // Waiting for (and reading) the request line and headers, including keep-alive idle time.
  std::chrono::milliseconds header_timeout{30000};
  std::chrono::milliseconds body_timeout{60000};
  std::chrono::milliseconds write_timeout{60000};
  bool keep_alive = true;
  // Requests served on one connection before it is closed (0 = no limit).
  size_t max_requests_per_connection = 0;
};

class HttpServer {
 public:
  // `router` (read-only while serving) and `metrics` (may be null) must outlive every
  // connection, i.e. stay alive until the io_context has stopped running.
  HttpServer(boost::asio::io_context& ioc, const Router* router, ServerLimits limits,
             SelfMetrics* metrics);
  // Calls Stop(); connections still open finish on the io_context.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. `host` is an IP address or a resolvable name ("" or
  // "0.0.0.0" = all IPv4 interfaces); port 0 picks a free port. Returns the bound endpoint.
  // May be called several times (several listeners share the router). Thread-safe.
  absl::StatusOr<boost::asio::ip::tcp::endpoint> Listen(const std::string& host, uint16_t port);

  // Serves WebSocket upgrade requests (GET with Upgrade: websocket) for the exact `path`
  // with `route`; other requests on that path still go to the router. Call before Listen().
  // Open WebSocket connections count as connections: Stop() closes them with 1001.
  void HandleWebSocket(std::string path, WebSocketRoute route);

  // Graceful stop, returns at once: acceptors close; idle keep-alive connections close now;
  // requests in flight finish and are answered (with Connection: close), then their
  // connections close. Thread-safe, idempotent.
  void Stop();

  // Blocks until every connection has closed or `timeout` passes; true when all closed.
  // Must not be called from an io_context thread.
  bool WaitForConnections(std::chrono::milliseconds timeout);

  size_t open_connections() const;

  struct State;  // shared with connections (public only for the .cc's helpers)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace otelbox::web

#pragma once
// WebSocket endpoints (RFC 6455) as the application sees them, without Beast: the server
// (http_server.cc → websocket_session.cc) upgrades a GET request on a registered path and
// drives a WebSocketHandler. Used by Loki's live tail (/loki/api/v1/tail).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "web/router.h"

namespace otelbox::web {

// RFC 6455 close codes used here.
inline constexpr uint16_t kWsCloseNormal = 1000;
inline constexpr uint16_t kWsCloseGoingAway = 1001;
inline constexpr uint16_t kWsClosePolicy = 1008;
inline constexpr uint16_t kWsCloseInternalError = 1011;

// The server side of one open WebSocket. Thread-safe; valid as long as a reference is held
// (calls after the connection ended are ignored).
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  // Queues a text frame. False when the connection has ended, or when the peer reads too
  // slowly and the queue passed its limit (the connection is then closed).
  virtual bool SendText(std::string message) = 0;
  // Sends the frames already queued, then a close frame, then ends the connection.
  virtual void Close(uint16_t code, std::string reason) = 0;
};

// The application's side of one connection. Methods are called one at a time (on the
// connection's strand), so they must return quickly; OnClose is called exactly once, last.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void OnOpen(std::shared_ptr<WebSocketConnection> connection) = 0;
  virtual void OnText(std::string_view /*message*/) {}
  virtual void OnClose() = 0;
};

// Called with the upgrade request: a handler accepts it (101 Switching Protocols), an
// HttpResponse refuses it (e.g. 400 for a bad query) and is sent as a normal reply.
using WebSocketRoute = std::function<
    std::variant<std::unique_ptr<WebSocketHandler>, HttpResponse>(const HttpRequest&)>;

}  // namespace otelbox::web

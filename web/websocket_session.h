#pragma once
// Beast implementation of WebSocketConnection (web/websocket.h), started by http_server.cc
// once an upgrade request has been read. One session per connection, on the connection's
// strand: handshake, a read loop (for close frames and pings), and a write queue.

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "web/websocket.h"

namespace otelbox::web {

class WebSocketSession;

// How the server learns that a session is gone (it tracks open sessions to stop them on
// shutdown and to wait for them). Called once, from the session's destructor.
struct WebSocketSessionHooks {
  std::function<void(WebSocketSession*)> on_end;
};

class WebSocketSession final : public WebSocketConnection,
                               public std::enable_shared_from_this<WebSocketSession> {
 public:
  // Takes over the connection (nothing runs yet: the caller registers the session first).
  static std::shared_ptr<WebSocketSession> Create(boost::beast::tcp_stream&& stream,
                                                  std::unique_ptr<WebSocketHandler> handler,
                                                  WebSocketSessionHooks hooks);
  // Answers the upgrade `request` with 101 and runs the handler. Call once.
  void Begin(boost::beast::http::request<boost::beast::http::string_body> request);

  ~WebSocketSession() override;

  bool SendText(std::string message) override;
  void Close(uint16_t code, std::string reason) override;
  // Server shutdown: close with 1001 (going away). Thread-safe.
  void Stop();

  // Frames waiting beyond this many bytes mean the peer is not reading: close.
  static constexpr size_t kMaxQueuedBytes = size_t{16} << 20;

 private:
  WebSocketSession(boost::beast::tcp_stream&& stream, std::unique_ptr<WebSocketHandler> handler,
                   WebSocketSessionHooks hooks);
  void Run(boost::beast::http::request<boost::beast::http::string_body> request);
  void OnAccept(boost::beast::error_code ec);
  void Read();
  void OnRead(boost::beast::error_code ec, size_t bytes);
  void WriteNext();
  void DoClose();
  void Finish();

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer read_buffer_;
  std::unique_ptr<WebSocketHandler> handler_;
  WebSocketSessionHooks hooks_;
  // Strand-only state.
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool open_ = false;          // handshake done, not finished
  bool close_requested_ = false;
  bool close_sent_ = false;
  bool finished_ = false;
  boost::beast::websocket::close_reason close_reason_;
  std::optional<boost::asio::steady_timer> stop_timer_;  // Stop()'s grace period
  // Any thread (SendText's checks without hopping onto the strand).
  std::atomic<size_t> pending_bytes_{0};  // queued text bytes not yet written
  std::atomic<bool> ended_{false};
};

}  // namespace otelbox::web

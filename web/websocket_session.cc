#include "web/websocket_session.h"

// Beast's snake_case stays in this file and http_server.cc (STYLE.md 3.5). The shape
// follows Beast's advanced_server example: the HTTP session hands the socket and the
// upgrade request over; reads and writes run on the connection's strand.

#include <atomic>
#include <exception>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>

#include "common/log.h"

namespace otelbox::web {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;

std::shared_ptr<WebSocketSession> WebSocketSession::Create(
    beast::tcp_stream&& stream, std::unique_ptr<WebSocketHandler> handler,
    WebSocketSessionHooks hooks) {
  return std::shared_ptr<WebSocketSession>(
      new WebSocketSession(std::move(stream), std::move(handler), std::move(hooks)));
}

void WebSocketSession::Begin(http::request<http::string_body> request) {
  net::dispatch(ws_.get_executor(), [self = shared_from_this(), req = std::move(request)]() mutable {
    self->Run(std::move(req));
  });
}

WebSocketSession::WebSocketSession(beast::tcp_stream&& stream,
                                   std::unique_ptr<WebSocketHandler> handler,
                                   WebSocketSessionHooks hooks)
    : ws_(std::move(stream)), handler_(std::move(handler)), hooks_(std::move(hooks)) {}

WebSocketSession::~WebSocketSession() {
  // Finish() normally ran; if the io_context was torn down first, still tell the handler.
  if (handler_) {
    try {
      handler_->OnClose();
    } catch (...) {
    }
  }
  if (hooks_.on_end) hooks_.on_end(this);
}

void WebSocketSession::Run(http::request<http::string_body> request) {
  // The HTTP read timeout no longer applies; websocket's own timeouts take over: a peer
  // that stops answering pings for 60 s is dropped.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeouts =
      websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.idle_timeout = std::chrono::seconds(60);
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(http::field::server, "otelbox");
  }));
  ws_.read_message_max(64 << 10);  // clients of our endpoints send nothing large
  ws_.async_accept(request, beast::bind_front_handler(&WebSocketSession::OnAccept,
                                                      shared_from_this()));
}

void WebSocketSession::OnAccept(beast::error_code ec) {
  if (ec) return Finish();
  open_ = true;
  try {
    handler_->OnOpen(shared_from_this());
  } catch (const std::exception& e) {
    LogError(std::string("websocket handler OnOpen threw: ") + e.what());
    Close(kWsCloseInternalError, "internal error");
  }
  if (close_requested_ && !writing_) {
    DoClose();  // Stop() or Close() came during the handshake
  } else if (!writing_ && !queue_.empty()) {
    WriteNext();
  }
  Read();
}

void WebSocketSession::Read() {
  ws_.async_read(read_buffer_,
                 beast::bind_front_handler(&WebSocketSession::OnRead, shared_from_this()));
}

void WebSocketSession::OnRead(beast::error_code ec, size_t) {
  if (ec) return Finish();  // closed by the peer, by us (DoClose), or a network error
  if (handler_ && ws_.got_text()) {
    const auto data = read_buffer_.data();
    try {
      handler_->OnText(std::string_view(static_cast<const char*>(data.data()), data.size()));
    } catch (const std::exception& e) {
      LogError(std::string("websocket handler OnText threw: ") + e.what());
    }
  }
  read_buffer_.consume(read_buffer_.size());
  Read();
}

bool WebSocketSession::SendText(std::string message) {
  if (ended_.load()) return false;
  const size_t n = message.size();
  if (pending_bytes_.fetch_add(n) + n > kMaxQueuedBytes) {
    pending_bytes_.fetch_sub(n);
    Close(kWsClosePolicy, "client too slow");
    return false;
  }
  net::post(ws_.get_executor(), [self = shared_from_this(), msg = std::move(message)]() mutable {
    if (self->finished_ || self->close_requested_) {
      self->pending_bytes_.fetch_sub(msg.size());
      return;
    }
    self->queue_.push_back(std::move(msg));
    if (!self->writing_ && self->open_) self->WriteNext();
  });
  return true;
}

void WebSocketSession::WriteNext() {
  if (queue_.empty()) {
    writing_ = false;
    if (close_requested_) DoClose();
    return;
  }
  writing_ = true;
  ws_.text(true);
  ws_.async_write(net::buffer(queue_.front()),
                  [self = shared_from_this()](beast::error_code ec, size_t) {
                    self->pending_bytes_.fetch_sub(self->queue_.front().size());
                    self->queue_.pop_front();
                    if (ec) {
                      self->writing_ = false;
                      return;  // the read loop sees the failure and finishes
                    }
                    self->WriteNext();
                  });
}

void WebSocketSession::Close(uint16_t code, std::string reason) {
  net::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)] {
    if (self->finished_ || self->close_requested_) return;
    self->close_requested_ = true;
    self->close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
    if (!self->open_) return;  // the handshake has not finished; OnAccept will see it
    if (!self->writing_) self->DoClose();
  });
}

void WebSocketSession::Stop() {
  Close(kWsCloseGoingAway, "server shutting down");
  // A peer that never answers the close frame must not hold up shutdown: drop the TCP
  // connection after a short grace period.
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    if (self->finished_) return;
    self->stop_timer_.emplace(self->ws_.get_executor());
    self->stop_timer_->expires_after(std::chrono::seconds(2));
    self->stop_timer_->async_wait([self](beast::error_code ec) {
      if (ec || self->finished_) return;
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  });
}

void WebSocketSession::DoClose() {
  if (close_sent_ || finished_) return;
  close_sent_ = true;
  ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code ec) {
    if (ec) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    }
    // The pending read completes with `closed` (or an error) and calls Finish().
  });
}

void WebSocketSession::Finish() {
  if (finished_) return;
  finished_ = true;
  open_ = false;
  if (stop_timer_) stop_timer_->cancel();
  ended_.store(true);
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
  if (handler_) {
    try {
      handler_->OnClose();
    } catch (const std::exception& e) {
      LogError(std::string("websocket handler OnClose threw: ") + e.what());
    }
    handler_.reset();
  }
}

}  // namespace otelbox::web

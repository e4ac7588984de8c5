#include "web/http_server.h"

#include <cctype>

// Beast's snake_case stays in this file (STYLE.md 3.5). The shape follows Beast's
// advanced_server example: a listener per endpoint, a session per connection on a strand,
// read header -> (100-continue) -> read body -> handle -> write -> loop.

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "absl/status/status.h"
#include "common/log.h"
#include "web/websocket_session.h"

namespace otelbox::web {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
class Session;
class Listener;
}  // namespace

struct HttpServer::State {
  State(net::io_context& io, const Router* r, ServerLimits l, SelfMetrics* m)
      : ioc(io), router(r), limits(l), metrics(m) {}
  net::io_context& ioc;
  const Router* router;
  const ServerLimits limits;
  SelfMetrics* metrics;
  std::atomic<bool> stopping{false};

  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<Listener>> listeners;    // guarded by mu
  std::map<Session*, std::weak_ptr<Session>> sessions; // guarded by mu
  // Upgraded connections (web/websocket_session.h), guarded by mu.
  std::map<WebSocketSession*, std::weak_ptr<WebSocketSession>> websockets;
  // Read-only once listening.
  std::map<std::string, WebSocketRoute, std::less<>> websocket_routes;

  void Count(const std::string& handler, int status) {
    if (metrics == nullptr) return;
    metrics
        ->GetCounter("otelbox_http_requests_total",
                     "HTTP requests answered, by route pattern and status code.",
                     "handler=\"" + handler + "\",code=\"" + std::to_string(status) + "\"")
        ->Add();
  }
};

namespace {

using State = HttpServer::State;

bool IEquals(std::string_view a, std::string_view b) {
  return beast::iequals(a, b);
}

bool IsFormContentType(std::string_view ct) {
  constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  if (ct.size() < kForm.size()) return false;
  if (!IEquals(ct.substr(0, kForm.size()), kForm)) return false;
  return ct.size() == kForm.size() || ct[kForm.size()] == ';' || ct[kForm.size()] == ' ';
}

// %XX-decodes a URL path ('+' stays '+', unlike in a query). False on a bad escape.
bool PercentDecodePath(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      return false;
    }
    out->push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
    i += 2;
  }
  return true;
}

// Builds the router's view of a Beast request. A malformed target or form body is 400.
absl::Status ToHttpRequest(http::request<http::string_body>& req, HttpRequest* out) {
  out->method = std::string(req.method_string());
  // Split by hand rather than with a strict RFC 3986 parser: clients (curl, Grafana's
  // Go client, Prometheus' own UI) send raw `[]{}"` in queries like match[]={job="x"},
  // and Go's net/http accepts them.
  std::string_view target = req.target();
  target = target.substr(0, target.find('#'));
  const size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  std::string_view raw_query = q == std::string_view::npos ? "" : target.substr(q + 1);
  if (!PercentDecodePath(raw_path, &out->path)) {
    return absl::InvalidArgumentError("malformed request target");
  }
  if (out->path.empty()) out->path = "/";
  absl::Status st = ParseFormEncoded(raw_query, &out->params);
  if (!st.ok()) return st;
  for (const auto& field : req) {
    out->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out->body = std::move(req.body());
  if ((out->method == "POST" || out->method == "PUT" || out->method == "PATCH") &&
      IsFormContentType(req[http::field::content_type])) {
    st = ParseFormEncoded(out->body, &out->params);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<State> state)
      : stream_(std::move(socket)), executor_(stream_.get_executor()), state_(std::move(state)) {}

  ~Session() {
    std::lock_guard lock(state_->mu);
    state_->sessions.erase(this);
    state_->cv.notify_all();
  }

  void Start() {
    {
      std::lock_guard lock(state_->mu);
      state_->sessions[this] = weak_from_this();
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Cached: the stream may have moved to a WebSocketSession (Upgrade) by the time Stop()
  // asks.
  net::any_io_executor executor() { return executor_; }

  // Posted by HttpServer::Stop onto this session's strand.
  void OnStop() {
    if (!busy_) Close();
    // Busy: the response goes out with Connection: close; ReadHeader then closes.
  }

 private:
  void ReadHeader() {
    busy_ = false;
    if (state_->stopping.load()) {
      Shutdown();
      return;
    }
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(state_->limits.header_limit_bytes));
    parser_->body_limit(state_->limits.body_limit_bytes);
    stream_.expires_after(state_->limits.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // True when `ec` means the peer went away or we gave up waiting: close silently.
  static bool IsDisconnect(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == beast::error::timeout || ec == net::error::operation_aborted ||
           ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::error::bad_descriptor;
  }

  void OnReadError(const beast::error_code& ec) {
    if (ec == http::error::body_limit) {
      WriteError(413, "request body too large\n");
    } else if (ec == http::error::header_limit) {
      WriteError(431, "request header fields too large\n");
    } else if (IsDisconnect(ec)) {
      Close();
    } else {
      WriteError(400, "400 Bad Request\n");
    }
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    busy_ = true;
    auto& req = parser_->get();
    if (IEquals(req[http::field::expect], "100-continue") && !parser_->is_done()) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(state_->limits.write_timeout);
      net::async_write(stream_, net::buffer(kContinue, sizeof kContinue - 1),
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec) return self->Close();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Handle();
    stream_.expires_after(state_->limits.body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    Handle();
  }

  void Handle() {
    http::request<http::string_body> req = parser_->release();
    unsigned version = req.version();
    bool keep_alive = req.keep_alive();
    HttpRequest hr;
    HttpResponse resp;
    std::string pattern;
    absl::Status st = ToHttpRequest(req, &hr);
    if (!st.ok()) {
      // A request we cannot make sense of ends the connection, as for parse errors.
      keep_alive = false;
      resp = HttpResponse::Text(400, "400 Bad Request: " + std::string(st.message()) + "\n");
    } else if (auto route = state_->websocket_routes.find(hr.path);
               route != state_->websocket_routes.end() && beast::websocket::is_upgrade(req)) {
      if (Upgrade(route->first, route->second, req, hr, &resp)) return;
      pattern = route->first;
    } else {
      try {
        resp = state_->router->Dispatch(hr, &pattern);
      } catch (const std::exception& e) {
        LogError(std::string("handler threw: ") + e.what() + " path=" + hr.path);
        resp = HttpResponse::Text(500, "500 Internal Server Error\n");
      } catch (...) {
        LogError("handler threw a non-standard exception path=" + hr.path);
        resp = HttpResponse::Text(500, "500 Internal Server Error\n");
      }
    }
    state_->Count(pattern.empty() ? "none" : pattern, resp.status);
    ++served_;
    keep_alive = keep_alive && state_->limits.keep_alive && !state_->stopping.load() &&
                 (state_->limits.max_requests_per_connection == 0 ||
                  served_ < state_->limits.max_requests_per_connection);
    res_ = {};
    res_.version(version);
    res_.result(static_cast<unsigned>(resp.status));
    if (!resp.content_type.empty()) res_.set(http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) res_.insert(k, v);
    res_.body() = std::move(resp.body);
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    Write(/*linger=*/false);
  }

  // Hands the connection to a WebSocketSession when `route` accepts the request (true);
  // otherwise fills `*resp` with the route's refusal (or a 500).
  bool Upgrade(const std::string& path, const WebSocketRoute& route,
               http::request<http::string_body>& req, const HttpRequest& hr, HttpResponse* resp) {
    std::unique_ptr<WebSocketHandler> handler;
    try {
      auto decided = route(hr);
      if (auto* refusal = std::get_if<HttpResponse>(&decided)) {
        *resp = std::move(*refusal);
        return false;
      }
      handler = std::move(std::get<std::unique_ptr<WebSocketHandler>>(decided));
    } catch (const std::exception& e) {
      LogError(std::string("websocket route threw: ") + e.what() + " path=" + hr.path);
    }
    if (!handler) {
      *resp = HttpResponse::Text(500, "500 Internal Server Error\n");
      return false;
    }
    state_->Count(path, 101);
    std::weak_ptr<State> weak_state = state_;
    WebSocketSessionHooks hooks;
    hooks.on_end = [weak_state](WebSocketSession* ws) {
      auto state = weak_state.lock();
      if (!state) return;
      std::lock_guard lock(state->mu);
      state->websockets.erase(ws);
      state->cv.notify_all();
    };
    std::shared_ptr<WebSocketSession> ws;
    {
      // One step under the lock: this HTTP session (whose stream moves away) leaves the
      // tracked set as the WebSocket session joins it, so Stop() and WaitForConnections()
      // see exactly one of them.
      std::lock_guard lock(state_->mu);
      state_->sessions.erase(this);
      ws = WebSocketSession::Create(std::move(stream_), std::move(handler), std::move(hooks));
      state_->websockets[ws.get()] = ws;
    }
    ws->Begin(std::move(req));
    if (state_->stopping.load()) ws->Stop();
    return true;
  }

  // Answers a request we could not read, then closes (draining what the client still sends,
  // so that it sees the answer rather than a reset).
  void WriteError(int status, std::string body) {
    state_->Count("none", status);
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(status));
    res_.set(http::field::content_type, "text/plain; charset=utf-8");
    res_.body() = std::move(body);
    res_.keep_alive(false);
    res_.prepare_payload();
    Write(/*linger=*/true);
  }

  void Write(bool linger) {
    busy_ = true;
    stream_.expires_after(state_->limits.write_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this(), linger](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        if (linger) return self->LingerClose();
                        if (!self->res_.keep_alive()) return self->Shutdown();
                        self->ReadHeader();
                      });
  }

  void Shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    Close();
  }

  void LingerClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    drain_.resize(16 << 10);
    drain_budget_ = 4 << 20;
    stream_.expires_after(std::chrono::seconds(2));
    Drain();
  }

  void Drain() {
    stream_.async_read_some(net::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec || n >= self->drain_budget_) return self->Close();
                              self->drain_budget_ -= n;
                              self->Drain();
                            });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  net::any_io_executor executor_;
  beast::flat_buffer buffer_;
  std::shared_ptr<State> state_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::vector<char> drain_;
  size_t drain_budget_ = 0;
  size_t served_ = 0;
  bool busy_ = false;  // a request is being read past its header, handled or answered
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::shared_ptr<State> state)
      : state_(std::move(state)),
        acceptor_(net::make_strand(state_->ioc)),
        retry_timer_(acceptor_.get_executor()) {}

  absl::Status Open(const tcp::endpoint& endpoint) {
    beast::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError("cannot listen on " + endpoint.address().to_string() + ":" +
                                    std::to_string(endpoint.port()) + ": " + ec.message());
    }
    return absl::OkStatus();
  }

  tcp::endpoint local_endpoint() const {
    beast::error_code ec;
    return acceptor_.local_endpoint(ec);
  }

  void Start() {
    net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->Accept(); });
  }

  void Close() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
      self->retry_timer_.cancel();
    });
  }

 private:
  void Accept() {
    if (!acceptor_.is_open()) return;
    acceptor_.async_accept(net::make_strand(state_->ioc),
                           beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // E.g. out of file descriptors: back off briefly instead of spinning.
      LogWarn("accept failed: " + ec.message());
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([self = shared_from_this()](beast::error_code) { self->Accept(); });
      return;
    }
    if (state_->stopping.load()) {
      socket.close(ec);
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<Session>(std::move(socket), state_)->Start();
    Accept();
  }

  std::shared_ptr<State> state_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
};

}  // namespace

HttpServer::HttpServer(net::io_context& ioc, const Router* router, ServerLimits limits,
                       SelfMetrics* metrics)
    : state_(std::make_shared<State>(ioc, router, limits, metrics)) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<tcp::endpoint> HttpServer::Listen(const std::string& host, uint16_t port) {
  if (state_->stopping.load()) return absl::FailedPreconditionError("server is stopping");
  beast::error_code ec;
  net::ip::address address;
  if (host.empty()) {
    address = net::ip::address_v4::any();
  } else {
    address = net::ip::make_address(host, ec);
    if (ec) {
      tcp::resolver resolver(state_->ioc);
      auto results = resolver.resolve(host, std::to_string(port), ec);
      if (ec || results.empty()) {
        return absl::InvalidArgumentError("cannot resolve listen address \"" + host + "\"");
      }
      address = results.begin()->endpoint().address();
    }
  }
  auto listener = std::make_shared<Listener>(state_);
  absl::Status st = listener->Open(tcp::endpoint(address, port));
  if (!st.ok()) return st;
  tcp::endpoint bound = listener->local_endpoint();
  {
    std::lock_guard lock(state_->mu);
    state_->listeners.push_back(listener);
  }
  listener->Start();
  return bound;
}

void HttpServer::HandleWebSocket(std::string path, WebSocketRoute route) {
  state_->websocket_routes[std::move(path)] = std::move(route);
}

void HttpServer::Stop() {
  state_->stopping.store(true);
  std::vector<std::shared_ptr<Listener>> listeners;
  std::vector<std::shared_ptr<Session>> sessions;
  std::vector<std::shared_ptr<WebSocketSession>> websockets;
  {
    std::lock_guard lock(state_->mu);
    listeners.swap(state_->listeners);
    for (auto& [ptr, weak] : state_->sessions) {
      if (auto s = weak.lock()) sessions.push_back(std::move(s));
    }
    for (auto& [ptr, weak] : state_->websockets) {
      if (auto ws = weak.lock()) websockets.push_back(std::move(ws));
    }
  }
  for (auto& ws : websockets) ws->Stop();
  for (auto& l : listeners) l->Close();
  for (auto& s : sessions) {
    // Each session runs on its own strand; ask it there.
    net::post(s->executor(), [s] { s->OnStop(); });
  }
}

bool HttpServer::WaitForConnections(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  return state_->cv.wait_for(lock, timeout, [&] {
    return state_->sessions.empty() && state_->websockets.empty();
  });
}

size_t HttpServer::open_connections() const {
  std::lock_guard lock(state_->mu);
  return state_->sessions.size() + state_->websockets.size();
}

}  // namespace otelbox::web

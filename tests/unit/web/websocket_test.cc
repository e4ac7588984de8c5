// WebSocket upgrades through HttpServer::HandleWebSocket (web/websocket.h).

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "web/http_server.h"

namespace otelbox::web {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Sends "hello" on open, echoes text, counts closes.
class EchoHandler : public WebSocketHandler {
 public:
  explicit EchoHandler(std::atomic<int>* closed) : closed_(closed) {}
  void OnOpen(std::shared_ptr<WebSocketConnection> c) override {
    conn_ = std::move(c);
    conn_->SendText("hello");
  }
  void OnText(std::string_view m) override {
    if (m == "bye") {
      conn_->Close(kWsCloseNormal, "bye");
      return;
    }
    conn_->SendText("echo:" + std::string(m));
  }
  void OnClose() override {
    closed_->fetch_add(1);
    conn_.reset();
  }

 private:
  std::atomic<int>* closed_;
  std::shared_ptr<WebSocketConnection> conn_;
};

class WebSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Handle("/ws", {"GET"}, [](const HttpRequest&) {
      return HttpResponse::Text(400, "not an upgrade");
    });
    server_ = std::make_unique<HttpServer>(ioc_, &router_, ServerLimits{}, nullptr);
    server_->HandleWebSocket(
        "/ws", [this](const HttpRequest& r)
                   -> std::variant<std::unique_ptr<WebSocketHandler>, HttpResponse> {
          if (r.Param("refuse") == "1") return HttpResponse::Text(400, "refused: bad query");
          return std::make_unique<EchoHandler>(&closed_);
        });
    auto ep = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(ep.ok()) << ep.status();
    port_ = ep->port();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }

  void TearDown() override {
    server_->Stop();
    EXPECT_TRUE(server_->WaitForConnections(std::chrono::seconds(5)));
    ioc_.stop();
    for (auto& t : threads_) t.join();
  }

  std::unique_ptr<websocket::stream<tcp::socket>> Dial(const std::string& target,
                                                       beast::error_code* ec,
                                                       websocket::response_type* res) {
    auto ws = std::make_unique<websocket::stream<tcp::socket>>(client_ioc_);
    ws->next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    ws->handshake(*res, "127.0.0.1", target, *ec);
    return ws;
  }

  std::string Read(websocket::stream<tcp::socket>& ws) {
    beast::flat_buffer buf;
    ws.read(buf);
    return beast::buffers_to_string(buf.data());
  }

  net::io_context ioc_{2};
  net::io_context client_ioc_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<int> closed_{0};
};

TEST_F(WebSocketTest, UpgradesEchoesAndClosesNormally) {
  beast::error_code ec;
  websocket::response_type res;
  auto ws = Dial("/ws?query=x", &ec, &res);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 101);
  EXPECT_EQ(Read(*ws), "hello");
  ws->write(net::buffer(std::string("ping")));
  EXPECT_EQ(Read(*ws), "echo:ping");
  ws->write(net::buffer(std::string("bye")));
  beast::flat_buffer buf;
  ws->read(buf, ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(ws->reason().code, websocket::close_code::normal);
  for (int i = 0; i < 100 && closed_.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(closed_.load(), 1);
}

TEST_F(WebSocketTest, RefusalIsAnHttpResponse) {
  beast::error_code ec;
  websocket::response_type res;
  auto ws = Dial("/ws?refuse=1", &ec, &res);
  EXPECT_TRUE(ec);
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(res.body(), "refused: bad query");
}

TEST_F(WebSocketTest, PlainGetGoesToTheRouter) {
  tcp::socket s(client_ioc_);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  http::request<http::string_body> req{http::verb::get, "/ws", 11};
  req.set(http::field::host, "x");
  http::write(s, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(res.body(), "not an upgrade");
}

TEST_F(WebSocketTest, ServerStopClosesWithGoingAway) {
  beast::error_code ec;
  websocket::response_type res;
  auto ws = Dial("/ws", &ec, &res);
  ASSERT_FALSE(ec);
  EXPECT_EQ(Read(*ws), "hello");
  EXPECT_EQ(server_->open_connections(), 1u);
  server_->Stop();
  beast::flat_buffer buf;
  ws->read(buf, ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(ws->reason().code, websocket::close_code::going_away);
  EXPECT_TRUE(server_->WaitForConnections(std::chrono::seconds(5)));
  EXPECT_EQ(closed_.load(), 1);
}

}  // namespace
}  // namespace otelbox::web

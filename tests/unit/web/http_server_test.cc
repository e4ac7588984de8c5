#include "web/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace otelbox::web {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Handle("/echo", {"GET", "POST"}, [](const HttpRequest& r) {
      std::string out = r.method + " " + r.path;
      for (const auto& [k, v] : r.params) out += " " + k + "=" + v;
      out += " body=" + std::to_string(r.body.size());
      out += " enc=" + std::string(r.Header("content-encoding"));
      return HttpResponse::Text(200, out);
    });
    router_.Handle("/throw", {"GET"}, [](const HttpRequest&) -> HttpResponse {
      throw std::runtime_error("boom");
    });
    router_.Handle("/slow", {"GET"}, [this](const HttpRequest&) {
      slow_entered_.set_value();
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      return HttpResponse::Text(200, "slow done");
    });
    ServerLimits limits;
    limits.body_limit_bytes = 1024;
    limits.header_timeout = std::chrono::milliseconds(2000);
    server_ = std::make_unique<HttpServer>(ioc_, &router_, limits, &metrics_);
    auto ep = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(ep.ok()) << ep.status();
    endpoint_ = *ep;
    ASSERT_NE(endpoint_.port(), 0);
    work_.emplace(ioc_.get_executor());
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }

  void TearDown() override {
    server_->Stop();
    server_->WaitForConnections(std::chrono::seconds(5));
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) t.join();
  }

  tcp::socket Connect() {
    tcp::socket s(client_ioc_);
    s.connect(endpoint_);
    return s;
  }

  http::response<http::string_body> Send(tcp::socket& s, http::request<http::string_body> req) {
    req.set(http::field::host, "localhost");
    req.prepare_payload();
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return res;
  }

  http::response<http::string_body> Get(const std::string& target) {
    auto s = Connect();
    return Send(s, http::request<http::string_body>(http::verb::get, target, 11));
  }

  // Reads until the server closes; returns everything received.
  std::string ReadAll(tcp::socket& s) {
    std::string out;
    char buf[4096];
    beast::error_code ec;
    while (true) {
      size_t n = s.read_some(net::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }

  net::io_context ioc_;
  net::io_context client_ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  Router router_;
  SelfMetrics metrics_;
  std::unique_ptr<HttpServer> server_;
  tcp::endpoint endpoint_;
  std::promise<void> slow_entered_;
};

TEST_F(HttpServerTest, ServesAndMergesQueryAndForm) {
  auto s = Connect();
  http::request<http::string_body> req(http::verb::post, "/echo?a=1&b=x%20y", 11);
  req.set(http::field::content_type, "application/x-www-form-urlencoded");
  req.body() = "c=3&a=2";
  auto res = Send(s, req);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "POST /echo a=1 b=x y c=3 a=2 body=7 enc=");
  EXPECT_EQ(res[http::field::content_type], "text/plain; charset=utf-8");
  // Keep-alive: a second request on the same connection.
  res = Send(s, http::request<http::string_body>(http::verb::get, "/echo", 11));
  EXPECT_EQ(res.body(), "GET /echo body=0 enc=");
  EXPECT_NE(metrics_.RenderText().find("otelbox_http_requests_total{handler=\"/echo\",code=\"200\"} 2"),
            std::string::npos)
      << metrics_.RenderText();
}

TEST_F(HttpServerTest, GzipBodyPassedThrough) {
  auto s = Connect();
  http::request<http::string_body> req(http::verb::post, "/echo", 11);
  req.set(http::field::content_encoding, "gzip");
  req.set(http::field::content_type, "application/x-protobuf");
  req.body() = std::string("\x1f\x8b\x08\x00", 4);
  auto res = Send(s, req);
  EXPECT_EQ(res.body(), "POST /echo body=4 enc=gzip");
}

TEST_F(HttpServerTest, NotFoundMethodNotAllowedAndException) {
  EXPECT_EQ(Get("/nope").result_int(), 404);
  auto s = Connect();
  auto res = Send(s, http::request<http::string_body>(http::verb::delete_, "/echo", 11));
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(Get("/throw").result_int(), 500);
  EXPECT_EQ(Get("/echo").result_int(), 200);  // still serving
}

TEST_F(HttpServerTest, BodyOverLimitIs413) {
  auto s = Connect();
  http::request<http::string_body> req(http::verb::post, "/echo", 11);
  req.body() = std::string(4096, 'x');
  auto res = Send(s, req);
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_FALSE(res.keep_alive());
  // Chunked bodies are limited too.
  auto s2 = Connect();
  std::string chunked =
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
      std::string(2048, 'y') + "\r\n0\r\n\r\n";
  net::write(s2, net::buffer(chunked));
  EXPECT_NE(ReadAll(s2).find("HTTP/1.1 413"), std::string::npos);
  EXPECT_EQ(Get("/echo").result_int(), 200);
}

TEST_F(HttpServerTest, GarbageGets400AndServerKeepsServing) {
  for (std::string garbage : {std::string("\x00\x01\x02 garbage\r\n\r\n", 17),
                              std::string("GET /echo HTTP/9.9\r\n\r\n"),
                              std::string("GET /echo?a=%zz HTTP/1.1\r\nHost: x\r\n\r\n"),
                              std::string("POST /echo HTTP/1.1\r\nContent-Length: -5\r\n\r\n")}) {
    auto s = Connect();
    net::write(s, net::buffer(garbage));
    auto t0 = std::chrono::steady_clock::now();
    std::string reply = ReadAll(s);
    EXPECT_NE(reply.find(" 400 "), std::string::npos) << reply;
    // The answer comes at once, not after a timeout.
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1500)) << garbage;
  }
  // A client that connects and goes away, and one that sends half a request.
  { auto s = Connect(); }
  {
    auto s = Connect();
    net::write(s, net::buffer(std::string("GET /ec")));
  }
  EXPECT_EQ(Get("/echo").result_int(), 200);
}

TEST_F(HttpServerTest, StopFinishesInFlightRequest) {
  auto entered = slow_entered_.get_future();
  auto reply = std::async(std::launch::async, [this] { return Get("/slow"); });
  ASSERT_EQ(entered.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  // An idle keep-alive connection is closed at once by Stop().
  auto idle = Connect();
  Send(idle, http::request<http::string_body>(http::verb::get, "/echo", 11));
  server_->Stop();
  auto res = reply.get();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "slow done");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(server_->WaitForConnections(std::chrono::seconds(5)));
  EXPECT_EQ(ReadAll(idle), "");  // closed without another response
  // No longer accepting.
  tcp::socket s(client_ioc_);
  beast::error_code ec;
  s.connect(endpoint_, ec);
  if (!ec) {
    // The connect may race the acceptor close; then the server closes it unanswered.
    EXPECT_EQ(ReadAll(s), "");
  }
}

TEST(HttpServerListenTest, BadAddress) {
  net::io_context ioc;
  Router router;
  HttpServer server(ioc, &router, ServerLimits{}, nullptr);
  EXPECT_FALSE(server.Listen("256.1.1.1.1", 0).ok());
  auto a = server.Listen("127.0.0.1", 0);
  ASSERT_TRUE(a.ok());
  auto b = server.Listen("127.0.0.1", 0);  // a second listener
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->port(), b->port());
}

}  // namespace
}  // namespace otelbox::web

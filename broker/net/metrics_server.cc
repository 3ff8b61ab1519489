#include "broker/net/metrics_server.h"

#include <memory>
#include <optional>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "base/fd_limit.h"
#include "base/listen.h"
#include "base/secret_file.h"

namespace txmsg::broker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

// One HTTP connection: request, response, repeat while keep-alive.
class MetricsConnection : public std::enable_shared_from_this<MetricsConnection> {
 public:
  MetricsConnection(tcp::socket socket, const MetricsServer::Render& render,
                    const std::string& token)
      : stream_(std::move(socket)), render_(render), token_(token) {}

  void Read() {
    parser_.emplace();
    parser_->body_limit(4096);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec) self->Respond();
                     });
  }

 private:
  void Respond() {
    const auto& req = parser_->get();
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(req.version());
    res->keep_alive(req.keep_alive());
    if (req.method() == http::verb::get && req.target() == "/metrics" && !Authorized(req)) {
      res->result(http::status::unauthorized);
      res->set(http::field::www_authenticate, "Bearer");
      res->set(http::field::content_type, "text/plain");
      res->body() = "unauthorized: /metrics needs Authorization: Bearer <token>\n";
    } else if (req.method() == http::verb::get && req.target() == "/metrics") {
      res->result(http::status::ok);
      res->set(http::field::content_type, "text/plain; version=0.0.4");
      res->body() = render_();
    } else {
      res->result(http::status::not_found);
      res->set(http::field::content_type, "text/plain");
      res->body() = "not found: the broker serves GET /metrics\n";
    }
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        if (!ec && res->keep_alive()) self->Read();
                      });
  }

  bool Authorized(const http::request<http::string_body>& req) const {
    if (token_.empty()) return true;
    const auto header = req[http::field::authorization];
    constexpr std::string_view kScheme = "Bearer ";
    const std::string_view value(header.data(), header.size());
    if (value.size() <= kScheme.size() || value.substr(0, kScheme.size()) != kScheme) return false;
    return base::SecretEquals(value.substr(kScheme.size()), token_);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8192};
  std::optional<http::request_parser<http::string_body>> parser_;
  const MetricsServer::Render& render_;
  const std::string& token_;
};

}  // namespace

MetricsServer::MetricsServer(asio::io_context& io, std::string bind, uint16_t port, Render render,
                             std::string token)
    : acceptor_(io),
      accept_pause_(io),
      bind_(std::move(bind)),
      port_(port),
      render_(std::move(render)),
      token_(std::move(token)) {}

absl::Status MetricsServer::Start() {
  if (absl::Status s = base::Listen(acceptor_, bind_, port_); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("metrics: ", s.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  DoAccept();
  return absl::OkStatus();
}

void MetricsServer::DoAccept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<MetricsConnection>(std::move(socket), render_, token_)->Read();
    if (ec && base::IsDescriptorExhaustion(ec.value())) {
      // Out of descriptors: wait for some to close rather than spin.
      accept_pause_.expires_after(std::chrono::milliseconds(100));
      accept_pause_.async_wait([this](const boost::system::error_code& wait_ec) {
        if (!wait_ec) DoAccept();
      });
      return;
    }
    DoAccept();
  });
}

void MetricsServer::Stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_pause_.cancel();
}

}  // namespace txmsg::broker

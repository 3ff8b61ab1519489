#include "broker/net/server.h"

#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "broker/core/event_log.h"
#include "proto/frame_codec.h"
#include "base/listen.h"

namespace txmsg::broker {

namespace asio = boost::asio;
using asio::ip::tcp;

Server::Server(asio::io_context& io, BrokerCore& core, ServerOptions options)
    : io_(io), core_(core), options_(std::move(options)), acceptor_(io) {}

absl::Status Server::Start() {
  if (absl::Status s = base::Listen(acceptor_, options_.bind, options_.port); !s.ok()) return s;
  port_ = acceptor_.local_endpoint().port();
  DoAccept();
  return absl::OkStatus();
}

void Server::DoAccept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopped_) return;
    if (ec) {
      // EMFILE and friends: keep serving the connections we have.
      LogEvent("accept failed: ", ec.message());
    } else if (sessions_.size() >= options_.max_connections) {
      Refuse(std::move(socket));
    } else {
      auto session = std::make_shared<Session>(
          std::move(socket), core_, next_id_++, options_.limits,
          [this](const std::shared_ptr<Session>& s) { sessions_.erase(s); });
      sessions_.insert(session);
      session->Start();
    }
    DoAccept();
  });
}

void Server::Refuse(tcp::socket socket) {
  core_.CountRefusedConnection();
  LogEvent("refused a connection: ", sessions_.size(), " open, the maximum is ",
           options_.max_connections);
  wire::Frame err;
  err.mutable_error()->set_code(wire::ERROR_RESOURCE_EXHAUSTED);
  err.mutable_error()->set_message(
      absl::StrCat("too many connections (maximum ", options_.max_connections, ")"));
  auto buf = std::make_shared<std::string>();
  (void)proto::AppendFrame(err, UINT32_MAX, buf.get());
  auto sock = std::make_shared<tcp::socket>(std::move(socket));
  asio::async_write(*sock, asio::buffer(*buf),
                    [sock, buf](const boost::system::error_code&, size_t) {
                      boost::system::error_code ignored;
                      sock->shutdown(tcp::socket::shutdown_both, ignored);
                      sock->close(ignored);
                    });
}

void Server::Stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  auto sessions = sessions_;  // Stop() ends them and they erase themselves
  for (const auto& s : sessions) s->Stop();
}

}  // namespace txmsg::broker

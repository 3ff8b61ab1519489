#include "broker/net/server.h"

#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "base/fd_limit.h"
#include "base/listen.h"
#include "broker/core/event_log.h"
#include "proto/frame_codec.h"

namespace txmsg::broker {

namespace asio = boost::asio;
using asio::ip::tcp;

Server::Server(asio::io_context& io, BrokerCore& core, ServerOptions options)
    : io_(io), core_(core), options_(std::move(options)), acceptor_(io), accept_pause_(io) {}

absl::Status Server::Start() {
  if (absl::Status s = base::Listen(acceptor_, options_.bind, options_.port); !s.ok()) return s;
  port_ = acceptor_.local_endpoint().port();
  DoAccept();
  return absl::OkStatus();
}

void Server::DoAccept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopped_) return;
    if (ec) return OnAcceptError(ec);
    OnAccept(std::move(socket));
    DoAccept();
  });
}

void Server::OnAcceptError(const boost::system::error_code& ec) {
  const bool exhausted = base::IsDescriptorExhaustion(ec.value());
  uint64_t suppressed = 0;
  if (limiter_.Allow("accept", std::chrono::steady_clock::now(), &suppressed)) {
    LogEvent("accept failed: ", ec.message(), exhausted ? " (pausing accepts briefly)" : "",
             suppressed > 0 ? absl::StrCat(" [", suppressed, " more since the last report]") : "");
  }
  if (!exhausted) return DoAccept();
  // Out of descriptors: the pending connection stays in the backlog; try
  // again once some may have closed instead of failing in a tight loop.
  accept_pause_.expires_after(std::chrono::milliseconds(options_.accept_backoff_ms));
  accept_pause_.async_wait([this](const boost::system::error_code& wait_ec) {
    if (!wait_ec && !stopped_) DoAccept();
  });
}

void Server::OnAccept(tcp::socket socket) {
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  const std::string source = remote.address().to_string();
  if (sessions_.size() >= options_.max_connections) {
    return Refuse(std::move(socket),
                  absl::StrCat("too many connections (maximum ", options_.max_connections, ")"));
  }
  size_t& from_source = per_source_[source];
  if (from_source >= options_.max_connections_per_source) {
    return Refuse(std::move(socket),
                  absl::StrCat("too many connections from ", source, " (maximum ",
                               options_.max_connections_per_source, " per address)"));
  }
  ++from_source;
  const size_t reserve = std::min(options_.admin_connections, options_.max_connections - 1);
  const bool admin_only = sessions_.size() >= options_.max_connections - reserve;
  auto session = std::make_shared<Session>(
      std::move(socket), core_, next_id_++, options_.limits,
      [this, source](const std::shared_ptr<Session>& s) {
        sessions_.erase(s);
        auto it = per_source_.find(source);
        if (it != per_source_.end() && --it->second == 0) per_source_.erase(it);
      },
      admin_only, SessionTls{options_.tls, &tls_log_});
  sessions_.insert(session);
  session->Start();
}

void Server::Refuse(tcp::socket socket, const std::string& why) {
  core_.CountRefusedConnection();
  uint64_t suppressed = 0;
  if (limiter_.Allow("refusal", std::chrono::steady_clock::now(), &suppressed)) {
    LogEvent("refused a connection: ", why, ", ", sessions_.size(), " open",
             suppressed > 0 ? absl::StrCat(" [", suppressed, " more since the last report]") : "");
  }
  if (options_.tls) {
    // A plaintext frame means nothing to a TLS client, and a handshake
    // would spend the resources we are short of: just close.
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  wire::Frame err;
  err.mutable_error()->set_code(wire::ERROR_RESOURCE_EXHAUSTED);
  err.mutable_error()->set_message(why);
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
  accept_pause_.cancel();
  auto sessions = sessions_;  // Stop() ends them and they erase themselves
  for (const auto& s : sessions) s->Stop();
}

}  // namespace txmsg::broker

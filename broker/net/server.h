// Accepts client connections on one TCP endpoint and owns their sessions.
// Connections beyond a limit get an Error frame and are closed:
//   - max_connections in all; of these the last `admin_connections` are
//     kept for operators (a connection in one of them must say Hello as
//     ROLE_ADMIN), so txmsgctl gets in when clients have taken the rest;
//   - max_connections_per_source from one address, so one host cannot
//     take every slot.
// When accept fails for lack of descriptors or memory, the server waits a
// moment before accepting again (never spins) and logs it at most every
// few seconds.
#ifndef TXMSG_BROKER_NET_SERVER_H_
#define TXMSG_BROKER_NET_SERVER_H_

#include <map>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "base/log_limiter.h"
#include "broker/core/broker_core.h"
#include "broker/net/session.h"

namespace txmsg::broker {

struct ServerOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 9876;
  size_t max_connections = 1024;
  size_t admin_connections = 8;  // of max_connections, kept for ROLE_ADMIN
  size_t max_connections_per_source = 256;
  uint64_t accept_backoff_ms = 100;  // pause after EMFILE and the like
  SessionLimits limits;
  // Non-null: every connection speaks TLS with this context (which must
  // outlive the server); a client that does not is closed after a failed
  // handshake, logged at most every few seconds.
  boost::asio::ssl::context* tls = nullptr;
};

class Server {
 public:
  // `io` and `core` must outlive the server.
  Server(boost::asio::io_context& io, BrokerCore& core, ServerOptions options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Fails if the address is taken or invalid.
  [[nodiscard]] absl::Status Start();
  uint16_t port() const { return port_; }
  // Stops accepting and ends every session.
  void Stop();

 private:
  void DoAccept();
  void OnAccept(boost::asio::ip::tcp::socket socket);
  // Accept failed: wait before accepting again if it was for lack of resources.
  void OnAcceptError(const boost::system::error_code& ec);
  void Refuse(boost::asio::ip::tcp::socket socket, const std::string& why);

  boost::asio::io_context& io_;
  BrokerCore& core_;
  const ServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_pause_;
  base::LogLimiter limiter_{std::chrono::seconds(5)};  // accept errors, refusals
  base::LogLimiter tls_log_{std::chrono::seconds(5)};  // failed TLS handshakes
  std::set<std::shared_ptr<Session>> sessions_;
  std::map<std::string, size_t> per_source_;  // open sessions by remote address
  uint64_t next_id_ = 1;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_NET_SERVER_H_

// Accepts client connections on one TCP endpoint and owns their sessions.
// Connections beyond the limit get an Error frame and are closed.
#ifndef TXMSG_BROKER_NET_SERVER_H_
#define TXMSG_BROKER_NET_SERVER_H_

#include <memory>
#include <set>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "absl/status/status.h"
#include "broker/core/broker_core.h"
#include "broker/net/session.h"

namespace txmsg::broker {

struct ServerOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 9876;
  size_t max_connections = 1024;
  SessionLimits limits;
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
  void Refuse(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  BrokerCore& core_;
  const ServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::set<std::shared_ptr<Session>> sessions_;
  uint64_t next_id_ = 1;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_NET_SERVER_H_

// A minimal HTTP endpoint for Prometheus: GET /metrics answers the text
// `render` returns; everything else is 404. Runs on the broker's io_context.
// With a bearer token, /metrics answers only requests that carry
// `Authorization: Bearer <token>` (401 otherwise).
#ifndef TXMSG_BROKER_NET_METRICS_SERVER_H_
#define TXMSG_BROKER_NET_METRICS_SERVER_H_

#include <functional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/status.h"

namespace txmsg::broker {

class MetricsServer {
 public:
  using Render = std::function<std::string()>;
  // `token` empty: no authorization asked.
  MetricsServer(boost::asio::io_context& io, std::string bind, uint16_t port, Render render,
                std::string token = "");
  [[nodiscard]] absl::Status Start();
  void Stop();
  uint16_t port() const { return port_; }

 private:
  void DoAccept();

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_pause_;
  const std::string bind_;
  uint16_t port_;
  const Render render_;
  const std::string token_;
};

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_NET_METRICS_SERVER_H_

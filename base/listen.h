// Opens, binds and listens an acceptor the way every txmsg listener does:
// SO_REUSEADDR (a restart does not wait out TIME_WAIT), the system's backlog,
// and one clear error naming the address. Header-only: the broker, the
// services' HTTP server and the chaos proxy share it without a link.
#ifndef TXMSG_BASE_LISTEN_H_
#define TXMSG_BASE_LISTEN_H_

#include <cstdint>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace txmsg::base {

// On success `acceptor` listens on bind:port (port 0 picks a free one; read
// it from acceptor.local_endpoint()).
inline absl::Status Listen(boost::asio::ip::tcp::acceptor& acceptor, const std::string& bind,
                           uint16_t port) {
  namespace asio = boost::asio;
  using asio::ip::tcp;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(bind, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("bad bind address '", bind, "'"));
  const tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", bind, ":", port, ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace txmsg::base

#endif  // TXMSG_BASE_LISTEN_H_

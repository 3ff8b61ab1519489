// Opens, binds and listens an acceptor the way every txmsg listener does:
// SO_REUSEADDR (a restart does not wait out TIME_WAIT), the system's backlog,
// and one clear error naming the address. Header-only: the broker, the
// services' HTTP server and the chaos proxy share it without a link.
#ifndef TXMSG_BASE_LISTEN_H_
#define TXMSG_BASE_LISTEN_H_

#include <cstdint>
#include <initializer_list>
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

// True when `bind` is a loopback address (127.0.0.0/8, ::1): reachable from
// this host only. False for anything else, an invalid address included.
inline bool IsLoopbackBind(const std::string& bind) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(bind, ec);
  return !ec && address.is_loopback();
}

// One protection a listener on another address needs: whether it is set
// up, and the flags that set it up (for the message).
struct BindRequirement {
  bool met;
  std::string flags;  // e.g. "--tls_cert FILE --tls_key FILE"
};

// The safe-default rule of every listener: on a loopback address anything
// goes; elsewhere every requirement must be met, unless `insecure` (the
// operator's explicit --insecure). Returns "" when listening is allowed,
// else the refusal naming `what` listens, where, and the flags to add.
inline std::string UnsafeBindReason(const std::string& what, const std::string& bind,
                                    std::initializer_list<BindRequirement> requirements,
                                    bool insecure) {
  if (insecure || IsLoopbackBind(bind)) return "";
  std::string missing;
  for (const BindRequirement& r : requirements) {
    if (!r.met) absl::StrAppend(&missing, missing.empty() ? "" : " and ", r.flags);
  }
  if (missing.empty()) return "";
  return absl::StrCat("refusing to serve ", what, " on ", bind,
                      ", which is not a loopback address, without protection: add ", missing,
                      " (or --insecure to run unprotected on purpose)");
}

}  // namespace txmsg::base

#endif  // TXMSG_BASE_LISTEN_H_

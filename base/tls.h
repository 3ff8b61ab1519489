// TLS set-up shared by every txmsg endpoint (the broker, the SDK, the
// services' HTTP server and txmsgctl): Boost.Asio's ssl::context over
// OpenSSL 3, built the one way we agreed on:
//   - TLS 1.2 at least, OpenSSL's default cipher lists for 1.2 and 1.3, no
//     renegotiation, no compression;
//   - a server presents its certificate chain and, given a client CA,
//     demands and verifies a client certificate (mutual TLS);
//   - a client verifies the server's chain against its CA file and the
//     host name or IP address it dialled.
// Errors name the file that failed and OpenSSL's reason; never a key's bytes.
#ifndef TXMSG_BASE_TLS_H_
#define TXMSG_BASE_TLS_H_

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include "absl/status/statusor.h"

namespace txmsg::base {

struct TlsServerFiles {
  std::string cert_file;       // PEM chain: the server's certificate first
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CAs; non-empty: mutual TLS
};

struct TlsClientFiles {
  std::string ca_file;    // PEM CAs the server's chain must lead to
  std::string cert_file;  // optional, for mutual TLS (with key_file)
  std::string key_file;
};

// A context for accepting TLS connections; INVALID_ARGUMENT naming the file
// when one cannot be read or the key does not match the certificate.
absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const TlsServerFiles& files);

// A context for dialling TLS servers (certificate verification on).
absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> MakeClientTlsContext(
    const TlsClientFiles& files);

// Makes `ssl` (a client connection not yet handshaken) check that the
// server's certificate is for `host` (a DNS name, or an IP address matched
// against the certificate's IP SANs) and sends `host` as SNI when it is a
// name. INVALID_ARGUMENT if OpenSSL refuses the host.
absl::Status ExpectServerName(SSL* ssl, const std::string& host);

// The verified peer certificate's subject CN, or its first DNS SAN when it
// has no CN; "" when the peer sent no certificate or it was not verified.
std::string VerifiedPeerName(SSL* ssl);

// A readable reason for a failed handshake or TLS read/write on `ssl`:
// OpenSSL's reason plus, for a failed verification, which check failed
// ("certificate has expired", "unable to get local issuer certificate",
// "hostname mismatch").
std::string TlsErrorText(const boost::system::error_code& ec, SSL* ssl);

}  // namespace txmsg::base

#endif  // TXMSG_BASE_TLS_H_

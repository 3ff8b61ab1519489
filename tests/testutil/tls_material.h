// Throwaway certificates for TLS tests, made with OpenSSL's C API into a
// directory the test owns: a CA and what it signed (a server certificate
// for localhost / 127.0.0.1, an expired one, a client certificate), and a
// second CA with its own server and client certificates, which the first
// CA's clients and servers must refuse. P-256 keys: quick to make.
#ifndef TXMSG_TESTS_TESTUTIL_TLS_MATERIAL_H_
#define TXMSG_TESTS_TESTUTIL_TLS_MATERIAL_H_

#include <string>

#include "tests/testutil/service_process.h"

namespace txmsg::testing {

// A certificate and its private key, both PEM files.
struct CertFiles {
  std::string cert;
  std::string key;
};

struct TlsMaterial {
  std::string ca;          // the CA's certificate (what clients and the broker trust)
  CertFiles server;        // CN=localhost, SAN DNS:localhost IP:127.0.0.1, by `ca`
  CertFiles expired;       // the same names, by `ca`, expired yesterday
  CertFiles client;        // CN=tls-client (the verified peer name), by `ca`
  CertFiles san_client;    // no CN, SAN DNS:san-client.test, by `ca`
  std::string other_ca;    // an unrelated CA
  CertFiles other_server;  // CN=localhost with the same SANs, by `other_ca`
  CertFiles other_client;  // CN=tls-client, by `other_ca`
};

// Writes every file into `dir` (which must exist); aborts the test binary
// if OpenSSL fails (nothing a test could recover from).
TlsMaterial MakeTlsMaterial(const std::string& dir);

// Http() over TLS to 127.0.0.1:`port`, trusting `ca_file`: status 0 when
// the connection or the handshake fails (a certificate refused included).
HttpResult Https(uint16_t port, const std::string& method, const std::string& target,
                 const std::string& ca_file, const std::string& body = "");

}  // namespace txmsg::testing

#endif  // TXMSG_TESTS_TESTUTIL_TLS_MATERIAL_H_

#include "service/tls_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, broker_tls_ca, "",
          "PEM CA file: connect to the broker with TLS, trusting certificates it signed");
ABSL_FLAG(std::string, broker_tls_cert, "",
          "mutual TLS to the broker: this service's PEM certificate (with --broker_tls_key)");
ABSL_FLAG(std::string, broker_tls_key, "", "the PEM private key of --broker_tls_cert");
ABSL_FLAG(std::string, tls_cert, "",
          "serve HTTPS with this PEM certificate chain (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "the PEM private key of --tls_cert");
ABSL_FLAG(bool, insecure, false,
          "allow plain HTTP on a non-loopback --bind: for those who mean it");

namespace txmsg::service {

std::string ServiceTlsFromFlags(const std::string& bind, ServiceTls* tls) {
  tls->cert_file = absl::GetFlag(FLAGS_tls_cert);
  tls->key_file = absl::GetFlag(FLAGS_tls_key);
  tls->broker = {absl::GetFlag(FLAGS_broker_tls_ca), absl::GetFlag(FLAGS_broker_tls_cert),
                 absl::GetFlag(FLAGS_broker_tls_key)};
  return TlsFlagsProblem(*tls, bind, absl::GetFlag(FLAGS_insecure));
}

}  // namespace txmsg::service

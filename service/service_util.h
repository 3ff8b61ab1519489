// Small pieces both services need: UUIDs and the /healthz answer.
#ifndef TXMSG_SERVICE_SERVICE_UTIL_H_
#define TXMSG_SERVICE_SERVICE_UTIL_H_

#include <string>

#include "service/http/http_server.h"
#include "txmsg/types.h"

namespace txmsg::service {

// A service's transport security (docs/security.md).
struct ServiceTls {
  std::string cert_file;  // HTTPS for the service's own API (with key_file)
  std::string key_file;
  TlsOptions broker;  // TLS to the broker (off without a CA file)
};

// "" when the flags fit together and the HTTP listener may bind `bind`
// (a loopback address, or HTTPS, or `insecure`); else what is wrong, naming
// the flags.
std::string TlsFlagsProblem(const ServiceTls& tls, const std::string& bind, bool insecure);

// Starts HTTPS on `server` when `tls` names a certificate.
[[nodiscard]] absl::Status MaybeEnableHttps(const ServiceTls& tls, http::Server& server);

// A random (version 4) UUID. Thread-safe.
std::string NewUuid();

// Raises the soft descriptor limit to the hard one (base/fd_limit.h) and
// says on stderr if that fails. Call at start, before any thread.
void RaiseFdLimitOrWarn(const char* service);

// How a service's broker clients see the broker.
enum class BrokerState {
  kConnected,     // connected (and subscribed), and the broker answers
  kUnresponsive,  // connected, but requests and heartbeats go unanswered (frozen broker)
  kDisconnected,  // not connected, or a consumer not subscribed
};
// One client's state: `ready` = connected (and, for a consumer, subscribed).
BrokerState BrokerStateOf(bool ready, bool responsive);
// The worse of two clients' states.
BrokerState Worst(BrokerState a, BrokerState b);

// The answer to GET /healthz. 200 {"status":"ok","broker":"connected",
// "database":"ok"} when everything works; otherwise 503 with status
// "degraded" and what is down: broker "disconnected" or "unresponsive",
// database "unavailable". Fields always in this order.
http::Response HealthResponse(BrokerState broker, bool database_available);

// The answer to a read that failed with `s`: 503 while the database is
// unavailable (sql::DatabaseHealth::IsOutage), 500 otherwise.
http::Response DatabaseErrorResponse(const absl::Status& s);

}  // namespace txmsg::service

#endif  // TXMSG_SERVICE_SERVICE_UTIL_H_

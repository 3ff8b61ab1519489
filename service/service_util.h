// Small pieces both services need: UUIDs and the /healthz answer.
#ifndef TXMSG_SERVICE_SERVICE_UTIL_H_
#define TXMSG_SERVICE_SERVICE_UTIL_H_

#include <string>

#include "service/http/http_server.h"

namespace txmsg::service {

// A random (version 4) UUID. Thread-safe.
std::string NewUuid();

// The answer to GET /healthz: 200 {"status":"ok","broker":"connected"} while
// the service's broker clients are up, 503 "degraded"/"disconnected" if not.
http::Response HealthResponse(bool broker_up);

}  // namespace txmsg::service

#endif  // TXMSG_SERVICE_SERVICE_UTIL_H_

// The transport-security flags both services take, defined once:
// --tls_cert/--tls_key (HTTPS for the service's API), --broker_tls_ca,
// --broker_tls_cert/--broker_tls_key (TLS to the broker), --insecure.
// Linked only into the service binaries (a library that defines flags
// would add them to every binary linking it).
#ifndef TXMSG_SERVICE_TLS_FLAGS_H_
#define TXMSG_SERVICE_TLS_FLAGS_H_

#include <string>

#include "service/service_util.h"

namespace txmsg::service {

// Fills `tls` from the flags. Returns "" when they fit together and the
// HTTP listener may bind `bind`; else the message for the user.
std::string ServiceTlsFromFlags(const std::string& bind, ServiceTls* tls);

}  // namespace txmsg::service

#endif  // TXMSG_SERVICE_TLS_FLAGS_H_

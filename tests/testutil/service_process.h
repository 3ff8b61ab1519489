// Runs one of the service binaries (or any binary that prints
// "... listening on HOST:PORT") and a minimal blocking HTTP client for it.
#ifndef TXMSG_TESTS_TESTUTIL_SERVICE_PROCESS_H_
#define TXMSG_TESTS_TESTUTIL_SERVICE_PROCESS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/testutil/listening_process.h"

namespace txmsg::testing {

// order-service and stock-service under test: argv without --port.
using ServiceProcess = ListeningProcess;

struct HttpResult {
  int status = 0;  // 0: no answer (connection failed or closed)
  std::string body;
  std::string www_authenticate;  // the WWW-Authenticate header, if any
};
HttpResult Http(uint16_t port, const std::string& method, const std::string& target,
                const std::string& body = "");
// The same with extra request headers (name, value).
HttpResult Http(uint16_t port, const std::string& method, const std::string& target,
                const std::string& body,
                const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace txmsg::testing

#endif  // TXMSG_TESTS_TESTUTIL_SERVICE_PROCESS_H_

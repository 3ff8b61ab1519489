// Runs the real txmsg-broker binary on a free loopback port, with its data
// in a directory the test owns; kills and restarts it on the same port.
#ifndef TXMSG_TESTS_TESTUTIL_BROKER_PROCESS_H_
#define TXMSG_TESTS_TESTUTIL_BROKER_PROCESS_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/testutil/listening_process.h"

namespace txmsg::testing {

class BrokerProcess : public ListeningProcess {
 public:
  // `flags` are extra command-line flags ("--tx_timeout=200ms", ...).
  explicit BrokerProcess(const std::string& data_dir, std::vector<std::string> flags = {});
};

// Polls `condition` every few milliseconds until it holds or `timeout`
// passes; returns whether it held. For conditions only observable by asking.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace txmsg::testing

#endif  // TXMSG_TESTS_TESTUTIL_BROKER_PROCESS_H_

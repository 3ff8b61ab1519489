#include "tests/testutil/broker_process.h"

#include <signal.h>

#include <cstdio>
#include <thread>

namespace txmsg::testing {

namespace {

std::vector<std::string> BrokerArgv(const std::string& data_dir, std::vector<std::string> flags) {
  std::vector<std::string> argv = {TXMSG_BROKER_BIN, "--data_dir=" + data_dir};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return argv;
}

}  // namespace

BrokerProcess::BrokerProcess(const std::string& data_dir, std::vector<std::string> flags)
    : ListeningProcess(BrokerArgv(data_dir, std::move(flags))) {}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace txmsg::testing

#include "tests/testutil/broker_process.h"

#include <signal.h>

#include <cstdio>
#include <thread>

namespace txmsg::testing {

BrokerProcess::BrokerProcess(std::string data_dir, std::vector<std::string> flags)
    : data_dir_(std::move(data_dir)), flags_(std::move(flags)) {}

BrokerProcess::~BrokerProcess() { Kill(); }

bool BrokerProcess::Start() {
  std::vector<std::string> argv = {TXMSG_BROKER_BIN, "--data_dir=" + data_dir_,
                                   "--port=" + std::to_string(port_)};
  argv.insert(argv.end(), flags_.begin(), flags_.end());
  proc_ = std::make_unique<Subprocess>(argv, env_);
  // Restarting on the same port may race the old socket's release: retry.
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::optional<std::string> line = proc_->ReadLine(std::chrono::seconds(20));
    if (line && line->rfind("txmsg-broker listening on ", 0) == 0) {
      port_ = static_cast<uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
      return true;
    }
    proc_->Wait();
    if (port_ == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // port still held by the old one
    proc_ = std::make_unique<Subprocess>(argv, env_);
  }
  std::fprintf(stderr, "txmsg-broker did not start\n");
  return false;
}

void BrokerProcess::Kill() {
  if (!proc_) return;
  proc_->Signal(SIGKILL);
  proc_->Wait();
  proc_.reset();
}

int BrokerProcess::Terminate() {
  if (!proc_) return -1;
  proc_->Signal(SIGTERM);
  const int status = proc_->Wait();
  proc_.reset();
  return status;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace txmsg::testing

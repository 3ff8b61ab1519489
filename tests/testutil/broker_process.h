// Runs the real txmsg-broker binary on a free loopback port, with its data
// in a directory the test owns; kills and restarts it on the same port.
#ifndef TXMSG_TESTS_TESTUTIL_BROKER_PROCESS_H_
#define TXMSG_TESTS_TESTUTIL_BROKER_PROCESS_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/testutil/subprocess.h"

namespace txmsg::testing {

class BrokerProcess {
 public:
  // `flags` are extra command-line flags ("--tx_timeout=200ms", ...).
  BrokerProcess(std::string data_dir, std::vector<std::string> flags = {});
  ~BrokerProcess();

  // Starts the broker and waits until it listens. Returns false (and prints
  // why) if it did not come up.
  bool Start();
  // SIGKILL: no clean-up, as a crash.
  void Kill();
  // SIGTERM and wait; returns the exit status (as waitpid).
  int Terminate();
  bool Restart() {
    Kill();
    return Start();
  }

  // Environment for the next Start ("NAME=value" entries).
  void set_env(std::vector<std::string> env) { env_ = std::move(env); }
  // True if the process has exited by itself (a crash point, say).
  bool exited() { return !proc_ || proc_->Exited(); }
  // Waits for the process to end by itself; its status (as waitpid).
  int Wait() { return proc_ ? proc_->Wait() : -1; }
  void Signal(int sig) {
    if (proc_) proc_->Signal(sig);
  }

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return proc_ ? proc_->pid() : -1; }

 private:
  const std::string data_dir_;
  const std::vector<std::string> flags_;
  std::vector<std::string> env_;
  uint16_t port_ = 0;  // 0 until the first start picks one
  std::unique_ptr<Subprocess> proc_;
};

// Polls `condition` every few milliseconds until it holds or `timeout`
// passes; returns whether it held. For conditions only observable by asking.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace txmsg::testing

#endif  // TXMSG_TESTS_TESTUTIL_BROKER_PROCESS_H_

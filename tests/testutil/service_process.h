// Runs one of the service binaries (or any binary that prints
// "... listening on HOST:PORT") and a minimal blocking HTTP client for it.
#ifndef TXMSG_TESTS_TESTUTIL_SERVICE_PROCESS_H_
#define TXMSG_TESTS_TESTUTIL_SERVICE_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "tests/testutil/subprocess.h"

namespace txmsg::testing {

class ServiceProcess {
 public:
  ServiceProcess(std::vector<std::string> argv, std::vector<std::string> env = {})
      : argv_(std::move(argv)), env_(std::move(env)) {}
  // Starts and waits for the listening line; false if it did not come.
  bool Start();
  void Kill();
  int Terminate();
  // Waits for the process to exit by itself (a crash point); returns status.
  int Wait();
  bool exited() { return !proc_ || proc_->Exited(); }
  pid_t pid() const { return proc_ ? proc_->pid() : -1; }
  void Signal(int sig) {
    if (proc_) proc_->Signal(sig);
  }
  uint16_t port() const { return port_; }
  void set_env(std::vector<std::string> env) { env_ = std::move(env); }

 private:
  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  std::unique_ptr<Subprocess> proc_;
  uint16_t port_ = 0;
};

struct HttpResult {
  int status = 0;  // 0: no answer (connection failed or closed)
  std::string body;
};
HttpResult Http(uint16_t port, const std::string& method, const std::string& target,
                const std::string& body = "");

}  // namespace txmsg::testing

#endif  // TXMSG_TESTS_TESTUTIL_SERVICE_PROCESS_H_

// A real server binary run by a test: started with --port (0 first, then the
// same port again on every restart), ready once it prints its "listening on
// HOST:PORT" line; killed, stopped or waited for like any child.
#ifndef TXMSG_TESTS_TESTUTIL_LISTENING_PROCESS_H_
#define TXMSG_TESTS_TESTUTIL_LISTENING_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/testutil/subprocess.h"

namespace txmsg::testing {

class ListeningProcess {
 public:
  // `argv` without --port; `env` holds "NAME=value" entries.
  explicit ListeningProcess(std::vector<std::string> argv, std::vector<std::string> env = {})
      : argv_(std::move(argv)), env_(std::move(env)) {}
  ~ListeningProcess() { Kill(); }
  ListeningProcess(const ListeningProcess&) = delete;
  ListeningProcess& operator=(const ListeningProcess&) = delete;

  // Starts and waits for the listening line; false (and a message) if it
  // did not come.
  bool Start();
  // Kill -9 if running, then reap.
  void Kill();
  bool Restart() {
    Kill();
    return Start();
  }
  // SIGTERM and wait; returns the exit status (as waitpid).
  int Terminate();
  // Waits for the process to end by itself (a crash point, say); its status.
  int Wait();
  // True if the process has exited by itself.
  bool exited() { return !proc_ || proc_->Exited(); }
  void Signal(int sig) {
    if (proc_) proc_->Signal(sig);
  }
  pid_t pid() const { return proc_ ? proc_->pid() : -1; }
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Environment for the next Start.
  void set_env(std::vector<std::string> env) { env_ = std::move(env); }
  // A shell command line to run the process through, its argv as "$@"
  // (e.g. "ulimit -n 128 && exec \"$@\""); empty: run it directly.
  void set_wrapper(std::string shell) { wrapper_ = std::move(shell); }

 private:
  const std::vector<std::string> argv_;
  std::vector<std::string> env_;
  std::string wrapper_;
  std::unique_ptr<Subprocess> proc_;
  uint16_t port_ = 0;  // 0 until the first start picks one
};

}  // namespace txmsg::testing

#endif  // TXMSG_TESTS_TESTUTIL_LISTENING_PROCESS_H_

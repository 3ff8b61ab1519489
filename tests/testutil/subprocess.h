// Starts a real child process with its stdout on a pipe, reads its output
// line by line with a deadline, and kills it. Tests use it to run the real
// binaries and to crash them.
#ifndef TXMSG_TESTS_TESTUTIL_SUBPROCESS_H_
#define TXMSG_TESTS_TESTUTIL_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace txmsg::testing {

class Subprocess {
 public:
  // Starts argv[0] (a path) with the given arguments and extra environment
  // entries ("NAME=value"). stderr is inherited, so a failing child's
  // complaints show in the test log. Aborts the test binary if fork fails.
  Subprocess(std::vector<std::string> argv, std::vector<std::string> env = {});
  // Kills (SIGKILL) and reaps the child if it is still running.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // The next line of stdout (without '\n'), or nullopt at EOF or when the
  // deadline passes first.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);
  // Sends a signal.
  void Signal(int sig);
  // Waits for the child to exit and returns its wait status (as waitpid).
  int Wait();
  // True once the child has exited (reaps it; never blocks).
  bool Exited();
  // Reads and returns the rest of stdout until EOF.
  std::string ReadAll(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
  std::string buffer_;
};

// Directory that holds the test binaries (and the helper binaries built next
// to them), from /proc/self/exe.
std::string TestBinaryDir();

}  // namespace txmsg::testing

#endif  // TXMSG_TESTS_TESTUTIL_SUBPROCESS_H_

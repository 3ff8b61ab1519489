#include "tests/testutil/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace txmsg::testing {

namespace {

// PR_SET_PDEATHSIG fires when the thread that forked the child exits, not
// the process: children are therefore forked by one thread that lives as
// long as the test binary, whatever thread asks for them.
class Spawner {
 public:
  static Spawner& Get() {
    static Spawner* s = new Spawner;  // never destroyed: lives until exit
    return *s;
  }
  pid_t Spawn(std::function<pid_t()> fork_fn) {
    std::unique_lock lock(mu_);
    const uint64_t ticket = ++requested_;
    requests_.push_back({ticket, std::move(fork_fn)});
    cv_.notify_all();
    cv_.wait(lock, [&] { return results_.contains(ticket); });
    const pid_t pid = results_[ticket];
    results_.erase(ticket);
    return pid;
  }

 private:
  Spawner() : thread_([this] { Run(); }) { thread_.detach(); }
  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return !requests_.empty(); });
      auto [ticket, fn] = std::move(requests_.front());
      requests_.pop_front();
      lock.unlock();
      const pid_t pid = fn();
      lock.lock();
      results_[ticket] = pid;
      cv_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t requested_ = 0;
  std::deque<std::pair<uint64_t, std::function<pid_t()>>> requests_;
  std::map<uint64_t, pid_t> results_;
  std::thread thread_;
};

}  // namespace

Subprocess::Subprocess(std::vector<std::string> argv, std::vector<std::string> env) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    std::abort();
  }
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_ = Spawner::Get().Spawn([&]() -> pid_t {
    const pid_t pid = ::fork();
    if (pid == 0) {
      // Die with the test: a crashed test must not leave servers behind.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(pipe_fds[1], STDOUT_FILENO);
      // Inherit nothing else: Asio opens sockets without CLOEXEC, and a child
      // holding a copy of a test's (or the chaos proxy's) connection keeps it
      // open after the test closes it, so the peer never sees the close.
      ::close_range(3, ~0U, 0);
      for (auto& e : env) ::putenv(e.data());
      ::execv(args[0], args.data());
      std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
      ::_exit(127);
    }
    return pid;
  });
  if (pid_ < 0) {
    std::perror("fork");
    std::abort();
  }
  ::close(pipe_fds[1]);
  out_fd_ = pipe_fds[0];
}

Subprocess::~Subprocess() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    Wait();
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

std::optional<std::string> Subprocess::ReadLine(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (const size_t nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd pfd{out_fd_, POLLIN, 0};
    const int rc = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return std::nullopt;
    char chunk[4096];
    const ssize_t n = ::read(out_fd_, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // EOF: a partial last line is dropped
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

std::string Subprocess::ReadAll(std::chrono::milliseconds timeout) {
  std::string all;
  while (auto line = ReadLine(timeout)) all += *line + "\n";
  all += buffer_;
  buffer_.clear();
  return all;
}

void Subprocess::Signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

int Subprocess::Wait() {
  if (reaped_) return wait_status_;
  while (::waitpid(pid_, &wait_status_, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  return wait_status_;
}

bool Subprocess::Exited() {
  if (reaped_) return true;
  const pid_t r = ::waitpid(pid_, &wait_status_, WNOHANG);
  if (r == pid_) reaped_ = true;
  return reaped_;
}

std::string TestBinaryDir() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

}  // namespace txmsg::testing

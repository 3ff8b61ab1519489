// Runs callbacks after a delay on its own thread: a send or EndTx that failed
// (the broker is restarting, say) is tried again instead of being given up,
// so a run measures a restart under load.
#ifndef TXMSG_TOOLS_BENCH_RETRIER_H_
#define TXMSG_TOOLS_BENCH_RETRIER_H_

#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace txmsg::bench {

class Retrier {
 public:
  Retrier() : thread_([this] { Run(); }) {}
  ~Retrier() { Stop(); }
  Retrier(const Retrier&) = delete;
  Retrier& operator=(const Retrier&) = delete;

  // Drops what is waiting and joins; After() does nothing from now on.
  void Stop();
  // Runs `fn` on the retrier's thread after `delay`. Thread-safe.
  void After(std::chrono::milliseconds delay, std::function<void()> fn);

 private:
  using Clock = std::chrono::steady_clock;
  void Run();
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; }

  absl::Mutex mu_;
  std::multimap<Clock::time_point, std::function<void()>> due_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_RETRIER_H_

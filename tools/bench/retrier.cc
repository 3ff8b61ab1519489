#include "tools/bench/retrier.h"

#include <utility>
#include <vector>

namespace txmsg::bench {

void Retrier::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    due_.clear();
  }
  if (thread_.joinable()) thread_.join();
}

void Retrier::After(std::chrono::milliseconds delay, std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  if (!stopping_) due_.emplace(Clock::now() + delay, std::move(fn));
}

void Retrier::Run() {
  while (true) {
    std::vector<std::function<void()>> ready;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(this, &Retrier::Woken), absl::Milliseconds(20));
      if (stopping_) return;
      const auto now = Clock::now();
      while (!due_.empty() && due_.begin()->first <= now) {
        ready.push_back(std::move(due_.begin()->second));
        due_.erase(due_.begin());
      }
    }
    for (auto& fn : ready) fn();
  }
}

}  // namespace txmsg::bench

#include "tools/bench/open_loop.h"

#include <utility>

#include "absl/time/time.h"

namespace txmsg::bench {

OpenLoopPacer::OpenLoopPacer(double rate, uint64_t total, uint64_t max_inflight, Send send)
    : rate_(rate), total_(total), max_inflight_(max_inflight), send_(std::move(send)) {}

void OpenLoopPacer::Start() {
  OpenLoopSchedule schedule(rate_, BenchClock::now());
  thread_ = std::thread([this, schedule] { Run(schedule); });
}

void OpenLoopPacer::Run(OpenLoopSchedule schedule) {
  for (uint64_t i = 0; i < total_; ++i) {
    const BenchClock::time_point due = schedule.Due(i);
    {
      absl::MutexLock lock(&mu_);
      const auto wait = due - BenchClock::now();
      if (wait > wait.zero()) {
        mu_.AwaitWithTimeout(absl::Condition(this, &OpenLoopPacer::Stopping),
                             absl::FromChrono(wait));
      }
      if (!MaySend()) {
        ++cap_waits_;
        mu_.Await(absl::Condition(this, &OpenLoopPacer::MaySend));
      }
      if (stopping_) return;
      ++inflight_;
      ++sent_;
    }
    send_(i, due);
  }
}

void OpenLoopPacer::Done() {
  absl::MutexLock lock(&mu_);
  if (inflight_ > 0) --inflight_;
}

void OpenLoopPacer::WaitAllSent() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(this, &OpenLoopPacer::AllSent));
}

void OpenLoopPacer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

uint64_t OpenLoopPacer::sent() const {
  absl::MutexLock lock(&mu_);
  return sent_;
}

uint64_t OpenLoopPacer::cap_waits() const {
  absl::MutexLock lock(&mu_);
  return cap_waits_;
}

}  // namespace txmsg::bench

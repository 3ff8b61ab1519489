// Open-loop pacing: items are sent at a fixed rate whatever the system under
// test does, so that a stall shows in the latency instead of quietly slowing
// the sender down ("coordinated omission"). Item i is due at
// start + i / rate, and its latency is measured from that time however late
// it actually goes out: when the cap on items in flight is reached, the
// schedule keeps running and the items that waited carry their wait.
#ifndef TXMSG_TOOLS_BENCH_OPEN_LOOP_H_
#define TXMSG_TOOLS_BENCH_OPEN_LOOP_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace txmsg::bench {

using BenchClock = std::chrono::steady_clock;

// When item i is due.
class OpenLoopSchedule {
 public:
  // `rate` items per second (> 0), from `start`.
  OpenLoopSchedule(double rate, BenchClock::time_point start) : rate_(rate), start_(start) {}
  BenchClock::time_point Due(uint64_t i) const {
    return start_ +
           std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(i) * 1e9 / rate_));
  }
  BenchClock::time_point start() const { return start_; }

 private:
  double rate_;
  BenchClock::time_point start_;
};

// Calls `send(i, due)` for i in [0, total) on its own thread, each at its due
// time, with never more than `max_inflight` items sent and not yet Done().
// `send` must not block: it starts the item, and whoever sees the item finish
// calls Done().
class OpenLoopPacer {
 public:
  using Send = std::function<void(uint64_t i, BenchClock::time_point due)>;
  OpenLoopPacer(double rate, uint64_t total, uint64_t max_inflight, Send send);
  // Stops and joins.
  ~OpenLoopPacer() { Stop(); }
  OpenLoopPacer(const OpenLoopPacer&) = delete;
  OpenLoopPacer& operator=(const OpenLoopPacer&) = delete;

  // Starts the schedule now.
  void Start();
  // One item sent earlier has finished. Thread-safe.
  void Done();
  // Waits until every item has been sent.
  void WaitAllSent();
  // Sends nothing more; joins the thread. Idempotent.
  void Stop();

  uint64_t sent() const;
  // How many sends waited because `max_inflight` items were in flight.
  uint64_t cap_waits() const;

 private:
  void Run(OpenLoopSchedule schedule);
  bool Stopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; }
  bool MaySend() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || inflight_ < max_inflight_;
  }
  bool AllSent() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || sent_ >= total_; }

  const double rate_;
  const uint64_t total_;
  const uint64_t max_inflight_;
  const Send send_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t inflight_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t cap_waits_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_OPEN_LOOP_H_

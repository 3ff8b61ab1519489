// Counts the appends a log has accepted and not yet completed: a seam for
// tests that drive the log's owner one step at a time (the broker core's
// in-process tests and its simulation). The test gives the log a tracker
// (LogOptions::tracker) and, after each step, waits until every append has
// completed, so the step's records are durable and every completion callback
// has returned (and handed its work on, e.g. posted it to an io_context)
// before the next step begins. A log without a tracker behaves the same.
// Thread-safe.
#ifndef TXMSG_BROKER_LOG_APPEND_TRACKER_H_
#define TXMSG_BROKER_LOG_APPEND_TRACKER_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace txmsg::log {

class AppendTracker {
 public:
  AppendTracker() = default;
  AppendTracker(const AppendTracker&) = delete;
  AppendTracker& operator=(const AppendTracker&) = delete;

  // Appends accepted and not yet completed (their callback has not returned).
  uint64_t in_flight() const {
    absl::MutexLock lock(&mu_);
    return in_flight_;
  }

  // Blocks until in_flight() is 0 or `timeout` passes; true if it reached 0.
  bool WaitIdle(absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&Idle, this), timeout);
  }

  // Called by the log: an append was queued (before it can complete) ...
  void Started() {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }
  // ... and its completion callback returned.
  void Finished() {
    absl::MutexLock lock(&mu_);
    --in_flight_;
  }

 private:
  static bool Idle(const AppendTracker* t) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return t->in_flight_ == 0;  // called by Await with mu_ held
  }

  mutable absl::Mutex mu_;
  uint64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace txmsg::log

#endif  // TXMSG_BROKER_LOG_APPEND_TRACKER_H_

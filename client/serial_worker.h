// One thread running posted tasks in order. The SDK runs application
// handlers (check-backs, consumer handlers) here, off the network thread.
#ifndef TXMSG_CLIENT_SERIAL_WORKER_H_
#define TXMSG_CLIENT_SERIAL_WORKER_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace txmsg::internal {

class SerialWorker {
 public:
  SerialWorker();
  // Runs what is queued, then joins.
  ~SerialWorker();
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;

  void Post(std::function<void()> task);
  // Drops what is queued and joins; later posts are ignored.
  void Stop();

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace txmsg::internal

#endif  // TXMSG_CLIENT_SERIAL_WORKER_H_

// Whether a service's database takes writes, as the service's own writes
// find out, and how long a consumer should wait before trying again.
//
// A write that fails because of the database (disk full, I/O error, locked
// past the busy timeout) is an outage, not a verdict on the message being
// written: the consumer answers ConsumeResult::Unavailable with
// RetryDelayMs(), which grows with the outage, so the broker redelivers
// without spending the message's attempts; /healthz says "database":
// "unavailable"; and the first write that succeeds (a redelivery, an HTTP
// request, or the probe /healthz runs) ends the outage. Thread-safe.
#ifndef TXMSG_SERVICE_DB_DATABASE_HEALTH_H_
#define TXMSG_SERVICE_DB_DATABASE_HEALTH_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "base/log_limiter.h"
#include "base/prometheus.h"
#include "service/db/batch_writer.h"

namespace txmsg::sql {

class DatabaseHealth {
 public:
  using Clock = std::chrono::steady_clock;

  // `name` says which service's database this is, in log lines.
  explicit DatabaseHealth(std::string name) : name_(std::move(name)) {}
  DatabaseHealth(const DatabaseHealth&) = delete;
  DatabaseHealth& operator=(const DatabaseHealth&) = delete;

  // True if `status` (a write's result) means the database cannot work
  // right now, as opposed to OK or an answer about the input (a key that
  // exists, a precondition that does not hold, an invalid argument).
  static bool IsOutage(const absl::Status& status);

  // Records a write's result: an outage marks the database unavailable
  // (logging the start of the outage once), OK marks it available again
  // (logging how long it was down). Returns IsOutage(status).
  bool Record(const absl::Status& status, Clock::time_point now = Clock::now());

  bool available() const;
  // Outages since start (for /metrics).
  uint64_t outages() const;
  // txmsg_database_up and txmsg_database_outages_total, for /metrics.
  void Render(base::PrometheusWriter& w) const;

  // While unavailable: how long the broker should wait before redelivering.
  // About as long as the outage has lasted (at least 200 ms, at most 60 s),
  // +-20% jitter so that hundreds of nacked messages do not all come back at
  // the same moment.
  uint32_t RetryDelayMs(Clock::time_point now = Clock::now());

  // For /healthz: while unavailable, and at most once a second, runs a small
  // write through `writer` (the probe table txmsg_health) and calls `done`
  // after recording its result; otherwise calls `done` at once. `done` may
  // run on the writer thread.
  void ProbeIfDown(BatchWriter& writer, std::function<void()> done);

  // For /healthz, on the thread that owns `read_db`: on PostgreSQL a
  // `SELECT 1` on it, whose failure (the server is gone) starts an outage
  // even when no write has failed yet; ProbeIfDown then ends it. Nothing
  // on SQLite, whose reads work when its writes do not.
  void CheckReachable(Database& read_db);

 private:
  const std::string name_;
  base::LogLimiter log_;
  mutable absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  Clock::time_point down_since_ ABSL_GUARDED_BY(mu_);
  Clock::time_point last_probe_ ABSL_GUARDED_BY(mu_);
  bool probing_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t outages_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t jitter_state_ ABSL_GUARDED_BY(mu_) = 0x9e3779b97f4a7c15ULL;
};

}  // namespace txmsg::sql

#endif  // TXMSG_SERVICE_DB_DATABASE_HEALTH_H_

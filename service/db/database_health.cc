#include "service/db/database_health.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "base/log_limiter.h"
#include "service/db/tx_log.h"

namespace txmsg::sql {

bool DatabaseHealth::IsOutage(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kAlreadyExists:       // a UNIQUE key: someone else got there first
    case absl::StatusCode::kFailedPrecondition:  // the data says no
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
      return false;
    default:  // full disk, I/O error, busy past the timeout, writer stopping, ...
      return true;
  }
}

bool DatabaseHealth::Record(const absl::Status& status, Clock::time_point now) {
  const bool outage = IsOutage(status);
  if (!outage && !status.ok()) return false;  // an answer about the input, not about the database
  absl::MutexLock lock(&mu_);
  if (outage && !down_) {
    down_ = true;
    down_since_ = now;
    ++outages_;
    log_.Log("down",
             absl::StrCat(name_, ": database unavailable: ", base::EscapeForLog(status.ToString()),
                          "; messages are redelivered later, none dead-lettered"));
  } else if (!outage && down_) {
    down_ = false;
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - down_since_).count();
    std::fprintf(stderr, "%s: database available again after %lld ms\n", name_.c_str(),
                 static_cast<long long>(ms));
  }
  return outage;
}

bool DatabaseHealth::available() const {
  absl::MutexLock lock(&mu_);
  return !down_;
}

uint64_t DatabaseHealth::outages() const {
  absl::MutexLock lock(&mu_);
  return outages_;
}

uint32_t DatabaseHealth::RetryDelayMs(Clock::time_point now) {
  absl::MutexLock lock(&mu_);
  const int64_t lasted =
      down_ ? std::chrono::duration_cast<std::chrono::milliseconds>(now - down_since_).count() : 0;
  const int64_t base = std::clamp<int64_t>(lasted, 200, 60'000);
  // xorshift64: cheap, and good enough to spread redeliveries.
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  const int64_t jitter = static_cast<int64_t>(jitter_state_ % 401) - 200;  // -200..200 per mille
  return static_cast<uint32_t>(base + base * jitter / 1000);
}

void DatabaseHealth::ProbeIfDown(BatchWriter& writer, std::function<void()> done) {
  bool probe = false;
  {
    absl::MutexLock lock(&mu_);
    const auto now = Clock::now();
    if (down_ && !probing_ && now - last_probe_ >= std::chrono::seconds(1)) {
      probe = probing_ = true;
      last_probe_ = now;
    }
  }
  if (!probe) return done();
  writer.Submit(
      [](Database& db) {
        if (absl::Status s = db.Exec(
                "CREATE TABLE IF NOT EXISTS txmsg_health (id INT PRIMARY KEY, time_ms BIGINT)");
            !s.ok()) {
          return s;
        }
        absl::StatusOr<Statement*> st = db.Prepare(
            "INSERT INTO txmsg_health (id, time_ms) VALUES (1, ?)"
            " ON CONFLICT(id) DO UPDATE SET time_ms = excluded.time_ms");
        if (!st.ok()) return st.status();
        return (*st)->Bind(1, NowMs()).Run();
      },
      [this, done = std::move(done)](absl::Status s) {
        Record(s);
        {
          absl::MutexLock lock(&mu_);
          probing_ = false;
        }
        done();
      });
}

void DatabaseHealth::CheckReachable(Database& read_db) {
  if (read_db.dialect() != Dialect::kPostgres) return;
  // A statement (not Exec): one that died idle is reopened and tried again.
  absl::StatusOr<Statement*> st = read_db.Prepare("SELECT 1");
  absl::Status s = st.status();
  if (st.ok()) {
    s = (*st)->Step().status();
    (*st)->Reset();
  }
  if (!s.ok()) Record(s);
}

void DatabaseHealth::Render(base::PrometheusWriter& w) const {
  w.Metric("txmsg_database_up", "gauge", "1 while the database takes writes, 0 during an outage.",
           uint64_t{available() ? 1u : 0u});
  w.Metric("txmsg_database_outages_total", "counter", "Database outages since start.", outages());
}

}  // namespace txmsg::sql

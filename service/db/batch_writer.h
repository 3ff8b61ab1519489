// Many small local transactions in one SQLite commit, each still atomic.
//
// Work submitted from any thread is queued; one writer thread takes what is
// queued, opens one transaction, runs each piece of work inside its own
// SAVEPOINT (a failing piece rolls back alone), commits once (one fsync for
// all), then reports each piece's outcome. This is what lets a service
// confirm thousands of orders a second with synchronous=FULL.
#ifndef TXMSG_SERVICE_DB_BATCH_WRITER_H_
#define TXMSG_SERVICE_DB_BATCH_WRITER_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/db/database.h"

namespace txmsg::sql {

class BatchWriter {
 public:
  // Runs inside a savepoint on the writer thread. An error rolls back this
  // piece only.
  using Work = std::function<absl::Status(Database&)>;
  // Runs on the writer thread after the commit (or with the error). Keep it
  // short; never Submit-and-wait from here.
  using Done = std::function<void(absl::Status)>;

  // `db` must outlive the writer and is used only by its thread.
  explicit BatchWriter(Database* db, size_t max_batch = 1024);
  // Finishes what is queued, then joins.
  ~BatchWriter();
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  void Submit(Work work, Done done);
  // Submits and waits. Not from the writer thread.
  [[nodiscard]] absl::Status Run(Work work);

  uint64_t commits() const;

 private:
  struct Item {
    Work work;
    Done done;
  };
  void Loop();

  Database* const db_;
  const size_t max_batch_;
  mutable absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t commits_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

// A service's SQLite file as both services use it: `prepare` (schema, seed
// data) runs on the write connection, which then belongs to a BatchWriter;
// a second connection serves reads (WAL lets them run beside the writer).
struct ServiceStore {
  std::unique_ptr<Database> write;
  std::unique_ptr<Database> read;
  std::unique_ptr<BatchWriter> writer;  // destroy before `write`
};
[[nodiscard]] absl::StatusOr<ServiceStore> OpenServiceStore(
    const std::string& path, const std::function<absl::Status(Database&)>& prepare);

}  // namespace txmsg::sql

#endif  // TXMSG_SERVICE_DB_BATCH_WRITER_H_

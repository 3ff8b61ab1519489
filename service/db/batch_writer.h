// Many small local transactions in few commits, each still atomic.
//
// Work submitted from any thread is queued; writer threads (one per
// connection) take what is queued and commit it in batches, then report
// each piece's outcome:
//  - SQLite (one connection): one transaction per batch, each piece inside
//    its own SAVEPOINT (a failing piece rolls back alone), one fsync for all.
//  - PostgreSQL (a pool): one transaction per batch without savepoints (a
//    subtransaction per piece would cost round trips, and more than 64 in a
//    transaction overflow the server's per-backend cache); if a piece fails,
//    the batch is rolled back and each piece runs again in a transaction of
//    its own. Several connections commit at once, and the server flushes
//    their WAL together (group commit), synchronous_commit staying on.
// So a piece of work may run more than once: it must only assign what it
// reports, never accumulate.
#ifndef TXMSG_SERVICE_DB_BATCH_WRITER_H_
#define TXMSG_SERVICE_DB_BATCH_WRITER_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/db/database.h"

namespace txmsg::sql {

class BatchWriter {
 public:
  // Runs inside the batch's transaction on a writer thread. An error rolls
  // back this piece only.
  using Work = std::function<absl::Status(Database&)>;
  // Runs on a writer thread after the commit (or with the error). Keep it
  // short; never Submit-and-wait from here. With several connections, Done
  // callbacks run on several threads at once.
  using Done = std::function<void(absl::Status)>;

  // One writer thread per connection; each connection must outlive the
  // writer and is used only by its thread.
  explicit BatchWriter(std::vector<Database*> connections, size_t max_batch = 1024);
  explicit BatchWriter(Database* db, size_t max_batch = 1024)
      : BatchWriter(std::vector<Database*>{db}, max_batch) {}
  // Finishes what is queued, then joins.
  ~BatchWriter();
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // `lock_key` (PostgreSQL): pieces with the same non-zero key lock the
  // same row (stock-service passes the product id). They are committed in
  // batches of their own: a batch then holds one such row lock, from its
  // first UPDATE to its COMMIT, while other connections commit batches for
  // other keys beside it; and batches never wait on each other in a cycle
  // (no deadlocks). 0 for pieces that share no rows.
  void Submit(Work work, Done done, int64_t lock_key = 0);
  // Submits and waits. Not from a writer thread.
  [[nodiscard]] absl::Status Run(Work work);

  uint64_t commits() const;

 private:
  struct Item {
    Work work;
    Done done;
    int64_t lock_key = 0;
  };
  void Loop(Database* db);
  // Moves up to max_batch_ queued items with `key` into `batch`, keeping
  // the others in their order.
  void TakeSameKey(int64_t key, std::vector<Item>& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `batch` on `db`, filling `results`; true if it committed.
  bool WithSavepoints(Database& db, std::vector<Item>& batch, std::vector<absl::Status>& results);
  bool AllOrEachAlone(Database& db, std::vector<Item>& batch, std::vector<absl::Status>& results);
  void CountCommit();

  const size_t max_batch_;
  mutable absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t commits_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

}  // namespace txmsg::sql

#endif  // TXMSG_SERVICE_DB_BATCH_WRITER_H_

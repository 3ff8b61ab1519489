#include "service/db/batch_writer.h"

#include <future>

namespace txmsg::sql {

BatchWriter::BatchWriter(std::vector<Database*> connections, size_t max_batch)
    : max_batch_(max_batch) {
  for (Database* db : connections) threads_.emplace_back([this, db] { Loop(db); });
}

BatchWriter::~BatchWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void BatchWriter::Submit(Work work, Done done, int64_t lock_key) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(Item{std::move(work), std::move(done), lock_key});
      return;
    }
  }
  done(absl::UnavailableError("database writer is stopping"));
}

absl::Status BatchWriter::Run(Work work) {
  std::promise<absl::Status> p;
  std::future<absl::Status> f = p.get_future();
  Submit(std::move(work), [&p](absl::Status s) { p.set_value(std::move(s)); });
  return f.get();
}

uint64_t BatchWriter::commits() const {
  absl::MutexLock lock(&mu_);
  return commits_;
}

void BatchWriter::TakeSameKey(int64_t key, std::vector<Item>& batch) {
  std::deque<Item> rest;
  while (!queue_.empty()) {
    if (queue_.front().lock_key == key && batch.size() < max_batch_) {
      batch.push_back(std::move(queue_.front()));
    } else {
      rest.push_back(std::move(queue_.front()));
    }
    queue_.pop_front();
  }
  queue_.swap(rest);
}

void BatchWriter::CountCommit() {
  absl::MutexLock lock(&mu_);
  ++commits_;
}

void BatchWriter::Loop(Database* db) {
  std::vector<Item> batch;
  std::vector<absl::Status> results;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](BatchWriter* w)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) { return !w->queue_.empty() || w->stopping_; },
          this));
      if (queue_.empty()) return;
      const int64_t key = queue_.front().lock_key;
      if (key == 0 || db->dialect() == Dialect::kSqlite) {
        while (!queue_.empty() && batch.size() < max_batch_) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      } else {
        TakeSameKey(key, batch);
      }
    }
    results.assign(batch.size(), absl::OkStatus());
    if (db->dialect() == Dialect::kSqlite) {
      WithSavepoints(*db, batch, results);
    } else {
      AllOrEachAlone(*db, batch, results);
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(results[i]);
    batch.clear();
  }
}

bool BatchWriter::WithSavepoints(Database& db, std::vector<Item>& batch,
                                 std::vector<absl::Status>& results) {
  absl::Status begin = db.Begin();
  for (size_t i = 0; i < batch.size() && begin.ok(); ++i) {
    if (absl::Status s = db.Exec("SAVEPOINT item"); !s.ok()) {
      results[i] = s;
      continue;
    }
    results[i] = batch[i].work(db);
    if (!results[i].ok()) (void)db.Exec("ROLLBACK TO item");
    (void)db.Exec("RELEASE item");
  }
  absl::Status commit = begin.ok() ? db.Commit() : begin;
  if (!commit.ok()) {
    db.Rollback();
    for (auto& r : results) {
      if (r.ok()) r = commit;
    }
    return false;
  }
  CountCommit();
  return true;
}

bool BatchWriter::AllOrEachAlone(Database& db, std::vector<Item>& batch,
                                 std::vector<absl::Status>& results) {
  absl::Status failed = db.Begin();
  for (size_t i = 0; i < batch.size() && failed.ok(); ++i) failed = batch[i].work(db);
  if (failed.ok()) {
    const absl::Status commit = db.Commit();
    if (commit.ok()) CountCommit();
    results.assign(batch.size(), commit);  // UNKNOWN if the connection died committing
    return commit.ok();
  }
  db.Rollback();
  if (batch.size() == 1 || db.broken()) {
    // Nothing committed; with the connection gone every piece shares its fate.
    results.assign(batch.size(), failed);
    return false;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    results[i] = db.Begin();
    if (results[i].ok()) results[i] = batch[i].work(db);
    if (results[i].ok()) {
      results[i] = db.Commit();
      if (results[i].ok()) CountCommit();
    } else {
      db.Rollback();
    }
  }
  return false;
}

}  // namespace txmsg::sql

#include "service/db/batch_writer.h"

#include <future>
#include <vector>

namespace txmsg::sql {

BatchWriter::BatchWriter(Database* db, size_t max_batch)
    : db_(db), max_batch_(max_batch), thread_([this] { Loop(); }) {}

BatchWriter::~BatchWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void BatchWriter::Submit(Work work, Done done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(Item{std::move(work), std::move(done)});
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

void BatchWriter::Loop() {
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
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    results.assign(batch.size(), absl::OkStatus());
    absl::Status begin = db_->Exec("BEGIN IMMEDIATE");
    for (size_t i = 0; i < batch.size() && begin.ok(); ++i) {
      if (absl::Status s = db_->Exec("SAVEPOINT item"); !s.ok()) {
        results[i] = s;
        continue;
      }
      results[i] = batch[i].work(*db_);
      if (!results[i].ok()) (void)db_->Exec("ROLLBACK TO item");
      (void)db_->Exec("RELEASE item");
    }
    absl::Status commit = begin.ok() ? db_->Exec("COMMIT") : begin;
    if (!commit.ok()) {
      (void)db_->Exec("ROLLBACK");
      for (auto& r : results) {
        if (r.ok()) r = commit;
      }
    } else {
      absl::MutexLock lock(&mu_);
      ++commits_;
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(results[i]);
    batch.clear();
  }
}

absl::StatusOr<ServiceStore> OpenServiceStore(
    const std::string& path, const std::function<absl::Status(Database&)>& prepare) {
  ServiceStore store;
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(path);
  if (!db.ok()) return db.status();
  store.write = *std::move(db);
  if (absl::Status s = prepare(*store.write); !s.ok()) return s;
  db = Database::Open(path);
  if (!db.ok()) return db.status();
  store.read = *std::move(db);
  store.writer = std::make_unique<BatchWriter>(store.write.get());
  return store;
}

}  // namespace txmsg::sql

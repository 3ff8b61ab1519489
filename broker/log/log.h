// The broker's durable log: an append-only sequence of checksummed records in
// segment files, with group commit.
//
// Appends from any thread are queued; one writer thread takes everything
// queued (up to a batch cap), writes it with one write call and makes it
// durable with one fdatasync, then completes each append with the record's
// position. While one fdatasync runs, the next batch fills. A failed fsync,
// or a write that fails for any reason but a full disk, makes the log refuse
// every later append (sticky error): nothing is retried in a way that could
// pretend it worked. A full disk is not sticky: the batch fails, its partial
// write is cut off again, and the next batch tries anew (so the log resumes
// by itself once space is freed).
//
// Records are read back by position (pread; bodies are never held in RAM)
// or scanned in order. Whole segments can be deleted when the caller no
// longer needs anything in them.
#ifndef TXMSG_BROKER_LOG_LOG_H_
#define TXMSG_BROKER_LOG_LOG_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker/log/append_tracker.h"
#include "broker/log/file_system.h"
#include "broker/log/recovery.h"

namespace txmsg::log {

struct LogOptions {
  std::string dir;
  // A segment is sealed and a new one started once the next record would
  // take it past this size (a single larger record gets a segment of its own).
  uint64_t segment_size = 64ull << 20;
  // Most bytes written by one write + fdatasync.
  size_t max_batch_bytes = 4u << 20;
  // Appends queued and not yet written beyond this are refused
  // (RESOURCE_EXHAUSTED), so a stalled disk cannot grow memory without bound.
  size_t max_queued_bytes = 256u << 20;
  // Cut corruption off instead of refusing to open (see recovery.h).
  bool repair = false;
  // Called for every valid record during Open, in order.
  ReplayFn replay;
  // Where the files live; must outlive the log.
  FileSystem* fs = DefaultFileSystem();
  // Called on the writer thread with each batch's bytes after they are
  // written and before they are synced (fault injection uses it).
  std::function<void(std::string_view batch)> before_sync;
  // Counts appends in flight, for tests that step the log's owner (see
  // append_tracker.h). Null: not counted. Must outlive the log.
  AppendTracker* tracker = nullptr;
};

struct Record {
  uint8_t type = 0;
  std::string payload;
};

struct SegmentInfo {
  uint64_t base = 0;
  uint64_t size = 0;  // durable bytes
};

// Cumulative counters since Open. Latency buckets (microseconds) are upper
// bounds: kSyncLatencyBucketsUs[i] counts syncs that took <= that long.
inline constexpr uint64_t kSyncLatencyBucketsUs[] = {100,  250,   500,   1000,  2500,
                                                     5000, 10000, 50000, 250000};
inline constexpr size_t kSyncLatencyBuckets = std::size(kSyncLatencyBucketsUs) + 1;  // +Inf
struct LogStats {
  uint64_t appends = 0;
  uint64_t bytes = 0;
  uint64_t syncs = 0;
  uint64_t sync_time_us = 0;
  uint64_t sync_latency[kSyncLatencyBuckets] = {};
  uint64_t segments = 0;
  uint64_t disk_bytes = 0;
  uint64_t disk_full = 0;  // batches refused because the disk was full
};

class Log {
 public:
  // Completion of an append: the record's position, or why it is not durable.
  // Runs on the log's writer thread: keep it short, hand work to your own
  // thread (post to an io_context), and do not destroy the Log from it.
  using AppendCallback = absl::AnyInvocable<void(absl::StatusOr<uint64_t>)>;
  using ScanFn = std::function<bool(uint64_t position, uint8_t type, std::string_view payload)>;

  // Locks `options.dir` (FAILED_PRECONDITION naming the holder's pid if
  // another process has it open), recovers it (see recovery.h) and starts
  // the writer thread.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Log>> Open(LogOptions options);

  // Writes every append queued so far, then stops the writer thread.
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Queues a record. OK means `done` will be called exactly once, after the
  // record is durable (with its position) or has failed. An error means it
  // was refused at once (invalid type or size, sticky error, queue full) and
  // `done` will not be called. Thread-safe.
  [[nodiscard]] absl::Status Append(uint8_t type, std::string payload, AppendCallback done);
  // Blocking convenience over Append.
  [[nodiscard]] absl::StatusOr<uint64_t> AppendAndWait(uint8_t type, std::string payload);

  // The durable record at `position` (NOT_FOUND if no record starts there in
  // the retained, durable log; DATA_LOSS if its checksum fails). Thread-safe.
  [[nodiscard]] absl::StatusOr<Record> Read(uint64_t position) const;

  // Calls `fn` for every durable record at or after `from`, in order, until it
  // returns false. Thread-safe; appends may go on meanwhile.
  [[nodiscard]] absl::Status Scan(uint64_t from, const ScanFn& fn) const;

  // Deletes every sealed segment whose records all lie before `position`.
  // Returns how many were deleted. Thread-safe.
  [[nodiscard]] absl::StatusOr<size_t> DeleteSegmentsBefore(uint64_t position);

  // The segments, oldest first; the last is the one being written.
  std::vector<SegmentInfo> Segments() const;
  // Position the next record will get if no segment rolls first; every
  // record before it is durable.
  uint64_t durable_end() const;
  // OK, or the sticky error that stops all appends.
  absl::Status health() const;
  LogStats stats() const;
  const RecoveryReport& recovery_report() const { return recovery_; }

 private:
  struct Pending {
    uint8_t type;
    std::string payload;
    AppendCallback done;
  };
  struct Segment {
    uint64_t base = 0;
    std::string path;
    uint64_t size = 0;  // durable bytes
    std::shared_ptr<RandomAccessFile> reader;
  };

  explicit Log(LogOptions options);
  absl::Status Start(RecoveryReport report);
  void WriterLoop();
  void WriteBatch(std::vector<Pending>& batch);
  // Writes and syncs `buffer` to the active segment.
  absl::Status FlushActive(const std::string& buffer, size_t records);
  // Seals the active segment and creates the next one. On a full disk the
  // active segment stays active (and over its size) until a later roll works.
  absl::Status RollSegment();
  struct NewSegment {
    std::shared_ptr<Segment> segment;
    std::unique_ptr<WritableFile> file;
  };
  absl::StatusOr<NewSegment> CreateSegment(uint64_t base);
  // A write failed for lack of space: cuts the active segment back to its
  // durable size. Returns the error for the batch (sticky if the cut fails).
  absl::Status DiskFull(const absl::Status& cause);
  void Fail(std::vector<Pending>& batch, size_t from, const absl::Status& status);
  std::shared_ptr<Segment> FindSegment(uint64_t position) const;

  const LogOptions options_;
  FileSystem* const fs_;
  std::unique_ptr<FileLock> lock_;  // the directory's LOCK, held while the log is open
  RecoveryReport recovery_;

  mutable absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status sticky_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<Segment>> segments_ ABSL_GUARDED_BY(mu_);
  LogStats stats_ ABSL_GUARDED_BY(mu_);

  // Owned by the writer thread (and by Open before it starts).
  std::unique_ptr<WritableFile> active_file_;
  std::shared_ptr<Segment> active_;
  uint64_t active_size_ = 0;  // bytes written to the active segment

  std::thread writer_;
};

}  // namespace txmsg::log

#endif  // TXMSG_BROKER_LOG_LOG_H_

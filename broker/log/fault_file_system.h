// A FileSystem that wraps another and breaks on request, for tests and the
// fault-injection suite: failing writes, failing fsyncs, a disk that fills
// up, and a power cut that drops every byte (and every new directory entry)
// not yet synced. Thread-safe.
#ifndef TXMSG_BROKER_LOG_FAULT_FILE_SYSTEM_H_
#define TXMSG_BROKER_LOG_FAULT_FILE_SYSTEM_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "broker/log/file_system.h"

namespace txmsg::log {

class FaultInjectionFileSystem final : public FileSystem {
 public:
  // `base` must outlive this object.
  explicit FaultInjectionFileSystem(FileSystem* base = DefaultFileSystem());
  FaultInjectionFileSystem(const FaultInjectionFileSystem&) = delete;
  FaultInjectionFileSystem& operator=(const FaultInjectionFileSystem&) = delete;

  // While set, every Sync fails with an I/O error (and syncs nothing).
  void SetFailSyncs(bool fail);
  // While set, every Append fails without writing.
  void SetFailWrites(bool fail);
  // Allows `bytes` more bytes of appends in total; the write that crosses
  // the limit writes what fits and fails with RESOURCE_EXHAUSTED, as a full
  // disk does. Negative: no limit.
  void SetWriteBudget(int64_t bytes);
  // Syncs after the first `n` (counted from creation) fail, as a failing disk's do.
  void SetFailSyncsAfter(uint64_t n);
  // While `full()` returns true, an append writes half its data and fails
  // with RESOURCE_EXHAUSTED (a disk someone else filled). For the fault
  // suite, which fills and frees the disk from outside the process.
  void SetDiskFullWhile(std::function<bool()> full);

  // The power goes out: every file is cut back to what was synced (keeping
  // a random prefix of the unsynced bytes when `torn` is set, as a disk that
  // wrote some pages would), and files whose directory entry was never
  // synced vanish. Afterwards every operation on files opened before the cut
  // fails, until Restore().
  [[nodiscard]] absl::Status SimulatePowerCut(bool torn = false, uint64_t seed = 0);
  // Power is back: files opened from now on work again.
  void Restore();

  uint64_t syncs() const;

  // FileSystem:
  absl::StatusOr<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> OpenReadable(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override;
  absl::StatusOr<uint64_t> FileSize(const std::string& path) override;
  absl::Status CreateDirIfMissing(const std::string& dir) override;
  absl::Status DeleteFile(const std::string& path) override;
  absl::Status Truncate(const std::string& path, uint64_t size) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status SyncDir(const std::string& dir) override;
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

 private:
  class FaultWritableFile;
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
    bool entry_durable = true;  // false until the directory is synced
  };

  FileSystem* const base_;
  mutable absl::Mutex mu_;
  std::map<std::string, FileState> files_ ABSL_GUARDED_BY(mu_);
  bool fail_syncs_ ABSL_GUARDED_BY(mu_) = false;
  bool fail_writes_ ABSL_GUARDED_BY(mu_) = false;
  int64_t write_budget_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t fail_syncs_after_ ABSL_GUARDED_BY(mu_) = -1;
  std::function<bool()> disk_full_ ABSL_GUARDED_BY(mu_);
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by each power cut
  uint64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace txmsg::log

#endif  // TXMSG_BROKER_LOG_FAULT_FILE_SYSTEM_H_

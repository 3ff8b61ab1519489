// A FileSystem held in memory, for tests that run the log (and the broker
// core on it) many thousands of times: no disk, no fsync cost, nothing left
// behind. Wrap it in a FaultInjectionFileSystem to lose unsynced bytes on a
// simulated power cut. Thread-safe.
#ifndef TXMSG_TESTS_BROKER_CORE_MEM_FILE_SYSTEM_H_
#define TXMSG_TESTS_BROKER_CORE_MEM_FILE_SYSTEM_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "broker/log/file_system.h"

namespace txmsg::broker::testing {

class MemFileSystem final : public log::FileSystem {
 public:
  MemFileSystem() = default;
  MemFileSystem(const MemFileSystem&) = delete;
  MemFileSystem& operator=(const MemFileSystem&) = delete;

  absl::StatusOr<std::unique_ptr<log::WritableFile>> OpenAppendable(
      const std::string& path) override;
  absl::StatusOr<std::unique_ptr<log::RandomAccessFile>> OpenReadable(
      const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override;
  absl::StatusOr<uint64_t> FileSize(const std::string& path) override;
  absl::Status CreateDirIfMissing(const std::string& dir) override;
  absl::Status DeleteFile(const std::string& path) override;
  absl::Status Truncate(const std::string& path, uint64_t size) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status SyncDir(const std::string& dir) override;
  // One holder per path, like flock: a second lock fails until the first
  // is destroyed.
  absl::StatusOr<std::unique_ptr<log::FileLock>> LockFile(const std::string& path) override;

 private:
  class Lock;
  class Writer;
  class Reader;
  // A file's bytes; shared with the handles opened on it, so a handle keeps
  // working on a file deleted or renamed meanwhile, as on POSIX.
  struct Contents {
    mutable absl::Mutex mu;
    std::string bytes ABSL_GUARDED_BY(mu);
  };

  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Contents>> files_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> dirs_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> locked_ ABSL_GUARDED_BY(mu_);
};

}  // namespace txmsg::broker::testing

#endif  // TXMSG_TESTS_BROKER_CORE_MEM_FILE_SYSTEM_H_

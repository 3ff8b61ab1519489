// The seam between the log and the operating system. The log does all its
// file I/O through these interfaces so that tests (and the fault suite) can
// replace them: fail a write, fail an fsync, run out of space, or drop every
// byte not yet synced, as a power cut would.
#ifndef TXMSG_BROKER_LOG_FILE_SYSTEM_H_
#define TXMSG_BROKER_LOG_FILE_SYSTEM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace txmsg::log {

// A file written only at its end. Not thread-safe.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of `data` at the end of the file (or fails; a failed call may
  // have written a prefix).
  [[nodiscard]] virtual absl::Status Append(std::string_view data) = 0;
  // Makes every byte appended so far durable (fdatasync).
  [[nodiscard]] virtual absl::Status Sync() = 0;
  [[nodiscard]] virtual absl::Status Close() = 0;
};

// A file read at any offset. Thread-safe (pread).
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to `n` bytes at `offset` into `scratch`; returns how many were
  // read (fewer only at the end of the file).
  [[nodiscard]] virtual absl::StatusOr<size_t> Read(uint64_t offset, size_t n,
                                                    char* scratch) const = 0;
};

// An exclusive lock on a file, held until destroyed (LevelDB's LOCK).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// Directory and file operations. Implementations are thread-safe.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Opens `path` for appending, creating it if absent.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<WritableFile>> OpenAppendable(
      const std::string& path) = 0;
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<RandomAccessFile>> OpenReadable(
      const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`.
  [[nodiscard]] virtual absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& dir) = 0;
  [[nodiscard]] virtual absl::StatusOr<uint64_t> FileSize(const std::string& path) = 0;
  // Creates `dir` and any missing parents.
  [[nodiscard]] virtual absl::Status CreateDirIfMissing(const std::string& dir) = 0;
  [[nodiscard]] virtual absl::Status DeleteFile(const std::string& path) = 0;
  [[nodiscard]] virtual absl::Status Truncate(const std::string& path, uint64_t size) = 0;
  [[nodiscard]] virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  // Makes the directory's entries (created, renamed, deleted files) durable.
  [[nodiscard]] virtual absl::Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive lock on `path` (created if absent) and records this
  // process's pid in it. FAILED_PRECONDITION naming the holder's pid if
  // another process, or another lock in this one, holds it. The lock goes
  // with the process, so a kill -9 never leaves it behind.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<FileLock>> LockFile(
      const std::string& path) = 0;
};

// The real thing. One instance serves the whole process.
FileSystem* DefaultFileSystem();

// Writes `contents` to `path` durably: temp file, fsync, rename, fsync dir.
[[nodiscard]] absl::Status WriteFileAtomically(FileSystem* fs, const std::string& path,
                                               std::string_view contents);
// Reads a whole (small) file.
[[nodiscard]] absl::StatusOr<std::string> ReadWholeFile(FileSystem* fs, const std::string& path);

}  // namespace txmsg::log

#endif  // TXMSG_BROKER_LOG_FILE_SYSTEM_H_

#include "tests/broker/core/mem_file_system.h"

#include <algorithm>
#include <cstring>

namespace txmsg::broker::testing {
namespace {

absl::Status NoSuchFile(const std::string& path) {
  return absl::NotFoundError(path + ": No such file or directory");
}

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

class MemFileSystem::Writer final : public log::WritableFile {
 public:
  explicit Writer(std::shared_ptr<Contents> contents) : contents_(std::move(contents)) {}
  absl::Status Append(std::string_view data) override {
    absl::MutexLock lock(&contents_->mu);
    contents_->bytes.append(data);
    return absl::OkStatus();
  }
  absl::Status Sync() override { return absl::OkStatus(); }
  absl::Status Close() override { return absl::OkStatus(); }

 private:
  const std::shared_ptr<Contents> contents_;
};

class MemFileSystem::Reader final : public log::RandomAccessFile {
 public:
  explicit Reader(std::shared_ptr<Contents> contents) : contents_(std::move(contents)) {}
  absl::StatusOr<size_t> Read(uint64_t offset, size_t n, char* scratch) const override {
    absl::MutexLock lock(&contents_->mu);
    const std::string& bytes = contents_->bytes;
    if (offset >= bytes.size()) return 0;
    const size_t got = std::min<uint64_t>(n, bytes.size() - offset);
    std::memcpy(scratch, bytes.data() + offset, got);
    return got;
  }

 private:
  const std::shared_ptr<Contents> contents_;
};

absl::StatusOr<std::unique_ptr<log::WritableFile>> MemFileSystem::OpenAppendable(
    const std::string& path) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<Contents>& contents = files_[path];
  if (!contents) contents = std::make_shared<Contents>();
  return std::unique_ptr<log::WritableFile>(std::make_unique<Writer>(contents));
}

absl::StatusOr<std::unique_ptr<log::RandomAccessFile>> MemFileSystem::OpenReadable(
    const std::string& path) {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NoSuchFile(path);
  return std::unique_ptr<log::RandomAccessFile>(std::make_unique<Reader>(it->second));
}

absl::StatusOr<std::vector<std::string>> MemFileSystem::ListDir(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  if (!dirs_.contains(dir)) return NoSuchFile(dir);
  std::vector<std::string> names;
  for (const auto& [path, contents] : files_) {
    if (DirOf(path) == dir) names.push_back(path.substr(dir.size() + 1));
  }
  return names;
}

absl::StatusOr<uint64_t> MemFileSystem::FileSize(const std::string& path) {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NoSuchFile(path);
  absl::MutexLock file_lock(&it->second->mu);
  return it->second->bytes.size();
}

absl::Status MemFileSystem::CreateDirIfMissing(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  for (size_t slash = dir.find('/', 1); slash != std::string::npos;
       slash = dir.find('/', slash + 1)) {
    dirs_.insert(dir.substr(0, slash));
  }
  dirs_.insert(dir);
  return absl::OkStatus();
}

absl::Status MemFileSystem::DeleteFile(const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (files_.erase(path) == 0) return NoSuchFile(path);
  return absl::OkStatus();
}

absl::Status MemFileSystem::Truncate(const std::string& path, uint64_t size) {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NoSuchFile(path);
  absl::MutexLock file_lock(&it->second->mu);
  it->second->bytes.resize(size, '\0');
  return absl::OkStatus();
}

absl::Status MemFileSystem::Rename(const std::string& from, const std::string& to) {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return NoSuchFile(from);
  std::shared_ptr<Contents> contents = it->second;
  files_.erase(it);
  files_[to] = std::move(contents);
  return absl::OkStatus();
}

absl::Status MemFileSystem::SyncDir(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  if (!dirs_.contains(dir)) return NoSuchFile(dir);
  return absl::OkStatus();
}

class MemFileSystem::Lock final : public log::FileLock {
 public:
  Lock(MemFileSystem* fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  ~Lock() override {
    absl::MutexLock lock(&fs_->mu_);
    fs_->locked_.erase(path_);
  }

 private:
  MemFileSystem* const fs_;
  const std::string path_;
};

absl::StatusOr<std::unique_ptr<log::FileLock>> MemFileSystem::LockFile(const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (!locked_.insert(path).second) {
    return absl::FailedPreconditionError(path + " is held by another process");
  }
  return std::unique_ptr<log::FileLock>(new Lock(this, path));
}

}  // namespace txmsg::broker::testing

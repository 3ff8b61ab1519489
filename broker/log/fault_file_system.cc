#include "broker/log/fault_file_system.h"

#include <random>

#include "absl/strings/str_cat.h"

namespace txmsg::log {
namespace {

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

class FaultInjectionFileSystem::FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionFileSystem* fs, std::string path,
                    std::unique_ptr<WritableFile> base, uint64_t epoch)
      : fs_(fs), path_(std::move(path)), base_(std::move(base)), epoch_(epoch) {}

  absl::Status Append(std::string_view data) override {
    absl::MutexLock lock(&fs_->mu_);
    if (epoch_ != fs_->epoch_) return absl::UnavailableError("power cut: " + path_);
    if (fs_->fail_writes_) return absl::InternalError("injected write failure: " + path_);
    std::string_view fits = data;
    bool full = fs_->write_budget_ >= 0 && static_cast<int64_t>(data.size()) > fs_->write_budget_;
    if (full) fits = data.substr(0, static_cast<size_t>(fs_->write_budget_));
    if (fs_->disk_full_ && fs_->disk_full_()) {
      full = true;
      fits = fits.substr(0, fits.size() / 2);
    }
    if (absl::Status s = base_->Append(fits); !s.ok()) return s;
    fs_->files_[path_].size += fits.size();
    if (fs_->write_budget_ >= 0) fs_->write_budget_ -= static_cast<int64_t>(fits.size());
    if (full) return absl::ResourceExhaustedError("write " + path_ + ": No space left on device");
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    absl::MutexLock lock(&fs_->mu_);
    if (epoch_ != fs_->epoch_) return absl::UnavailableError("power cut: " + path_);
    if (fs_->fail_syncs_ || (fs_->fail_syncs_after_ >= 0 &&
                             fs_->syncs_ >= static_cast<uint64_t>(fs_->fail_syncs_after_))) {
      return absl::InternalError("fdatasync " + path_ + ": injected I/O error");
    }
    if (absl::Status s = base_->Sync(); !s.ok()) return s;
    FileState& st = fs_->files_[path_];
    st.synced = st.size;
    ++fs_->syncs_;
    return absl::OkStatus();
  }

  absl::Status Close() override { return base_->Close(); }

 private:
  FaultInjectionFileSystem* const fs_;
  const std::string path_;
  const std::unique_ptr<WritableFile> base_;
  const uint64_t epoch_;
};

FaultInjectionFileSystem::FaultInjectionFileSystem(FileSystem* base) : base_(base) {}

void FaultInjectionFileSystem::SetFailSyncs(bool fail) {
  absl::MutexLock lock(&mu_);
  fail_syncs_ = fail;
}

void FaultInjectionFileSystem::SetFailWrites(bool fail) {
  absl::MutexLock lock(&mu_);
  fail_writes_ = fail;
}

void FaultInjectionFileSystem::SetWriteBudget(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  write_budget_ = bytes;
}

void FaultInjectionFileSystem::SetFailSyncsAfter(uint64_t n) {
  absl::MutexLock lock(&mu_);
  fail_syncs_after_ = static_cast<int64_t>(n);
}

void FaultInjectionFileSystem::SetDiskFullWhile(std::function<bool()> full) {
  absl::MutexLock lock(&mu_);
  disk_full_ = std::move(full);
}

uint64_t FaultInjectionFileSystem::syncs() const {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

absl::Status FaultInjectionFileSystem::SimulatePowerCut(bool torn, uint64_t seed) {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  std::mt19937_64 rng(seed);
  for (auto it = files_.begin(); it != files_.end();) {
    FileState& st = it->second;
    if (!st.entry_durable) {
      if (absl::Status s = base_->DeleteFile(it->first); !s.ok() && !absl::IsNotFound(s)) return s;
      it = files_.erase(it);
      continue;
    }
    uint64_t keep = st.synced;
    if (torn && st.size > st.synced) keep += rng() % (st.size - st.synced + 1);
    if (keep < st.size) {
      if (absl::Status s = base_->Truncate(it->first, keep); !s.ok()) return s;
    }
    st.size = st.synced = keep;
    ++it;
  }
  return absl::OkStatus();
}

void FaultInjectionFileSystem::Restore() {
  absl::MutexLock lock(&mu_);
  fail_syncs_ = fail_writes_ = false;
  write_budget_ = -1;
  fail_syncs_after_ = -1;
  disk_full_ = nullptr;
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::OpenAppendable(
    const std::string& path) {
  absl::MutexLock lock(&mu_);
  auto existing = base_->FileSize(path);
  absl::StatusOr<std::unique_ptr<WritableFile>> file = base_->OpenAppendable(path);
  if (!file.ok()) return file.status();
  if (!files_.contains(path)) {
    FileState st;
    if (existing.ok()) {
      st.size = st.synced = *existing;  // was there before we watched: durable
    } else {
      st.entry_durable = false;
    }
    files_[path] = st;
  }
  return std::unique_ptr<WritableFile>(
      std::make_unique<FaultWritableFile>(this, path, std::move(*file), epoch_));
}

absl::StatusOr<std::unique_ptr<RandomAccessFile>> FaultInjectionFileSystem::OpenReadable(
    const std::string& path) {
  return base_->OpenReadable(path);
}

absl::StatusOr<std::vector<std::string>> FaultInjectionFileSystem::ListDir(const std::string& dir) {
  return base_->ListDir(dir);
}

absl::StatusOr<std::unique_ptr<FileLock>> FaultInjectionFileSystem::LockFile(
    const std::string& path) {
  return base_->LockFile(path);
}

absl::StatusOr<uint64_t> FaultInjectionFileSystem::FileSize(const std::string& path) {
  return base_->FileSize(path);
}

absl::Status FaultInjectionFileSystem::CreateDirIfMissing(const std::string& dir) {
  return base_->CreateDirIfMissing(dir);
}

absl::Status FaultInjectionFileSystem::DeleteFile(const std::string& path) {
  absl::MutexLock lock(&mu_);
  files_.erase(path);
  return base_->DeleteFile(path);
}

absl::Status FaultInjectionFileSystem::Truncate(const std::string& path, uint64_t size) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = base_->Truncate(path, size); !s.ok()) return s;
  if (auto it = files_.find(path); it != files_.end()) {
    if (write_budget_ >= 0 && size < it->second.size) {
      write_budget_ += static_cast<int64_t>(it->second.size - size);  // space freed
    }
    it->second.size = size;
    it->second.synced = std::min(it->second.synced, size);
  }
  return absl::OkStatus();
}

absl::Status FaultInjectionFileSystem::Rename(const std::string& from, const std::string& to) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = base_->Rename(from, to); !s.ok()) return s;
  if (auto it = files_.find(from); it != files_.end()) {
    files_[to] = it->second;
    files_.erase(it);
  }
  return absl::OkStatus();
}

absl::Status FaultInjectionFileSystem::SyncDir(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  if (fail_syncs_) return absl::InternalError("fsync " + dir + ": injected I/O error");
  if (absl::Status s = base_->SyncDir(dir); !s.ok()) return s;
  for (auto& [path, st] : files_) {
    if (DirOf(path) == dir) st.entry_durable = true;
  }
  return absl::OkStatus();
}

}  // namespace txmsg::log

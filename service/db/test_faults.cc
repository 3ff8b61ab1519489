#include "service/db/test_faults.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace txmsg::sql {
namespace {

sqlite3_vfs* real_vfs = nullptr;
std::string* full_flag = nullptr;  // lives for the process

bool DiskFull() { return ::access(full_flag->c_str(), F_OK) == 0; }

// Our file: the methods pointer SQLite reads, then the real VFS's file.
struct FaultFile {
  sqlite3_file base;
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};
FaultFile* Cast(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f); }
const sqlite3_io_methods* Real(sqlite3_file* f) { return Cast(f)->real()->pMethods; }

int Close(sqlite3_file* f) { return Real(f)->xClose(Cast(f)->real()); }
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return Real(f)->xRead(Cast(f)->real(), buf, n, off);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (DiskFull()) return SQLITE_FULL;
  return Real(f)->xWrite(Cast(f)->real(), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->xTruncate(Cast(f)->real(), size);
}
int Sync(sqlite3_file* f, int flags) { return Real(f)->xSync(Cast(f)->real(), flags); }
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->xFileSize(Cast(f)->real(), size);
}
int Lock(sqlite3_file* f, int level) { return Real(f)->xLock(Cast(f)->real(), level); }
int Unlock(sqlite3_file* f, int level) { return Real(f)->xUnlock(Cast(f)->real(), level); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->xCheckReservedLock(Cast(f)->real(), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->xFileControl(Cast(f)->real(), op, arg);
}
int SectorSize(sqlite3_file* f) { return Real(f)->xSectorSize(Cast(f)->real()); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->xDeviceCharacteristics(Cast(f)->real());
}
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return Real(f)->xShmMap(Cast(f)->real(), page, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->xShmLock(Cast(f)->real(), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->xShmBarrier(Cast(f)->real()); }
int ShmUnmap(sqlite3_file* f, int del) { return Real(f)->xShmUnmap(Cast(f)->real(), del); }

// Version 2: shared memory (WAL) but no memory-mapped I/O.
const sqlite3_io_methods kMethods = {
    .iVersion = 2,
    .xClose = Close,
    .xRead = Read,
    .xWrite = Write,
    .xTruncate = Truncate,
    .xSync = Sync,
    .xFileSize = FileSize,
    .xLock = Lock,
    .xUnlock = Unlock,
    .xCheckReservedLock = CheckReservedLock,
    .xFileControl = FileControl,
    .xSectorSize = SectorSize,
    .xDeviceCharacteristics = DeviceCharacteristics,
    .xShmMap = ShmMap,
    .xShmLock = ShmLock,
    .xShmBarrier = ShmBarrier,
    .xShmUnmap = ShmUnmap,
    .xFetch = nullptr,
    .xUnfetch = nullptr,
};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  FaultFile* f = Cast(file);
  f->base.pMethods = nullptr;
  const int rc = real_vfs->xOpen(real_vfs, name, f->real(), flags, out_flags);
  if (rc == SQLITE_OK && f->real()->pMethods != nullptr) f->base.pMethods = &kMethods;
  return rc;
}
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return real_vfs->xDelete(real_vfs, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return real_vfs->xAccess(real_vfs, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return real_vfs->xFullPathname(real_vfs, name, n, out);
}
int Randomness(sqlite3_vfs*, int n, char* out) { return real_vfs->xRandomness(real_vfs, n, out); }
int Sleep(sqlite3_vfs*, int us) { return real_vfs->xSleep(real_vfs, us); }
int CurrentTime(sqlite3_vfs*, double* out) { return real_vfs->xCurrentTime(real_vfs, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return real_vfs->xGetLastError(real_vfs, n, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

sqlite3_vfs fault_vfs;

}  // namespace

void InstallTestStorageFaults() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* flag = std::getenv("TXMSG_TEST_DB_FULL_FLAG");
    if (flag == nullptr || *flag == '\0') return;
    real_vfs = sqlite3_vfs_find(nullptr);
    if (real_vfs == nullptr || real_vfs->iVersion < 2) return;
    full_flag = new std::string(flag);
    fault_vfs = sqlite3_vfs{};
    fault_vfs.iVersion = 2;
    fault_vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + real_vfs->szOsFile;
    fault_vfs.mxPathname = real_vfs->mxPathname;
    fault_vfs.zName = "txmsg-test-faults";
    fault_vfs.xOpen = Open;
    fault_vfs.xDelete = Delete;
    fault_vfs.xAccess = Access;
    fault_vfs.xFullPathname = FullPathname;
    fault_vfs.xRandomness = Randomness;
    fault_vfs.xSleep = Sleep;
    fault_vfs.xCurrentTime = CurrentTime;
    fault_vfs.xGetLastError = GetLastError;
    fault_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    if (sqlite3_vfs_register(&fault_vfs, /*makeDflt=*/1) == SQLITE_OK) {
      std::fprintf(stderr, "test storage faults armed: database disk-full-flag=%s\n", flag);
    }
  });
}

}  // namespace txmsg::sql

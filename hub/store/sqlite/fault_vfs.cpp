#include "store/sqlite/fault_vfs.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <chrono>
#include <fstream>
#include <thread>
#include <sstream>
#include <string>

namespace hub::store {
namespace {

sqlite3_vfs* g_base = nullptr;  // the VFS wrapped (SQLite's default, "unix")
sqlite3_vfs g_vfs;
std::string g_control;          // the control file's path

// The wrapper's file: our methods first, the base VFS's file right behind it.
struct FaultFile {
  sqlite3_file base;
  char path[512];
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};
FaultFile* self(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f); }

// What fails while the control file exists: writes (SQLITE_FULL), or with the text "fsync:"
// first, syncs (SQLITE_IOERR_FSYNC: the data is written and may or may not be on the disk, so a
// COMMIT that fails so has an unknown outcome), or with "slow-fsync:" first, syncs that take
// 30 ms and then fail so (a failing disk that is slow about it: ingest stages its next group
// meanwhile); the rest of the text, if any, is the path's part.
enum class Fault { kNone, kWrite, kSync, kSlowSync };

Fault fault_for(const char* path) {
  struct stat st {};
  if (::stat(g_control.c_str(), &st) != 0) return Fault::kNone;
  std::ifstream in(g_control);
  std::ostringstream text;
  text << in.rdbuf();
  std::string only = text.str();
  while (!only.empty() && (only.back() == '\n' || only.back() == ' ')) only.pop_back();
  Fault fault = Fault::kWrite;
  if (only.rfind("fsync:", 0) == 0) {
    fault = Fault::kSync;
    only.erase(0, 6);
  } else if (only.rfind("slow-fsync:", 0) == 0) {
    fault = Fault::kSlowSync;
    only.erase(0, 11);
  }
  return only.empty() || std::strstr(path, only.c_str()) != nullptr ? fault : Fault::kNone;
}

bool writes_fail(const char* path) { return fault_for(path) == Fault::kWrite; }

int x_close(sqlite3_file* f) {
  const int rc = self(f)->real()->pMethods->xClose(self(f)->real());
  return rc;
}
int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return self(f)->real()->pMethods->xRead(self(f)->real(), buf, n, off);
}
int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (writes_fail(self(f)->path)) return SQLITE_FULL;
  return self(f)->real()->pMethods->xWrite(self(f)->real(), buf, n, off);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (writes_fail(self(f)->path)) return SQLITE_FULL;
  return self(f)->real()->pMethods->xTruncate(self(f)->real(), size);
}
int x_sync(sqlite3_file* f, int flags) {
  const Fault fault = fault_for(self(f)->path);
  if (fault == Fault::kSlowSync) std::this_thread::sleep_for(std::chrono::milliseconds(30));
  if (fault == Fault::kSync || fault == Fault::kSlowSync) return SQLITE_IOERR_FSYNC;
  return self(f)->real()->pMethods->xSync(self(f)->real(), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return self(f)->real()->pMethods->xFileSize(self(f)->real(), size);
}
int x_lock(sqlite3_file* f, int level) { return self(f)->real()->pMethods->xLock(self(f)->real(), level); }
int x_unlock(sqlite3_file* f, int level) { return self(f)->real()->pMethods->xUnlock(self(f)->real(), level); }
int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return self(f)->real()->pMethods->xCheckReservedLock(self(f)->real(), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return self(f)->real()->pMethods->xFileControl(self(f)->real(), op, arg);
}
int x_sector_size(sqlite3_file* f) { return self(f)->real()->pMethods->xSectorSize(self(f)->real()); }
int x_device_characteristics(sqlite3_file* f) {
  return self(f)->real()->pMethods->xDeviceCharacteristics(self(f)->real());
}
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return self(f)->real()->pMethods->xShmMap(self(f)->real(), page, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return self(f)->real()->pMethods->xShmLock(self(f)->real(), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { self(f)->real()->pMethods->xShmBarrier(self(f)->real()); }
int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  return self(f)->real()->pMethods->xShmUnmap(self(f)->real(), delete_flag);
}
int x_fetch(sqlite3_file* f, sqlite3_int64 off, int amount, void** out) {
  return self(f)->real()->pMethods->xFetch(self(f)->real(), off, amount, out);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return self(f)->real()->pMethods->xUnfetch(self(f)->real(), off, p);
}

// One method table per version the base file can have (1–3), so SQLite never calls a method
// the real file does not implement.
sqlite3_io_methods make_methods(int version) {
  sqlite3_io_methods m{};
  m.iVersion = version;
  m.xClose = x_close;
  m.xRead = x_read;
  m.xWrite = x_write;
  m.xTruncate = x_truncate;
  m.xSync = x_sync;
  m.xFileSize = x_file_size;
  m.xLock = x_lock;
  m.xUnlock = x_unlock;
  m.xCheckReservedLock = x_check_reserved_lock;
  m.xFileControl = x_file_control;
  m.xSectorSize = x_sector_size;
  m.xDeviceCharacteristics = x_device_characteristics;
  if (version >= 2) {
    m.xShmMap = x_shm_map;
    m.xShmLock = x_shm_lock;
    m.xShmBarrier = x_shm_barrier;
    m.xShmUnmap = x_shm_unmap;
  }
  if (version >= 3) {
    m.xFetch = x_fetch;
    m.xUnfetch = x_unfetch;
  }
  return m;
}
const sqlite3_io_methods g_methods[3] = {make_methods(1), make_methods(2), make_methods(3)};

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  FaultFile* f = self(file);
  f->base.pMethods = nullptr;
  std::snprintf(f->path, sizeof f->path, "%s", name != nullptr ? name : "");
  const int rc = g_base->xOpen(g_base, name, f->real(), flags, out_flags);
  const sqlite3_io_methods* real = f->real()->pMethods;
  if (real != nullptr) {
    const int version = real->iVersion < 1 ? 1 : (real->iVersion > 3 ? 3 : real->iVersion);
    f->base.pMethods = &g_methods[version - 1];
  }
  return rc;
}

int x_delete(sqlite3_vfs*, const char* name, int sync_dir) { return g_base->xDelete(g_base, name, sync_dir); }
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) { return g_base->xAccess(g_base, name, flags, out); }
int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_base->xFullPathname(g_base, name, n, out);
}
void* x_dl_open(sqlite3_vfs*, const char* name) { return g_base->xDlOpen(g_base, name); }
void x_dl_error(sqlite3_vfs*, int n, char* out) { g_base->xDlError(g_base, n, out); }
void (*x_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) { return g_base->xDlSym(g_base, handle, symbol); }
void x_dl_close(sqlite3_vfs*, void* handle) { g_base->xDlClose(g_base, handle); }
int x_randomness(sqlite3_vfs*, int n, char* out) { return g_base->xRandomness(g_base, n, out); }
int x_sleep(sqlite3_vfs*, int us) { return g_base->xSleep(g_base, us); }
int x_current_time(sqlite3_vfs*, double* out) { return g_base->xCurrentTime(g_base, out); }
int x_get_last_error(sqlite3_vfs*, int n, char* out) { return g_base->xGetLastError(g_base, n, out); }
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) { return g_base->xCurrentTimeInt64(g_base, out); }

}  // namespace

bool install_test_fault_vfs_from_env() {
  const char* control = std::getenv("HUB_TEST_DISK_FULL_FILE");
  if (control == nullptr || *control == '\0' || g_base != nullptr) return false;
  g_base = sqlite3_vfs_find(nullptr);
  if (g_base == nullptr) return false;
  g_control = control;
  g_vfs = sqlite3_vfs{};
  g_vfs.iVersion = 2;
  g_vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + g_base->szOsFile;
  g_vfs.mxPathname = g_base->mxPathname;
  g_vfs.zName = "hub_test_disk_full";
  g_vfs.xOpen = x_open;
  g_vfs.xDelete = x_delete;
  g_vfs.xAccess = x_access;
  g_vfs.xFullPathname = x_full_pathname;
  g_vfs.xDlOpen = x_dl_open;
  g_vfs.xDlError = x_dl_error;
  g_vfs.xDlSym = x_dl_sym;
  g_vfs.xDlClose = x_dl_close;
  g_vfs.xRandomness = x_randomness;
  g_vfs.xSleep = x_sleep;
  g_vfs.xCurrentTime = x_current_time;
  g_vfs.xGetLastError = x_get_last_error;
  g_vfs.xCurrentTimeInt64 = x_current_time_int64;
  return sqlite3_vfs_register(&g_vfs, /*makeDflt=*/1) == SQLITE_OK;
}

}  // namespace hub::store

// TEST HOOK — disk-full injection for the hub's SQLite files. Not for production use.
//
// When the environment variable HUB_TEST_DISK_FULL_FILE names a path, hubd registers, before
// opening any database, an SQLite VFS that wraps the default
// one and makes every write fail with SQLITE_FULL ("database or disk is full") while that
// control file exists — exactly what SQLite reports when the disk fills up. If the control file
// holds text, only files whose path contains that text fail (e.g. "ledger.db"). Removing the
// file is "space came back". Reads are never affected. A text that starts with "fsync:" (e.g.
// "fsync:events.db") makes syncs fail instead, with SQLITE_IOERR_FSYNC, and writes succeed: a
// COMMIT then fails with its outcome unknown (the storage error's outcome_unknown);
// "slow-fsync:" does the same after 30 ms per sync (a slow failing disk).
//
// Without the variable nothing is registered and SQLite's own VFS is used unchanged. The
// integration test DiskFull.* (tests/integration/disk_full_test.cpp) drives it; see
// docs/reliability.md.
#pragma once

namespace hub::store {

// Registers the fault-injecting VFS as the default if HUB_TEST_DISK_FULL_FILE is set; returns
// true if it did. Call once, before any database is opened.
bool install_test_fault_vfs_from_env();

}  // namespace hub::store

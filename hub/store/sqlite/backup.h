// Backup and restore of a hub's files (docs/operations.md): a consistent copy of the event log,
// the ledger, the audit log, every plugin's own store (DATA_DIR/plugins/<id>/), the keys and the
// configuration, with a manifest (versions, schema versions, chain heads, size and SHA-256 of
// every file), and the offline check and restore of such a copy.
//
// Who calls what. hubd's admin thread starts make_backup() on a thread of its own (the admin
// part's BackupJob, handed a closure over this function by hubd), so neither ingest nor delivery
// waits for it: each SQLite file is copied with SQLite's online backup API on a connection of
// the backup's own, in one step, i.e. inside one read snapshot, while hubd's writers carry on.
// hubctl calls check_backup() and restore_backup() offline, with no hubd running.
//
// Consistency. The ledger is copied before the plugins' stores and both before the event log:
// every cursor and delivery in the copied ledger refers to an event in the copied event log (the
// event log only grows), and a plugin's store holds at least what the copied ledger says was
// delivered to it (events after the ledger's cursor are delivered again after a restore, which
// plugins already accept: at least once, Event::idempotency_key). The manifest is written last,
// through a temporary name, fsync and rename: a folder without MANIFEST.json is an incomplete
// backup and restore refuses it.
//
// Errors are StorageError (domain/status.h), the one error type between parts: its Status has a
// stable code of the backup's (backup_dir_not_empty, manifest_missing, file_mismatch,
// chain_broken, …; docs/operations.md lists them) and the file named in `field`.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/status.h"

namespace hub::store {

class Database;

// What a backup copies; hubd fills it from its configuration.
struct BackupSources {
  std::string data_dir;       // events.db, ledger.db, audit.db, plugins/<id>/
  std::string keys_dir;       // the CURVE keys and clients.json ("" = none)
  std::string signing_key;    // security.audit_signing_key, the audit log's signing key ("" = none)
  std::string config_file;    // the configuration file hubd was started with ("" = embedded)
  std::string config_text;    // its text (the embedded one when config_file is "")
  std::string hub_version;
};

// One line of progress for the operator ("ledger.db: 1234567 bytes").
using BackupProgress = std::function<void(const std::string& line)>;

inline constexpr const char* kManifestName = "MANIFEST.json";

// Copies everything into `dir` (absolute; created, or empty) and returns the manifest. Checks
// `cancel` between files (hubd stopping). Throws StorageError; `dir` then has no manifest.
// Test hook: HUB_TEST_BACKUP_DELAY_MS=N sleeps N ms after each file (to kill hubd in the middle).
nlohmann::json make_backup(const BackupSources& sources, const std::string& dir, const BackupProgress& progress,
                           const std::atomic<bool>& cancel);

// Reads `dir`'s manifest and checks every file listed (present, size, SHA-256), that no
// database file is missing from it, and the three chains (events, ledger, audit). Returns the
// manifest. Reads only; throws StorageError.
// With `audit_public_key` (the hub's signing public key), the audit log's signatures are checked
// too, as `hubctl audit verify --public-key` does.
nlohmann::json check_backup(const std::string& dir,
                            const std::optional<std::array<unsigned char, 32>>& audit_public_key = std::nullopt);

// check_backup(from), then copies the files into `data_dir` (which must not exist or be empty)
// through a sibling temporary folder renamed into place, so that a failed restore leaves
// nothing half-written. Returns the manifest.
nlohmann::json restore_backup(const std::string& from, const std::string& data_dir, const BackupProgress& progress,
                              const std::optional<std::array<unsigned char, 32>>& audit_public_key = std::nullopt);

// Copies the database open as `source` into a new file `to` with the online backup API, in one
// read snapshot, as a rollback-journal file, fsynced. Used by the backup and by the schema
// upgrades (X.db → X.db.before-vN).
void copy_database(Database& source, const std::string& to);

// Before a schema upgrade of `db` to `version`: copies it to PATH.before-vVERSION (kept if it
// is already there from an upgrade that did not finish, so the copy is always the file as it
// was before any upgrade began) and logs where it is. Throws SqliteError when it cannot: the
// upgrade does not start without its copy.
void keep_before_upgrade(Database& db, std::int64_t version);

// SHA-256 of a file's bytes, as lower-case hex.
std::string file_sha256(const std::string& path);

}  // namespace hub::store

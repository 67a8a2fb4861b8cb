// The chain keeper: the SQLite side of the hub's three hash chains — audit.db
// (sqlite_audit_store.h), events.db (sqlite_event_store.h) and ledger.db (sqlite_ledger.h). The
// hashing, the record format and the walk that names the first altered record are audit's
// (audit/audit_log.h: record_hash, RowDetail, verify_chain); this keeper holds the chain's head
// (in memory and in the file's head table, written in the writer's transaction), chains the rows
// of a file written before its chain existed, and reads a file's records back for verification.
//
// Who owns what. Each SQLite writer owns one ChainKeeper on its own connection and builds the
// record's `detail` from the values it binds (the hot path: no re-reading of the row).
// chain_keeper.cpp holds the chain SQL of the three files (head, upgrade, verification), the
// writers the SQL of their own rows. docs/security.md and the contract headers
// (eventlog/event_store.h, delivery/ledger.h, audit/audit_log.h) describe the bytes.
//
// Threads. A ChainKeeper is used only by the thread that owns its writer (the ingest thread for
// events.db, the dispatcher thread for ledger.db, AuditTrail's callers under its mutex for
// audit.db). The verify_* functions open their file read-only on their own connection and may be
// called from any thread (hubctl audit verify, tests, the crash driver).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "store/sqlite/database.h"

namespace hub::store {

using audit::Hash;

// The chained files, each with its own way of storing records (see chain_keeper.cpp).
enum class ChainedFile {
  kAudit,   // audit.db: table `audit`, hashes as hex TEXT, head in table `head`
  kEvents,  // events.db: the `event` rows, hashes as BLOBs, head in table `chain_head`
  kLedger,  // ledger.db: the `delivery` rows (chain_seq), hashes as BLOBs, head in table `chain_head`
};

class ChainKeeper {
 public:
  // Reads the head of `file`'s chain through `db` (the writer's connection; the head table
  // exists by then) and prepares the statement that moves it. Throws std::runtime_error
  // (store::SqliteError) when the head cannot be read.
  ChainKeeper(Database& db, ChainedFile file);
  ~ChainKeeper();
  ChainKeeper(const ChainKeeper&) = delete;
  ChainKeeper& operator=(const ChainKeeper&) = delete;

  // The seq and hash of the last record linked (committed or not).
  std::int64_t seq() const noexcept { return seq_; }
  const Hash& hash() const noexcept { return hash_; }
  // The hash before the last record linked: that record's prev_hash.
  const Hash& previous() const noexcept { return previous_; }

  // Links record `seq` onto the chain and returns its hash (previous() is then the one before).
  // Inside the writer's open transaction; nothing is written until write_head().
  const Hash& link(std::int64_t seq, std::int64_t at_ms, const audit::AuditEntry& entry) {
    previous_ = hash_;
    hash_ = audit::record_hash(previous_, seq, at_ms, entry);
    seq_ = seq;
    linked_ = true;
    return hash_;
  }
  const Hash& link_next(std::int64_t at_ms, const audit::AuditEntry& entry) { return link(seq_ + 1, at_ms, entry); }

  // Writes the head, when anything was linked since the last commit, in the open transaction.
  void write_head();
  // The transaction committed: what was linked is the chain now.
  void committed() noexcept;
  // The transaction rolled back: back to the committed head (the head statement is reset).
  void rolled_back() noexcept;

  // Chains the rows of an events.db or ledger.db written before its chain (user_version
  // upgrade), in key order, a chunk at a time, onto the head, in the caller's transaction,
  // and writes the head. Returns how many were chained.
  std::uint64_t chain_stored_rows();

 private:
  Database& db_;
  ChainedFile file_;
  std::unique_ptr<Statement> write_head_;
  std::int64_t seq_ = 0, committed_seq_ = 0;
  Hash hash_{}, previous_{}, committed_hash_{};
  bool linked_ = false;
};

// Walk the chain of one file (read-only, in one snapshot) and name the first record modified,
// deleted, inserted or reordered (verify_chain). A file from before its chain has problem
// "unchained"; a ledger delivery outside the chain is named by its subject (first_bad_seq 0,
// problem "inserted").
audit::VerifyResult verify_event_chain(const std::string& path);
audit::VerifyResult verify_ledger_chain(const std::string& path);
// The same for audit.db; with a public key, the signatures are checked too (a record without
// one is then a failure).
audit::VerifyResult verify_audit_log(const std::string& path,
                                     const std::optional<std::array<unsigned char, 32>>& public_key = std::nullopt);

// Appends a stored column's value to a chain record's detail, typed as RowDetail encodes it.
void append_column(audit::RowDetail& detail, const Statement& row, int index);

}  // namespace hub::store

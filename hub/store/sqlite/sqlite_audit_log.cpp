#include "store/sqlite/sqlite_audit_log.h"

#include <stdexcept>

namespace hub::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit (
  seq       INTEGER PRIMARY KEY,
  at_ms     INTEGER NOT NULL,
  kind      TEXT NOT NULL,
  actor     TEXT NOT NULL,
  subject   TEXT NOT NULL,
  detail    TEXT NOT NULL,
  prev_hash TEXT NOT NULL,   -- hex, the previous record's hash (zeros for record 1)
  hash      TEXT NOT NULL,   -- hex, SHA-256 as in audit_log.h
  signature TEXT            -- hex Ed25519 over the hash, when the hub signs
);
CREATE TABLE IF NOT EXISTS head (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  INTEGER NOT NULL,
  hash TEXT NOT NULL
);
)sql";

}  // namespace

SqliteAuditLog::SqliteAuditLog(const std::string& path, std::optional<audit::SigningKey> signing_key)
    : signing_key_(std::move(signing_key)) {
  try {
    db_ = std::make_unique<Database>(path, Database::Mode::kReadWrite);
    db_->exec("PRAGMA journal_mode=WAL");
    db_->exec("PRAGMA synchronous=FULL");
    db_->exec(kSchema);
    insert_ = std::make_unique<Statement>(
        *db_, "INSERT INTO audit (seq, at_ms, kind, actor, subject, detail, prev_hash, hash, signature) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    chain_ = std::make_unique<ChainKeeper>(*db_, ChainedFile::kAudit);
  } catch (const SqliteError& e) {
    Status s = e.status();
    s.message = "cannot open the audit log " + path + ": " + s.message;
    throw StorageError(std::move(s));
  } catch (const std::exception& e) {
    throw StorageError(Status{"storage_unavailable", "cannot open the audit log " + path + ": " + e.what(), "",
                              StorageKind::kUnavailable, false});
  }
}

SqliteAuditLog::~SqliteAuditLog() = default;

std::int64_t SqliteAuditLog::last_seq() const { return chain_->seq(); }

std::int64_t SqliteAuditLog::append(const std::vector<audit::AuditEntry>& entries, std::int64_t at_ms) {
  if (entries.empty()) return chain_->seq();
  try {
    Transaction tx(*db_);
    for (const auto& e : entries) {
      const audit::Hash& hash = chain_->link_next(at_ms, e);
      insert_->bind(1, chain_->seq()).bind(2, at_ms).bind(3, e.kind).bind(4, e.actor).bind(5, e.subject).bind(6, e.detail);
      insert_->bind(7, audit::to_hex(chain_->previous().data(), chain_->previous().size()))
          .bind(8, audit::to_hex(hash.data(), hash.size()));
      if (signing_key_)
        insert_->bind(9, audit::signature_hex(hash, *signing_key_));
      else
        insert_->bind_null(9);
      insert_->run();
    }
    chain_->write_head();
    tx.commit();
  } catch (const SqliteError& e) {
    insert_->reset();
    chain_->rolled_back();
    Status s = e.status();
    s.message = "audit log not written: " + s.message;
    throw StorageError(std::move(s));
  }
  chain_->committed();
  return chain_->seq();
}

audit::AuditLogOpener sqlite_audit_log_opener(std::string path, std::optional<audit::SigningKey> signing_key) {
  return [path = std::move(path), key = std::move(signing_key)]() -> std::unique_ptr<audit::AuditLog> {
    return std::make_unique<SqliteAuditLog>(path, key);
  };
}

}  // namespace hub::store

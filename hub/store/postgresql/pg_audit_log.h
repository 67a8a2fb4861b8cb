// The audit log on PostgreSQL (issue 16): audit's AuditLog (audit/audit_log.h, which gives the
// record format) as table `audit_record` (schema component "audit"), the counterpart of
// store/sqlite/sqlite_audit_log.h (audit.db) with the same record hashes and signatures. Every
// key starts with hub_id, so the hubs sharing a database keep separate chains; the head is the
// row (hub_id, "audit") of chain_head (pg_chain.h).
//
//   audit_record(hub_id, seq, at_ms, kind, actor, subject, detail, prev_hash bytea, hash bytea,
//                signature text (hex Ed25519 over the hash, as in audit.db), PRIMARY KEY (hub_id, seq))
//
// append() is one round trip (BEGIN, one INSERT … FROM unnest(…), the head, COMMIT) and fails
// closed: it throws StorageError, nothing appended, unless the error says outcome_unknown;
// after any failure the head is read again from the database before the next append (and
// AuditTrail opens the log again anyway). Used by one thread at a time (AuditTrail's callers,
// under its mutex); each object owns its Connection.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "store/postgresql/pg_chain.h"
#include "store/postgresql/pg_connection.h"

namespace hub::store::pg {

class PgAuditLog final : public audit::AuditLog {
 public:
  // Connects, creates or upgrades the schema and reads hub `hub_id`'s head. With a signing key,
  // every record appended is signed. Throws StorageError naming the log when it cannot.
  PgAuditLog(std::string dsn, std::string hub_id, std::optional<audit::SigningKey> signing_key = std::nullopt);
  ~PgAuditLog() override;

  using audit::AuditLog::append;
  std::int64_t append(const std::vector<audit::AuditEntry>& entries, std::int64_t at_ms) override;
  std::int64_t last_seq() const override { return chain_.seq(); }

 private:
  std::string hub_id_;
  Connection conn_;
  PgChain chain_;
  std::optional<audit::SigningKey> signing_key_;
  bool stale_ = false;  // an append failed: the head is read again before the next
};

// An opener for AuditTrail: hub `hub_id`'s audit log at `dsn`, opened anew each time it is called.
audit::AuditLogOpener pg_audit_log_opener(std::string dsn, std::string hub_id,
                                          std::optional<audit::SigningKey> signing_key = std::nullopt);

// Walks hub `hub_id`'s audit records (one snapshot, in seq order) against the head; with a public
// key the signatures are checked too (a record without one is then a failure).
audit::VerifyResult verify_pg_audit_log(const std::string& dsn, const std::string& hub_id,
                                        const std::optional<std::array<unsigned char, 32>>& public_key = std::nullopt);

}  // namespace hub::store::pg

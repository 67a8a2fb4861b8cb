// The audit log in SQLite (audit.db): audit's AuditLog (audit/audit_log.h, which gives the
// record format) as one WAL file with synchronous=FULL, the records in table `audit` (hashes
// and signatures as hex TEXT) and the head in table `head`, both in every append's transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "store/sqlite/chain_keeper.h"
#include "store/sqlite/database.h"

namespace hub::store {

class SqliteAuditLog final : public audit::AuditLog {
 public:
  // Opens (creates) the audit file. With a signing key, every record appended is signed.
  // Throws StorageError naming the file when it cannot be opened or its chain head is
  // unreadable.
  explicit SqliteAuditLog(const std::string& path, std::optional<audit::SigningKey> signing_key = std::nullopt);
  ~SqliteAuditLog() override;

  using audit::AuditLog::append;
  std::int64_t append(const std::vector<audit::AuditEntry>& entries, std::int64_t at_ms) override;
  std::int64_t last_seq() const override;

 private:
  std::unique_ptr<Database> db_;
  std::optional<audit::SigningKey> signing_key_;
  std::unique_ptr<Statement> insert_;
  std::unique_ptr<ChainKeeper> chain_;
};

// An opener for AuditTrail: the audit log at `path`, opened anew each time it is called.
audit::AuditLogOpener sqlite_audit_log_opener(std::string path, std::optional<audit::SigningKey> signing_key = std::nullopt);

}  // namespace hub::store

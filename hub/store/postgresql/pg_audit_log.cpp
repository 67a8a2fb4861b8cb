#include "store/postgresql/pg_audit_log.h"

#include "store/postgresql/pg_chain_walk.h"
#include "store/postgresql/pg_schema.h"

namespace hub::store::pg {

namespace {

constexpr const char* kChain = "audit";

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE audit_record (
  hub_id    text NOT NULL,
  seq       bigint NOT NULL,
  at_ms     bigint NOT NULL,
  kind      text NOT NULL,
  actor     text NOT NULL,
  subject   text NOT NULL,
  detail    text NOT NULL,
  prev_hash bytea NOT NULL,  -- the previous record's hash (zeros for record 1)
  hash      bytea NOT NULL,  -- SHA-256 as in audit_log.h
  signature text,            -- hex Ed25519 over the hash, when the hub signs
  PRIMARY KEY (hub_id, seq)
);
)sql";

constexpr const char* kInsert =
    "INSERT INTO audit_record (hub_id, seq, at_ms, kind, actor, subject, detail, prev_hash, hash, signature) "
    "SELECT $1, u.seq, $2, u.kind, u.actor, u.subject, u.detail, u.prev_hash, u.hash, NULLIF(u.signature, '') "
    "FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::bytea[], "
    "$10::text[]) AS u(seq, kind, actor, subject, detail, prev_hash, hash, signature)";

constexpr const char* kRecords =
    "SELECT seq, at_ms, kind, actor, subject, detail, prev_hash, hash, signature FROM audit_record "
    "WHERE hub_id = $1 AND seq > $2 ORDER BY seq LIMIT 4096";

StorageError not_written(const PgError& e, const std::string& what) {
  Status s = e.status();
  s.message = what + ": " + s.message;
  return StorageError(std::move(s));
}

}  // namespace

PgAuditLog::PgAuditLog(std::string dsn, std::string hub_id, std::optional<audit::SigningKey> signing_key) try
    : hub_id_(hub_id), conn_(dsn), chain_(hub_id_, kChain), signing_key_(std::move(signing_key)) {
  ensure_chain_schema(conn_);
  ensure_schema(conn_, "audit", {kSchemaV1});
  chain_.load(conn_);
} catch (const PgError& e) {
  // The members are gone here; the parameter (copied, not moved, above) names the hub.
  throw not_written(e, "无法打开审计日志 / cannot open the audit log (PostgreSQL, hub " + hub_id + ")");
}

PgAuditLog::~PgAuditLog() = default;

std::int64_t PgAuditLog::append(const std::vector<audit::AuditEntry>& entries, std::int64_t at_ms) {
  if (entries.empty()) return chain_.seq();
  try {
    if (!conn_.ok()) conn_.reconnect();
    if (stale_) {
      chain_.load(conn_);
      stale_ = false;
    }
    std::vector<std::int64_t> seqs;
    std::vector<std::string> kinds, actors, subjects, details, previous, hashes, signatures;
    for (const audit::AuditEntry& e : entries) {
      const Hash& hash = chain_.link_next(at_ms, e);
      seqs.push_back(chain_.seq());
      kinds.push_back(e.kind);
      actors.push_back(e.actor);
      subjects.push_back(e.subject);
      details.push_back(e.detail);
      previous.push_back(hash_bytes(chain_.previous()));
      hashes.push_back(hash_bytes(hash));
      signatures.push_back(signing_key_ ? audit::signature_hex(hash, *signing_key_) : std::string());
    }
    Pipeline p(conn_);
    p.send("BEGIN");
    p.send(kInsert, Params()
                        .text(hub_id_)
                        .integer(at_ms)
                        .integer_array(seqs)
                        .text_array(kinds)
                        .text_array(actors)
                        .text_array(subjects)
                        .text_array(details)
                        .bytes_array(previous)
                        .bytes_array(hashes)
                        .text_array(signatures));
    chain_.send_head(p);
    p.send("COMMIT");
    p.finish();
  } catch (const PgError& e) {
    chain_.rolled_back();
    stale_ = true;
    throw not_written(e, "审计日志未写入 / audit log not written (PostgreSQL, hub " + hub_id_ + ")");
  }
  chain_.committed();
  return chain_.seq();
}

audit::AuditLogOpener pg_audit_log_opener(std::string dsn, std::string hub_id,
                                          std::optional<audit::SigningKey> signing_key) {
  return [dsn = std::move(dsn), hub_id = std::move(hub_id),
          key = std::move(signing_key)]() -> std::unique_ptr<audit::AuditLog> {
    return std::make_unique<PgAuditLog>(dsn, hub_id, key);
  };
}

audit::VerifyResult verify_pg_audit_log(const std::string& dsn, const std::string& hub_id,
                                        const std::optional<std::array<unsigned char, 32>>& public_key) {
  static const ChainedTable table{kChain, {"审计链", "audit chain"}, {"审计日志", "audit log"}, kRecords};
  return verify_pg_chain(
      dsn, hub_id, table,
      [](const Rows& rows, int row, audit::ChainRecord& r) {
        r.seq = rows.integer(row, 0);
        r.at_ms = rows.integer(row, 1);
        r.entry = {std::string(rows.text(row, 2)), std::string(rows.text(row, 3)), std::string(rows.text(row, 4)),
                   std::string(rows.text(row, 5))};
        r.prev_hash = audit::blob_to_hex(rows.bytes(row, 6));
        r.hash = audit::blob_to_hex(rows.bytes(row, 7));
        r.signature = rows.is_null(row, 8) ? std::nullopt : std::optional<std::string>(rows.text(row, 8));
      },
      public_key);
}

}  // namespace hub::store::pg

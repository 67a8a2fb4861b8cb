// The PostgreSQL side of the hub's three hash chains (events, ledger deliveries, audit), the
// counterpart of the SQLite backend's chain_keeper.h. The hashing, the record format and the
// verification walk are audit's (audit/audit_log.h: record_hash, RowDetail, verify_chain), so the
// chain bytes are the same on both backends and `hubctl audit verify` means the same.
//
// One table holds every chain's head, one row per hub and chain, written in the writer's
// transaction (the same pipeline as the rows it chains: no extra round trip):
//
//   chain_head(hub_id text, chain text, seq bigint, hash bytea, PRIMARY KEY (hub_id, chain))
//
// with chain "events", "ledger" or "audit". A PgChain holds one chain's head in memory for its
// writer, like ChainKeeper: link() in the open transaction, send_head() into the pipeline,
// committed() / rolled_back() after it. After an outcome unknown the writer calls load() again.
#pragma once

#include <cstdint>
#include <string>

#include "audit/audit_log.h"
#include "store/postgresql/pg_connection.h"

namespace hub::store::pg {

using audit::Hash;

// Creates the chain_head table if it is not there (schema component "chains"); every store
// calls it when it opens.
void ensure_chain_schema(Connection& connection);

class PgChain {
 public:
  PgChain(std::string hub_id, std::string chain) : hub_id_(std::move(hub_id)), chain_(std::move(chain)) {}

  // Reads the committed head (seq 0 and 32 zero bytes when the chain is empty).
  void load(Connection& connection);

  std::int64_t seq() const noexcept { return seq_; }
  const Hash& hash() const noexcept { return hash_; }
  // The hash before the last record linked: that record's prev_hash.
  const Hash& previous() const noexcept { return previous_; }

  const Hash& link(std::int64_t seq, std::int64_t at_ms, const audit::AuditEntry& entry) {
    previous_ = hash_;
    hash_ = audit::record_hash(previous_, seq, at_ms, entry);
    seq_ = seq;
    linked_ = true;
    return hash_;
  }
  const Hash& link_next(std::int64_t at_ms, const audit::AuditEntry& entry) { return link(seq_ + 1, at_ms, entry); }

  // Queues the head's upsert in the writer's pipeline, when anything was linked.
  void send_head(Pipeline& pipeline) const;
  // The same, as one statement on a connection inside the writer's transaction.
  void write_head(Connection& connection) const;
  void committed() noexcept;
  void rolled_back() noexcept;

 private:
  std::string hub_id_, chain_;
  std::int64_t seq_ = 0, committed_seq_ = 0;
  Hash hash_{}, previous_{}, committed_hash_{};
  bool linked_ = false;
};

// The head as stored, for verification (std::nullopt when the hub has no row for the chain).
std::optional<audit::ChainHead> read_chain_head(Connection& connection, const std::string& hub_id,
                                                const std::string& chain);

std::string hash_bytes(const Hash& hash);

}  // namespace hub::store::pg

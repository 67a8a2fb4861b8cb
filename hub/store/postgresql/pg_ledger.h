// The delivery ledger on PostgreSQL (issue 16): delivery's Ledger (delivery/ledger.h, the
// contract) with the same semantics as the SQLite ledger (store/sqlite/sqlite_ledger.h) and the
// same chain bytes, in tables of a database that other hubs and the other stores share: every
// table is prefixed `ledger_` and every key starts with hub_id.
//
//   ledger_cursor, ledger_reason, ledger_delivery (one row per delivered event, actions packed as
//   in SQLite with reason ids, chain_seq / prev_hash / hash), the view ledger_action (one row per
//   action, for readers), ledger_failure, ledger_parked, ledger_parked_history,
//   ledger_plugin_state, ledger_plugin_action, ledger_tally (the /metrics counts, named in
//   store/ledger_records.h), ledger_delivery_minute (version 2: deliveries per department and
//   minute, for the timeline); the chain's head in chain_head (pg_chain.h, chain "ledger").
//
// Department columns are COLLATE "C", so that orders (list_parked, verification messages) are
// SQLite's byte order whatever the cluster's locale.
//
// Round trips. commit() is one Pipeline: BEGIN, at most nine statements whose rows travel as
// array parameters (INSERT … SELECT FROM unnest(…), one per table, whatever the number of
// batches and deliveries), the chain head's upsert, COMMIT. Each record_* is one pipeline too.
//
// Errors leave as StorageError (guarded()). After any failed write (an outcome unknown included)
// the chain's head and the reason ids are read again from the database before the next write,
// and a lost connection is opened again, so a commit that may have happened is continued from
// what the database holds. Owned and used by one thread (the dispatcher's), like its Connection.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/audit_log.h"
#include "delivery/ledger.h"
#include "store/postgresql/pg_chain.h"
#include "store/postgresql/pg_connection.h"

namespace hub::store::pg {

class PgLedger final : public delivery::Ledger {
 public:
  // Connects with `dsn` (a libpq connection string), creates or upgrades the ledger's tables
  // (schema component "ledger") and reads the chain head and reason ids of `hub_id`. Throws
  // StorageError when it cannot.
  PgLedger(std::string dsn, std::string hub_id);
  ~PgLedger() override;

  std::map<std::string, delivery::CursorState> load_cursors() override;
  void commit(std::vector<delivery::LedgerBatch>& batches, std::int64_t now_ms) override;
  std::vector<delivery::ParkedRow> load_parked() override;
  nlohmann::json list_parked(const delivery::ParkedQuery& q) override;
  std::map<std::string, delivery::PluginState> load_plugin_states() override;
  void record_disabled(const std::string& department, const std::string& by, const std::string& reason,
                       std::int64_t now_ms) override;
  void record_enabled(const std::string& department, const std::string& by, std::int64_t now_ms) override;
  void record_reload(const std::string& department, const std::string& library, const std::string& version,
                     const std::string& config_library, const std::string& by, std::int64_t now_ms) override;
  void forget_reload(const std::string& department, const std::string& why, std::int64_t now_ms) override;

 private:
  // A lifecycle change: `change` (parameters $1 hub_id, $2 department, then `extra`) and its
  // history row, in one pipeline.
  void record_plugin_action(const std::string& change, const Params& params, const std::string& department,
                            const std::string& action, const std::string& by, std::int64_t now_ms,
                            const std::string& detail);
  void ready();    // reconnects a lost connection
  void reread();   // the chain's head and the reason ids, from the database

  std::string hub_id_;
  Connection conn_;
  PgChain chain_;
  std::unordered_map<std::string, std::int64_t> reason_ids_;  // every reason of this hub
  std::int64_t next_reason_id_ = 1;
  bool stale_ = false;  // a write failed: reread() before the next one
};

// Walks the ledger chain of `hub_id` (in one snapshot, on its own connection) and names the
// first delivery modified, deleted, inserted or reordered, as verify_ledger_chain does for
// ledger.db: the records rebuilt from the stored values, a delivery outside the chain named by
// its subject. Never throws: an unreachable database is an "unreadable" result.
audit::VerifyResult verify_pg_ledger_chain(const std::string& dsn, const std::string& hub_id);

}  // namespace hub::store::pg

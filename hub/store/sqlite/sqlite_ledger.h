// The delivery ledger in SQLite (ledger.db): delivery's Ledger (delivery/ledger.h, the
// contract) as one WAL file with synchronous=FULL, its schema, its upgrades from every earlier
// version (sqlite_ledger.cpp lists them), and the deliveries' audit chain (chain_keeper.h)
// written in the same transaction as the rows.
//
// One row per delivered event in `delivery`, rows in key order (department, seq), with the
// actions packed as JSON and each distinct reason text stored once (table `reason`); the view
// `action` unpacks them into one row per action for readers (reports, tests). Parked events are
// in `parked` (state: parked, delivered after a retry, or skipped) with the history of retries
// and skips in `parked_action` (version 4); the lifecycle decisions in `plugin_state` with
// their history in `plugin_action` (version 5); the chain's columns and `chain_head` (version 6);
// the running counts that /metrics shows in `tally` (version 7; the counters are named in
// store/ledger_records.h), one row per department and counter, added to in the transaction that
// records what they count: a scrape reads a few rows whatever the ledger's size; and the
// deliveries per department and minute recorded in `delivery_minute` (version 8), for the
// overview's timeline, kept the same way.
//
// Errors leave as StorageError (guarded(), database.h). After a failed commit the chain's head
// and the reason texts are read again from the file before the next write, so a commit whose
// outcome was unknown is continued from what the file holds.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "delivery/ledger.h"
#include "store/ledger_records.h"
#include "store/sqlite/chain_keeper.h"
#include "store/sqlite/database.h"

namespace hub::store {

class SqliteLedger final : public delivery::Ledger {
 public:
  // Opens (creating or upgrading) the ledger at `path`. An upgrade counts the stored rows into
  // the tallies; the latencies need `events_path` (events.db), and start empty without it.
  explicit SqliteLedger(const std::string& path, const std::string& events_path = {});
  ~SqliteLedger() override;

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
  void append_plugin_action(const std::string& department, const std::string& action, const std::string& by,
                            std::int64_t now_ms, const std::string& detail);
  void add_tallies(const std::string& department, const LedgerCounts& counts);
  // Creates the schema, or upgrades an older ledger.db in one transaction.
  void migrate(const std::string& events_path);
  void reread();   // the chain's head and the reason texts, from the file
  std::int64_t reason_id(const std::string& text);  // inserts the text the first time

  Database db_;
  std::unique_ptr<Statement> upsert_cursor_;
  std::unique_ptr<Statement> insert_delivery_;
  std::unique_ptr<Statement> insert_reason_;
  std::unique_ptr<Statement> insert_failure_;
  std::unique_ptr<Statement> insert_parked_;
  std::unique_ptr<Statement> resolve_parked_;
  std::unique_ptr<Statement> insert_parked_action_;
  std::unique_ptr<Statement> add_tally_;
  std::unique_ptr<Statement> add_minute_;

  std::unordered_map<std::string, std::int64_t> reason_ids_;  // every row of `reason`
  std::int64_t next_reason_id_ = 1;
  std::vector<std::string> reasons_added_;  // in the open transaction, forgotten on rollback

  std::unique_ptr<ChainKeeper> chain_;  // the deliveries' audit chain
  bool stale_ = false;                  // a commit failed: reread() before the next write
};

// The schema of ledger.db (the current version), for tests and tools.
const char* ledger_schema();

}  // namespace hub::store

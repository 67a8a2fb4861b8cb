// The delivery ledger (ledger.db): per department a durable cursor, and for every event
// delivered to it the action set its plugin decided — one row per delivered event with the
// actions packed as JSON and each distinct reason text stored once (table `reason`); the
// view `action` unpacks them into one row per action for readers (admin, reports, tests).
//
// Owned by the dispatcher thread (the only writer). commit() writes the actions of many
// events and the advanced cursors of many departments in ONE transaction, rows in key order
// (department, seq, idx): a crash leaves either all of it or none, so after a restart the
// department resumes at its cursor and no action is lost or recorded twice (the primary keys
// would refuse a second copy). Each delivery row also says how the actions reached the
// department's own system (handoff: none, spool or webhook, with a detail such as the spool
// file); a failed hand-off is a failure row, never a delivery.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "delivery/delivery_messages.h"
#include "store/sqlite.h"

namespace hub::delivery {

struct CursorState {
  std::uint64_t seq = 0;
  std::uint64_t delivered = 0;  // action sets recorded
  std::uint64_t failed = 0;     // failed attempts recorded
  std::int64_t last_delivery_at_ms = 0;
};

struct FailureRecord {
  std::uint64_t seq = 0;
  std::uint32_t attempt = 0;
  std::string reason;
};

struct LedgerBatch {
  std::string department;
  std::string plugin_version;
  std::uint64_t new_cursor = 0;
  std::vector<DeliveredEvent> delivered;
  std::vector<FailureRecord> failures;
};

class Ledger {
 public:
  explicit Ledger(const std::string& path);
  std::map<std::string, CursorState> load_cursors();
  // One transaction for all batches. Throws store::SqliteError; then nothing was written.
  void commit(std::vector<LedgerBatch>& batches, std::int64_t now_ms);

 private:
  store::Database db_;
  std::unique_ptr<store::Statement> upsert_cursor_;
  std::unique_ptr<store::Statement> insert_delivery_;
  std::unique_ptr<store::Statement> insert_reason_;
  std::unique_ptr<store::Statement> insert_failure_;

  void migrate();  // creates the schema, or upgrades an older ledger.db in one transaction
  std::string encode_actions(const std::vector<hub::sdk::PolicyAction>& actions);
  std::int64_t reason_id(const std::string& text);  // inserts the text the first time

  std::unordered_map<std::string, std::int64_t> reason_ids_;  // every row of `reason`
  std::int64_t next_reason_id_ = 1;
  std::vector<std::string> reasons_added_;  // in the open transaction, forgotten on rollback
};

const char* ledger_schema();

}  // namespace hub::delivery

#include "delivery/ledger.h"

#include <algorithm>

namespace hub::delivery {

const char* ledger_schema() {
  return R"sql(
CREATE TABLE IF NOT EXISTS cursor (
  department          TEXT PRIMARY KEY,
  seq                 INTEGER NOT NULL,
  delivered           INTEGER NOT NULL DEFAULT 0,
  failed              INTEGER NOT NULL DEFAULT 0,
  last_delivery_at_ms INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS delivery (
  department      TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  household_id    TEXT NOT NULL,
  event_id        TEXT NOT NULL,
  delivered_at_ms INTEGER NOT NULL,
  plugin_version  TEXT NOT NULL,
  handoff         TEXT NOT NULL DEFAULT 'none',
  handoff_detail  TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (department, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS action (
  department   TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  idx          INTEGER NOT NULL,
  household_id TEXT NOT NULL,
  policy_id    TEXT NOT NULL,
  action       TEXT NOT NULL,
  amount_fen   INTEGER,
  reason       TEXT NOT NULL,
  PRIMARY KEY (department, seq, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS failure (
  department TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  attempt    INTEGER NOT NULL,
  at_ms      INTEGER NOT NULL,
  reason     TEXT NOT NULL,
  PRIMARY KEY (department, seq, attempt)
) WITHOUT ROWID;
)sql";
}

namespace {

// Ledgers written before connectors existed lack the hand-off columns; their deliveries had
// no connector, which is what the defaults say.
bool delivery_has_handoff(store::Database& db) {
  store::Statement columns(db, "SELECT 1 FROM pragma_table_info('delivery') WHERE name = 'handoff'");
  return columns.step();
}

void add_handoff_columns(store::Database& db) {
  if (delivery_has_handoff(db)) return;
  db.exec("ALTER TABLE delivery ADD COLUMN handoff TEXT NOT NULL DEFAULT 'none'");
  db.exec("ALTER TABLE delivery ADD COLUMN handoff_detail TEXT NOT NULL DEFAULT ''");
}

}  // namespace

Ledger::Ledger(const std::string& path) : db_(path, store::Database::Mode::kReadWrite) {
  db_.exec("PRAGMA journal_mode=WAL");
  db_.exec("PRAGMA synchronous=FULL");
  db_.exec(ledger_schema());
  add_handoff_columns(db_);
  upsert_cursor_ = std::make_unique<store::Statement>(
      db_,
      "INSERT INTO cursor (department, seq, delivered, failed, last_delivery_at_ms) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(department) DO UPDATE SET seq = ?2, delivered = delivered + ?3, failed = failed + ?4, "
      "last_delivery_at_ms = CASE WHEN ?3 > 0 THEN ?5 ELSE last_delivery_at_ms END");
  insert_delivery_ = std::make_unique<store::Statement>(
      db_, "INSERT INTO delivery (department, seq, household_id, event_id, delivered_at_ms, plugin_version, handoff, "
           "handoff_detail) VALUES (?,?,?,?,?,?,?,?)");
  insert_action_ = std::make_unique<store::Statement>(
      db_, "INSERT INTO action (department, seq, idx, household_id, policy_id, action, amount_fen, reason) "
           "VALUES (?,?,?,?,?,?,?,?)");
  insert_failure_ = std::make_unique<store::Statement>(
      db_, "INSERT OR REPLACE INTO failure (department, seq, attempt, at_ms, reason) VALUES (?,?,?,?,?)");
}

std::map<std::string, CursorState> Ledger::load_cursors() {
  std::map<std::string, CursorState> out;
  store::Statement q(db_, "SELECT department, seq, delivered, failed, last_delivery_at_ms FROM cursor");
  while (q.step()) {
    out[q.column_text(0)] = CursorState{static_cast<std::uint64_t>(q.column_int(1)),
                                        static_cast<std::uint64_t>(q.column_int(2)),
                                        static_cast<std::uint64_t>(q.column_int(3)), q.column_int(4)};
  }
  return out;
}

void Ledger::commit(std::vector<LedgerBatch>& batches, std::int64_t now_ms) {
  // Key order: department, then seq (already ascending within a batch).
  std::sort(batches.begin(), batches.end(),
            [](const LedgerBatch& a, const LedgerBatch& b) { return a.department < b.department; });
  try {
    store::Transaction tx(db_);
    for (const LedgerBatch& b : batches) {
      for (const DeliveredEvent& d : b.delivered) {
        insert_delivery_->bind(1, b.department)
            .bind(2, static_cast<std::int64_t>(d.seq))
            .bind(3, d.household_id)
            .bind(4, d.event_id)
            .bind(5, now_ms)
            .bind(6, b.plugin_version)
            .bind(7, d.handoff)
            .bind(8, d.handoff_detail);
        insert_delivery_->run();
        for (std::size_t i = 0; i < d.actions.size(); ++i) {
          const auto& a = d.actions[i];
          insert_action_->bind(1, b.department)
              .bind(2, static_cast<std::int64_t>(d.seq))
              .bind(3, static_cast<std::int64_t>(i))
              .bind(4, a.household_id)
              .bind(5, a.policy_id)
              .bind(6, hub::sdk::to_string(a.action))
              .bind(7, a.amount_fen)
              .bind(8, a.reason);
          insert_action_->run();
        }
      }
      for (const FailureRecord& f : b.failures) {
        insert_failure_->bind(1, b.department)
            .bind(2, static_cast<std::int64_t>(f.seq))
            .bind(3, static_cast<std::int64_t>(f.attempt))
            .bind(4, now_ms)
            .bind(5, f.reason);
        insert_failure_->run();
      }
      upsert_cursor_->bind(1, b.department)
          .bind(2, static_cast<std::int64_t>(b.new_cursor))
          .bind(3, static_cast<std::int64_t>(b.delivered.size()))
          .bind(4, static_cast<std::int64_t>(b.failures.size()))
          .bind(5, now_ms);
      upsert_cursor_->run();
    }
    tx.commit();
  } catch (...) {
    insert_delivery_->reset();
    insert_action_->reset();
    insert_failure_->reset();
    upsert_cursor_->reset();
    throw;
  }
}

}  // namespace hub::delivery

#include "store/sqlite/sqlite_ledger.h"

#include "domain/activity_minute.h"
#include "domain/delivery_latency.h"
#include "store/sqlite/backup.h"
#include "store/sqlite/checkpointer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <tuple>

namespace hub::store {

using delivery::CursorState;
using delivery::FailureRecord;
using delivery::LedgerBatch;
using delivery::ParkedQuery;
using delivery::ParkedRecord;
using delivery::ParkedResolution;
using delivery::ParkedRow;
using delivery::PluginState;

namespace {

constexpr int kSchemaVersion = 9;

// Version 2: one row per delivered event, its actions packed as a JSON array, and the reason
// texts stored once each (plugins repeat the same few sentences for thousands of households).
// The `action` view shows the rows as version 1 stored them, one per action, for readers.
// Version 3: each delivery also records its hand-off to the department's system (connector).
// Version 4: parked events and the history of operators' retries and skips (3 -> 4 only
// creates the two tables).
// Version 5: the operators' plugin lifecycle decisions, durable across restarts (3 -> 5 and
// 4 -> 5 only create the tables that are missing).
// Version 6: the audit chain over the deliveries (ledger.h): three columns of `delivery` and
// the table `chain_head` (kChainSchema, created after the columns exist); every delivery of
// an older file is chained in the upgrade.
// Version 7: the running counts of /metrics (table `tally`, sqlite_ledger.h), counted from the
// stored rows in the upgrade.
// Version 9: parked.effective_on, for a confirmed notice's event that waits for its effective
// date (8 -> 9 adds the column; no stored row waits).
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS cursor (
  department          TEXT PRIMARY KEY,
  seq                 INTEGER NOT NULL,
  delivered           INTEGER NOT NULL DEFAULT 0,
  failed              INTEGER NOT NULL DEFAULT 0,
  last_delivery_at_ms INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reason (
  id   INTEGER PRIMARY KEY,
  text TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS delivery (
  department      TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  household_id    TEXT NOT NULL,
  event_id        TEXT NOT NULL,
  delivered_at_ms INTEGER NOT NULL,
  plugin_version  TEXT NOT NULL,
  actions         TEXT NOT NULL,  -- [[policy_id, action, amount_fen or null, reason.id], ...]
  handoff         TEXT NOT NULL DEFAULT 'none',  -- none, spool or webhook (the plugin's connector)
  handoff_detail  TEXT NOT NULL DEFAULT '',      -- e.g. the spool file or the webhook's answer
  chain_seq       INTEGER,  -- the audit chain (ledger.h): this record's place,
  prev_hash       BLOB,     -- the previous record's hash
  hash            BLOB,     -- and this one's, SHA-256 as in audit_log.h
  PRIMARY KEY (department, seq)
) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS action AS
  SELECT d.department AS department, d.seq AS seq, CAST(j.key AS INTEGER) AS idx, d.household_id AS household_id,
         j.value ->> 0 AS policy_id, j.value ->> 1 AS action, j.value ->> 2 AS amount_fen, r.text AS reason
  FROM delivery d, json_each(d.actions) j JOIN reason r ON r.id = j.value ->> 3;
CREATE TABLE IF NOT EXISTS failure (
  department TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  attempt    INTEGER NOT NULL,
  at_ms      INTEGER NOT NULL,
  reason     TEXT NOT NULL,
  PRIMARY KEY (department, seq, attempt)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parked (
  department     TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  household_id   TEXT NOT NULL,
  event_id       TEXT NOT NULL,
  reason         TEXT NOT NULL,
  attempts       INTEGER NOT NULL,
  parked_at_ms   INTEGER NOT NULL,
  behind_seq     INTEGER NOT NULL,              -- 0: failed itself; else the parked event it waits behind
  state          TEXT NOT NULL DEFAULT 'parked', -- parked, delivered (after a retry or release) or skipped
  resolved_by    TEXT,
  resolved_at_ms INTEGER,
  effective_on   TEXT,                           -- YYYY-MM-DD: waits for its effective date, released then
  PRIMARY KEY (department, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS parked_household ON parked (department, household_id, seq);
CREATE TABLE IF NOT EXISTS parked_action (
  id           INTEGER PRIMARY KEY,
  department   TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  household_id TEXT NOT NULL,
  action       TEXT NOT NULL,  -- retry, skip, or release (by hubd, on the effective date)
  by_operator  TEXT NOT NULL,
  at_ms        INTEGER NOT NULL,
  outcome      TEXT NOT NULL   -- delivered, skipped, or parked (the retry failed: reason)
);
CREATE TABLE IF NOT EXISTS plugin_state (
  department      TEXT PRIMARY KEY,
  disabled        INTEGER NOT NULL DEFAULT 0,  -- 1: disabled by an operator until enabled
  disabled_by     TEXT,
  disabled_at_ms  INTEGER,
  disabled_reason TEXT,
  library         TEXT,     -- the build chosen by the last successful reload (NULL: the config's)
  library_version TEXT,
  config_library  TEXT,     -- the config's library at that reload (a changed config wins)
  reloaded_by     TEXT,
  reloaded_at_ms  INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS plugin_action (
  id          INTEGER PRIMARY KEY,
  department  TEXT NOT NULL,
  action      TEXT NOT NULL,  -- disable, enable, reload, or config_wins (a reload forgotten at start)
  by_operator TEXT NOT NULL,
  at_ms       INTEGER NOT NULL,
  detail      TEXT NOT NULL   -- the reason, the library loaded, or why the reload was forgotten
);
CREATE TABLE IF NOT EXISTS tally (
  department TEXT NOT NULL,
  counter    TEXT NOT NULL,  -- deliveries, failures, latency_sum_ms, action:<kind>, latency_le_ms:<bound or +Inf>
  n          INTEGER NOT NULL,
  PRIMARY KEY (department, counter)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS delivery_minute (
  department TEXT NOT NULL,
  minute_ms  INTEGER NOT NULL,  -- the minute the rows were recorded in (its first ms)
  n          INTEGER NOT NULL,  -- deliveries recorded in it
  PRIMARY KEY (department, minute_ms)
) WITHOUT ROWID;
)sql";

// No index on chain_seq: it would cost every delivery another B-tree insert; hubctl audit
// verify sorts instead, and names a chain_seq found twice.
constexpr const char* kChainSchema = R"sql(
CREATE TABLE IF NOT EXISTS chain_head (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  INTEGER NOT NULL,
  hash BLOB NOT NULL
);
)sql";

bool delivery_has_chain(store::Database& db) { return has_column(db, "delivery", "hash"); }

void add_chain_columns(store::Database& db) {
  if (delivery_has_chain(db)) return;
  db.exec("ALTER TABLE delivery ADD COLUMN chain_seq INTEGER");
  db.exec("ALTER TABLE delivery ADD COLUMN prev_hash BLOB");
  db.exec("ALTER TABLE delivery ADD COLUMN hash BLOB");
}

// Version 1 (one row per action, reason text in every row) -> the current version, in one
// transaction. The version 1 `delivery` table has the hand-off columns by then (added with
// their defaults when it had none, see add_handoff_columns).
constexpr const char* kMigrateFromVersion1 = R"sql(
CREATE TABLE reason (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
INSERT OR IGNORE INTO reason (text) SELECT reason FROM action ORDER BY department, seq, idx;
CREATE TABLE delivery_v2 (
  department TEXT NOT NULL, seq INTEGER NOT NULL, household_id TEXT NOT NULL, event_id TEXT NOT NULL,
  delivered_at_ms INTEGER NOT NULL, plugin_version TEXT NOT NULL, actions TEXT NOT NULL,
  handoff TEXT NOT NULL DEFAULT 'none', handoff_detail TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (department, seq)
) WITHOUT ROWID;
INSERT INTO delivery_v2
  SELECT d.department, d.seq, d.household_id, d.event_id, d.delivered_at_ms, d.plugin_version,
         COALESCE((SELECT json_group_array(json_array(a.policy_id, a.action, a.amount_fen, r.id))
                   FROM (SELECT * FROM action a WHERE a.department = d.department AND a.seq = d.seq ORDER BY a.idx) a
                   JOIN reason r ON r.text = a.reason), '[]'),
         d.handoff, d.handoff_detail
  FROM delivery d;
DROP TABLE action;
DROP TABLE delivery;
ALTER TABLE delivery_v2 RENAME TO delivery;
)sql";

// Ledgers written before connectors existed lack the hand-off columns; their deliveries had
// no connector, which is what the defaults say. (Version 2 ledgers, and version 1 ledgers of
// hubd 1.0; a version 1 ledger of a pre-release hubd with connectors has them already.)
// Version 8 -> 9.
void add_parked_effective_column(store::Database& db) {
  if (!has_column(db, "parked", "effective_on")) db.exec("ALTER TABLE parked ADD COLUMN effective_on TEXT");
}

bool delivery_has_handoff(store::Database& db) { return has_column(db, "delivery", "handoff"); }

void add_handoff_columns(store::Database& db) {
  if (delivery_has_handoff(db)) return;
  db.exec("ALTER TABLE delivery ADD COLUMN handoff TEXT NOT NULL DEFAULT 'none'");
  db.exec("ALTER TABLE delivery ADD COLUMN handoff_detail TEXT NOT NULL DEFAULT ''");
}

// The upgrade to version 8: the deliveries per minute counted from the rows stored so far.
void count_stored_minutes(Database& db) {
  db.exec("DELETE FROM delivery_minute");
  const std::string minute = std::to_string(kActivityMinuteMs);
  db.exec(("INSERT INTO delivery_minute SELECT department, delivered_at_ms / " + minute + " * " + minute +
           ", COUNT(*) FROM delivery GROUP BY 1, 2").c_str());
}

// The upgrade to version 7: every tally counted from the rows stored so far. The latencies
// need each event's receipt time from events.db, attached as `ev` when the caller named it
// (hubd does); without it the latency counts start empty.
void count_stored_rows(Database& db, bool events_attached) {
  db.exec("DELETE FROM tally");
  db.exec(("INSERT INTO tally SELECT department, '" + std::string(tally::kDeliveries) +
           "', COUNT(*) FROM delivery GROUP BY department").c_str());
  db.exec(("INSERT INTO tally SELECT department, '" + std::string(tally::kFailures) +
           "', COUNT(*) FROM failure GROUP BY department").c_str());
  db.exec(("INSERT INTO tally SELECT department, '" + std::string(tally::kActionPrefix) +
           "' || action, COUNT(*) FROM action GROUP BY department, action").c_str());
  if (!events_attached) return;
  const std::string latency = "(d.delivered_at_ms - e.received_at_ms)";
  const std::string from = " FROM delivery d CROSS JOIN ev.event e ON e.seq = d.seq GROUP BY 1, 2";
  db.exec(("INSERT INTO tally SELECT d.department, '" + std::string(tally::kLatencySumMs) + "', SUM" + latency + from)
              .c_str());
  std::string bucket = "CASE";
  for (std::size_t i = 0; i < kDeliveryLatencyBoundsMs.size(); ++i)
    bucket += " WHEN " + latency + " <= " + std::to_string(kDeliveryLatencyBoundsMs[i]) + " THEN '" +
              tally::latency_bucket(i) + "'";
  bucket += " ELSE '" + tally::latency_bucket(kDeliveryLatencyBoundsMs.size()) + "' END";
  db.exec(("INSERT INTO tally SELECT d.department, " + bucket + ", COUNT(*)" + from).c_str());
}

}  // namespace

void SqliteLedger::add_tallies(const std::string& department, const LedgerCounts& c) {
  c.for_each([&](const std::string& counter, std::int64_t n) {
    add_tally_->bind(1, department).bind(2, counter).bind(3, n);
    add_tally_->run();
  });
}

const char* ledger_schema() { return kSchema; }

SqliteLedger::SqliteLedger(const std::string& path, const std::string& events_path) try
    : db_(path, store::Database::Mode::kReadWrite) {
  db_.exec("PRAGMA journal_mode=WAL");
  db_.exec("PRAGMA synchronous=FULL");
  store::disable_auto_checkpoint(db_);  // hubd's Checkpointer does it off the commit path
  migrate(events_path);
  upsert_cursor_ = std::make_unique<store::Statement>(
      db_,
      "INSERT INTO cursor (department, seq, delivered, failed, last_delivery_at_ms) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(department) DO UPDATE SET seq = ?2, delivered = delivered + ?3, failed = failed + ?4, "
      "last_delivery_at_ms = CASE WHEN ?3 > 0 THEN ?5 ELSE last_delivery_at_ms END");
  insert_delivery_ = std::make_unique<store::Statement>(
      db_, "INSERT INTO delivery (department, seq, household_id, event_id, delivered_at_ms, plugin_version, actions, "
           "handoff, handoff_detail, chain_seq, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
  insert_reason_ = std::make_unique<store::Statement>(db_, "INSERT INTO reason (id, text) VALUES (?, ?)");
  insert_failure_ = std::make_unique<store::Statement>(
      db_, "INSERT OR REPLACE INTO failure (department, seq, attempt, at_ms, reason) VALUES (?,?,?,?,?)");
  insert_parked_ = std::make_unique<store::Statement>(
      db_, "INSERT INTO parked (department, seq, household_id, event_id, reason, attempts, parked_at_ms, behind_seq, "
           "effective_on) VALUES (?,?,?,?,?,?,?,?,NULLIF(?, ''))");
  resolve_parked_ = std::make_unique<store::Statement>(
      db_, "UPDATE parked SET state = ?3, attempts = ?4, reason = COALESCE(NULLIF(?5, ''), reason), resolved_by = ?6, resolved_at_ms = ?7, "
           "effective_on = NULL WHERE department = ?1 AND seq = ?2");
  insert_parked_action_ = std::make_unique<store::Statement>(
      db_, "INSERT INTO parked_action (department, seq, household_id, action, by_operator, at_ms, outcome) "
           "VALUES (?,?,?,?,?,?,?)");
  add_tally_ = std::make_unique<store::Statement>(
      db_, "INSERT INTO tally (department, counter, n) VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET n = n + ?3");
  add_minute_ = std::make_unique<store::Statement>(
      db_, "INSERT INTO delivery_minute (department, minute_ms, n) VALUES (?1, ?2, ?3) "
           "ON CONFLICT DO UPDATE SET n = n + ?3");
  reread();
} catch (const SqliteError& e) {
  throw StorageError(e.status());
}

SqliteLedger::~SqliteLedger() = default;

void SqliteLedger::reread() {
  chain_ = std::make_unique<ChainKeeper>(db_, ChainedFile::kLedger);
  reason_ids_.clear();
  next_reason_id_ = 1;
  store::Statement reasons(db_, "SELECT id, text FROM reason");
  while (reasons.step()) {
    const std::int64_t id = reasons.column_int(0);
    reason_ids_.emplace(reasons.column_text(1), id);
    next_reason_id_ = std::max(next_reason_id_, id + 1);
  }
  stale_ = false;
}

void SqliteLedger::migrate(const std::string& events_path) {
  const std::int64_t found = user_version(db_);
  if (found > kSchemaVersion) {
    throw store::SqliteError(0, db_.path() + ": ledger schema version " + std::to_string(found) +
                                    " is newer than this hubd understands (" + std::to_string(kSchemaVersion) +
                                    "); upgrade hubd");
  }
  if (found == kSchemaVersion) return;
  store::Statement has_v1(db_, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'action'");
  has_v1.step();
  const bool from_v1 = has_v1.column_int(0) > 0;
  has_v1.reset();
  // The file as it was, before the upgrade changes it (docs/operations.md); a new file has
  // nothing to keep.
  if (found > 0 || from_v1) keep_before_upgrade(db_, kSchemaVersion);
  // ATTACH is refused inside a transaction: before it, and detached after the commit.
  const bool events_attached = !events_path.empty() && std::filesystem::exists(events_path);
  if (events_attached) {
    store::Statement attach(db_, "ATTACH DATABASE ? AS ev");
    attach.bind(1, events_path);
    attach.run();
  }
  store::Transaction tx(db_);
  if (from_v1) {
    add_handoff_columns(db_);
    db_.exec(kMigrateFromVersion1);
  } else if (found == 2) {
    add_handoff_columns(db_);  // version 2 -> 3
  }
  db_.exec(kSchema);
  add_chain_columns(db_);  // version 5 -> 6
  add_parked_effective_column(db_);  // version 8 -> 9
  db_.exec(kChainSchema);
  const std::uint64_t chained = ChainKeeper(db_, ChainedFile::kLedger).chain_stored_rows();
  if (found < 7) count_stored_rows(db_, events_attached);  // version 6 -> 7
  count_stored_minutes(db_);                                // version 7 -> 8
  db_.exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
  tx.commit();
  if (events_attached) db_.exec("DETACH DATABASE ev");
  if (found > 0 || from_v1)
    spdlog::info("{}: upgraded from schema version {} to {}: {} stored deliveries chained for the audit, {}the "
                 "timeline's deliveries per minute counted",
                 db_.path(), found, kSchemaVersion, chained,
                 found >= 7             ? ""
                 : events_attached      ? "the /metrics tallies counted, "
                                        : "the /metrics tallies counted (latencies not: no events.db), ");
}

std::int64_t SqliteLedger::reason_id(const std::string& text) {
  if (auto it = reason_ids_.find(text); it != reason_ids_.end()) return it->second;
  const std::int64_t id = next_reason_id_++;
  insert_reason_->bind(1, id).bind(2, text);
  insert_reason_->run();
  reason_ids_.emplace(text, id);
  reasons_added_.push_back(text);
  return id;
}

std::map<std::string, CursorState> SqliteLedger::load_cursors() {
  return guarded([&] {
    std::map<std::string, CursorState> out;
    store::Statement q(db_, "SELECT department, seq, delivered, failed, last_delivery_at_ms FROM cursor");
    while (q.step()) {
      out[q.column_text(0)] = CursorState{static_cast<std::uint64_t>(q.column_int(1)),
                                          static_cast<std::uint64_t>(q.column_int(2)),
                                          static_cast<std::uint64_t>(q.column_int(3)), q.column_int(4)};
    }
    return out;
  });
}

void SqliteLedger::commit(std::vector<LedgerBatch>& batches, std::int64_t now_ms) {
  return guarded([&] {
    // Key order: department, then seq (already ascending within a batch).
    std::sort(batches.begin(), batches.end(),
              [](const LedgerBatch& a, const LedgerBatch& b) { return a.department < b.department; });
    if (stale_) reread();
    try {
      store::Transaction tx(db_);
      const auto reason_of = [this](const std::string& text) { return reason_id(text); };
      for (const LedgerBatch& b : batches) {
        LedgerCounts counts;
        counts.failures = static_cast<std::int64_t>(b.failures.size());
        for (const runtime::DeliveredEvent& d : b.delivered) {
          counts.add(d, now_ms);
          const std::string actions = encode_actions(d.actions, reason_of);
          const audit::Hash& hash =
              chain_->link_next(now_ms, delivery_record(b.department, b.plugin_version, d, actions));
          const audit::Hash& previous = chain_->previous();
          insert_delivery_->bind(1, b.department)
              .bind(2, static_cast<std::int64_t>(d.seq))
              .bind(3, d.household_id)
              .bind(4, d.event_id)
              .bind(5, now_ms)
              .bind(6, b.plugin_version)
              .bind(7, actions)
              .bind(8, d.handoff)
              .bind(9, d.handoff_detail)
              .bind(10, chain_->seq())
              .bind_blob(11, previous.data(), previous.size())
              .bind_blob(12, hash.data(), hash.size());
          insert_delivery_->run();
        }
        for (const FailureRecord& f : b.failures) {
          insert_failure_->bind(1, b.department)
              .bind(2, static_cast<std::int64_t>(f.seq))
              .bind(3, static_cast<std::int64_t>(f.attempt))
              .bind(4, now_ms)
              .bind(5, f.reason);
          insert_failure_->run();
        }
        for (const ParkedRecord& p : b.parked) {
          insert_parked_->bind(1, b.department)
              .bind(2, static_cast<std::int64_t>(p.seq))
              .bind(3, p.household_id)
              .bind(4, p.event_id)
              .bind(5, p.reason)
              .bind(6, static_cast<std::int64_t>(p.attempts))
              .bind(7, now_ms)
              .bind(8, static_cast<std::int64_t>(p.behind_seq))
              .bind(9, p.effective_on);
          insert_parked_->run();
        }
        for (const ParkedResolution& r : b.resolutions) {
          resolve_parked_->bind(1, b.department)
              .bind(2, static_cast<std::int64_t>(r.seq))
              .bind(3, r.state)
              .bind(4, static_cast<std::int64_t>(r.attempts))
              .bind(5, r.reason)
              .bind(6, r.by)
              .bind(7, now_ms);
          resolve_parked_->run();
          insert_parked_action_->bind(1, b.department)
              .bind(2, static_cast<std::int64_t>(r.seq))
              .bind(3, r.household_id)
              .bind(4, r.action)
              .bind(5, r.by)
              .bind(6, now_ms)
              .bind(7, r.state == "parked" ? "parked: " + r.reason : r.state);
          insert_parked_action_->run();
        }
        upsert_cursor_->bind(1, b.department)
            .bind(2, static_cast<std::int64_t>(b.new_cursor))
            .bind(3, static_cast<std::int64_t>(b.delivered.size()))
            .bind(4, static_cast<std::int64_t>(b.failures.size()))
            .bind(5, now_ms);
        upsert_cursor_->run();
        add_tallies(b.department, counts);
        if (!b.delivered.empty()) {
          add_minute_->bind(1, b.department)
              .bind(2, activity_minute(now_ms))
              .bind(3, static_cast<std::int64_t>(b.delivered.size()));
          add_minute_->run();
        }
      }
      chain_->write_head();
      tx.commit();
      reasons_added_.clear();
      chain_->committed();
    } catch (...) {
      // A commit that failed may still be in the file (outcome unknown): the chain's head and
      // the reasons are read again from the file before the next write.
      stale_ = true;
      insert_delivery_->reset();
      chain_->rolled_back();
      insert_reason_->reset();
      insert_failure_->reset();
      upsert_cursor_->reset();
      insert_parked_->reset();
      resolve_parked_->reset();
      insert_parked_action_->reset();
      add_tally_->reset();
      add_minute_->reset();
      // The reasons added in the rolled-back transaction are not in the file: forget them.
      for (const auto& text : reasons_added_) reason_ids_.erase(text);
      next_reason_id_ -= static_cast<std::int64_t>(reasons_added_.size());
      reasons_added_.clear();
      throw;
    }
  });
}

std::vector<ParkedRow> SqliteLedger::load_parked() {
  return guarded([&] {
    std::vector<ParkedRow> out;
    store::Statement q(db_, "SELECT department, seq, household_id, attempts, COALESCE(effective_on, '') FROM parked "
                            "WHERE state = 'parked' ORDER BY department, seq");
    while (q.step())
      out.push_back({q.column_text(0), static_cast<std::uint64_t>(q.column_int(1)), q.column_text(2),
                     static_cast<std::uint32_t>(q.column_int(3)), q.column_text(4)});
    return out;
  });
}

std::map<std::string, PluginState> SqliteLedger::load_plugin_states() {
  return guarded([&] {
    std::map<std::string, PluginState> out;
    store::Statement q(db_,
                       "SELECT department, disabled, disabled_by, disabled_at_ms, disabled_reason, library, library_version, "
                       "config_library, reloaded_by, reloaded_at_ms FROM plugin_state");
    const auto text = [&q](int c) { return q.column_is_null(c) ? std::string() : q.column_text(c); };
    const auto number = [&q](int c) { return q.column_is_null(c) ? std::int64_t{0} : q.column_int(c); };
    while (q.step()) {
      PluginState s;
      s.disabled = q.column_int(1) != 0;
      s.disabled_by = text(2);
      s.disabled_at_ms = number(3);
      s.disabled_reason = text(4);
      s.library = text(5);
      s.library_version = text(6);
      s.config_library = text(7);
      s.reloaded_by = text(8);
      s.reloaded_at_ms = number(9);
      out.emplace(q.column_text(0), std::move(s));
    }
    return out;
  });
}

void SqliteLedger::append_plugin_action(const std::string& department, const std::string& action, const std::string& by,
                                  std::int64_t now_ms, const std::string& detail) {
  store::Statement insert(db_, "INSERT INTO plugin_action (department, action, by_operator, at_ms, detail) VALUES (?,?,?,?,?)");
  insert.bind(1, department).bind(2, action).bind(3, by).bind(4, now_ms).bind(5, detail);
  insert.run();
}

void SqliteLedger::record_disabled(const std::string& department, const std::string& by, const std::string& reason,
                             std::int64_t now_ms) {
  return guarded([&] {
    store::Transaction tx(db_);
    store::Statement upsert(
        db_,
        "INSERT INTO plugin_state (department, disabled, disabled_by, disabled_at_ms, disabled_reason) VALUES (?1, 1, ?2, ?3, ?4) "
        "ON CONFLICT(department) DO UPDATE SET disabled = 1, disabled_by = ?2, disabled_at_ms = ?3, disabled_reason = ?4");
    upsert.bind(1, department).bind(2, by).bind(3, now_ms);
    if (reason.empty())
      upsert.bind_null(4);
    else
      upsert.bind(4, reason);
    upsert.run();
    append_plugin_action(department, "disable", by, now_ms, reason);
    tx.commit();
  });
}

void SqliteLedger::record_enabled(const std::string& department, const std::string& by, std::int64_t now_ms) {
  return guarded([&] {
    store::Transaction tx(db_);
    store::Statement update(db_,
                            "UPDATE plugin_state SET disabled = 0, disabled_by = NULL, disabled_at_ms = NULL, "
                            "disabled_reason = NULL WHERE department = ?");
    update.bind(1, department);
    update.run();
    append_plugin_action(department, "enable", by, now_ms, "");
    tx.commit();
  });
}

void SqliteLedger::record_reload(const std::string& department, const std::string& library, const std::string& version,
                           const std::string& config_library, const std::string& by, std::int64_t now_ms) {
  return guarded([&] {
    store::Transaction tx(db_);
    store::Statement upsert(
        db_,
        "INSERT INTO plugin_state (department, library, library_version, config_library, reloaded_by, reloaded_at_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(department) DO UPDATE SET library = ?2, library_version = ?3, "
        "config_library = ?4, reloaded_by = ?5, reloaded_at_ms = ?6");
    upsert.bind(1, department).bind(2, library).bind(3, version).bind(4, config_library).bind(5, by).bind(6, now_ms);
    upsert.run();
    append_plugin_action(department, "reload", by, now_ms, library + " (" + version + ")");
    tx.commit();
  });
}

void SqliteLedger::forget_reload(const std::string& department, const std::string& why, std::int64_t now_ms) {
  return guarded([&] {
    store::Transaction tx(db_);
    store::Statement update(db_,
                            "UPDATE plugin_state SET library = NULL, library_version = NULL, config_library = NULL, "
                            "reloaded_by = NULL, reloaded_at_ms = NULL WHERE department = ?");
    update.bind(1, department);
    update.run();
    append_plugin_action(department, "config_wins", "hubd", now_ms, why);
    tx.commit();
  });
}

nlohmann::json SqliteLedger::list_parked(const ParkedQuery& query) {
  return guarded([&] {
    using nlohmann::json;
    store::Statement q(db_,
                       "SELECT department, seq, household_id, event_id, reason, attempts, parked_at_ms, behind_seq, state, "
                       "resolved_by, resolved_at_ms, effective_on FROM parked WHERE (?1 = '' OR department = ?1) "
                       "AND (?2 = '' OR household_id = ?2) AND (?3 OR state = 'parked') ORDER BY department, seq LIMIT ?4");
    q.bind(1, query.department).bind(2, query.household_id).bind(3, std::int64_t{query.all ? 1 : 0})
        .bind(4, static_cast<std::int64_t>(query.limit + 1));
    store::Statement history(db_,
                             "SELECT action, by_operator, at_ms, outcome FROM parked_action WHERE department = ? AND seq = ? "
                             "ORDER BY id");
    json rows = json::array();
    bool truncated = false;
    while (q.step()) {
      if (rows.size() == query.limit) {
        truncated = true;
        break;
      }
      json row = parked_json({q.column_text(0), q.column_int(1), q.column_text(2), q.column_text(3), q.column_text(4),
                              q.column_int(5), q.column_int(6), q.column_int(7), q.column_text(8),
                              q.column_is_null(9) ? std::nullopt : std::optional<std::string>(q.column_text(9)),
                              q.column_is_null(10) ? std::nullopt : std::optional<std::int64_t>(q.column_int(10)),
                              q.column_is_null(11) ? std::nullopt : std::optional<std::string>(q.column_text(11))});
      if (query.all) {
        json h = json::array();
        history.bind(1, q.column_text(0)).bind(2, q.column_int(1));
        while (history.step())
          h.push_back(parked_history_json(history.column_text(0), history.column_text(1), history.column_int(2),
                                          history.column_text(3)));
        history.reset();
        row["history"] = std::move(h);
      }
      rows.push_back(std::move(row));
    }
    return nlohmann::json{{"parked", std::move(rows)}, {"truncated", truncated}};
  });
}

}  // namespace hub::store

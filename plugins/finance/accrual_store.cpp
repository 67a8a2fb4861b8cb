#include "accrual_store.h"

#include <sqlite3.h>

#include <map>
#include <utility>

namespace finance {
namespace {

// PRAGMA user_version of finance.db. 1: accruals and the decision journal; 2: each decision's
// status (decision.status), so that a ruling on a past quarter can replay the household's
// corrected history (see remedy.h). A file is brought up step by step, in one transaction.
constexpr int kSchemaVersion = 2;

constexpr const char* kSchemaVersion1 = R"sql(
CREATE TABLE IF NOT EXISTS accrual(
  id          INTEGER PRIMARY KEY,
  household_id TEXT NOT NULL,
  policy_id   TEXT NOT NULL,
  quarter     TEXT NOT NULL,
  amount_fen  INTEGER NOT NULL CHECK (amount_fen >= 0),
  deferred_by TEXT NOT NULL,
  settled_by  TEXT,
  settlement  TEXT CHECK (settlement IN ('released', 'forfeited', 'superseded')),
  CHECK ((settled_by IS NULL) = (settlement IS NULL))
);
-- At most one open accrual per household, policy and quarter; settled rows stay as history.
CREATE UNIQUE INDEX IF NOT EXISTS accrual_open
  ON accrual(household_id, policy_id, quarter) WHERE settled_by IS NULL;
CREATE TABLE IF NOT EXISTS decision(
  idempotency_key TEXT PRIMARY KEY,
  sequence        INTEGER NOT NULL,
  household_id    TEXT NOT NULL,
  quarter         TEXT NOT NULL,
  decided_at_ms   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS decision_action(
  idempotency_key TEXT NOT NULL REFERENCES decision(idempotency_key),
  ordinal         INTEGER NOT NULL,
  policy_id       TEXT NOT NULL,
  action          TEXT NOT NULL,
  amount_fen      INTEGER,
  reason          TEXT NOT NULL,
  PRIMARY KEY (idempotency_key, ordinal)
);
)sql";

// Version 2: the status each decision was taken for (Event::new_status). Decisions journalled
// before it get the status their actions show — money paid (apply, restore, release) only for
// credit, defer only for non_credit, withhold only for breach; a decision with nothing but
// not_applicable (a household on no roster, an unevaluated status) stays NULL and is left out
// of every replayed history. The index serves the history and payment queries per household.
constexpr const char* kUpgradeToVersion2 = R"sql(
ALTER TABLE decision ADD COLUMN status TEXT
  CHECK (status IS NULL OR status IN ('unevaluated', 'credit', 'non_credit', 'breach'));
UPDATE decision SET status = CASE
  WHEN EXISTS (SELECT 1 FROM decision_action a WHERE a.idempotency_key = decision.idempotency_key
               AND a.action IN ('apply', 'restore', 'release')) THEN 'credit'
  WHEN EXISTS (SELECT 1 FROM decision_action a WHERE a.idempotency_key = decision.idempotency_key
               AND a.action = 'defer') THEN 'non_credit'
  WHEN EXISTS (SELECT 1 FROM decision_action a WHERE a.idempotency_key = decision.idempotency_key
               AND a.action = 'withhold') THEN 'breach'
  ELSE NULL END;
CREATE INDEX IF NOT EXISTS decision_household ON decision(household_id, sequence);
)sql";

const char* settlement_name(Settlement settlement) {
  switch (settlement) {
    case Settlement::kReleased: return "released";
    case Settlement::kForfeited: return "forfeited";
    case Settlement::kSuperseded: break;
  }
  return "superseded";
}

// One use of a cached prepared statement (AccrualStore::prepared): reset and unbound again on
// scope exit, so the next use starts clean. Binding and stepping throw StoreError.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text) {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT), "bind");
    return *this;
  }
  Statement& bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value), "bind");
    return *this;
  }
  Statement& bind_null(int index) {
    check(sqlite3_bind_null(stmt_, index), "bind");
    return *this;
  }

  // True while there is a row to read.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_error("step");
  }
  void run() {
    while (step()) {
    }
  }

  std::string text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  void check(int rc, const char* what) {
    if (rc != SQLITE_OK) throw_error(what);
  }
  [[noreturn]] void throw_error(const char* what) const {
    throw StoreError(std::string("finance.db ") + what + ": " + sqlite3_errmsg(db_));
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

AccrualStore::AccrualStore(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open " + path + ": " + message);
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    // WAL keeps readers (an administrator's sqlite3 shell) out of the writer's way. NORMAL
    // (not FULL): a commit is in the operating system's hands before the decision is returned,
    // so a crash or kill -9 of the process loses nothing; only a power cut or kernel crash can
    // lose the last commits. FULL costs one fsync per event (~300 events/s on the reference
    // machine, two minutes for a town's quarter) because the plugin API hands over one event
    // at a time. The hub's own ledger stays at FULL.
    {
      Statement journal(db_, prepared("PRAGMA journal_mode=WAL"));  // cached, like every statement
      if (!journal.step() || journal.text(0) != "wal") fail("cannot switch to WAL journal mode");
    }
    execute("PRAGMA synchronous=NORMAL");
    execute("PRAGMA foreign_keys=ON");

    std::int64_t found = 0;
    {
      Statement version(db_, prepared("PRAGMA user_version"));
      if (version.step()) found = version.integer(0);
    }
    if (found > kSchemaVersion)
      fail("schema version " + std::to_string(found) + " is newer than this plugin's (" +
           std::to_string(kSchemaVersion) + "); upgrade the finance plugin");
    if (found < kSchemaVersion) {
      execute("BEGIN IMMEDIATE");
      try {
        if (found < 1 && sqlite3_exec(db_, kSchemaVersion1, nullptr, nullptr, nullptr) != SQLITE_OK)
          fail("cannot create the schema");
        if (found < 2 && sqlite3_exec(db_, kUpgradeToVersion2, nullptr, nullptr, nullptr) != SQLITE_OK)
          fail("cannot upgrade the schema from version " + std::to_string(found) + " to 2");
        execute(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
        execute("COMMIT");
      } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    }
  } catch (...) {
    finalize_statements();
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

AccrualStore::~AccrualStore() {
  finalize_statements();
  sqlite3_close(db_);
}

sqlite3_stmt* AccrualStore::prepared(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) fail(std::string("cannot prepare ") + sql);
  statements_.emplace(sql, stmt);
  return stmt;
}

void AccrualStore::finalize_statements() noexcept {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  statements_.clear();
}

void AccrualStore::execute(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(std::string("cannot run ") + sql);
}

void AccrualStore::execute_cached(const char* sql_literal) {
  Statement statement(db_, prepared(sql_literal));
  statement.run();
}

void AccrualStore::fail(const std::string& what) const {
  throw StoreError(path_ + ": " + what + (db_ != nullptr ? std::string(": ") + sqlite3_errmsg(db_) : std::string()));
}

AccrualStore::EventScope::EventScope(AccrualStore& store) : store_(store) {
  if (!store_.batch_open_) {
    store_.execute_cached("BEGIN IMMEDIATE");
    store_.batch_open_ = true;
  }
  store_.execute_cached("SAVEPOINT event");
}

AccrualStore::EventScope::~EventScope() {
  if (!open_) return;
  if (sqlite3_exec(store_.db_, "ROLLBACK TO event; RELEASE event", nullptr, nullptr, nullptr) != SQLITE_OK) {
    store_.rollback_batch();  // cannot undo just this event: give up the whole batch
  }
}

void AccrualStore::EventScope::commit() {
  store_.execute_cached("RELEASE event");
  open_ = false;
}

void AccrualStore::commit_batch() {
  if (!batch_open_) return;
  try {
    execute_cached("COMMIT");
  } catch (...) {
    rollback_batch();
    throw;
  }
  batch_open_ = false;
}

void AccrualStore::rollback_batch() noexcept {
  if (!batch_open_) return;
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  batch_open_ = false;
}

std::optional<RecordedDecision> AccrualStore::find_decision(std::string_view idempotency_key) {
  Statement decision(db_, prepared("SELECT household_id FROM decision WHERE idempotency_key = ?1"));
  decision.bind(1, idempotency_key);
  if (!decision.step()) return std::nullopt;
  RecordedDecision recorded;
  recorded.household_id = decision.text(0);

  Statement actions(db_, prepared("SELECT policy_id, action, amount_fen, reason FROM decision_action "
                    "WHERE idempotency_key = ?1 ORDER BY ordinal"));
  actions.bind(1, idempotency_key);
  while (actions.step()) {
    hub::sdk::PolicyAction action;
    action.policy_id = actions.text(0);
    action.household_id = recorded.household_id;
    const std::string kind = actions.text(1);
    const auto parsed = hub::sdk::parse_action_kind(kind);
    if (!parsed) fail("decision " + std::string(idempotency_key) + " holds an unknown action '" + kind + "'");
    action.action = *parsed;
    if (!actions.is_null(2)) action.amount_fen = actions.integer(2);
    action.reason = actions.text(3);
    recorded.actions.push_back(std::move(action));
  }
  return recorded;
}

void AccrualStore::record_decision(const hub::sdk::Event& event, const std::vector<hub::sdk::PolicyAction>& actions,
                                   std::int64_t decided_at_ms) {
  Statement decision(db_, prepared("INSERT INTO decision(idempotency_key, sequence, household_id, quarter, decided_at_ms, "
                     "status) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  decision.bind(1, event.idempotency_key)
      .bind(2, static_cast<std::int64_t>(event.sequence))
      .bind(3, event.household_id)
      .bind(4, event.quarter)
      .bind(5, decided_at_ms)
      .bind(6, hub::sdk::to_string(event.new_status))
      .run();
  std::int64_t ordinal = 0;
  for (const auto& action : actions) {
    Statement row(db_, prepared("INSERT INTO decision_action(idempotency_key, ordinal, policy_id, action, amount_fen, reason) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    row.bind(1, event.idempotency_key).bind(2, ordinal++).bind(3, action.policy_id);
    row.bind(4, hub::sdk::to_string(action.action));
    if (action.amount_fen) {
      row.bind(5, *action.amount_fen);
    } else {
      row.bind_null(5);
    }
    row.bind(6, action.reason).run();
  }
}

std::map<std::string, AccrualStore::QuarterRecord> AccrualStore::quarter_history(std::string_view household_id,
                                                                                 std::string_view policy_id) {
  Statement query(db_, prepared("SELECT d.quarter, d.status, EXISTS (SELECT 1 FROM decision_action a "
                  "WHERE a.idempotency_key = d.idempotency_key AND a.policy_id = ?2 AND a.action <> 'not_applicable') "
                  "FROM decision d WHERE d.household_id = ?1 AND d.status IS NOT NULL ORDER BY d.sequence"));
  query.bind(1, household_id).bind(2, policy_id);
  std::map<std::string, QuarterRecord> out;
  while (query.step()) {
    const std::string text = query.text(1);
    const auto status = hub::sdk::parse_household_status(text);
    if (!status) fail("a decision of household " + std::string(household_id) + " holds an unknown status '" + text + "'");
    QuarterRecord& record = out[query.text(0)];
    record.status = *status;  // in sequence order: the latest decision of a quarter wins
    record.on_roster = record.on_roster || query.integer(2) != 0;
  }
  return out;
}

std::int64_t AccrualStore::paid(std::string_view household_id, std::string_view policy_id) {
  Statement query(db_, prepared("SELECT COALESCE(SUM(a.amount_fen), 0) FROM decision_action a "
                  "JOIN decision d ON d.idempotency_key = a.idempotency_key "
                  "WHERE d.household_id = ?1 AND a.policy_id = ?2 AND a.action IN ('apply', 'restore', 'release')"));
  query.bind(1, household_id).bind(2, policy_id);
  return query.step() ? query.integer(0) : 0;
}

std::vector<Accrual> AccrualStore::pending(std::string_view household_id, std::string_view policy_id) {
  Statement query(db_, prepared("SELECT quarter, amount_fen FROM accrual "
                  "WHERE household_id = ?1 AND policy_id = ?2 AND settled_by IS NULL ORDER BY quarter"));
  query.bind(1, household_id).bind(2, policy_id);
  std::vector<Accrual> out;
  while (query.step()) out.push_back(Accrual{query.text(0), query.integer(1)});
  return out;
}

void AccrualStore::add(std::string_view household_id, std::string_view policy_id, std::string_view quarter,
                       std::int64_t amount_fen, std::string_view deferred_by) {
  Statement insert(db_, prepared("INSERT INTO accrual(household_id, policy_id, quarter, amount_fen, deferred_by) "
                   "VALUES (?1, ?2, ?3, ?4, ?5)"));
  insert.bind(1, household_id).bind(2, policy_id).bind(3, quarter).bind(4, amount_fen).bind(5, deferred_by).run();
}

std::vector<Accrual> AccrualStore::settle(std::string_view household_id, std::string_view policy_id,
                                          std::optional<std::string_view> quarter, Settlement settlement,
                                          std::string_view settled_by) {
  Statement query(db_, prepared("SELECT id, quarter, amount_fen FROM accrual "
                  "WHERE household_id = ?1 AND policy_id = ?2 AND settled_by IS NULL "
                  "AND (?3 IS NULL OR quarter = ?3) ORDER BY quarter"));
  query.bind(1, household_id).bind(2, policy_id);
  if (quarter) {
    query.bind(3, *quarter);
  } else {
    query.bind_null(3);
  }
  std::vector<std::int64_t> ids;
  std::vector<Accrual> settled;
  while (query.step()) {
    ids.push_back(query.integer(0));
    settled.push_back(Accrual{query.text(1), query.integer(2)});
  }
  for (const std::int64_t id : ids) {
    Statement update(db_, prepared("UPDATE accrual SET settled_by = ?1, settlement = ?2 WHERE id = ?3"));
    update.bind(1, settled_by).bind(2, settlement_name(settlement)).bind(3, id).run();
  }
  return settled;
}

}  // namespace finance

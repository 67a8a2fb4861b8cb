// The ledger's storage format in SQLite: one row per delivered event with its hand-off, reasons
// stored once, the `action` view, the upgrades of every older ledger.db, all-or-nothing commits;
// and the ledger contract's tests (testing/ledger_contract_tests.h) on SQLite.
#include "delivery/ledger.h"
#include "delivery/ledger_committer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/sqlite/chain_keeper.h"
#include "store/sqlite/database.h"
#include "store/sqlite/sqlite_ledger.h"
#include "testing/ledger_batches.h"
#include "testing/ledger_contract_tests.h"
#include "testing/temp_dir.h"

namespace hub::delivery {
namespace {

// The shared deliveries as this file's tests expect them: plugin 1.0.0, one amount, a reason with
// a backslash, no hand-off.
LedgerBatch batch(const std::string& department, std::uint64_t first_seq, std::size_t events) {
  LedgerBatch b = hub::testing::ledger_batch(department, first_seq, events);
  b.plugin_version = "1.0.0";
  for (runtime::DeliveredEvent& d : b.delivered) {
    d.actions[1].amount_fen = 6000;
    d.actions[1].reason = "seq " + std::to_string(d.seq) + " \"quoted\" \\ reason";
    d.handoff = "none";
    d.handoff_detail.clear();
  }
  return b;
}

std::vector<std::vector<std::string>> rows(store::Database& db, const char* sql) {
  store::Statement q(db, sql);
  std::vector<std::vector<std::string>> out;
  while (q.step()) {
    std::vector<std::string> row;
    for (int c = 0; c < 8; ++c) row.push_back(q.column_is_null(c) ? "NULL" : q.column_text(c));
    out.push_back(std::move(row));
  }
  return out;
}

constexpr const char* kActionRows =
    "SELECT department, seq, idx, household_id, policy_id, action, amount_fen, reason FROM action "
    "ORDER BY department, seq, idx";

// "handoff|handoff_detail" of every delivery, in seq order.
std::vector<std::string> handoffs(const std::string& path) {
  store::Database db(path, store::Database::Mode::kReadOnly);
  store::Statement q(db, "SELECT handoff || '|' || handoff_detail FROM delivery ORDER BY department, seq");
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.column_text(0));
  return out;
}

std::int64_t schema_version(const std::string& path) {
  store::Database db(path, store::Database::Mode::kReadOnly);
  store::Statement q(db, "PRAGMA user_version");
  q.step();
  return q.column_int(0);
}

// A version 1 ledger.db as hubd 1.0 wrote it (user_version 0, one row per action) with three
// deliveries of 'land', the third without actions. `handoff_columns`: as a pre-release hubd
// with connectors wrote it, the hand-off recorded in `delivery` (seq 1 went to a spool).
void write_version1_ledger(const std::string& path, bool handoff_columns) {
  store::Database db(path, store::Database::Mode::kReadWrite);
  db.exec(R"sql(
CREATE TABLE cursor (department TEXT PRIMARY KEY, seq INTEGER NOT NULL, delivered INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0, last_delivery_at_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE delivery (department TEXT NOT NULL, seq INTEGER NOT NULL, household_id TEXT NOT NULL,
  event_id TEXT NOT NULL, delivered_at_ms INTEGER NOT NULL, plugin_version TEXT NOT NULL,
  PRIMARY KEY (department, seq)) WITHOUT ROWID;
CREATE TABLE action (department TEXT NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL,
  household_id TEXT NOT NULL, policy_id TEXT NOT NULL, action TEXT NOT NULL, amount_fen INTEGER,
  reason TEXT NOT NULL, PRIMARY KEY (department, seq, idx)) WITHOUT ROWID;
CREATE TABLE failure (department TEXT NOT NULL, seq INTEGER NOT NULL, attempt INTEGER NOT NULL,
  at_ms INTEGER NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (department, seq, attempt)) WITHOUT ROWID;
INSERT INTO cursor VALUES ('land', 3, 3, 0, 5);
INSERT INTO delivery VALUES ('land', 1, 'V01-00001', 'ev-1', 5, '1.0.0'), ('land', 2, 'V01-00002', 'ev-2', 5, '1.0.0'),
                            ('land', 3, 'V01-00003', 'ev-3', 5, '1.0.0');
INSERT INTO action VALUES ('land', 1, 0, 'V01-00001', 'land.homestead', 'withhold', NULL, 'same'),
                          ('land', 1, 1, 'V01-00001', 'land.permit', 'defer', NULL, 'other'),
                          ('land', 2, 0, 'V01-00002', 'land.homestead', 'apply', 12, 'same');
)sql");
  if (handoff_columns) {
    db.exec("ALTER TABLE delivery ADD COLUMN handoff TEXT NOT NULL DEFAULT 'none'");
    db.exec("ALTER TABLE delivery ADD COLUMN handoff_detail TEXT NOT NULL DEFAULT ''");
    db.exec("UPDATE delivery SET handoff = 'spool', handoff_detail = 'land-1.jsonl' WHERE seq = 1");
  }
}

// Every action of write_version1_ledger(), read through the `action` view.
void expect_version1_actions(const std::string& path) {
  store::Database db(path, store::Database::Mode::kReadOnly);
  const auto got = rows(db, kActionRows);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], (std::vector<std::string>{"land", "1", "0", "V01-00001", "land.homestead", "withhold", "NULL", "same"}));
  EXPECT_EQ(got[1], (std::vector<std::string>{"land", "1", "1", "V01-00001", "land.permit", "defer", "NULL", "other"}));
  EXPECT_EQ(got[2], (std::vector<std::string>{"land", "2", "0", "V01-00002", "land.homestead", "apply", "12", "same"}));
  store::Statement deliveries(db, "SELECT COUNT(*) FROM delivery WHERE actions = '[]'");
  deliveries.step();
  EXPECT_EQ(deliveries.column_int(0), 1);  // seq 3 had no actions and is still a delivery
}

TEST(Ledger, ActionViewShowsEveryActionWithItsReasonText) {
  testing::TempDir dir;
  {
    store::SqliteLedger ledger(dir.file("ledger.db"));
    std::vector<LedgerBatch> batches{batch("police", 1, 3), batch("finance", 1, 2)};
    ledger.commit(batches, 1000);
  }
  store::Database db(dir.file("ledger.db"), store::Database::Mode::kReadOnly);
  const auto got = rows(db, kActionRows);
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(got[0], (std::vector<std::string>{"finance", "1", "0", "V01-10001", "finance.a", "defer", "NULL",
                                              "暂缓 / deferred"}));
  EXPECT_EQ(got[1], (std::vector<std::string>{"finance", "1", "1", "V01-10001", "finance.b", "apply", "6000",
                                              "seq 1 \"quoted\" \\ reason"}));
  // The shared reason is stored once; the per-event ones once each.
  store::Statement reasons(db, "SELECT COUNT(*) FROM reason");
  reasons.step();
  EXPECT_EQ(reasons.column_int(0), 1 + 3);
}

TEST(Ledger, ReasonsSurviveReopeningAndAreNotDuplicated) {
  testing::TempDir dir;
  {
    store::SqliteLedger ledger(dir.file("ledger.db"));
    std::vector<LedgerBatch> batches{batch("police", 1, 2)};
    ledger.commit(batches, 1000);
  }
  {
    store::SqliteLedger ledger(dir.file("ledger.db"));
    std::vector<LedgerBatch> batches{batch("police", 3, 2)};
    ledger.commit(batches, 2000);
  }
  store::Database db(dir.file("ledger.db"), store::Database::Mode::kReadOnly);
  EXPECT_EQ(rows(db, kActionRows).size(), 8u);
  store::Statement reasons(db, "SELECT COUNT(*), COUNT(DISTINCT text) FROM reason");
  reasons.step();
  EXPECT_EQ(reasons.column_int(0), 1 + 4);
  EXPECT_EQ(reasons.column_int(1), 1 + 4);
}

TEST(Ledger, AFailedCommitRecordsNothingAndForgetsItsNewReasons) {
  testing::TempDir dir;
  store::SqliteLedger ledger(dir.file("ledger.db"));
  std::vector<LedgerBatch> first{batch("police", 1, 1)};
  ledger.commit(first, 1000);
  // Seq 1 again: the primary key refuses it, after this batch's new reason was inserted.
  std::vector<LedgerBatch> again{batch("police", 2, 1), batch("schools", 1, 1)};
  again[0].delivered.push_back(batch("police", 1, 1).delivered.front());
  EXPECT_THROW(ledger.commit(again, 2000), StorageError);
  // The rolled-back reason ids must not be reused as if they existed.
  std::vector<LedgerBatch> next{batch("police", 2, 1)};
  ledger.commit(next, 3000);
  store::Database db(dir.file("ledger.db"), store::Database::Mode::kReadOnly);
  const auto got = rows(db, kActionRows);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3][7], "seq 2 \"quoted\" \\ reason");
}

// The dispatcher's committer on a key used twice: the ledger already has rows the batch says
// are new (its cursors are behind the file, after a commit whose outcome was misjudged). That
// is not "not written, deliver again from the same cursors", which would fail the same way for
// ever, but "read the cursors again" (kUnknown). Nothing of the refused batch is stored.
TEST(Ledger, TheCommitterReadsTheCursorsAgainWhenTheLedgerAlreadyHasTheRows) {
  testing::TempDir dir;
  store::SqliteLedger ledger(dir.file("ledger.db"));
  LedgerCommitter committer(ledger, nullptr);
  std::vector<LedgerBatch> first{batch("police", 1, 2)};
  first[0].new_cursor = 2;
  EXPECT_EQ(committer.commit(first, 1000), LedgerCommitter::Outcome::kCommitted);
  std::vector<LedgerBatch> stale{batch("police", 2, 2)};  // seq 2 is in the file already
  stale[0].new_cursor = 3;
  EXPECT_EQ(committer.commit(stale, 2000), LedgerCommitter::Outcome::kUnknown);
  EXPECT_EQ(ledger.load_cursors().at("police").seq, 2u) << "the cursors to read again are the file's";
  store::Database db(dir.file("ledger.db"), store::Database::Mode::kReadOnly);
  store::Statement q(db, "SELECT COUNT(*) FROM delivery WHERE seq = 3");
  q.step();
  EXPECT_EQ(q.column_int(0), 0);
}

TEST(Ledger, RecordsTheHandoffOfEachDelivery) {
  testing::TempDir dir;
  store::SqliteLedger ledger(dir.file("ledger.db"));
  std::vector<LedgerBatch> batches{batch("police", 1, 2)};
  batches[0].delivered[1].handoff = "spool";
  batches[0].delivered[1].handoff_detail = "police-00000000000000000002.jsonl";
  ledger.commit(batches, 1000);
  EXPECT_EQ(handoffs(dir.file("ledger.db")),
            (std::vector<std::string>{"none|", "spool|police-00000000000000000002.jsonl"}));
  EXPECT_EQ(schema_version(dir.file("ledger.db")), 9);
}

TEST(Ledger, UpgradesAVersion1LedgerWithoutLosingAnAction) {
  testing::TempDir dir;
  write_version1_ledger(dir.file("ledger.db"), /*handoff_columns=*/false);
  {
    store::SqliteLedger ledger(dir.file("ledger.db"));  // upgrades
    EXPECT_EQ(ledger.load_cursors().at("land").seq, 3u);
  }
  expect_version1_actions(dir.file("ledger.db"));
  // Before connectors there was no hand-off.
  EXPECT_EQ(handoffs(dir.file("ledger.db")), (std::vector<std::string>{"none|", "none|", "none|"}));
  EXPECT_EQ(schema_version(dir.file("ledger.db")), 9);
  // The file as it was before the upgrade is kept beside it (docs/operations.md): version 1's
  // layout, one row per action.
  const std::string kept = dir.file("ledger.db.before-v9");
  ASSERT_TRUE(std::filesystem::exists(kept));
  EXPECT_FALSE(std::filesystem::exists(kept + ".partial"));
  EXPECT_EQ(schema_version(kept), 0);
  {
    store::Database db(kept, store::Database::Mode::kReadOnly);
    store::Statement q(db, "SELECT COUNT(*) FROM action");
    q.step();
    EXPECT_EQ(q.column_int(0), 3) << "the three actions of version 1";
  }
  const auto kept_size = std::filesystem::file_size(kept);
  { store::SqliteLedger again(dir.file("ledger.db")); }  // no upgrade, no new copy
  EXPECT_EQ(std::filesystem::file_size(kept), kept_size);
  // Version 6: the upgraded deliveries are chained (ledger_chain_test.cpp has the rest).
  const auto chain = store::verify_ledger_chain(dir.file("ledger.db"));
  EXPECT_TRUE(chain.ok) << chain.message;
  EXPECT_EQ(chain.records, 3);
}

TEST(Ledger, UpgradesAVersion1LedgerWithHandoffColumnsKeepingTheHandoffs) {
  testing::TempDir dir;
  write_version1_ledger(dir.file("ledger.db"), /*handoff_columns=*/true);
  { store::SqliteLedger ledger(dir.file("ledger.db")); }  // upgrades
  expect_version1_actions(dir.file("ledger.db"));
  EXPECT_EQ(handoffs(dir.file("ledger.db")), (std::vector<std::string>{"spool|land-1.jsonl", "none|", "none|"}));
  EXPECT_EQ(schema_version(dir.file("ledger.db")), 9);
}

TEST(Ledger, UpgradesAVersion2LedgerAddingTheHandoffColumns) {
  testing::TempDir dir;
  {
    // Version 2 as hubd wrote it before connectors: actions packed in `delivery`, no hand-off.
    store::Database db(dir.file("ledger.db"), store::Database::Mode::kReadWrite);
    db.exec(R"sql(
CREATE TABLE cursor (department TEXT PRIMARY KEY, seq INTEGER NOT NULL, delivered INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0, last_delivery_at_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE reason (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE delivery (department TEXT NOT NULL, seq INTEGER NOT NULL, household_id TEXT NOT NULL,
  event_id TEXT NOT NULL, delivered_at_ms INTEGER NOT NULL, plugin_version TEXT NOT NULL, actions TEXT NOT NULL,
  PRIMARY KEY (department, seq)) WITHOUT ROWID;
CREATE VIEW action AS
  SELECT d.department AS department, d.seq AS seq, CAST(j.key AS INTEGER) AS idx, d.household_id AS household_id,
         j.value ->> 0 AS policy_id, j.value ->> 1 AS action, j.value ->> 2 AS amount_fen, r.text AS reason
  FROM delivery d, json_each(d.actions) j JOIN reason r ON r.id = j.value ->> 3;
CREATE TABLE failure (department TEXT NOT NULL, seq INTEGER NOT NULL, attempt INTEGER NOT NULL,
  at_ms INTEGER NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (department, seq, attempt)) WITHOUT ROWID;
INSERT INTO cursor VALUES ('land', 1, 1, 0, 5);
INSERT INTO reason VALUES (1, 'same');
INSERT INTO delivery VALUES ('land', 1, 'V01-00001', 'ev-1', 5, '1.0.0', '[["land.homestead","apply",12,1]]');
PRAGMA user_version = 2;
)sql");
  }
  {
    store::SqliteLedger ledger(dir.file("ledger.db"));  // upgrades, then records a hand-off
    std::vector<LedgerBatch> batches{batch("land", 2, 1)};
    batches[0].delivered[0].handoff = "webhook";
    batches[0].delivered[0].handoff_detail = "HTTP 200";
    ledger.commit(batches, 1000);
  }
  store::SqliteLedger reopened(dir.file("ledger.db"));  // a second open finds version 7 and changes nothing
  EXPECT_EQ(handoffs(dir.file("ledger.db")), (std::vector<std::string>{"none|", "webhook|HTTP 200"}));
  EXPECT_EQ(schema_version(dir.file("ledger.db")), 9);
  const auto chain = store::verify_ledger_chain(dir.file("ledger.db"));
  EXPECT_TRUE(chain.ok) << chain.message;
  EXPECT_EQ(chain.records, 2);
  store::Database db(dir.file("ledger.db"), store::Database::Mode::kReadOnly);
  const auto got = rows(db, kActionRows);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], (std::vector<std::string>{"land", "1", "0", "V01-00001", "land.homestead", "apply", "12", "same"}));
}


TEST(Ledger, UpgradesAVersion3LedgerWithTheParkedTables) {
  hub::testing::TempDir dir;
  {
    store::SqliteLedger ledger(dir.file("ledger.db"));
    std::vector<LedgerBatch> batches{batch("land", 1, 2)};
    ledger.commit(batches, 1000);
  }
  {
    store::Database db(dir.file("ledger.db"), store::Database::Mode::kReadWrite);
    db.exec("DROP TABLE parked; DROP TABLE parked_action; DROP TABLE plugin_state; DROP TABLE plugin_action; "
            "PRAGMA user_version = 3;");
  }
  store::SqliteLedger ledger(dir.file("ledger.db"));
  EXPECT_EQ(schema_version(dir.file("ledger.db")), 9);
  EXPECT_TRUE(ledger.load_plugin_states().empty());
  EXPECT_TRUE(ledger.load_parked().empty());
  EXPECT_EQ(ledger.load_cursors()["land"].seq, 2u);
  std::vector<LedgerBatch> batches(1);
  batches[0].department = "land";
  batches[0].new_cursor = 3;
  batches[0].parked.push_back(ParkedRecord{3, "V01-00003", "ev-3", "x", 5, 0, ""});
  ledger.commit(batches, 2000);
  EXPECT_EQ(ledger.load_parked().size(), 1u);
  ledger.record_disabled("land", "ann", "", 2500);
  EXPECT_TRUE(ledger.load_plugin_states()["land"].disabled);
}

// A version 4 ledger.db (parked tables, no lifecycle tables) as hubd wrote it before version 5:
// upgraded in place, every cursor, delivery and parked event kept.
TEST(Ledger, UpgradesAVersion4LedgerWithThePluginLifecycleTables) {
  hub::testing::TempDir dir;
  {
    store::SqliteLedger ledger(dir.file("ledger.db"));
    std::vector<LedgerBatch> batches{batch("land", 1, 2)};
    batches[0].new_cursor = 3;
    batches[0].parked.push_back(ParkedRecord{3, "V01-00003", "ev-3", "broken", 5, 0, ""});
    ledger.commit(batches, 1000);
  }
  {
    store::Database db(dir.file("ledger.db"), store::Database::Mode::kReadWrite);
    db.exec("DROP TABLE plugin_state; DROP TABLE plugin_action; PRAGMA user_version = 4;");
  }
  {
    store::SqliteLedger ledger(dir.file("ledger.db"));
    EXPECT_EQ(schema_version(dir.file("ledger.db")), 9);
    EXPECT_EQ(ledger.load_cursors()["land"].seq, 3u);
    EXPECT_EQ(ledger.load_cursors()["land"].delivered, 2u);
    ASSERT_EQ(ledger.load_parked().size(), 1u);
    EXPECT_EQ(ledger.load_parked()[0].seq, 3u);
    EXPECT_TRUE(ledger.load_plugin_states().empty());
    ledger.record_disabled("land", "jo", "audit", 2000);
  }
  // Opening an up-to-date file again changes nothing.
  store::SqliteLedger again(dir.file("ledger.db"));
  EXPECT_EQ(schema_version(dir.file("ledger.db")), 9);
  EXPECT_TRUE(again.load_plugin_states()["land"].disabled);
  store::Database db(dir.file("ledger.db"), store::Database::Mode::kReadOnly);
  EXPECT_EQ(rows(db, "SELECT COUNT(*), 0, 0, 0, 0, 0, 0, 0 FROM delivery").at(0).at(0), "2");
}

TEST(Ledger, RefusesALedgerNewerThanThisHubd) {
  hub::testing::TempDir dir;
  { store::SqliteLedger ledger(dir.file("ledger.db")); }
  {
    store::Database db(dir.file("ledger.db"), store::Database::Mode::kReadWrite);
    db.exec("PRAGMA user_version = 10;");
  }
  EXPECT_THROW(store::SqliteLedger(dir.file("ledger.db")), StorageError);
}


// The ledger contract's tests (testing/ledger_contract_tests.h; hub_postgresql_tests runs them
// on PostgreSQL): parked events, lifecycle decisions, cursors, tallies, failed commits.
class SqliteBackendUnderTest final : public hub::testing::LedgerBackendUnderTest {
 public:
  std::unique_ptr<Ledger> open() override { return std::make_unique<store::SqliteLedger>(path()); }
  audit::VerifyResult verify() override { return store::verify_ledger_chain(path()); }
  std::vector<std::string> tallies() override {
    return column("SELECT department || ' ' || counter || ' ' || n FROM tally ORDER BY department, counter");
  }
  std::vector<std::string> plugin_history() override {
    return column("SELECT department || '|' || action || '|' || by_operator || '|' || at_ms || '|' || detail "
                  "FROM plugin_action ORDER BY id");
  }

 private:
  std::string path() const { return dir_.file("ledger.db"); }
  std::vector<std::string> column(const char* sql) const {
    store::Database db(path(), store::Database::Mode::kReadOnly);
    store::Statement q(db, sql);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.column_text(0));
    return out;
  }
  hub::testing::TempDir dir_;
};

using hub::testing::LedgerContract;
INSTANTIATE_TEST_SUITE_P(Sqlite, LedgerContract,
                         ::testing::Values(hub::testing::LedgerBackendParam{
                             "sqlite", [] { return std::make_unique<SqliteBackendUnderTest>(); }}),
                         hub::testing::ledger_backend_name);

}  // namespace
}  // namespace hub::delivery

// The delivery ledger on PostgreSQL against a real server (testing/postgres_server.h): the
// ledger contract's tests (testing/ledger_contract_tests.h, also run on SQLite by
// hub_unit_tests), then what only PostgreSQL has: the same commits give the same chain head,
// list_parked JSON, rows, actions and tallies as SQLite; a connection lost at COMMIT (outcome
// unknown) followed by another writer and a retry records nothing twice and the chain still
// verifies, and one that did commit is continued from what the database holds; a lost
// connection is reconnected; a tampered delivery is named by
// verify_pg_ledger_chain; two hubs on one database keep apart. A disabled benchmark times 100
// commits of 9 departments x 1,000 deliveries on both backends.
#include "store/postgresql/pg_ledger.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "store/sqlite/chain_keeper.h"
#include "store/sqlite/database.h"
#include "store/sqlite/sqlite_ledger.h"
#include "testing/ledger_contract_tests.h"
#include "testing/postgres_server.h"
#include "testing/temp_dir.h"

namespace hub::store::pg {
namespace {

using delivery::Ledger;
using delivery::LedgerBatch;
using delivery::ParkedQuery;
using delivery::ParkedRecord;
using delivery::ParkedResolution;
using hub::testing::ledger_batch;
using hub::testing::LedgerBackendParam;
using hub::testing::LedgerBackendUnderTest;
using hub::testing::LedgerContract;
using hub::testing::PostgresServer;
using hub::testing::TempDir;

constexpr std::int64_t kNow = 1'600'000'000'000;
constexpr const char* kHub = "town-a";

// The first column of every row of `sql`, "NULL" for null: the tests select one text per row.
std::vector<std::string> pg_column(const std::string& dsn, const std::string& sql) {
  Connection c(dsn);
  const Rows rows = c.exec(sql);
  std::vector<std::string> out;
  for (int i = 0; i < rows.size(); ++i) out.push_back(rows.is_null(i, 0) ? "NULL" : std::string(rows.text(i, 0)));
  return out;
}

std::vector<std::string> sqlite_column(const std::string& path, const std::string& sql) {
  Database db(path, Database::Mode::kReadOnly);
  Statement q(db, sql.c_str());
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.column_is_null(0) ? "NULL" : q.column_text(0));
  return out;
}

std::string pg_dsn(const std::string& prefix) {
  auto& server = PostgresServer::shared();
  return server.dsn(server.fresh_database(prefix));
}

// A fresh database per test; the ledger of hub kHub in it.
class PgBackendUnderTest final : public LedgerBackendUnderTest {
 public:
  PgBackendUnderTest() : dsn_(pg_dsn("pg_ledger_contract")) {}
  std::unique_ptr<Ledger> open() override { return std::make_unique<PgLedger>(dsn_, kHub); }
  audit::VerifyResult verify() override { return verify_pg_ledger_chain(dsn_, kHub); }
  std::vector<std::string> tallies() override {
    return pg_column(dsn_, "SELECT concat_ws(' ', department, counter, n) FROM ledger_tally WHERE hub_id = '" +
                               std::string(kHub) + "' ORDER BY department, counter");
  }
  std::vector<std::string> plugin_history() override {
    return pg_column(dsn_, "SELECT concat_ws('|', department, action, by_operator, at_ms, detail) "
                           "FROM ledger_plugin_action WHERE hub_id = '" + std::string(kHub) + "' ORDER BY id");
  }

 private:
  std::string dsn_;
};

INSTANTIATE_TEST_SUITE_P(PostgreSQL, LedgerContract,
                         ::testing::Values(LedgerBackendParam{
                             "postgresql", [] { return std::make_unique<PgBackendUnderTest>(); }}),
                         hub::testing::ledger_backend_name);

// ---- PostgreSQL only ------------------------------------------------------------------------

void script(Ledger& ledger) { hub::testing::scripted_ledger_run(ledger, kNow); }

TEST(PgLedger, TheSameCommitsStoreWhatSqliteStoresAndChainTheSameBytes) {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  const std::string dsn = pg_dsn("pg_ledger_same");
  {
    SqliteLedger sqlite(path);
    PgLedger pg(dsn, kHub);
    script(sqlite);
    script(pg);
    ParkedQuery all;
    all.all = true;
    EXPECT_EQ(pg.list_parked(all).dump(), sqlite.list_parked(all).dump());
    EXPECT_EQ(pg.list_parked(ParkedQuery{}).dump(), sqlite.list_parked(ParkedQuery{}).dump());
    ParkedQuery truncated;
    truncated.all = true;
    truncated.limit = 1;
    EXPECT_EQ(pg.list_parked(truncated).dump(), sqlite.list_parked(truncated).dump());
    const auto pg_cursors = pg.load_cursors();
    const auto sqlite_cursors = sqlite.load_cursors();
    ASSERT_EQ(pg_cursors.size(), sqlite_cursors.size());
    for (const auto& [department, c] : sqlite_cursors) {
      EXPECT_EQ(pg_cursors.at(department).seq, c.seq) << department;
      EXPECT_EQ(pg_cursors.at(department).delivered, c.delivered) << department;
      EXPECT_EQ(pg_cursors.at(department).failed, c.failed) << department;
      EXPECT_EQ(pg_cursors.at(department).last_delivery_at_ms, c.last_delivery_at_ms) << department;
    }
    EXPECT_EQ(pg.load_plugin_states().at("schools").disabled, sqlite.load_plugin_states().at("schools").disabled);
  }
  const auto from_sqlite = verify_ledger_chain(path);
  const auto from_pg = verify_pg_ledger_chain(dsn, kHub);
  ASSERT_TRUE(from_sqlite.ok) << from_sqlite.message;
  ASSERT_TRUE(from_pg.ok) << from_pg.message;
  EXPECT_EQ(from_pg.records, 41);
  EXPECT_EQ(from_pg.head_hash_hex, from_sqlite.head_hash_hex) << "the same chain bytes on both backends";
  // The stored rows, value for value: deliveries with their packed actions and hashes, the
  // actions as readers see them, the tallies.
  EXPECT_EQ(pg_column(dsn, "SELECT concat_ws('|', department, seq, household_id, event_id, delivered_at_ms, "
                           "plugin_version, actions, handoff, handoff_detail, chain_seq, encode(hash, 'hex')) "
                           "FROM ledger_delivery ORDER BY department COLLATE \"C\", seq"),
            sqlite_column(path, "SELECT department || '|' || seq || '|' || household_id || '|' || event_id || '|' || "
                                "delivered_at_ms || '|' || plugin_version || '|' || actions || '|' || handoff || '|' "
                                "|| handoff_detail || '|' || chain_seq || '|' || lower(hex(hash)) FROM delivery "
                                "ORDER BY department, seq"));
  EXPECT_EQ(pg_column(dsn, "SELECT concat_ws('|', department, seq, idx, household_id, policy_id, action, "
                           "coalesce(amount_fen::text, 'NULL'), reason) FROM ledger_action "
                           "ORDER BY department COLLATE \"C\", seq, idx"),
            sqlite_column(path, "SELECT department || '|' || seq || '|' || idx || '|' || household_id || '|' || "
                                "policy_id || '|' || action || '|' || coalesce(amount_fen, 'NULL') || '|' || reason "
                                "FROM action ORDER BY department, seq, idx"));
  EXPECT_EQ(pg_column(dsn, "SELECT concat_ws(' ', department, counter, n) FROM ledger_tally "
                           "ORDER BY department COLLATE \"C\", counter COLLATE \"C\""),
            sqlite_column(path, "SELECT department || ' ' || counter || ' ' || n FROM tally ORDER BY department, counter"));
  // The timeline's deliveries per minute: the same as the SQLite ledger's, and the rows counted.
  const std::vector<std::string> minutes =
      pg_column(dsn, "SELECT concat_ws(' ', department, minute_ms, n) FROM ledger_delivery_minute "
                     "ORDER BY department COLLATE \"C\", minute_ms");
  EXPECT_FALSE(minutes.empty());
  EXPECT_EQ(minutes, sqlite_column(path, "SELECT department || ' ' || minute_ms || ' ' || n FROM delivery_minute "
                                         "ORDER BY department, minute_ms"));
  EXPECT_EQ(minutes, pg_column(dsn, "SELECT concat_ws(' ', department, minute_ms, n) FROM (SELECT department, "
                                    "delivered_at_ms / 60000 * 60000 AS minute_ms, count(*) AS n FROM ledger_delivery "
                                    "GROUP BY 1, 2) counted ORDER BY department COLLATE \"C\", minute_ms"));
  EXPECT_EQ(pg_column(dsn, "SELECT concat_ws('|', department, seq, attempt, at_ms, reason) FROM ledger_failure "
                           "ORDER BY department COLLATE \"C\", seq, attempt"),
            sqlite_column(path, "SELECT department || '|' || seq || '|' || attempt || '|' || at_ms || '|' || reason "
                                "FROM failure ORDER BY department, seq, attempt"));
}

// A database of ledger version 1 is upgraded when a hubd opens it: the deliveries per minute
// counted from its rows, for every hub on it (version 2; commits after the upgrade add to
// them), and the two histories keyed by (hub_id, id) (version 3).
TEST(PgLedger, AnUpgradeFromVersion1CountsTheDeliveriesPerMinuteKeysTheHistoriesByHubAndAddsTheEffectiveDate) {
  const std::string dsn = pg_dsn("pg_ledger_upgrade");
  {
    PgLedger a(dsn, "town-a"), b(dsn, "town-b");
    script(a);
    std::vector<LedgerBatch> later{ledger_batch("land", 18, 4)};
    a.commit(later, kNow + 180'000);  // three minutes later
    script(b);
  }
  const std::string count =
      "SELECT concat_ws(' ', hub_id, department, minute_ms, n) FROM (SELECT hub_id, department, delivered_at_ms / "
      "60000 * 60000 AS minute_ms, count(*) AS n FROM ledger_delivery GROUP BY 1, 2, 3) counted ORDER BY 1";
  const std::string stored =
      "SELECT concat_ws(' ', hub_id, department, minute_ms, n) FROM ledger_delivery_minute ORDER BY 1";
  const std::vector<std::string> want = pg_column(dsn, count);
  ASSERT_EQ(want.size(), 7u) << "town-a: land in two minutes, finance, schools; town-b: three departments";
  EXPECT_EQ(pg_column(dsn, stored), want);
  {
    Connection c(dsn);
    // Back to version 1: without the minutes (version 2), the histories keyed by id (3), the
    // parked events without their effective date (4).
    c.exec("DROP TABLE ledger_delivery_minute");
    c.exec("ALTER TABLE ledger_parked DROP COLUMN effective_on");
    c.exec("ALTER TABLE ledger_parked_history DROP CONSTRAINT ledger_parked_history_pkey, ADD PRIMARY KEY (id)");
    c.exec("ALTER TABLE ledger_plugin_action DROP CONSTRAINT ledger_plugin_action_pkey, ADD PRIMARY KEY (id)");
    c.exec("CREATE INDEX ledger_plugin_action_hub ON ledger_plugin_action (hub_id, id)");
    c.exec("UPDATE hub_schema SET version = 1 WHERE component = 'ledger'");
  }
  PgLedger upgraded(dsn, "town-a");
  EXPECT_EQ(pg_column(dsn, stored), want);
  EXPECT_EQ(pg_column(dsn, "SELECT version FROM hub_schema WHERE component = 'ledger'"),
            std::vector<std::string>{"4"});
  EXPECT_EQ(pg_column(dsn, "SELECT conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                           "WHERE contype = 'p' AND conrelid::regclass::text IN ('ledger_parked_history', "
                           "'ledger_plugin_action') ORDER BY 1"),
            (std::vector<std::string>{"ledger_parked_history PRIMARY KEY (hub_id, id)",
                                      "ledger_plugin_action PRIMARY KEY (hub_id, id)"}));
  EXPECT_EQ(pg_column(dsn, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'ledger_parked' "
                           "AND column_name = 'effective_on'"),
            std::vector<std::string>{"1"});
  std::vector<LedgerBatch> next{ledger_batch("land", 22, 3)};
  upgraded.commit(next, kNow + 180'500);
  EXPECT_EQ(pg_column(dsn, stored), pg_column(dsn, count));
}

// Commits `batches` while a deferred trigger terminates the session at COMMIT (as in
// pg_connection_test.cpp): the transaction does not commit, and the ledger cannot know it.
void commit_with_outcome_unknown(const std::string& dsn, PgLedger& ledger, std::vector<LedgerBatch>& batches,
                                 std::int64_t now_ms) {
  Connection admin(dsn);
  admin.exec(
      "CREATE OR REPLACE FUNCTION die() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NULL; END $$");
  admin.exec(
      "CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON ledger_delivery DEFERRABLE INITIALLY DEFERRED "
      "FOR EACH ROW EXECUTE FUNCTION die()");
  try {
    ledger.commit(batches, now_ms);
    ADD_FAILURE() << "the commit returned although its session was terminated at COMMIT";
  } catch (const StorageError& e) {
    EXPECT_TRUE(e.status().outcome_unknown) << e.what();
    EXPECT_EQ(e.status().storage, StorageKind::kUnavailable);
  }
  admin.exec("DROP TRIGGER die_at_commit ON ledger_delivery");
}

// The session is terminated while COMMIT runs (a deferred trigger, as in pg_connection_test.cpp):
// the commit's outcome is unknown to the ledger. Meanwhile another writer of the same hub (a
// hubd that took over) commits; then the first ledger, told by its cursors that its commit did
// not happen, commits the same batches again. It must reconnect, re-read the chain head and the
// reason ids that the other writer moved, and record nothing twice.
TEST(PgLedger, AfterAnOutcomeUnknownTheHeadIsReadAgainAndNothingIsRecordedTwice) {
  const std::string dsn = pg_dsn("pg_ledger_unknown");
  PgLedger ledger(dsn, kHub);
  std::vector<LedgerBatch> first{ledger_batch("land", 1, 5)};
  ledger.commit(first, kNow);

  std::vector<LedgerBatch> second{ledger_batch("land", 6, 5), ledger_batch("police", 1, 3)};
  commit_with_outcome_unknown(dsn, ledger, second, kNow + 100);

  {
    PgLedger other(dsn, kHub);
    std::vector<LedgerBatch> theirs{ledger_batch("schools", 1, 4)};
    theirs[0].delivered[0].actions[0].reason = "a reason only the other writer knows";
    other.commit(theirs, kNow + 150);
  }

  // The dispatcher reads the cursors again (the contract): land is still at 5, police unknown.
  const auto cursors = ledger.load_cursors();
  ASSERT_EQ(cursors.at("land").seq, 5u);
  EXPECT_EQ(cursors.count("police"), 0u);
  std::vector<LedgerBatch> retry{ledger_batch("land", 6, 5), ledger_batch("police", 1, 3)};
  retry[1].delivered[0].actions[0].reason = "a new reason of the retry";
  ledger.commit(retry, kNow + 200);

  const auto after = ledger.load_cursors();
  EXPECT_EQ(after.at("land").delivered, 10u);
  EXPECT_EQ(after.at("police").delivered, 3u);
  EXPECT_EQ(after.at("schools").delivered, 4u);
  EXPECT_EQ(pg_column(dsn, "SELECT count(*) FROM ledger_delivery"), std::vector<std::string>{"17"});
  EXPECT_EQ(pg_column(dsn, "SELECT n FROM ledger_tally WHERE department = 'land' AND counter = 'deliveries'"),
            std::vector<std::string>{"10"});
  EXPECT_EQ(pg_column(dsn, "SELECT count(*) FROM ledger_reason WHERE text LIKE 'a %reason%'"),
            std::vector<std::string>{"2"});
  const auto chain = verify_pg_ledger_chain(dsn, kHub);
  EXPECT_TRUE(chain.ok) << chain.message;
  EXPECT_EQ(chain.records, 17);
}

// The other side of an unknown outcome: the commit did happen (simulated by another writer of
// the hub storing exactly those batches, with reasons of its own). The ledger, told so by its
// cursors, goes on with the next events, chained onto the stored head and reusing the reason
// ids that the database holds.
TEST(PgLedger, AnUnknownCommitThatHappenedIsContinuedFromWhatTheDatabaseHolds) {
  const std::string dsn = pg_dsn("pg_ledger_happened");
  PgLedger ledger(dsn, kHub);
  std::vector<LedgerBatch> first{ledger_batch("land", 1, 5)};
  ledger.commit(first, kNow);
  const auto second = [] {
    std::vector<LedgerBatch> b{ledger_batch("land", 6, 5), ledger_batch("police", 1, 3)};
    b[1].delivered[0].actions[0].reason = "a reason first seen in the unknown commit";
    return b;
  };
  std::vector<LedgerBatch> mine = second();
  commit_with_outcome_unknown(dsn, ledger, mine, kNow + 100);
  {
    PgLedger other(dsn, kHub);
    std::vector<LedgerBatch> same = second();
    other.commit(same, kNow + 100);
  }
  const auto cursors = ledger.load_cursors();
  ASSERT_EQ(cursors.at("land").seq, 10u);
  ASSERT_EQ(cursors.at("police").seq, 3u);
  std::vector<LedgerBatch> next{ledger_batch("land", 11, 3), ledger_batch("police", 4, 2)};
  next[1].delivered[0].actions[0].reason = "a reason first seen in the unknown commit";
  ledger.commit(next, kNow + 200);

  EXPECT_EQ(ledger.load_cursors().at("land").delivered, 13u);
  EXPECT_EQ(ledger.load_cursors().at("police").delivered, 5u);
  EXPECT_EQ(pg_column(dsn, "SELECT count(*) FROM ledger_reason WHERE text = 'a reason first seen in the unknown commit'"),
            std::vector<std::string>{"1"});
  const auto chain = verify_pg_ledger_chain(dsn, kHub);
  EXPECT_TRUE(chain.ok) << chain.message;
  EXPECT_EQ(chain.records, 18);
}

TEST(PgLedger, ALostConnectionIsUnavailableAndTheNextCommitReconnects) {
  const std::string dsn = pg_dsn("pg_ledger_lost");
  PgLedger ledger(dsn, kHub);
  std::vector<LedgerBatch> first{ledger_batch("land", 1, 2)};
  ledger.commit(first, kNow);
  Connection admin(dsn);
  admin.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
             "AND pid <> pg_backend_pid()");
  std::vector<LedgerBatch> second{ledger_batch("land", 3, 2)};
  try {
    ledger.commit(second, kNow + 1);
    FAIL() << "a commit on a terminated session succeeded";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.status().storage, StorageKind::kUnavailable) << e.what();
  }
  std::vector<LedgerBatch> retry{ledger_batch("land", 3, 2)};
  ledger.commit(retry, kNow + 2);
  EXPECT_EQ(ledger.load_cursors().at("land").delivered, 4u);
  const auto chain = verify_pg_ledger_chain(dsn, kHub);
  EXPECT_TRUE(chain.ok) << chain.message;
  EXPECT_EQ(chain.records, 4);
}

// Each tampering in its own hub of one database (which also shows that hubs keep apart): the
// verifier names the record, and the other hubs still verify.
TEST(PgLedger, ATamperedDeliveryIsNamedAndOtherHubsStillVerify) {
  const std::string dsn = pg_dsn("pg_ledger_tamper");
  struct Case {
    std::string hub, sql;
    std::int64_t named;
    std::string problem;
  };
  const std::string in = " WHERE hub_id = '%H' AND chain_seq = ";
  const std::vector<Case> cases{
      {"modified-household", "UPDATE ledger_delivery SET household_id = household_id || 'x'" + in + "7", 7, "modified"},
      {"modified-actions", "UPDATE ledger_delivery SET actions = replace(actions, '\"defer\"', '\"withhold\"')" + in + "12",
       12, "modified"},
      {"modified-time", "UPDATE ledger_delivery SET delivered_at_ms = delivered_at_ms + 1" + in + "30", 30, "modified"},
      {"modified-reason",
       "UPDATE ledger_reason SET text = text || '!' WHERE hub_id = '%H' AND id = (SELECT (actions::jsonb -> 1 ->> 3)::bigint "
       "FROM ledger_delivery" + in + "20)",
       20, "modified"},
      {"deleted", "DELETE FROM ledger_delivery" + in + "15", 15, ""},
      {"outside", "INSERT INTO ledger_delivery (hub_id, department, seq, household_id, event_id, delivered_at_ms, "
                  "plugin_version, actions) VALUES ('%H', 'finance', 77, 'V01-10077', 'ev-77', 1, '1.2.0', '[]')",
       0, "inserted"},
  };
  Connection admin(dsn);
  for (const Case& c : cases) {
    PgLedger ledger(dsn, c.hub);
    script(ledger);
    std::string sql = c.sql;
    for (std::size_t at; (at = sql.find("%H")) != std::string::npos;) sql.replace(at, 2, c.hub);
    ASSERT_EQ(admin.exec(sql).affected(), 1) << sql;
  }
  PgLedger untouched(dsn, "untouched");
  script(untouched);
  for (const Case& c : cases) {
    const auto result = verify_pg_ledger_chain(dsn, c.hub);
    EXPECT_FALSE(result.ok) << c.hub;
    EXPECT_EQ(result.first_bad_seq, c.named) << c.hub << ": " << result.message;
    if (!c.problem.empty()) {
      EXPECT_EQ(result.problem, c.problem) << c.hub << ": " << result.message;
    }
  }
  const auto outside = verify_pg_ledger_chain(dsn, "outside");
  EXPECT_EQ(outside.first_bad_subject, "finance:77");
  EXPECT_NE(outside.message.find("finance:77"), std::string::npos) << outside.message;
  const auto clean = verify_pg_ledger_chain(dsn, "untouched");
  EXPECT_TRUE(clean.ok) << clean.message;
  EXPECT_EQ(clean.records, 41);
}

TEST(PgLedger, TwoHubsOnOneDatabaseKeepApart) {
  const std::string dsn = pg_dsn("pg_ledger_hubs");
  PgLedger a(dsn, "town-a");
  PgLedger b(dsn, "town-b");
  std::vector<LedgerBatch> for_a{ledger_batch("land", 1, 5)};
  for_a[0].parked.push_back(ParkedRecord{6, "V01-10006", "ev-6", "boom", 5, 0, ""});
  for_a[0].new_cursor = 6;
  a.commit(for_a, kNow);
  std::vector<LedgerBatch> for_b{ledger_batch("land", 1, 3)};  // the same department and seqs
  for_b[0].delivered[0].actions[0].reason = "town-b's own first reason";
  b.commit(for_b, kNow + 1);
  a.record_disabled("land", "ann", "", kNow + 2);

  EXPECT_EQ(a.load_cursors().at("land").seq, 6u);
  EXPECT_EQ(b.load_cursors().at("land").seq, 3u);
  EXPECT_EQ(a.load_parked().size(), 1u);
  EXPECT_TRUE(b.load_parked().empty());
  ParkedQuery all;
  all.all = true;
  EXPECT_TRUE(b.list_parked(all)["parked"].empty());
  EXPECT_TRUE(a.load_plugin_states().at("land").disabled);
  EXPECT_TRUE(b.load_plugin_states().empty());
  // Reason ids are per hub: both start at 1.
  EXPECT_EQ(pg_column(dsn, "SELECT hub_id || ' ' || text FROM ledger_reason WHERE id = 1 ORDER BY hub_id"),
            (std::vector<std::string>{"town-a 暂缓 / deferred", "town-b town-b's own first reason"}));
  const auto chain_a = verify_pg_ledger_chain(dsn, "town-a");
  const auto chain_b = verify_pg_ledger_chain(dsn, "town-b");
  EXPECT_TRUE(chain_a.ok) << chain_a.message;
  EXPECT_TRUE(chain_b.ok) << chain_b.message;
  EXPECT_EQ(chain_a.records, 5);
  EXPECT_EQ(chain_b.records, 3);
  // Reopened, each continues its own chain.
  PgLedger again(dsn, "town-b");
  std::vector<LedgerBatch> more{ledger_batch("land", 4, 2)};
  again.commit(more, kNow + 3);
  EXPECT_EQ(verify_pg_ledger_chain(dsn, "town-b").records, 5);
  EXPECT_EQ(verify_pg_ledger_chain(dsn, "town-a").records, 5);
  EXPECT_TRUE(verify_pg_ledger_chain(dsn, "town-a").ok);
}

TEST(PgLedger, AnUnreachableDatabaseIsUnavailableAndUnreadable) {
  EXPECT_THROW(PgLedger("host=127.0.0.1 port=1 user=hubtest dbname=x connect_timeout=2", kHub), StorageError);
  const auto result = verify_pg_ledger_chain("host=127.0.0.1 port=1 user=hubtest dbname=x connect_timeout=2", kHub);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.problem, "unreadable");
}

// Run by hand: hub_postgresql_tests --gtest_also_run_disabled_tests --gtest_filter='*Benchmark*'
// (HUB_LEDGER_BENCH_COMMITS sets the number of commits, 100 by default).
TEST(PgLedger, DISABLED_Benchmark) {
  const char* env = std::getenv("HUB_LEDGER_BENCH_COMMITS");
  const int commits = env != nullptr ? std::atoi(env) : 100;
  const std::vector<std::string> departments{"schools", "police", "land", "finance", "civil_affairs",
                                             "agriculture", "judicial", "urban_construction", "fp_association"};
  const auto run = [&](Ledger& ledger) {
    double slowest = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int c = 0; c < commits; ++c) {
      std::vector<LedgerBatch> batches;
      for (const auto& d : departments) batches.push_back(ledger_batch(d, 1 + static_cast<std::uint64_t>(c) * 1000, 1000));
      const auto t = std::chrono::steady_clock::now();
      ledger.commit(batches, kNow + c);
      slowest = std::max(slowest, std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
    }
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return std::make_pair(total, slowest);
  };
  TempDir dir;
  SqliteLedger sqlite(dir.file("ledger.db"));
  const auto s = run(sqlite);
  PgLedger pg(pg_dsn("pg_ledger_bench"), kHub);
  const auto p = run(pg);
  std::cout << commits << " commits of 9 departments x 1000 deliveries (batch building included):\n"
            << "  SQLite:     " << s.first << " s total, " << s.first / commits * 1000 << " ms/commit, slowest "
            << s.second * 1000 << " ms\n"
            << "  PostgreSQL: " << p.first << " s total, " << p.first / commits * 1000 << " ms/commit, slowest "
            << p.second * 1000 << " ms\n";
}

}  // namespace
}  // namespace hub::store::pg

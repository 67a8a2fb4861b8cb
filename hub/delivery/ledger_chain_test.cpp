// The audit chain inside ledger.db (ledger.h, version 6): every delivery row (one event's
// policy actions for one department) is a chain record written in the dispatcher's commit, in
// the documented format; for many random trials one row (or the reason text it refers to) is
// modified, deleted, inserted or swapped directly in the SQLite file and verification must
// name exactly that record; a version 5 ledger is chained once when it is upgraded.
#include <filesystem>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "delivery/ledger.h"
#include "store/sqlite/chain_keeper.h"
#include "store/sqlite/database.h"
#include "store/sqlite/sqlite_ledger.h"
#include "testing/chain_tamper.h"
#include "testing/ledger_batches.h"
#include "testing/temp_dir.h"

namespace hub::delivery {
namespace {

namespace fs = std::filesystem;
using hub::testing::TempDir;

constexpr std::int64_t kNow = 1'600'000'000'000;

LedgerBatch batch(const std::string& department, std::uint64_t first_seq, std::size_t events) {
  return hub::testing::ledger_batch(department, first_seq, events);
}

// 40 deliveries of three departments in three commits, with a failure and a parked event
// in between (not chained).
constexpr std::int64_t kRecords = 40;
void make_ledger(const std::string& path) {
  store::SqliteLedger ledger(path);
  std::vector<LedgerBatch> first{batch("land", 1, 10), batch("finance", 1, 5)};
  ledger.commit(first, kNow);
  std::vector<LedgerBatch> second{batch("finance", 6, 10)};
  second[0].failures.push_back({16, 1, "timeout"});
  ledger.commit(second, kNow + 100);
  std::vector<LedgerBatch> third{batch("schools", 1, 8), batch("land", 11, 7)};
  third[1].parked.push_back(ParkedRecord{18, "V01-10018", "ev-18", "broken", 5, 0, ""});
  third[1].new_cursor = 18;
  ledger.commit(third, kNow + 200);
}

hub::testing::ChainTable delivery_table() {
  hub::testing::ChainTable t;
  t.table = "delivery";
  t.seq_column = "chain_seq";
  t.records = kRecords;
  const std::string w = " WHERE chain_seq = %K%";
  t.modifications = {
      "UPDATE delivery SET actions = replace(actions, '\"defer\"', '\"withhold\"')" + w,
      "UPDATE delivery SET actions = replace(actions, ',60', ',90')" + w,
      "UPDATE delivery SET household_id = household_id || 'x'" + w,
      "UPDATE delivery SET event_id = event_id || 'x'" + w,
      "UPDATE delivery SET plugin_version = '9.9.9'" + w,
      "UPDATE delivery SET handoff = handoff || 'x'" + w,
      "UPDATE delivery SET handoff_detail = handoff_detail || 'x'" + w,
      "UPDATE delivery SET delivered_at_ms = delivered_at_ms + 1" + w,
      "UPDATE delivery SET seq = seq + 100000" + w,
      "UPDATE delivery SET department = department || 'x'" + w,
      "UPDATE delivery SET hash = zeroblob(32)" + w,
      "UPDATE delivery SET prev_hash = randomblob(32)" + w,
      "UPDATE delivery SET hash = NULL" + w,
      // The reason text of the record's own action (reasons are stored once, by id).
      "UPDATE reason SET text = text || '!' WHERE id = (SELECT actions ->> '$[1][3]' FROM delivery" + w + ")",
  };
  t.insert_chained = [](store::Database& db, std::int64_t seq, const audit::Hash& previous) {
    // Computed by hand from the format in ledger.h, not with the hub's writer.
    const std::string actions = R"([["finance.a","release",999900,1]])";
    store::Statement reason(db, "SELECT text FROM reason WHERE id = 1");
    if (!reason.step()) throw std::runtime_error("no reason 1");
    audit::RowDetail detail;
    detail.text("V01-19999").text("ev-forged").text("1.2.0").text(actions).text("none").text("").text(reason.column_text(0));
    const std::string subject = "finance:" + std::to_string(90000 + seq);
    const auto hash = audit::record_hash(previous, seq, kNow + 150, {"policy_action", "finance", subject, detail.bytes()});
    db.exec(("INSERT INTO delivery (department, seq, household_id, event_id, delivered_at_ms, plugin_version, actions, "
             "handoff, handoff_detail, chain_seq, prev_hash, hash) VALUES ('finance', " + std::to_string(90000 + seq) +
             ", 'V01-19999', 'ev-forged', " + std::to_string(kNow + 150) + ", '1.2.0', '" + actions + "', 'none', '', " +
             std::to_string(seq) + ", " + hub::testing::blob_literal(previous) + ", " + hub::testing::blob_literal(hash) +
             ")").c_str());
  };
  return t;
}

std::string blob_hex(const std::string& path, const std::string& query) {
  store::Database db(path, store::Database::Mode::kReadOnly);
  store::Statement q(db, query.c_str());
  EXPECT_TRUE(q.step()) << query;
  return audit::blob_to_hex(q.column_blob(0));
}

std::int64_t integer(const std::string& path, const std::string& query) {
  store::Database db(path, store::Database::Mode::kReadOnly);
  store::Statement q(db, query.c_str());
  EXPECT_TRUE(q.step()) << query;
  return q.column_int(0);
}

void settle(const std::string& path) {
  store::Database db(path, store::Database::Mode::kReadWrite);
  db.exec("PRAGMA journal_mode=DELETE");
}

TEST(LedgerChain, EveryDeliveryIsChainedInCommitOrderAndTheChainSurvivesReopening) {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  make_ledger(path);
  auto result = store::verify_ledger_chain(path);
  ASSERT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, kRecords);
  EXPECT_EQ(result.head_hash_hex, blob_hex(path, "SELECT hash FROM chain_head WHERE id = 1"));
  // Commit order: by department within a commit, then event seq.
  EXPECT_EQ(integer(path, "SELECT chain_seq FROM delivery WHERE department = 'finance' AND seq = 1"), 1);
  EXPECT_EQ(integer(path, "SELECT chain_seq FROM delivery WHERE department = 'land' AND seq = 1"), 6);
  EXPECT_EQ(integer(path, "SELECT chain_seq FROM delivery WHERE department = 'finance' AND seq = 6"), 16);
  EXPECT_EQ(integer(path, "SELECT chain_seq FROM delivery WHERE department = 'land' AND seq = 17"), 32);
  EXPECT_EQ(integer(path, "SELECT chain_seq FROM delivery WHERE department = 'schools' AND seq = 8"), 40);
  {
    store::SqliteLedger reopened(path);
    std::vector<LedgerBatch> more{batch("police", 1, 3)};
    reopened.commit(more, kNow + 1000);
    std::vector<LedgerBatch> no_delivery(1);  // a cursor moved past a failure only: nothing chained
    no_delivery[0].department = "police";
    no_delivery[0].new_cursor = 4;
    no_delivery[0].failures.push_back({4, 1, "x"});
    reopened.commit(no_delivery, kNow + 1001);
  }
  result = store::verify_ledger_chain(path);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, kRecords + 3);
}

TEST(LedgerChain, TheRecordIsTheDocumentedOne) {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  {
    store::SqliteLedger ledger(path);
    std::vector<LedgerBatch> b{batch("land", 3, 1)};
    ledger.commit(b, kNow + 9);
  }
  store::Database db(path, store::Database::Mode::kReadOnly);
  store::Statement q(db, "SELECT actions FROM delivery");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.column_text(0), R"([["land.a","defer",null,1],["land.b","apply",6003,2]])");
  audit::RowDetail detail;
  detail.text("V01-10003").text("ev-3").text("1.2.0").text(q.column_text(0)).text("spool").text("land-3.jsonl")
      .text("暂缓 / deferred").text("land seq 3 \"quoted\"");
  const auto expected = audit::record_hash({}, 1, kNow + 9, {"policy_action", "land", "land:3", detail.bytes()});
  EXPECT_EQ(blob_hex(path, "SELECT hash FROM delivery"), audit::to_hex(expected.data(), 32));
  EXPECT_EQ(blob_hex(path, "SELECT prev_hash FROM delivery"), std::string(64, '0'));
  EXPECT_EQ(integer(path, "SELECT chain_seq FROM delivery"), 1);
}

TEST(LedgerChain, EveryRandomTamperingIsFoundAtExactlyThatRecord) {
  TempDir dir;
  const std::string pristine = dir.file("pristine.db");
  make_ledger(pristine);
  settle(pristine);
  ASSERT_TRUE(store::verify_ledger_chain(pristine).ok);
  const auto table = delivery_table();
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  std::map<std::string, int> kinds;
  for (int trial = 0; trial < 300; ++trial) {
    const std::string path = dir.file("trial-" + std::to_string(trial) + ".db");
    fs::copy_file(pristine, path);
    const auto t = hub::testing::tamper(path, table, rng);
    ++kinds[t.what.substr(0, t.what.find_first_of(" :"))];
    const auto result = store::verify_ledger_chain(path);
    ASSERT_FALSE(result.ok) << "seed " << seed << " trial " << trial << ": " << t.what << " was not found";
    ASSERT_EQ(result.first_bad_seq, t.named) << "seed " << seed << " trial " << trial << ": " << t.what << " → "
                                             << result.message;
    fs::remove(path);
  }
  for (const char* kind : {"modify", "delete", "insert", "append", "swap"}) EXPECT_GT(kinds[kind], 0) << kind;
}

TEST(LedgerChain, ADeliveryOutsideTheChainIsNamedByItsSubject) {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  make_ledger(path);
  {
    store::Database db(path, store::Database::Mode::kReadWrite);
    db.exec("INSERT INTO delivery (department, seq, household_id, event_id, delivered_at_ms, plugin_version, actions) "
            "VALUES ('finance', 77, 'V01-10077', 'ev-77', 1, '1.2.0', '[]')");
  }
  const auto result = store::verify_ledger_chain(path);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.problem, "inserted");
  EXPECT_EQ(result.first_bad_seq, 0);
  EXPECT_EQ(result.first_bad_subject, "finance:77");
  EXPECT_NE(result.message.find("finance:77"), std::string::npos) << result.message;
}

TEST(LedgerChain, AFailedCommitLeavesTheChainWhereItWas) {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  store::SqliteLedger ledger(path);
  std::vector<LedgerBatch> b1{batch("land", 1, 2)};
  ledger.commit(b1, kNow);
  {
    store::Database other(path, store::Database::Mode::kReadWrite);
    other.exec("PRAGMA busy_timeout=0");
    other.exec("BEGIN IMMEDIATE");
    std::vector<LedgerBatch> b2{batch("land", 3, 2)};
    EXPECT_THROW(ledger.commit(b2, kNow + 1), StorageError);
    other.exec("ROLLBACK");
  }
  std::vector<LedgerBatch> b3{batch("land", 3, 3)};
  ledger.commit(b3, kNow + 2);
  const auto result = store::verify_ledger_chain(path);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, 5);
}

// A version 5 ledger.db as hubd wrote it before the chain: upgraded in place, its deliveries
// chained once in key order (department, seq), everything else kept; new
// deliveries continue the chain.
TEST(LedgerChain, AVersion5LedgerIsUpgradedAndChainedOnce) {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  make_ledger(path);
  {
    store::Database db(path, store::Database::Mode::kReadWrite);
    db.exec("ALTER TABLE delivery DROP COLUMN chain_seq; ALTER TABLE delivery DROP COLUMN "
            "prev_hash; ALTER TABLE delivery DROP COLUMN hash; DROP TABLE chain_head; PRAGMA user_version = 5;");
  }
  EXPECT_EQ(store::verify_ledger_chain(path).problem, "unchained");
  {
    store::SqliteLedger upgraded(path);
    EXPECT_EQ(upgraded.load_cursors()["land"].seq, 18u);
    EXPECT_EQ(upgraded.load_parked().size(), 1u);
  }
  EXPECT_EQ(integer(path, "PRAGMA user_version"), 9);
  auto result = store::verify_ledger_chain(path);
  ASSERT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, kRecords);
  EXPECT_EQ(integer(path, "SELECT chain_seq FROM delivery WHERE department = 'finance' AND seq = 1"), 1);
  EXPECT_EQ(integer(path, "SELECT chain_seq FROM delivery WHERE department = 'land' AND seq = 1"), 16);
  EXPECT_EQ(integer(path, "SELECT chain_seq FROM delivery WHERE department = 'schools' AND seq = 8"), 40);
  {
    store::SqliteLedger again(path);
    std::vector<LedgerBatch> more{batch("police", 1, 2)};
    again.commit(more, kNow + 1000);
  }
  result = store::verify_ledger_chain(path);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, kRecords + 2);
}

}  // namespace
}  // namespace hub::delivery

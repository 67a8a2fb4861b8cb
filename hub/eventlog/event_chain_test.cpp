// The audit chain inside events.db (event_log.h): every accepted event is a chain record
// written in the same transaction, in the documented format; for many random trials one event
// row is modified, deleted, inserted or swapped directly in the SQLite file and verification
// must name exactly that event; an events.db from before the chain is chained once at open.
#include <filesystem>
#include <map>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "eventlog/event_log.h"
#include "store/sqlite/chain_keeper.h"
#include "store/sqlite/database.h"
#include "store/sqlite/sqlite_event_store.h"
#include "testing/chain_tamper.h"
#include "testing/temp_dir.h"
#include "testing/wire_events.h"

namespace hub {
namespace {

namespace fs = std::filesystem;
using hub::testing::TempDir;
using nlohmann::json;

constexpr std::int64_t kNow = 1'600'000'000'000;

WireEvent make(const json& j) { return hub::testing::make_event(j); }

WireEvent reg(int n) {
  return make({{"type", "household"}, {"event_id", "reg-" + std::to_string(n)}, {"household_id", "V01-" + std::to_string(10000 + n)},
               {"village", "V01"}, {"head", "户主" + std::to_string(n)}, {"members", 3}});
}
WireEvent letter(int n) {
  return make({{"type", "commitment"}, {"event_id", "com-" + std::to_string(n)}, {"household_id", "V01-" + std::to_string(10000 + n)},
               {"signed_on", "2020-04-15"}});
}
WireEvent status(int n, const std::string& st, const std::string& quarter, const std::string& suffix = "") {
  json j{{"type", "status_change"}, {"event_id", "ev-" + quarter + "-" + std::to_string(n) + suffix},
         {"household_id", "V01-" + std::to_string(10000 + n)}, {"status", st}, {"quarter", quarter},
         {"basis", "评议依据 " + std::to_string(n)}};
  if (n % 4 == 0) j["designations"] = json::array({"assistance"});
  return make(j);
}

void stage_ok(EventLog& log, const std::vector<WireEvent>& events, const std::string& publisher) {
  const StageResult r = log.stage(events, false, publisher);
  ASSERT_TRUE(r.ok()) << r.errors.front().error.message;
}

// 40 events in five group commits by two publishers: households, commitments, evaluations
// and corrections (so that every kind of row, with and without NULL columns, is chained).
constexpr std::int64_t kEvents = 40;
void make_log(const std::string& path, const std::string& publisher_a = "fp-office", const std::string& publisher_b = "fp-office-2") {
  EventLog log(std::make_unique<store::SqliteEventStore>(path));
  std::vector<WireEvent> regs, letters, q3, q4, fixes;
  for (int n = 1; n <= 10; ++n) {
    regs.push_back(reg(n));
    letters.push_back(letter(n));
    q3.push_back(status(n, n % 3 ? "credit" : "non_credit", "2020Q3"));
    q4.push_back(status(n, n % 5 ? "credit" : "breach", "2020Q4"));
  }
  stage_ok(log, regs, publisher_a);
  log.commit_group(kNow);
  stage_ok(log, letters, publisher_b);
  stage_ok(log, q3, publisher_a);  // two requests, one group
  log.commit_group(kNow + 100);
  stage_ok(log, {q4.begin(), q4.begin() + 5}, publisher_a);
  log.commit_group(kNow + 200);
  stage_ok(log, {q4.begin() + 5, q4.end()}, publisher_b);
  log.commit_group(kNow + 300);
  ASSERT_EQ(log.last_seq(), static_cast<std::uint64_t>(kEvents));
}

// The table the tamper trials work on, and the forged event they insert.
hub::testing::ChainTable event_table() {
  hub::testing::ChainTable t;
  t.table = "event";
  t.seq_column = "seq";
  t.records = kEvents;
  const std::string w = " WHERE seq = %K%";
  t.modifications = {
      "UPDATE event SET status = COALESCE(status, 'credit') || '_'" + w,
      "UPDATE event SET previous_status = COALESCE(previous_status, 'credit') || '_'" + w,
      "UPDATE event SET body = body || ' '" + w,
      "UPDATE event SET received_at_ms = received_at_ms + 1" + w,
      "UPDATE event SET publisher = publisher || '?'" + w,
      "UPDATE event SET event_id = event_id || '-x'" + w,
      "UPDATE event SET household_id = 'V09-99999'" + w,
      "UPDATE event SET village = village || 'x'" + w,
      "UPDATE event SET type = type || 's'" + w,
      "UPDATE event SET quarter = COALESCE(quarter, '2020Q1') || 'x'" + w,
      "UPDATE event SET designations = COALESCE(designations, '') || ' '" + w,
      "UPDATE event SET correction = 1 - correction" + w,
      "UPDATE event SET digest = digest || '0'" + w,
      "UPDATE event SET hash = zeroblob(32)" + w,
      "UPDATE event SET prev_hash = randomblob(32)" + w,
      "UPDATE event SET hash = NULL" + w,
  };
  t.insert_chained = [](store::Database& db, std::int64_t seq, const audit::Hash& previous) {
    // Computed by hand from the format in event_log.h, not with the hub's writer.
    const std::string id = "ev-forged-" + std::to_string(seq), body = R"({"forged":true})";
    audit::RowDetail detail;
    detail.text("status_change").text("V01-10001").text("V01").text("breach").text("credit").text("2020Q4")
        .text("2020Q3").text("2020-12-31").text("[]").integer(0).text("d1g3st").text(body);
    const auto hash = audit::record_hash(previous, seq, kNow + 150, {"event_accepted", "fp-office", id, detail.bytes()});
    db.exec(("INSERT INTO event (seq, event_id, type, household_id, village, status, previous_status, quarter, "
             "previous_quarter, effective_date, designations, correction, received_at_ms, digest, body, publisher, "
             "prev_hash, hash) VALUES (" + std::to_string(seq) + ", '" + id + "', 'status_change', 'V01-10001', 'V01', "
             "'breach', 'credit', '2020Q4', '2020Q3', '2020-12-31', '[]', 0, " + std::to_string(kNow + 150) +
             ", 'd1g3st', '" + body + "', 'fp-office', " + hub::testing::blob_literal(previous) + ", " +
             hub::testing::blob_literal(hash) + ")").c_str());
  };
  return t;
}

std::string blob_hex(const std::string& path, const std::string& query) {
  store::Database db(path, store::Database::Mode::kReadOnly);
  store::Statement q(db, query.c_str());
  EXPECT_TRUE(q.step()) << query;
  return audit::blob_to_hex(q.column_blob(0));
}

// As a file to copy: one file, no WAL beside it.
void settle(const std::string& path) {
  store::Database db(path, store::Database::Mode::kReadWrite);
  db.exec("PRAGMA journal_mode=DELETE");
}

TEST(EventChain, EveryAcceptedEventIsChainedAndTheChainSurvivesReopening) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  make_log(path);
  auto result = store::verify_event_chain(path);
  ASSERT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, kEvents);
  EXPECT_EQ(result.head_hash_hex, blob_hex(path, "SELECT hash FROM event WHERE seq = 40"));
  EXPECT_EQ(result.head_hash_hex, blob_hex(path, "SELECT hash FROM chain_head WHERE id = 1"));
  {
    EventLog reopened(std::make_unique<store::SqliteEventStore>(path));
    stage_ok(reopened, {status(1, "breach", "2020Q4", "-fix")}, "fp-office");
    reopened.commit_group(kNow + 1000);
  }
  result = store::verify_event_chain(path);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, kEvents + 1);
}

TEST(EventChain, TheRecordIsTheDocumentedOne) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  {
    EventLog log(std::make_unique<store::SqliteEventStore>(path));
    stage_ok(log, {reg(1)}, "fp-office");
    log.commit_group(kNow);
    stage_ok(log, {status(1, "breach", "2020Q4")}, "fp-office-2");
    log.commit_group(kNow + 7);
  }
  // Rebuilt by hand from the stored row and event_log.h's list of columns.
  store::Database db(path, store::Database::Mode::kReadOnly);
  store::Statement q(db, "SELECT body, digest, designations, effective_date FROM event WHERE seq = 2");
  ASSERT_TRUE(q.step());
  audit::RowDetail detail;
  detail.text("status_change").text("V01-10001").text("V01").text("breach").text("unevaluated").text("2020Q4").text("")
      .text(q.column_text(3)).text(q.column_text(2)).integer(0).text(q.column_text(1)).text(q.column_text(0));
  const auto h1 = audit::from_hex(blob_hex(path, "SELECT hash FROM event WHERE seq = 1"), 32);
  ASSERT_TRUE(h1);
  audit::Hash previous{};
  std::copy(h1->begin(), h1->end(), previous.begin());
  const auto expected = audit::record_hash(previous, 2, kNow + 7, {"event_accepted", "fp-office-2", "ev-2020Q4-1", detail.bytes()});
  EXPECT_EQ(blob_hex(path, "SELECT hash FROM event WHERE seq = 2"), audit::to_hex(expected.data(), 32));
  EXPECT_EQ(blob_hex(path, "SELECT prev_hash FROM event WHERE seq = 2"), audit::to_hex(previous.data(), 32));
  EXPECT_EQ(blob_hex(path, "SELECT prev_hash FROM event WHERE seq = 1"), std::string(64, '0'));
  // A household event: the status columns are NULL, and encoded as NULL.
  audit::RowDetail household;
  household.text("household").text("V01-10001").text("V01");
  for (int i = 0; i < 6; ++i) household.null();
  store::Statement r(db, "SELECT body, digest FROM event WHERE seq = 1");
  ASSERT_TRUE(r.step());
  household.integer(0).text(r.column_text(1)).text(r.column_text(0));
  const auto first = audit::record_hash({}, 1, kNow, {"event_accepted", "fp-office", "reg-1", household.bytes()});
  EXPECT_EQ(blob_hex(path, "SELECT hash FROM event WHERE seq = 1"), audit::to_hex(first.data(), 32));
}

TEST(EventChain, EveryRandomTamperingIsFoundAtExactlyThatEvent) {
  TempDir dir;
  const std::string pristine = dir.file("pristine.db");
  make_log(pristine);
  settle(pristine);
  ASSERT_TRUE(store::verify_event_chain(pristine).ok);
  const auto table = event_table();
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  std::map<std::string, int> kinds;
  for (int trial = 0; trial < 300; ++trial) {
    const std::string path = dir.file("trial-" + std::to_string(trial) + ".db");
    fs::copy_file(pristine, path);
    const auto t = hub::testing::tamper(path, table, rng);
    ++kinds[t.what.substr(0, t.what.find_first_of(" :"))];
    const auto result = store::verify_event_chain(path);
    ASSERT_FALSE(result.ok) << "seed " << seed << " trial " << trial << ": " << t.what << " was not found";
    ASSERT_EQ(result.first_bad_seq, t.named) << "seed " << seed << " trial " << trial << ": " << t.what << " → "
                                             << result.message;
    fs::remove(path);
  }
  for (const char* kind : {"modify", "delete", "insert", "append", "swap"}) EXPECT_GT(kinds[kind], 0) << kind;
}

TEST(EventChain, AnEventOutsideTheChainIsNamed) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  make_log(path);
  {
    store::Database db(path, store::Database::Mode::kReadWrite);
    db.exec("INSERT INTO event (seq, event_id, type, household_id, village, received_at_ms, digest, body) "
            "VALUES (41, 'ev-raw', 'household', 'V01-99999', 'V01', 1, 'x', '{}')");
  }
  const auto result = store::verify_event_chain(path);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.first_bad_seq, 41);
  EXPECT_EQ(result.first_bad_subject, "ev-raw");
  EXPECT_EQ(result.problem, "inserted");
  EXPECT_NE(result.message.find("ev-raw"), std::string::npos) << result.message;
}

// An events.db written before the chain (user_version 0, no chain columns): chained once when
// EventLog opens it, to exactly the chain the hub would have written (publisher ""), and new
// events continue it.
TEST(EventChain, AnEventLogFromBeforeTheChainIsChainedOnceAtOpen) {
  TempDir dir;
  const std::string path = dir.file("events.db"), reference = dir.file("reference.db");
  make_log(path, "", "");
  make_log(reference, "", "");
  {
    store::Database db(path, store::Database::Mode::kReadWrite);
    db.exec("ALTER TABLE event DROP COLUMN publisher; ALTER TABLE event DROP COLUMN prev_hash; "
            "ALTER TABLE event DROP COLUMN hash; DROP TABLE chain_head; PRAGMA user_version = 0;");
  }
  auto result = store::verify_event_chain(path);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.problem, "unchained");
  {
    EventLog upgraded(std::make_unique<store::SqliteEventStore>(path));
    EXPECT_EQ(upgraded.chained_at_open(), static_cast<std::uint64_t>(kEvents));
    EXPECT_EQ(upgraded.last_seq(), static_cast<std::uint64_t>(kEvents));
  }
  result = store::verify_event_chain(path);
  ASSERT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, kEvents);
  EXPECT_EQ(result.head_hash_hex, store::verify_event_chain(reference).head_hash_hex) << "deterministic";
  // The file as it was before the upgrade is kept beside it (docs/operations.md).
  EXPECT_EQ(store::verify_event_chain(path + ".before-v3").problem, "unchained");
  {
    EventLog again(std::make_unique<store::SqliteEventStore>(path));
    EXPECT_EQ(again.chained_at_open(), 0u) << "chained once";
    stage_ok(again, {status(2, "breach", "2020Q4", "-fix")}, "fp-office");
    again.commit_group(kNow + 5000);
  }
  result = store::verify_event_chain(path);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, kEvents + 1);
  store::Database db(path, store::Database::Mode::kReadOnly);
  store::Statement q(db, "PRAGMA user_version");
  q.step();
  EXPECT_EQ(q.column_int(0), 3);
}

TEST(EventChain, AFailedCommitLeavesTheChainWhereItWas) {
  TempDir dir;
  const std::string path = dir.file("events.db");
  EventLog log(std::make_unique<store::SqliteEventStore>(path));
  stage_ok(log, {reg(1), reg(2)}, "fp-office");
  log.commit_group(kNow);
  {
    store::Database other(path, store::Database::Mode::kReadWrite);
    other.exec("PRAGMA busy_timeout=0");
    other.exec("BEGIN IMMEDIATE");
    stage_ok(log, {reg(3)}, "fp-office");
    EXPECT_THROW(log.commit_group(kNow + 1), StorageError);
    other.exec("ROLLBACK");
  }
  stage_ok(log, {reg(3), reg(4)}, "fp-office");
  log.commit_group(kNow + 2);
  const auto result = store::verify_event_chain(path);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, 4);
}

TEST(EventChain, AnEventLogNewerThanThisHubdIsRefused) {
  TempDir dir;
  { EventLog log(std::make_unique<store::SqliteEventStore>(dir.file("events.db"))); }
  {
    store::Database db(dir.file("events.db"), store::Database::Mode::kReadWrite);
    db.exec("PRAGMA user_version = 4");
  }
  EXPECT_THROW(store::SqliteEventStore(dir.file("events.db")), StorageError);
}

}  // namespace
}  // namespace hub

// The event log on PostgreSQL against a real server (testing/postgres_server.h). The EventLog
// behaviour tests run on both backends, SQLite and PostgreSQL, with the same bodies (a backend
// per test parameter): seqs across commits and reopens, duplicates and conflicts, households'
// state, the reader, the chain across reopening. Then what only PostgreSQL has: the same events
// give the same chain head as SQLite, the verifier names a tampered or deleted row, a commit
// whose answer is lost (rolled back, or committed) leaves nothing lost and nothing twice, a lost
// connection is opened again, two hubs on one database keep apart, a group of 1,000 events is
// one statement per table (not one per row), and a rough timing of both backends.
#include "store/postgresql/pg_event_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "eventlog/event_log.h"
#include "store/sqlite/chain_keeper.h"
#include "store/sqlite/sqlite_event_store.h"
#include "testing/postgres_server.h"
#include "testing/temp_dir.h"
#include "testing/wire_events.h"

namespace hub::store::pg {
namespace {

using hub::testing::PostgresServer;
using hub::testing::TempDir;
using nlohmann::json;

constexpr std::int64_t kNow = 1'600'000'000'000;

WireEvent make(const json& j) { return hub::testing::make_event(j); }

WireEvent reg(const std::string& household, const std::string& village = "V01", const std::string& id = "") {
  json j{{"type", "household"}, {"event_id", id.empty() ? "reg-" + household : id}, {"household_id", household},
         {"village", village}};
  if (household.back() % 2 == 0) {  // some with a head and members, some without (NULL)
    j["head"] = "户主 \"" + household + "\" \\";
    j["members"] = 4;
  }
  return make(j);
}

WireEvent letter(const std::string& household, const std::string& signed_on = "2020-04-15") {
  return make({{"type", "commitment"}, {"event_id", "com-" + household}, {"household_id", household},
               {"signed_on", signed_on}});
}

WireEvent status(const std::string& household, const std::string& st, const std::string& quarter,
                 const std::string& id = "") {
  json j{{"type", "status_change"}, {"event_id", id.empty() ? "ev-" + quarter + "-" + household + "-" + st : id},
         {"household_id", household}, {"status", st}, {"quarter", quarter}, {"basis", "评议 {会议} \"纪要\""}};
  if (household.back() % 3 == 0) j["designations"] = json::array({"assistance"});
  return make(j);
}

std::vector<std::uint64_t> stage_ok(EventLog& log, const std::vector<WireEvent>& events,
                                    const std::string& publisher = "fp-office") {
  const StageResult r = log.stage(events, false, publisher);
  std::vector<std::uint64_t> seqs;
  for (const auto& e : r.errors)
    ADD_FAILURE() << "event " << e.index << ": " << e.error.code << " (" << e.error.field << ") " << e.error.message;
  for (const auto& item : r.results) seqs.push_back(item.seq);
  return seqs;
}

std::string fresh_dsn(const std::string& prefix) {
  PostgresServer& server = PostgresServer::shared();
  return server.dsn(server.fresh_database(prefix));
}

// ---- the same tests on both backends ------------------------------------------------------

// A place for one test's event log, and how to open it.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::unique_ptr<EventStore> open() = 0;
  virtual std::unique_ptr<EventReader> reader() = 0;
  virtual audit::VerifyResult verify() = 0;
};

class SqliteBackend final : public Backend {
 public:
  std::unique_ptr<EventStore> open() override { return std::make_unique<SqliteEventStore>(path_); }
  std::unique_ptr<EventReader> reader() override { return sqlite_event_reader_opener(path_)(); }
  audit::VerifyResult verify() override { return verify_event_chain(path_); }
  const std::string& path() const { return path_; }

 private:
  TempDir dir_;
  std::string path_ = dir_.file("events.db");
};

class PgBackend final : public Backend {
 public:
  explicit PgBackend(std::string dsn, std::string hub_id = "town-a") : dsn_(std::move(dsn)), hub_id_(std::move(hub_id)) {}
  std::unique_ptr<EventStore> open() override { return std::make_unique<PgEventStore>(dsn_, hub_id_); }
  std::unique_ptr<EventReader> reader() override { return pg_event_reader_opener(dsn_, hub_id_)(); }
  audit::VerifyResult verify() override { return verify_pg_event_chain(dsn_, hub_id_); }
  const std::string& dsn() const { return dsn_; }

 private:
  std::string dsn_, hub_id_;
};

class OnBothBackends : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite")
      backend_ = std::make_unique<SqliteBackend>();
    else
      backend_ = std::make_unique<PgBackend>(fresh_dsn("pg_events"));
  }
  std::unique_ptr<EventLog> open_log() { return std::make_unique<EventLog>(backend_->open()); }
  std::unique_ptr<Backend> backend_;
};

TEST_P(OnBothBackends, SeqsAreContiguousAcrossCommitsAndReopensAndReadBackInOrder) {
  {
    auto log = open_log();
    EXPECT_EQ(log->last_seq(), 0u);
    log->commit_group(kNow);  // an empty group is a no-op
    EXPECT_EQ(stage_ok(*log, {reg("V01-00001")}), (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(stage_ok(*log, {reg("V01-00002"), letter("V01-00002")}), (std::vector<std::uint64_t>{2, 3}));
    log->commit_group(kNow);
    EXPECT_EQ(log->last_seq(), 3u);
    EXPECT_EQ(stage_ok(*log, {status("V01-00001", "credit", "2020Q3")}), (std::vector<std::uint64_t>{4}));
    log->commit_group(kNow + 1);
  }
  {
    auto log = open_log();  // restart
    EXPECT_EQ(log->last_seq(), 4u);
    EXPECT_EQ(log->household_count(), 2u);
    EXPECT_EQ(stage_ok(*log, {status("V01-00002", "non_credit", "2020Q3"), reg("V01-00003")}),
              (std::vector<std::uint64_t>{5, 6}));
    log->commit_group(kNow + 2);
  }
  const auto events = backend_->reader()->read(1, 100);
  ASSERT_EQ(events.size(), 6u);
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq, i + 1);
  EXPECT_EQ(events[0].event_id, "reg-V01-00001");
  EXPECT_EQ(events[0].type, EventType::kHousehold);
  EXPECT_EQ(events[2].type, EventType::kCommitment);
  const LoggedEvent& s = events[4];
  EXPECT_EQ(s.type, EventType::kStatusChange);
  EXPECT_EQ(s.household_id, "V01-00002");
  EXPECT_EQ(s.village, "V01");
  EXPECT_EQ(s.status, hub::sdk::HouseholdStatus::kNonCredit);
  EXPECT_EQ(s.previous_status, hub::sdk::HouseholdStatus::kUnevaluated);
  EXPECT_EQ(s.quarter, "2020Q3");
  EXPECT_EQ(s.previous_quarter, "");
  EXPECT_EQ(s.effective_date, "2020-10-01");
  EXPECT_EQ(s.received_at_ms, kNow + 2);
  EXPECT_EQ(backend_->reader()->read(5, 5).size(), 1u);
  EXPECT_EQ(backend_->reader()->received_at(4), kNow + 1);
  EXPECT_EQ(backend_->reader()->received_at(99), 0);
}

TEST_P(OnBothBackends, DuplicatesAndConflictsAreToldByDigestAcrossRestarts) {
  const WireEvent original = status("V01-00001", "non_credit", "2020Q3", "ev-x");
  const WireEvent changed = status("V01-00001", "credit", "2020Q3", "ev-x");
  {
    auto log = open_log();
    stage_ok(*log, {reg("V01-00001"), original});
    log->commit_group(kNow);
  }
  auto log = open_log();
  // A whole request of duplicates and new events: the duplicates keep their seqs.
  const StageResult again = log->stage({reg("V01-00002"), original, reg("V01-00001")}, false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.results[0].seq, 3u);
  EXPECT_FALSE(again.results[0].duplicate);
  EXPECT_EQ(again.results[1].seq, 2u);
  EXPECT_TRUE(again.results[1].duplicate);
  EXPECT_EQ(again.results[2].seq, 1u);
  EXPECT_TRUE(again.results[2].duplicate);
  const StageResult conflict = log->stage({changed}, false);
  ASSERT_EQ(conflict.errors.size(), 1u);
  EXPECT_EQ(conflict.errors[0].error.code, "conflict");
  EXPECT_NE(conflict.errors[0].error.message.find("seq 2"), std::string::npos);
  log->commit_group(kNow);
  EXPECT_EQ(log->last_seq(), 3u);
}

TEST_P(OnBothBackends, HouseholdsStateIsDerivedInTheGroupAndSurvivesReopening) {
  {
    auto log = open_log();
    // One group: registrations, a commitment, an evaluation and its correction, a re-registration
    // (moved village) after the evaluation: the last of each kind wins, as in seq order.
    stage_ok(*log, {reg("V01-00001"), reg("V01-00002"), reg("V01-00003")});
    stage_ok(*log, {letter("V01-00001"), status("V01-00001", "non_credit", "2020Q4", "ev-a")});
    stage_ok(*log, {status("V01-00001", "credit", "2020Q4", "ev-b"), reg("V01-00001", "V02", "reg-moved")});
    stage_ok(*log, {status("V01-00002", "breach", "2020Q3")});
    log->commit_group(kNow);
  }
  auto log = open_log();
  EXPECT_EQ(log->household_count(), 3u);
  // The evaluation survived the re-registration: older is stale, the same quarter a correction.
  EXPECT_EQ(log->stage({status("V01-00001", "breach", "2020Q3")}, true).errors.at(0).error.code, "stale_quarter");
  EXPECT_EQ(log->stage({status("V01-00002", "credit", "2020Q2")}, true).errors.at(0).error.code, "stale_quarter");
  EXPECT_EQ(log->stage({letter("V01-00009")}, true).errors.at(0).error.code, "unknown_household");
  stage_ok(*log, {status("V01-00001", "breach", "2020Q4", "ev-c"), status("V01-00003", "credit", "2020Q1")});
  log->commit_group(kNow + 1);
  const auto events = backend_->reader()->read(9, 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].correction);
  EXPECT_EQ(events[0].previous_status, hub::sdk::HouseholdStatus::kCredit) << "ev-b superseded ev-a";
  EXPECT_EQ(events[0].previous_quarter, "2020Q4");
  EXPECT_EQ(events[0].village, "V02") << "the household moved";
  EXPECT_FALSE(events[1].correction);
  // What the store holds, read as EventLog reads it at open.
  std::map<std::string, StoredHousehold> stored;
  for (auto& h : backend_->open()->load_households()) stored[h.household_id] = h;
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored["V01-00001"].village, "V02");
  EXPECT_EQ(stored["V01-00001"].status, hub::sdk::HouseholdStatus::kBreach);
  EXPECT_EQ(stored["V01-00001"].quarter, "2020Q4");
  EXPECT_EQ(stored["V01-00002"].status, hub::sdk::HouseholdStatus::kBreach);
  EXPECT_EQ(stored["V01-00003"].quarter, "2020Q1");
}

// A complaint's ruling on a past quarter (issue 17): that quarter's last evaluation is read from
// the store (a fresh log: nothing in memory), the household's evaluation now is kept across a
// reopening, the event reads back as a past quarter with its complaint, and the chain verifies.
TEST_P(OnBothBackends, ARulingOnAPastQuarterKeepsTheEvaluationNowAndReadsBackWithItsComplaint) {
  {
    auto log = open_log();
    stage_ok(*log, {reg("V01-00004"), status("V01-00004", "breach", "2020Q3", "ev-q3"),
                    status("V01-00004", "non_credit", "2020Q3", "ev-q3-corrected"),
                    status("V01-00004", "credit", "2021Q1", "ev-now")});
    log->commit_group(kNow);
  }
  {
    auto log = open_log();
    WireEvent ruling = status("V01-00004", "credit", "2020Q3", "TS-2026-000042-correction");
    ruling.complaint_id = "TS-2026-000042";
    EXPECT_EQ(log->stage({ruling}, true).errors.at(0).error.code, "complaint_correction_reserved");
    stage_ok(*log, {ruling}, ruling_publisher("TS-2026-000042"));
    log->commit_group(kNow + 1);
  }
  auto log = open_log();
  EXPECT_EQ(log->stage({status("V01-00004", "credit", "2020Q4")}, true).errors.at(0).error.code, "stale_quarter");
  std::map<std::string, StoredHousehold> stored;
  for (auto& h : backend_->open()->load_households()) stored[h.household_id] = h;
  EXPECT_EQ(stored["V01-00004"].status, hub::sdk::HouseholdStatus::kCredit);
  EXPECT_EQ(stored["V01-00004"].quarter, "2021Q1");
  const auto events = backend_->reader()->read(4, 5);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].past_quarter);
  EXPECT_EQ(events[0].complaint_id, "");
  EXPECT_TRUE(events[1].correction);
  EXPECT_TRUE(events[1].past_quarter);
  EXPECT_EQ(events[1].complaint_id, "TS-2026-000042");
  EXPECT_EQ(events[1].previous_status, hub::sdk::HouseholdStatus::kNonCredit) << "2020Q3's last evaluation";
  EXPECT_EQ(events[1].previous_quarter, "2020Q3");
  EXPECT_TRUE(backend_->verify().ok) << backend_->verify().message;
}

TEST_P(OnBothBackends, TheChainContinuesAcrossReopeningAndVerifies) {
  {
    auto log = open_log();
    stage_ok(*log, {reg("V01-00001"), reg("V01-00002")}, "fp-office");
    log->commit_group(kNow);
    stage_ok(*log, {status("V01-00001", "credit", "2020Q3")}, "fp-office-2");
    log->commit_group(kNow + 1);
  }
  auto first = backend_->verify();
  ASSERT_TRUE(first.ok) << first.message;
  EXPECT_EQ(first.records, 3);
  {
    auto log = open_log();
    stage_ok(*log, {letter("V01-00002")}, "fp-office");
    log->commit_group(kNow + 2);
  }
  const auto second = backend_->verify();
  EXPECT_TRUE(second.ok) << second.message;
  EXPECT_EQ(second.records, 4);
  EXPECT_NE(second.head_hash_hex, first.head_hash_hex);
}

INSTANTIATE_TEST_SUITE_P(Backends, OnBothBackends, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// ---- PostgreSQL only ----------------------------------------------------------------------

// 40 events in four groups by two publishers, every kind of row (with and without NULLs).
void make_town(Backend& backend) {
  EventLog log(backend.open());
  std::vector<WireEvent> regs, letters, q3, q4;
  for (int n = 1; n <= 10; ++n) {
    const std::string h = "V01-" + std::to_string(10000 + n);
    regs.push_back(reg(h));
    letters.push_back(letter(h));
    q3.push_back(status(h, n % 3 ? "credit" : "non_credit", "2020Q3"));
    q4.push_back(status(h, n % 5 ? "credit" : "breach", "2020Q4"));
  }
  stage_ok(log, regs, "fp-office");
  log.commit_group(kNow);
  stage_ok(log, letters, "fp-office-2");
  stage_ok(log, q3, "fp-office");
  log.commit_group(kNow + 100);
  stage_ok(log, q4, "fp-office");
  log.commit_group(kNow + 200);
  stage_ok(log, {status("V01-10001", "breach", "2020Q4", "ev-fix")}, "");
  log.commit_group(kNow + 300);
  ASSERT_EQ(log.last_seq(), 41u);
}

TEST(PgEventStore, TheSameEventsGiveTheSameChainHeadAndReadBackAsOnSqlite) {
  SqliteBackend sqlite;
  PgBackend pg(fresh_dsn("pg_events_same"));
  make_town(sqlite);
  make_town(pg);
  const auto on_sqlite = sqlite.verify();
  const auto on_pg = pg.verify();
  ASSERT_TRUE(on_sqlite.ok) << on_sqlite.message;
  ASSERT_TRUE(on_pg.ok) << on_pg.message;
  EXPECT_EQ(on_pg.records, 41);
  EXPECT_EQ(on_pg.head_hash_hex, on_sqlite.head_hash_hex) << "the same chain bytes on both backends";

  const auto a = sqlite.reader()->read(1, 100), b = pg.reader()->read(1, 100);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(a[i].event_id);
    const auto fields = [](const LoggedEvent& e) {
      return std::tie(e.seq, e.type, e.event_id, e.household_id, e.village, e.status, e.previous_status, e.quarter,
                      e.previous_quarter, e.effective_date, e.designations, e.correction, e.received_at_ms);
    };
    EXPECT_EQ(fields(a[i]), fields(b[i]));
  }
  const auto households = [](Backend& backend) {
    std::map<std::string, std::pair<std::string, std::string>> out;
    for (const auto& h : backend.open()->load_households())
      out[h.household_id] = {std::string(hub::sdk::to_string(h.status)) + "/" + h.village, h.quarter};
    return out;
  };
  EXPECT_EQ(households(sqlite), households(pg));
  // The stored household rows too (head and members NULL when not given, as in events.db).
  Connection c(pg.dsn());
  const Rows rows = c.exec("SELECT count(*) FILTER (WHERE head IS NULL AND members IS NULL), "
                           "count(*) FILTER (WHERE members = 4 AND head LIKE '户主 \"%'), "
                           "count(*) FILTER (WHERE commitment_signed_on = '2020-04-15'), "
                           "count(*) FILTER (WHERE designations = '[\"assistance\"]') FROM household");
  EXPECT_EQ(rows.integer(0, 0), 5);
  EXPECT_EQ(rows.integer(0, 1), 5);
  EXPECT_EQ(rows.integer(0, 2), 10);
  EXPECT_EQ(rows.integer(0, 3), 4);
  EXPECT_EQ(c.exec("SELECT n FROM event_tally WHERE type = 'status_change'").integer(0, 0), 21);

  // The timeline's status changes per minute: the same rows as events.db's, and the stored
  // events counted.
  const auto pg_minutes = [&](const std::string& sql) {
    std::vector<std::string> out;
    const Rows r = c.exec(sql);
    for (int i = 0; i < r.size(); ++i) out.emplace_back(r.text(i, 0));
    return out;
  };
  const std::vector<std::string> minutes =
      pg_minutes("SELECT concat_ws(' ', minute_ms, village, status, n) FROM status_minute ORDER BY 1");
  std::vector<std::string> on_sqlite_minutes;
  {
    store::Database db(sqlite.path(), store::Database::Mode::kReadOnly);
    store::Statement q(db, "SELECT minute_ms || ' ' || village || ' ' || status || ' ' || n FROM status_minute ORDER BY 1");
    while (q.step()) on_sqlite_minutes.push_back(q.column_text(0));
  }
  EXPECT_FALSE(minutes.empty());
  EXPECT_EQ(minutes, on_sqlite_minutes);
  EXPECT_EQ(minutes, pg_minutes("SELECT concat_ws(' ', minute_ms, village, status, n) FROM (SELECT received_at_ms / "
                                "60000 * 60000 AS minute_ms, village, status, count(*) AS n FROM event WHERE type = "
                                "'status_change' GROUP BY 1, 2, 3) counted ORDER BY 1"));
}

// A database of version 1 (before the counts per minute) has them counted from its events, for
// every hub on it, when a hubd opens it.
TEST(PgEventStore, AnUpgradeToVersion2CountsTheStoredStatusChangesPerMinute) {
  const std::string dsn = fresh_dsn("pg_events_upgrade");
  PgBackend a(dsn, "town-a"), b(dsn, "town-b");
  make_town(a);
  make_town(b);
  Connection c(dsn);
  const std::string count =
      "SELECT concat_ws(' ', hub_id, minute_ms, village, status, n) FROM (SELECT hub_id, received_at_ms / 60000 * "
      "60000 AS minute_ms, village, status, count(*) AS n FROM event WHERE type = 'status_change' "
      "GROUP BY 1, 2, 3, 4) counted ORDER BY 1";
  const std::string stored = "SELECT concat_ws(' ', hub_id, minute_ms, village, status, n) FROM status_minute ORDER BY 1";
  const auto column = [&](const std::string& sql) {
    std::vector<std::string> out;
    const Rows r = c.exec(sql);
    for (int i = 0; i < r.size(); ++i) out.emplace_back(r.text(i, 0));
    return out;
  };
  const std::vector<std::string> want = column(count);
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(column(stored), want);
  c.exec("DROP TABLE status_minute");
  c.exec("UPDATE hub_schema SET version = 1 WHERE component = 'events'");
  a.open();
  EXPECT_EQ(column(stored), want);
  EXPECT_EQ(c.exec("SELECT version FROM hub_schema WHERE component = 'events'").integer(0, 0), 2);
}

TEST(PgEventStore, TheVerifierNamesATamperedRowAndADeletedLastRow) {
  PgBackend pg(fresh_dsn("pg_events_tamper"));
  make_town(pg);
  Connection c(pg.dsn());
  for (const char* change : {"UPDATE event SET status = status || '_' WHERE seq = 27",
                             "UPDATE event SET body = body || ' ' WHERE seq = 27",
                             "UPDATE event SET publisher = 'someone' WHERE seq = 27",
                             "UPDATE event SET previous_quarter = NULL WHERE seq = 27",
                             "UPDATE event SET received_at_ms = received_at_ms + 1 WHERE seq = 27"}) {
    SCOPED_TRACE(change);
    Connection::Transaction tx(c);
    c.exec(change);
    const Rows changed = c.exec("SELECT count(*) FROM event WHERE seq = 27");
    ASSERT_EQ(changed.integer(0, 0), 1);
    tx.commit();
    const auto result = verify_pg_event_chain(pg.dsn(), "town-a");
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.first_bad_seq, 27) << result.message;
    EXPECT_EQ(result.problem, "modified") << result.message;
    // Put it back: the next change is found on its own.
    c.exec("DELETE FROM event WHERE seq >= 1");
    c.exec("DELETE FROM household");
    c.exec("DELETE FROM event_tally");
    c.exec("DELETE FROM chain_head");
    make_town(pg);
    ASSERT_TRUE(verify_pg_event_chain(pg.dsn(), "town-a").ok);
  }
  c.exec("DELETE FROM event WHERE seq = 41");
  const auto result = verify_pg_event_chain(pg.dsn(), "town-a");
  EXPECT_FALSE(result.ok) << "the head still says 41";
  EXPECT_EQ(result.first_bad_seq, 41) << result.message;
  EXPECT_EQ(result.problem, "deleted") << result.message;

  const auto unreadable = verify_pg_event_chain("host=127.0.0.1 port=1 user=hubtest dbname=x connect_timeout=2", "t");
  EXPECT_FALSE(unreadable.ok);
  EXPECT_EQ(unreadable.problem, "unreadable");
}

TEST(PgEventStore, TwoHubsOnOneDatabaseDoNotSeeEachOthersEvents) {
  const std::string dsn = fresh_dsn("pg_events_hubs");
  PgBackend a(dsn, "town-a"), b(dsn, "town-b");
  make_town(a);
  {
    EventLog log(b.open());
    EXPECT_EQ(log.last_seq(), 0u);
    EXPECT_EQ(log.household_count(), 0u);
    // The same event ids are new in the other hub, and its seqs start at 1.
    EXPECT_EQ(stage_ok(log, {reg("V01-10001"), status("V01-10001", "breach", "2020Q4", "ev-fix")}),
              (std::vector<std::uint64_t>{1, 2}));
    log.commit_group(kNow + 5);
  }
  EXPECT_EQ(b.reader()->read(1, 100).size(), 2u);
  EXPECT_EQ(a.reader()->read(1, 100).size(), 41u);
  EXPECT_EQ(b.reader()->received_at(1), kNow + 5);
  EXPECT_EQ(a.reader()->received_at(1), kNow);
  const auto va = a.verify(), vb = b.verify();
  EXPECT_TRUE(va.ok) << va.message;
  EXPECT_TRUE(vb.ok) << vb.message;
  EXPECT_EQ(va.records, 41);
  EXPECT_EQ(vb.records, 2);
  EXPECT_EQ(EventLog(a.open()).household_count(), 10u);
  EXPECT_EQ(EventLog(b.open()).household_count(), 1u);
}

// A statement-level trigger counts the statements that touch each table: a group of 1,000
// events is one INSERT into `event` and a few statements on the households and the tally,
// whatever its size — the store sends no statement per row.
TEST(PgEventStore, AGroupOfAThousandEventsIsAFewStatementsNotOnePerRow) {
  PgBackend pg(fresh_dsn("pg_events_statements"));
  EventLog log(pg.open());
  Connection c(pg.dsn());
  c.exec("CREATE TABLE statement_count (what text PRIMARY KEY, n integer NOT NULL)");
  c.exec("CREATE FUNCTION count_statement() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
         "INSERT INTO statement_count VALUES (TG_TABLE_NAME || ' ' || TG_OP, 1) "
         "ON CONFLICT (what) DO UPDATE SET n = statement_count.n + 1; RETURN NULL; END $$");
  for (const char* table : {"event", "household", "event_tally"})
    c.exec(std::string("CREATE TRIGGER count_statements AFTER INSERT OR UPDATE OR DELETE ON ") + table +
           " FOR EACH STATEMENT EXECUTE FUNCTION count_statement()");
  std::vector<WireEvent> group;
  for (int n = 0; n < 333; ++n) {
    const std::string h = "V02-" + std::to_string(20000 + n);
    group.push_back(reg(h, "V02"));
    group.push_back(letter(h));
    group.push_back(status(h, "credit", "2021Q1"));
  }
  group.push_back(reg("V02-29999", "V02"));
  ASSERT_EQ(group.size(), 1000u);
  stage_ok(log, group);
  log.commit_group(kNow);
  EXPECT_EQ(log.last_seq(), 1000u);
  std::map<std::string, std::int64_t> counts;
  const Rows rows = c.exec("SELECT what, n FROM statement_count");
  for (int r = 0; r < rows.size(); ++r) counts[std::string(rows.text(r, 0))] = rows.integer(r, 1);
  // An INSERT … ON CONFLICT DO UPDATE fires both statement triggers once: the households are
  // three upserts (registrations, commitments, evaluations), the tally one.
  const std::map<std::string, std::int64_t> expected{{"event INSERT", 1},       {"household INSERT", 3},
                                                     {"household UPDATE", 3},   {"event_tally INSERT", 1},
                                                     {"event_tally UPDATE", 1}};
  EXPECT_EQ(counts, expected);
  EXPECT_EQ(c.exec("SELECT count(*) FROM event").integer(0, 0), 1000);
  EXPECT_EQ(c.exec("SELECT count(*) FROM household WHERE commitment_seq IS NOT NULL AND status = 'credit'")
                .integer(0, 0),
            333);
  EXPECT_TRUE(pg.verify().ok);
}

// Nothing lost, nothing twice: exactly these seqs are stored, each event_id once, and the chain
// over them verifies.
void expect_stored_once(PgBackend& pg, const std::vector<std::int64_t>& seqs) {
  Connection c(pg.dsn());
  const Rows rows = c.exec("SELECT seq FROM event ORDER BY seq");
  std::vector<std::int64_t> stored;
  for (int r = 0; r < rows.size(); ++r) stored.push_back(rows.integer(r, 0));
  EXPECT_EQ(stored, seqs);
  EXPECT_EQ(c.exec("SELECT count(DISTINCT event_id) FROM event").integer(0, 0), static_cast<std::int64_t>(seqs.size()));
  const auto v = pg.verify();
  EXPECT_TRUE(v.ok) << v.message;
  EXPECT_EQ(v.records, static_cast<std::int64_t>(seqs.size()));
}

// The deferred trigger of pg_connection_test: the session ends itself while COMMIT runs, so the
// transaction rolls back and the client cannot tell. The store reports outcome_unknown; the
// event log reads again; the same events sent again are stored once, with the same seqs.
TEST(PgEventStore, ACommitThatDiedIsStoredOnceWhenSentAgain) {
  PgBackend pg(fresh_dsn("pg_events_died"));
  EventLog log(pg.open());
  stage_ok(log, {reg("V01-00001")});
  log.commit_group(kNow);
  Connection c(pg.dsn());
  c.exec("CREATE FUNCTION die() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
         "PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NULL; END $$");
  c.exec("CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON event DEFERRABLE INITIALLY DEFERRED "
         "FOR EACH ROW EXECUTE FUNCTION die()");
  const std::vector<WireEvent> group{reg("V01-00002"), status("V01-00002", "breach", "2021Q1")};
  EXPECT_EQ(stage_ok(log, group), (std::vector<std::uint64_t>{2, 3}));
  try {
    log.commit_group(kNow + 1);
    FAIL() << "COMMIT returned although its session was terminated";
  } catch (const StorageError& e) {
    EXPECT_TRUE(e.outcome_unknown()) << e.what();
  }
  c.exec("DROP TRIGGER die_at_commit ON event");
  const StageResult again = log.stage(group, false, "fp-office");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again.results[0].duplicate) << "it was not stored";
  EXPECT_EQ(again.results[0].seq, 2u);
  EXPECT_EQ(again.results[1].seq, 3u);
  log.commit_group(kNow + 2);
  expect_stored_once(pg, {1, 2, 3});
}

// The other unknown outcome, the one a failover gives: the commit is durable on the primary and
// its answer never comes. A synchronous standby that does not exist makes COMMIT wait after it
// is written; terminating the session then leaves the transaction committed and the client
// without an answer. The store reads its chain head again before the next append (else the
// next event would be chained onto the old head and the verifier would name it), and the same
// events sent again are duplicates with the seqs they were stored with.
TEST(PgEventStore, ACommitWhoseAnswerWasLostIsADuplicateWhenSentAgainAndTheChainGoesOn) {
  PostgresServer& server = PostgresServer::shared();
  const std::string database = server.fresh_database("pg_events_lost");
  PgBackend pg(server.dsn(database));
  EventLog log(pg.open());
  stage_ok(log, {reg("V01-00001")});
  log.commit_group(kNow);

  Connection admin(server.dsn());
  const auto no_sync_standby = [&] {
    admin.exec("ALTER SYSTEM RESET synchronous_standby_names");
    admin.exec("SELECT pg_reload_conf()");
  };
  struct Restore {
    std::function<void()> f;
    ~Restore() {
      try {
        f();
      } catch (...) {
      }
    }
  } restore{no_sync_standby};
  admin.exec("ALTER SYSTEM SET synchronous_standby_names = 'hub_test_standby_that_is_not_there'");
  admin.exec("SELECT pg_reload_conf()");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the checkpointer and the session take it

  std::atomic<bool> terminated{false};
  std::thread killer([&] {
    Connection k(server.dsn());
    for (int i = 0; i < 200 && !terminated; ++i) {
      const Rows waiting = k.exec("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'SyncRep'",
                                  Params().text(database));
      if (!waiting.empty()) {
        k.exec("SELECT pg_terminate_backend($1)", Params().integer(waiting.integer(0, 0)));
        terminated = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const std::vector<WireEvent> group{reg("V01-00002"), status("V01-00002", "breach", "2021Q1")};
  stage_ok(log, group);
  bool unknown = false;
  try {
    log.commit_group(kNow + 1);
  } catch (const StorageError& e) {
    unknown = e.outcome_unknown();
    EXPECT_TRUE(unknown) << e.what();
  }
  killer.join();
  no_sync_standby();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(terminated) << "the commit never waited for the standby (synchronous_standby_names not taken)";
  ASSERT_TRUE(unknown) << "commit_group returned normally";

  Connection c(pg.dsn());
  EXPECT_EQ(c.exec("SELECT count(*) FROM event").integer(0, 0), 3) << "the commit was durable before the wait";
  const StageResult again = log.stage(group, false, "fp-office");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.results[0].duplicate);
  EXPECT_EQ(again.results[0].seq, 2u);
  EXPECT_TRUE(again.results[1].duplicate);
  EXPECT_EQ(again.results[1].seq, 3u);
  EXPECT_TRUE(log.group_empty());
  EXPECT_EQ(stage_ok(log, {letter("V01-00002")}), (std::vector<std::uint64_t>{4}));
  log.commit_group(kNow + 2);
  expect_stored_once(pg, {1, 2, 3, 4});
}

// A connection the server ended (a restart, a failover): the call that finds it gone fails as
// unavailable (nothing is acknowledged then), and the next call connects again — writer,
// look-ups and reader alike.
TEST(PgEventStore, ALostConnectionIsOpenedAgainOnTheNextCall) {
  PgBackend pg(fresh_dsn("pg_events_reconnect"));
  EventLog log(pg.open());
  auto reader = pg.reader();
  stage_ok(log, {reg("V01-00001")});
  log.commit_group(kNow);
  ASSERT_EQ(reader->read(1, 1).size(), 1u);

  Connection killer(pg.dsn());
  const auto terminate_others = [&] {
    killer.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  };
  // The look-ups and the writer have a connection each (so that ingest can stage while a group
  // is written): a call fails at most once for each of them, and each is opened again.
  const auto at_most_one_failure_per_connection = [](const std::function<void()>& call) {
    for (int failures = 0;; ++failures) {
      try {
        call();
        return;
      } catch (const StorageError& e) {
        EXPECT_EQ(e.status().storage, StorageKind::kUnavailable) << e.what();
        EXPECT_FALSE(e.outcome_unknown()) << e.what();
        if (failures == 2) throw;  // a third failure: a connection was not opened again
      }
    }
  };
  terminate_others();
  at_most_one_failure_per_connection([&] { stage_ok(log, {reg("V01-00002")}); });
  at_most_one_failure_per_connection([&] {
    if (log.group_empty()) stage_ok(log, {reg("V01-00002")});  // a failed commit dropped it
    log.commit_group(kNow + 1);
  });
  stage_ok(log, {reg("V01-00003")});
  terminate_others();  // the commit finds the connection gone before BEGIN: nothing was written
  try {
    log.commit_group(kNow + 2);
    FAIL() << "a commit on a terminated session returned";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.status().storage, StorageKind::kUnavailable) << e.what();
    EXPECT_FALSE(e.outcome_unknown()) << e.what();
  }
  EXPECT_EQ(log.last_seq(), 2u);
  at_most_one_failure_per_connection([&] { EXPECT_EQ(stage_ok(log, {reg("V01-00003")}), (std::vector<std::uint64_t>{3})); });
  log.commit_group(kNow + 3);
  terminate_others();
  at_most_one_failure_per_connection([&] { EXPECT_EQ(reader->read(1, 10).size(), 3u); });
  EXPECT_EQ(log.last_seq(), 3u);
  EXPECT_TRUE(pg.verify().ok);
}

// Not a limit, a figure for the report: groups of 1,000 events through EventLog (stage,
// look-ups, commit) on SQLite (synchronous=FULL, this machine's disk) and on the test server
// (fsync off, then on); 20 groups in CI, HUB_PG_TIMING_GROUPS=100 for the report. Printed; the
// test checks only that everything was stored and chained.
TEST(PgEventStore, TimesGroupsOfAThousandEventsOnBothBackends) {
  const char* groups = std::getenv("HUB_PG_TIMING_GROUPS");
  const int kGroups = groups != nullptr ? std::atoi(groups) : 20;
  constexpr int kPerGroup = 1000;
  const auto run = [&](Backend& backend, const char* name) {
    EventLog log(backend.open());
    using Clock = std::chrono::steady_clock;
    Clock::duration staging{}, committing{};
    int n = 0;
    for (int g = 0; g < kGroups; ++g) {
      std::vector<WireEvent> group;
      while (group.size() < kPerGroup) {
        const std::string h = "V03-" + std::to_string(100000 + n++);
        group.push_back(reg(h, "V03"));
        group.push_back(status(h, "credit", "2021Q2"));
      }
      const auto started = Clock::now();
      stage_ok(log, group);
      const auto staged = Clock::now();
      log.commit_group(kNow + g);
      staging += staged - started;
      committing += Clock::now() - staged;
    }
    EXPECT_EQ(log.last_seq(), static_cast<std::uint64_t>(kGroups * kPerGroup));
    const double stage_s = std::chrono::duration<double>(staging).count();
    const double commit_s = std::chrono::duration<double>(committing).count();
    std::printf("[ timing ] %s: %d groups of %d events in %.2f s (%.0f events/s): stage %.2f s, commit %.2f s\n",
                name, kGroups, kPerGroup, stage_s + commit_s, kGroups * kPerGroup / (stage_s + commit_s), stage_s,
                commit_s);
    return stage_s + commit_s;
  };
  SqliteBackend sqlite;
  PgBackend pg(fresh_dsn("pg_events_timing"));
  PgBackend pg_fsync(fresh_dsn("pg_events_timing_fsync"));
  const double on_sqlite = run(sqlite, "SQLite (synchronous=FULL)");
  const double on_pg = run(pg, "PostgreSQL (fsync off)");
  Connection admin(PostgresServer::shared().dsn());
  admin.exec("ALTER SYSTEM SET fsync = on");
  admin.exec("SELECT pg_reload_conf()");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double on_pg_fsync = 0;
  try {
    on_pg_fsync = run(pg_fsync, "PostgreSQL (fsync on)");
  } catch (...) {
    admin.exec("ALTER SYSTEM RESET fsync");
    admin.exec("SELECT pg_reload_conf()");
    throw;
  }
  admin.exec("ALTER SYSTEM RESET fsync");
  admin.exec("SELECT pg_reload_conf()");
  std::printf("[ timing ] PostgreSQL / SQLite: %.2f (fsync off), %.2f (fsync on)\n", on_sqlite / on_pg,
              on_sqlite / on_pg_fsync);
  EXPECT_TRUE(sqlite.verify().ok);
  EXPECT_TRUE(pg.verify().ok);
  EXPECT_TRUE(pg_fsync.verify().ok);
}

}  // namespace
}  // namespace hub::store::pg

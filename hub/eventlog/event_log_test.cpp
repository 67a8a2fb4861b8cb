// Tests of the durable event log against real SQLite files: the §2 status rules (unknown
// household, stale quarter, corrections), event-id idempotency (duplicate / conflict) within a
// group, after commit and after a restart, atomic requests, dry runs, contiguous sequence
// numbers, and that a failed commit leaves the log exactly as it was.
#include "eventlog/event_log.h"
#include "store/sqlite/sqlite_event_store.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"
#include "testing/wire_events.h"
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/sqlite/database.h"

namespace hub {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::int64_t kNow = 1'600'000'000'000;

using hub::testing::TempDir;

WireEvent make(const json& j) { return hub::testing::make_event(j); }

WireEvent reg(const std::string& household, const std::string& village = "V01", const std::string& id = "") {
  return make({{"type", "household"},
               {"event_id", id.empty() ? "reg-" + household : id},
               {"household_id", household},
               {"village", village}});
}

WireEvent commit_letter(const std::string& household, const std::string& signed_on = "2020-04-15") {
  return make({{"type", "commitment"},
               {"event_id", "com-" + household},
               {"household_id", household},
               {"signed_on", signed_on}});
}

WireEvent status(const std::string& household, const std::string& st, const std::string& quarter,
                 const std::string& id = "") {
  return make({{"type", "status_change"},
               {"event_id", id.empty() ? "ev-" + quarter + "-" + household + "-" + st : id},
               {"household_id", household},
               {"status", st},
               {"quarter", quarter}});
}

// Stages and expects success; returns the seqs.
std::vector<std::uint64_t> stage_ok(EventLog& log, const std::vector<WireEvent>& events, bool dry_run = false) {
  const StageResult r = log.stage(events, dry_run);
  std::vector<std::uint64_t> seqs;
  for (const auto& e : r.errors)
    ADD_FAILURE() << "event " << e.index << ": " << e.error.code << " (" << e.error.field << ") " << e.error.message;
  EXPECT_EQ(r.results.size(), r.ok() ? events.size() : 0u);
  for (const auto& item : r.results) seqs.push_back(item.seq);
  return seqs;
}

// One column of the stored event row, read with the plain SQLite C API.
struct StoredEvent {
  std::int64_t seq = 0;
  std::string type;
  std::string household_id;
  std::string village;
  std::optional<std::string> status;
  std::optional<std::string> previous_status;
  std::optional<std::string> quarter;
  std::optional<std::string> previous_quarter;
  std::optional<std::string> effective_date;
  std::int64_t correction = -1;
  std::int64_t received_at_ms = 0;
  std::string digest;
  std::string body;
};

class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open " + path);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string text = message != nullptr ? message : "?";
      sqlite3_free(message);
      throw std::runtime_error(sql + ": " + text);
    }
  }

  std::vector<std::int64_t> seqs() {
    std::vector<std::int64_t> out;
    sqlite3_stmt* st = prepare("SELECT seq FROM event ORDER BY seq");
    while (sqlite3_step(st) == SQLITE_ROW) out.push_back(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    return out;
  }

  std::optional<StoredEvent> event(const std::string& event_id) {
    sqlite3_stmt* st = prepare(
        "SELECT seq, type, household_id, village, status, previous_status, quarter, previous_quarter, "
        "effective_date, correction, received_at_ms, digest, body FROM event WHERE event_id = ?");
    sqlite3_bind_text(st, 1, event_id.c_str(), -1, SQLITE_TRANSIENT);
    std::optional<StoredEvent> out;
    if (sqlite3_step(st) == SQLITE_ROW) {
      StoredEvent e;
      e.seq = sqlite3_column_int64(st, 0);
      e.type = text(st, 1).value_or("");
      e.household_id = text(st, 2).value_or("");
      e.village = text(st, 3).value_or("");
      e.status = text(st, 4);
      e.previous_status = text(st, 5);
      e.quarter = text(st, 6);
      e.previous_quarter = text(st, 7);
      e.effective_date = text(st, 8);
      e.correction = sqlite3_column_int64(st, 9);
      e.received_at_ms = sqlite3_column_int64(st, 10);
      e.digest = text(st, 11).value_or("");
      e.body = text(st, 12).value_or("");
      out = e;
    }
    sqlite3_finalize(st);
    return out;
  }

  // household.status, household.quarter for one household.
  std::optional<std::pair<std::string, std::string>> household(const std::string& id) {
    sqlite3_stmt* st = prepare("SELECT status, COALESCE(quarter, '') FROM household WHERE household_id = ?");
    sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    std::optional<std::pair<std::string, std::string>> out;
    if (sqlite3_step(st) == SQLITE_ROW) out = std::make_pair(*text(st, 0), *text(st, 1));
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("prepare: ") + sqlite3_errmsg(db_));
    return st;
  }
  static std::optional<std::string> text(sqlite3_stmt* st, int col) {
    if (sqlite3_column_type(st, col) == SQLITE_NULL) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, col)),
                       static_cast<std::size_t>(sqlite3_column_bytes(st, col)));
  }

  sqlite3* db_ = nullptr;
};

class EventLogTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string path_ = dir_.file("events.db");
};

// --- sequence numbers ------------------------------------------------------------------------

TEST_F(EventLogTest, EmptyLogStartsAtZero) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  EXPECT_EQ(log.last_seq(), 0u);
  EXPECT_TRUE(log.group_empty());
  EXPECT_EQ(log.household_count(), 0u);
  log.commit_group(kNow);  // an empty group is a no-op
  EXPECT_EQ(log.last_seq(), 0u);
}

TEST_F(EventLogTest, SeqsAreContiguousFromOneAcrossCommitsAndRestarts) {
  {
    EventLog log(std::make_unique<store::SqliteEventStore>(path_));
    EXPECT_EQ(stage_ok(log, {reg("V01-00001")}), (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(stage_ok(log, {reg("V01-00002"), commit_letter("V01-00002")}), (std::vector<std::uint64_t>{2, 3}));
    EXPECT_EQ(log.group_size(), 3u);
    EXPECT_EQ(log.last_seq(), 0u);  // not committed yet
    log.commit_group(kNow);
    EXPECT_EQ(log.last_seq(), 3u);
    EXPECT_TRUE(log.group_empty());
    EXPECT_EQ(stage_ok(log, {status("V01-00001", "credit", "2020Q3")}), (std::vector<std::uint64_t>{4}));
    log.commit_group(kNow + 1);
    EXPECT_EQ(log.last_seq(), 4u);
  }
  {
    EventLog log(std::make_unique<store::SqliteEventStore>(path_));  // restart
    EXPECT_EQ(log.last_seq(), 4u);
    EXPECT_EQ(log.household_count(), 2u);
    EXPECT_EQ(stage_ok(log, {status("V01-00002", "breach", "2020Q3"), reg("V01-00003")}),
              (std::vector<std::uint64_t>{5, 6}));
    log.commit_group(kNow + 2);
    EXPECT_EQ(log.last_seq(), 6u);
  }
  {
    EventLog log(std::make_unique<store::SqliteEventStore>(path_));
    EXPECT_EQ(log.last_seq(), 6u);
    EXPECT_EQ(stage_ok(log, {commit_letter("V01-00003")}), (std::vector<std::uint64_t>{7}));
    log.commit_group(kNow + 3);
  }
  RawDb raw(path_);
  EXPECT_EQ(raw.seqs(), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7}));
  const auto first = raw.event("reg-V01-00001");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->received_at_ms, kNow);
}

TEST_F(EventLogTest, StoredRowCarriesCanonicalBodyAndDigest) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  const WireEvent r = reg("V03-00417", "V03");
  const WireEvent c = commit_letter("V03-00417");
  const WireEvent s = status("V03-00417", "non_credit", "2020Q3");
  stage_ok(log, {r, c, s});
  log.commit_group(kNow);

  RawDb raw(path_);
  for (const WireEvent* ev : {&r, &c, &s}) {
    const auto row = raw.event(ev->event_id);
    ASSERT_TRUE(row) << ev->event_id;
    EXPECT_EQ(row->body, ev->canonical_json());
    EXPECT_EQ(row->digest, content_digest(ev->canonical_json()));
    EXPECT_EQ(row->household_id, "V03-00417");
    EXPECT_EQ(row->village, "V03") << "every event row carries the household's village";
    EXPECT_EQ(row->type, std::string(to_string(ev->type)));
  }
  const auto reg_row = raw.event(r.event_id);
  EXPECT_FALSE(reg_row->status.has_value());
  EXPECT_EQ(reg_row->correction, 0);

  const auto status_row = raw.event(s.event_id);
  EXPECT_EQ(status_row->status, "non_credit");
  EXPECT_EQ(status_row->previous_status, "unevaluated");
  EXPECT_EQ(status_row->quarter, "2020Q3");
  EXPECT_EQ(status_row->previous_quarter.value_or(""), "");
  EXPECT_EQ(status_row->effective_date, "2020-10-01");
  EXPECT_EQ(status_row->correction, 0);
  EXPECT_EQ(raw.household("V03-00417"), std::make_pair(std::string("non_credit"), std::string("2020Q3")));
}

// --- §2 status rules ----------------------------------------------------------------------------

TEST_F(EventLogTest, UnknownHouseholdIsRejectedForCommitmentAndStatusChange) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  for (const WireEvent& ev : {commit_letter("V09-00001"), status("V09-00001", "credit", "2020Q3")}) {
    const StageResult r = log.stage({ev}, false);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].index, 0u);
    EXPECT_EQ(r.errors[0].error.code, "unknown_household");
    EXPECT_EQ(r.errors[0].error.field, "household_id");
    EXPECT_NE(r.errors[0].error.message.find("V09-00001"), std::string::npos);
    EXPECT_TRUE(r.results.empty());
  }
  EXPECT_TRUE(log.group_empty());
}

TEST_F(EventLogTest, StatusForARegisteredHouseholdIsAccepted) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V01-00001")});
  log.commit_group(kNow);
  EXPECT_EQ(stage_ok(log, {status("V01-00001", "credit", "2020Q3")}), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(stage_ok(log, {commit_letter("V01-00001")}), (std::vector<std::uint64_t>{3}));
  log.commit_group(kNow);
  EXPECT_EQ(log.last_seq(), 3u);
}

TEST_F(EventLogTest, OlderQuarterIsStaleCommittedStagedOrInTheSameRequest) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V01-00001"), reg("V01-00002"), reg("V01-00003")});
  stage_ok(log, {status("V01-00001", "credit", "2020Q4")});
  log.commit_group(kNow);

  auto expect_stale = [](const StageResult& r, std::size_t index) {
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].index, index);
    EXPECT_EQ(r.errors[0].error.code, "stale_quarter");
    EXPECT_EQ(r.errors[0].error.field, "quarter");
    EXPECT_NE(r.errors[0].error.message.find("2020Q4"), std::string::npos) << r.errors[0].error.message;
  };
  // Against committed state.
  expect_stale(log.stage({status("V01-00001", "breach", "2020Q3")}, false), 0);
  expect_stale(log.stage({status("V01-00001", "breach", "2019Q4")}, false), 0);
  // Against an earlier request of the same (uncommitted) group.
  stage_ok(log, {status("V01-00002", "credit", "2020Q4")});
  expect_stale(log.stage({status("V01-00002", "non_credit", "2020Q3")}, false), 0);
  // Within one request.
  expect_stale(log.stage({status("V01-00003", "credit", "2020Q4"), status("V01-00003", "breach", "2020Q3")}, false), 1);
  // A later quarter is fine.
  stage_ok(log, {status("V01-00001", "non_credit", "2021Q1")});
  log.commit_group(kNow);
  EXPECT_EQ(log.last_seq(), 6u);
}

TEST_F(EventLogTest, SameQuarterIsACorrectionThatSupersedes) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V02-00007", "V02"), status("V02-00007", "non_credit", "2020Q3", "ev-first")});
  log.commit_group(kNow);
  // Upheld complaint: same quarter, new decision.
  stage_ok(log, {status("V02-00007", "credit", "2020Q3", "ev-corrected")});
  log.commit_group(kNow);
  stage_ok(log, {status("V02-00007", "breach", "2020Q4", "ev-next")});
  log.commit_group(kNow);

  RawDb raw(path_);
  const auto first = raw.event("ev-first");
  const auto corrected = raw.event("ev-corrected");
  const auto next = raw.event("ev-next");
  ASSERT_TRUE(first && corrected && next);
  EXPECT_EQ(first->correction, 0);

  EXPECT_EQ(corrected->correction, 1);
  EXPECT_EQ(corrected->status, "credit");
  EXPECT_EQ(corrected->previous_status, "non_credit");
  EXPECT_EQ(corrected->previous_quarter, "2020Q3");
  EXPECT_EQ(corrected->quarter, "2020Q3");
  EXPECT_EQ(corrected->village, "V02");

  EXPECT_EQ(next->correction, 0);
  EXPECT_EQ(next->previous_status, "credit") << "the correction superseded non_credit";
  EXPECT_EQ(next->previous_quarter, "2020Q3");
  EXPECT_EQ(raw.household("V02-00007"), std::make_pair(std::string("breach"), std::string("2020Q4")));
}

// An upheld complaint about a past quarter (issue 17): only the hub's ruling publisher may name
// the complaint; its correction of 2020Q3 is stored after 2021Q1, corrects what 2020Q3 said, and
// leaves the household's evaluation now — so a plain 2020Q3 event is still stale afterwards.
TEST_F(EventLogTest, ARulingCorrectsAPastQuarterAndLeavesTheEvaluationNow) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V02-00009", "V02"), status("V02-00009", "breach", "2020Q3", "ev-q3"),
                 status("V02-00009", "non_credit", "2020Q4", "ev-q4")});
  log.commit_group(kNow);
  stage_ok(log, {status("V02-00009", "credit", "2021Q1", "ev-now")});  // staged, not yet committed

  WireEvent ruling = status("V02-00009", "credit", "2020Q3", "TS-2026-000007-correction");
  ruling.complaint_id = "TS-2026-000007";
  // From a publisher's key, or with another complaint's publisher: refused, nothing staged.
  for (const std::string publisher : {"office-1", "complaint:TS-2026-000008", "web:clerk"}) {
    const StageResult r = log.stage({ruling}, false, publisher);
    ASSERT_EQ(r.errors.size(), 1u) << publisher;
    EXPECT_EQ(r.errors[0].error.code, "complaint_correction_reserved");
    EXPECT_EQ(r.errors[0].error.field, "complaint_id");
  }
  const StageResult accepted = log.stage({ruling}, false, ruling_publisher("TS-2026-000007"));
  ASSERT_TRUE(accepted.ok()) << accepted.errors[0].error.code;
  log.commit_group(kNow);

  // Without the complaint, the past quarter is stale as before; the quarter now is 2021Q1.
  const StageResult stale = log.stage({status("V02-00009", "credit", "2020Q3", "ev-plain")}, true);
  ASSERT_EQ(stale.errors.size(), 1u);
  EXPECT_EQ(stale.errors[0].error.code, "stale_quarter");
  EXPECT_NE(stale.errors[0].error.message.find("2021Q1"), std::string::npos) << stale.errors[0].error.message;

  RawDb raw(path_);
  const auto row = raw.event("TS-2026-000007-correction");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->correction, 2);
  EXPECT_EQ(row->quarter, "2020Q3");
  EXPECT_EQ(row->previous_status, "breach") << "what 2020Q3 said, not the status now";
  EXPECT_EQ(row->previous_quarter, "2020Q3");
  EXPECT_NE(row->body.find(R"("complaint_id":"TS-2026-000007")"), std::string::npos) << row->body;
  EXPECT_EQ(raw.household("V02-00009"), std::make_pair(std::string("credit"), std::string("2021Q1")));

  // Read back for delivery: a past quarter with its complaint; the quarter now reads as before.
  store::SqliteEventReader reader(path_);
  const auto events = reader.read(1, 5);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_TRUE(events[4].correction);
  EXPECT_TRUE(events[4].past_quarter);
  EXPECT_EQ(events[4].complaint_id, "TS-2026-000007");
  EXPECT_EQ(events[4].previous_status, hub::sdk::HouseholdStatus::kBreach);
  EXPECT_FALSE(events[3].correction);
  EXPECT_FALSE(events[3].past_quarter);
  EXPECT_EQ(events[3].complaint_id, "");

  // After a restart the household's evaluation is still 2021Q1's.
  EventLog reopened(std::make_unique<store::SqliteEventStore>(path_));
  EXPECT_EQ(reopened.stage({status("V02-00009", "breach", "2020Q4", "ev-old")}, true).errors.at(0).error.code,
            "stale_quarter");
}

// notice.required: status changes only from a confirmed notice or a ruling; registrations and
// commitments from anyone, as before.
TEST_F(EventLogTest, WhereANoticeIsRequiredOnlyANoticeOrARulingPublishesAStatusChange) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  log.require_notice(true);
  stage_ok(log, {reg("V02-00001", "V02"), reg("V02-00002", "V02")});
  log.commit_group(kNow);
  for (const std::string publisher : {"office-1", "web:clerk", ""}) {
    const StageResult r = log.stage({status("V02-00001", "credit", "2020Q3", "ev-direct")}, false, publisher);
    ASSERT_EQ(r.errors.size(), 1u) << publisher;
    EXPECT_EQ(r.errors[0].error.code, "notice_required");
    EXPECT_EQ(r.errors[0].error.field, "type");
    EXPECT_TRUE(log.group_empty()) << "nothing staged";
  }
  ASSERT_TRUE(log.stage({status("V02-00001", "credit", "2020Q3", "ev-notice")}, false, notice_publisher("V02")).ok());
  WireEvent ruling = status("V02-00002", "breach", "2020Q3", "ruling-TS-2026-000001");
  ruling.complaint_id = "TS-2026-000001";
  ASSERT_TRUE(log.stage({ruling}, false, ruling_publisher("TS-2026-000001")).ok());

  log.require_notice(false);  // the default: straight to final
  EXPECT_TRUE(log.stage({status("V02-00001", "breach", "2020Q4", "ev-direct")}, true, "office-1").ok());
}

// A ruling on a quarter the household was never evaluated for corrects "unevaluated".
TEST_F(EventLogTest, ARulingOnAQuarterWithoutAnEvaluationCorrectsUnevaluated) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V02-00010", "V02"), status("V02-00010", "credit", "2021Q2", "ev-q2")});
  log.commit_group(kNow);
  WireEvent ruling = status("V02-00010", "breach", "2020Q1", "TS-2026-000009-correction");
  ruling.complaint_id = "TS-2026-000009";
  ASSERT_TRUE(log.stage({ruling}, false, ruling_publisher("TS-2026-000009")).ok());
  log.commit_group(kNow);
  RawDb raw(path_);
  const auto row = raw.event("TS-2026-000009-correction");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->previous_status, "unevaluated");
  EXPECT_EQ(row->previous_quarter, "");
  EXPECT_EQ(row->correction, 2);
  EXPECT_EQ(raw.household("V02-00010"), std::make_pair(std::string("credit"), std::string("2021Q2")));
}

TEST_F(EventLogTest, CorrectionWithinOneGroupSeesTheStagedDecision) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V02-00008", "V02")});
  stage_ok(log, {status("V02-00008", "breach", "2020Q3", "ev-a")});
  stage_ok(log, {status("V02-00008", "credit", "2020Q3", "ev-b")});
  log.commit_group(kNow);
  RawDb raw(path_);
  const auto b = raw.event("ev-b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->correction, 1);
  EXPECT_EQ(b->previous_status, "breach");
  EXPECT_EQ(b->previous_quarter, "2020Q3");
}

TEST_F(EventLogTest, ReRegistrationKeepsTheEvaluation) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V01-00001", "V01", "reg-1"), status("V01-00001", "credit", "2020Q4")});
  log.commit_group(kNow);
  stage_ok(log, {reg("V01-00001", "V02", "reg-2")});  // moved village
  log.commit_group(kNow);
  EventLog reopened(std::make_unique<store::SqliteEventStore>(path_));
  const StageResult r = reopened.stage({status("V01-00001", "breach", "2020Q3")}, true);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].error.code, "stale_quarter");
  RawDb raw(path_);
  EXPECT_EQ(raw.household("V01-00001"), std::make_pair(std::string("credit"), std::string("2020Q4")));
  stage_ok(reopened, {status("V01-00001", "breach", "2021Q1", "ev-moved")});
  reopened.commit_group(kNow);
  EXPECT_EQ(raw.event("ev-moved")->village, "V02");
}

// --- idempotency ----------------------------------------------------------------------------

TEST_F(EventLogTest, DuplicateReturnsTheOriginalSeqInGroupAfterCommitAndAfterRestart) {
  const WireEvent r = reg("V01-00001");
  const WireEvent s = status("V01-00001", "credit", "2020Q3");
  {
    EventLog log(std::make_unique<store::SqliteEventStore>(path_));
    // Twice in the same request.
    const StageResult same_request = log.stage({r, r}, false);
    ASSERT_TRUE(same_request.ok());
    ASSERT_EQ(same_request.results.size(), 2u);
    EXPECT_EQ(same_request.results[0].seq, 1u);
    EXPECT_FALSE(same_request.results[0].duplicate);
    EXPECT_EQ(same_request.results[1].seq, 1u);
    EXPECT_TRUE(same_request.results[1].duplicate);
    EXPECT_EQ(log.group_size(), 1u);

    stage_ok(log, {s});
    // In a later request of the same group.
    const StageResult same_group = log.stage({s}, false);
    ASSERT_TRUE(same_group.ok());
    EXPECT_EQ(same_group.results[0].seq, 2u);
    EXPECT_TRUE(same_group.results[0].duplicate);
    EXPECT_EQ(log.group_size(), 2u);
    log.commit_group(kNow);

    // After commit.
    const StageResult after_commit = log.stage({s, r}, false);
    ASSERT_TRUE(after_commit.ok());
    EXPECT_EQ(after_commit.results[0].seq, 2u);
    EXPECT_TRUE(after_commit.results[0].duplicate);
    EXPECT_EQ(after_commit.results[1].seq, 1u);
    EXPECT_TRUE(after_commit.results[1].duplicate);
    EXPECT_TRUE(log.group_empty()) << "a duplicate stages nothing";
  }
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));  // restart
  const StageResult after_restart = log.stage({r, s}, false);
  ASSERT_TRUE(after_restart.ok());
  EXPECT_EQ(after_restart.results[0].seq, 1u);
  EXPECT_TRUE(after_restart.results[0].duplicate);
  EXPECT_EQ(after_restart.results[1].seq, 2u);
  EXPECT_TRUE(after_restart.results[1].duplicate);
  EXPECT_TRUE(log.group_empty());
  // A duplicate consumes no sequence number.
  EXPECT_EQ(stage_ok(log, {reg("V01-00002")}), (std::vector<std::uint64_t>{3}));
}

TEST_F(EventLogTest, DuplicateIsRecognisedEvenWhenItsRuleWouldNowFail) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  const WireEvent old_quarter = status("V01-00001", "credit", "2020Q3");
  stage_ok(log, {reg("V01-00001"), old_quarter, status("V01-00001", "credit", "2020Q4")});
  log.commit_group(kNow);
  // Republishing the 2020Q3 event is idempotent, not stale.
  const StageResult r = log.stage({old_quarter}, false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.results[0].duplicate);
  EXPECT_EQ(r.results[0].seq, 2u);
}

TEST_F(EventLogTest, SameIdWithDifferentContentIsAConflictEverywhere) {
  auto expect_conflict = [](const StageResult& r, std::size_t index) {
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].index, index);
    EXPECT_EQ(r.errors[0].error.code, "conflict");
    EXPECT_EQ(r.errors[0].error.field, "event_id");
    EXPECT_TRUE(r.results.empty());
  };
  const WireEvent original = status("V01-00001", "non_credit", "2020Q3", "ev-x");
  const WireEvent changed = status("V01-00001", "credit", "2020Q3", "ev-x");
  {
    EventLog log(std::make_unique<store::SqliteEventStore>(path_));
    stage_ok(log, {reg("V01-00001")});
    expect_conflict(log.stage({original, changed}, false), 1);  // same request
    stage_ok(log, {original});
    expect_conflict(log.stage({changed}, false), 0);  // same group
    log.commit_group(kNow);
    expect_conflict(log.stage({changed}, false), 0);  // after commit
    EXPECT_NE(log.stage({changed}, false).errors[0].error.message.find("seq 2"), std::string::npos);
  }
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  expect_conflict(log.stage({changed}, false), 0);  // after restart
  expect_conflict(log.stage({reg("V01-00001", "V01", "ev-x")}, false), 0);  // another type, same id
}

// --- atomic requests and dry runs ----------------------------------------------------------

TEST_F(EventLogTest, OneBadEventStagesNothingAndEveryBadIndexIsReported) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V01-00001"), status("V01-00001", "credit", "2020Q4", "ev-q4")});
  log.commit_group(kNow);

  const std::vector<WireEvent> request = {
      reg("V01-00002"),                                         // 0 ok
      commit_letter("V09-09999"),                               // 1 unknown household
      status("V01-00002", "credit", "2020Q3"),                  // 2 ok (registered by 0)
      status("V01-00001", "breach", "2020Q3"),                  // 3 stale
      status("V01-00001", "non_credit", "2020Q4", "ev-q4"),     // 4 conflict
      status("V09-09998", "credit", "2020Q3"),                  // 5 unknown household
  };
  const StageResult r = log.stage(request, false);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.results.empty());
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(r.errors[0].index, 1u);
  EXPECT_EQ(r.errors[0].error.code, "unknown_household");
  EXPECT_EQ(r.errors[1].index, 3u);
  EXPECT_EQ(r.errors[1].error.code, "stale_quarter");
  EXPECT_EQ(r.errors[2].index, 4u);
  EXPECT_EQ(r.errors[2].error.code, "conflict");
  EXPECT_EQ(r.errors[3].index, 5u);
  EXPECT_EQ(r.errors[3].error.code, "unknown_household");
  EXPECT_TRUE(log.group_empty());

  // Nothing of the rejected request is visible: V01-00002 is still unknown, and its seqs are free.
  const StageResult probe = log.stage({commit_letter("V01-00002")}, true);
  ASSERT_EQ(probe.errors.size(), 1u);
  EXPECT_EQ(probe.errors[0].error.code, "unknown_household");
  EXPECT_EQ(stage_ok(log, {reg("V01-00002"), status("V01-00002", "credit", "2020Q3")}),
            (std::vector<std::uint64_t>{3, 4}));
  log.commit_group(kNow);
  RawDb raw(path_);
  EXPECT_EQ(raw.seqs(), (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_FALSE(raw.event("com-V09-09999"));
}

TEST_F(EventLogTest, DryRunValidatesAndStagesNothing) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V01-00001")});
  log.commit_group(kNow);

  const auto preview = stage_ok(log, {reg("V01-00002"), status("V01-00002", "credit", "2020Q3")}, true);
  EXPECT_EQ(preview, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_TRUE(log.group_empty());
  log.commit_group(kNow);
  EXPECT_EQ(log.last_seq(), 1u);

  // The dry run registered nothing.
  const StageResult after = log.stage({status("V01-00002", "credit", "2020Q3")}, true);
  ASSERT_EQ(after.errors.size(), 1u);
  EXPECT_EQ(after.errors[0].error.code, "unknown_household");
  // A dry run reports errors like a real one.
  const StageResult bad = log.stage({commit_letter("V09-00001")}, true);
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].error.code, "unknown_household");

  // The same events staged for real get the seqs the preview showed.
  EXPECT_EQ(stage_ok(log, {reg("V01-00002"), status("V01-00002", "credit", "2020Q3")}), preview);
  log.commit_group(kNow);
  RawDb raw(path_);
  EXPECT_EQ(raw.seqs(), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST_F(EventLogTest, EventsStagedEarlierInTheGroupAreVisibleToLaterRequests) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  EXPECT_EQ(stage_ok(log, {reg("V05-00001", "V05")}), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(stage_ok(log, {status("V05-00001", "breach", "2020Q3")}), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(stage_ok(log, {commit_letter("V05-00001")}), (std::vector<std::uint64_t>{3}));
  // Dry runs see the staged group too.
  EXPECT_EQ(stage_ok(log, {status("V05-00001", "credit", "2020Q4")}, true), (std::vector<std::uint64_t>{4}));
  EXPECT_EQ(log.household_count(), 0u) << "committed state changes only on commit";
  log.commit_group(kNow);
  EXPECT_EQ(log.household_count(), 1u);
  RawDb raw(path_);
  EXPECT_EQ(raw.event("ev-2020Q3-V05-00001-breach")->village, "V05");
  EXPECT_EQ(raw.event("com-V05-00001")->village, "V05");
  EXPECT_EQ(raw.seqs(), (std::vector<std::int64_t>{1, 2, 3}));
}

// --- restart ----------------------------------------------------------------------------------

TEST_F(EventLogTest, StateReloadsAfterReopening) {
  {
    EventLog log(std::make_unique<store::SqliteEventStore>(path_));
    stage_ok(log, {reg("V01-00001"), reg("V01-00002"), status("V01-00001", "non_credit", "2020Q4")});
    log.commit_group(kNow);
  }
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  EXPECT_EQ(log.household_count(), 2u);
  // Registered households are known.
  stage_ok(log, {commit_letter("V01-00002")}, true);
  // Unregistered ones are not.
  EXPECT_EQ(log.stage({commit_letter("V01-00003")}, true).errors.at(0).error.code, "unknown_household");
  // The current quarter survived the restart: older is stale, same is a correction.
  EXPECT_EQ(log.stage({status("V01-00001", "credit", "2020Q3")}, true).errors.at(0).error.code, "stale_quarter");
  stage_ok(log, {status("V01-00001", "credit", "2020Q4", "ev-fix")});
  log.commit_group(kNow);
  RawDb raw(path_);
  const auto fix = raw.event("ev-fix");
  ASSERT_TRUE(fix);
  EXPECT_EQ(fix->correction, 1);
  EXPECT_EQ(fix->previous_status, "non_credit");
  EXPECT_EQ(fix->previous_quarter, "2020Q4");
}

// --- commit failures --------------------------------------------------------------------------

// A trigger installed through a second connection makes the last statement of the group's
// transaction fail, after the event rows were already inserted: a real failed SQLite
// transaction that must roll back completely.
TEST_F(EventLogTest, FailedCommitLeavesStateUnchangedAndTheGroupCanBeRetried) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V01-00001"), status("V01-00001", "credit", "2020Q3")});
  log.commit_group(kNow);

  const std::vector<WireEvent> group = {status("V01-00001", "non_credit", "2020Q4"), reg("V01-00002"),
                                        status("V01-00002", "breach", "2020Q4")};
  EXPECT_EQ(stage_ok(log, group), (std::vector<std::uint64_t>{3, 4, 5}));

  RawDb raw(path_);
  raw.exec(
      "CREATE TRIGGER inject_failure BEFORE UPDATE OF status ON household WHEN NEW.household_id = 'V01-00002' "
      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  try {
    log.commit_group(kNow);
    ADD_FAILURE() << "commit_group should have thrown";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("injected failure"), std::string::npos) << e.what();
    EXPECT_EQ(e.status().code, "storage_unavailable");
    EXPECT_FALSE(e.outcome_unknown()) << "a statement failed before the commit: nothing was written";
  }

  // The group was dropped, nothing reached the file, and the in-memory state is the old one.
  EXPECT_TRUE(log.group_empty());
  EXPECT_EQ(log.last_seq(), 2u);
  EXPECT_EQ(log.household_count(), 1u);
  EXPECT_EQ(raw.seqs(), (std::vector<std::int64_t>{1, 2}));
  EXPECT_FALSE(raw.household("V01-00002"));
  EXPECT_EQ(raw.household("V01-00001"), std::make_pair(std::string("credit"), std::string("2020Q3")));
  // V01-00001 is still at 2020Q3 (a 2020Q3 event is a correction, not stale) …
  stage_ok(log, {status("V01-00001", "breach", "2020Q3")}, true);
  // … V01-00002 is unregistered, and the failed event ids are free again.
  EXPECT_EQ(log.stage({commit_letter("V01-00002")}, true).errors.at(0).error.code, "unknown_household");

  // Once the fault is gone the same events commit with the same seqs.
  raw.exec("DROP TRIGGER inject_failure");
  const StageResult retry = log.stage(group, false);
  ASSERT_TRUE(retry.ok());
  for (std::size_t i = 0; i < retry.results.size(); ++i) {
    EXPECT_EQ(retry.results[i].seq, 3 + i);
    EXPECT_FALSE(retry.results[i].duplicate) << "a failed commit must not leave the ids behind";
  }
  log.commit_group(kNow);
  EXPECT_EQ(log.last_seq(), 5u);
  EXPECT_EQ(raw.seqs(), (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  const auto q4 = raw.event(group[0].event_id);
  ASSERT_TRUE(q4);
  EXPECT_EQ(q4->previous_status, "credit");
  EXPECT_EQ(q4->correction, 0);

  EventLog reopened(std::make_unique<store::SqliteEventStore>(path_));
  EXPECT_EQ(reopened.last_seq(), 5u);
  EXPECT_EQ(reopened.household_count(), 2u);
}

// The database is locked by another writer for longer than the busy timeout (5 s): the commit
// fails with SQLITE_BUSY, a storage failure. Slow by design; the only such test.
TEST_F(EventLogTest, CommitFailsWhileAnotherWriterHoldsTheLockThenSucceeds) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V01-00001")});
  log.commit_group(kNow);
  const std::vector<WireEvent> group = {status("V01-00001", "credit", "2020Q3"), reg("V01-00002")};
  stage_ok(log, group);

  RawDb other(path_);
  other.exec("BEGIN EXCLUSIVE");
  const auto started = std::chrono::steady_clock::now();
  try {
    log.commit_group(kNow);
    ADD_FAILURE() << "commit_group should have thrown";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
    EXPECT_EQ(e.status().storage, StorageKind::kUnavailable) << "SQLITE_BUSY: another writer holds the file";
    EXPECT_FALSE(e.outcome_unknown());
  }
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
  other.exec("ROLLBACK");

  EXPECT_TRUE(log.group_empty());
  EXPECT_EQ(log.last_seq(), 1u);
  EXPECT_EQ(log.household_count(), 1u);
  EXPECT_EQ(stage_ok(log, group), (std::vector<std::uint64_t>{2, 3}));
  log.commit_group(kNow);
  EXPECT_EQ(log.last_seq(), 3u);
  EXPECT_EQ(other.seqs(), (std::vector<std::int64_t>{1, 2, 3}));
}

// The real SQLite store behind the EventStore interface, for a test store to change one call
// (append()) and forward the rest.
class ForwardingStore : public EventStore {
 public:
  explicit ForwardingStore(const std::string& path) : real_(path) {}

  std::vector<StoredHousehold> load_households() override { return real_.load_households(); }
  std::uint64_t last_seq() override { return real_.last_seq(); }
  std::uint64_t chained_at_open() const override { return real_.chained_at_open(); }
  std::unique_ptr<Lookups> lookups() override { return real_.lookups(); }
  void each_event_id(const std::function<void(std::string_view)>& visit) override { real_.each_event_id(visit); }
  void append(const std::vector<StagedEvent>& group, std::int64_t received_at_ms) override {
    real_.append(group, received_at_ms);
  }

 private:
  store::SqliteEventStore real_;
};

// What a networked backend can do and SQLite cannot: the commit is done, and its answer is lost
// (the connection drops during COMMIT). The real SQLite store does the commit; the answer it
// gives the event log is the one a lost connection gives.
class LostAnswerStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  bool lose_next_answer = false;

  void append(const std::vector<StagedEvent>& group, std::int64_t received_at_ms) override {
    ForwardingStore::append(group, received_at_ms);
    if (!lose_next_answer) return;
    lose_next_answer = false;
    throw StorageError(Status{"storage_unavailable", "the connection was lost during COMMIT", "",
                              StorageKind::kUnavailable, /*outcome_unknown=*/true});
  }
};

// After a commit whose outcome is unknown the event log reads the store again before it stages
// anything: the events that were stored after all are duplicates with their seqs when they are
// sent again, and the next event follows them. (Assuming the commit rolled back would give the
// same event_id a second seq, which the store refuses.)
TEST_F(EventLogTest, AfterACommitWithAnUnknownOutcomeWhatWasStoredIsReadAgain) {
  auto owned = std::make_unique<LostAnswerStore>(path_);
  LostAnswerStore& store = *owned;
  EventLog log(std::move(owned));
  stage_ok(log, {reg("V01-00001")});
  log.commit_group(kNow);

  const std::vector<WireEvent> group = {reg("V01-00002"), status("V01-00002", "breach", "2021Q1")};
  EXPECT_EQ(stage_ok(log, group), (std::vector<std::uint64_t>{2, 3}));
  store.lose_next_answer = true;
  try {
    log.commit_group(kNow);
    ADD_FAILURE() << "commit_group should have thrown";
  } catch (const StorageError& e) {
    EXPECT_TRUE(e.outcome_unknown());
  }
  EXPECT_TRUE(log.group_empty());

  // Sent again: both are duplicates with the seqs they were stored with, nothing is staged.
  const StageResult again = log.stage(group, false);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again.results.size(), 2u);
  EXPECT_TRUE(again.results[0].duplicate);
  EXPECT_EQ(again.results[0].seq, 2u);
  EXPECT_TRUE(again.results[1].duplicate);
  EXPECT_EQ(again.results[1].seq, 3u);
  EXPECT_TRUE(log.group_empty());
  EXPECT_EQ(log.last_seq(), 3u);
  EXPECT_EQ(log.household_count(), 2u);
  // The household's evaluation was read again too: an older quarter is stale now.
  const StageResult stale = log.stage({status("V01-00002", "credit", "2020Q4")}, true);
  ASSERT_EQ(stale.errors.size(), 1u);
  EXPECT_EQ(stale.errors[0].error.code, "stale_quarter");
  // And the next event follows the stored ones.
  EXPECT_EQ(stage_ok(log, {reg("V01-00003")}), (std::vector<std::uint64_t>{4}));
  log.commit_group(kNow);
  EXPECT_EQ(RawDb(path_).seqs(), (std::vector<std::int64_t>{1, 2, 3, 4}));
}

// --- pipelined commit -----------------------------------------------------------------------

// A store whose append() waits at a gate before it writes, so that a test can stage the next
// group while the previous one is, for the event log, being written on another thread. The real
// SQLite store does the writing and the look-ups.
class GatedStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::promise<void> gate;

  void append(const std::vector<StagedEvent>& group, std::int64_t received_at_ms) override {
    gate.get_future().wait();
    ForwardingStore::append(group, received_at_ms);
  }
};

// The next group is staged on top of the one in flight: its households are known, its ids are
// duplicates with their seqs, its quarters make older ones stale, and seqs follow on; the store's
// look-ups run while its write is under way on another thread.
TEST_F(EventLogTest, TheNextGroupIsStagedOnTopOfTheGroupInFlight) {
  auto owned = std::make_unique<GatedStore>(path_);
  GatedStore& store = *owned;
  EventLog log(std::move(owned));
  store.gate.set_value();
  stage_ok(log, {reg("V01-00001")});
  log.commit_group(kNow);
  store.gate = {};  // the next write waits

  const std::vector<WireEvent> first = {reg("V01-00002"), status("V01-00002", "credit", "2021Q1")};
  EXPECT_EQ(stage_ok(log, first), (std::vector<std::uint64_t>{2, 3}));
  ASSERT_TRUE(log.begin_commit());
  EXPECT_FALSE(log.begin_commit()) << "one group in flight at a time";
  EXPECT_TRUE(log.in_flight());
  EXPECT_TRUE(log.group_empty());
  std::thread writer([&] { log.write_in_flight(kNow + 1); });

  const StageResult again = log.stage({first[1]}, false);  // the same event: a duplicate of seq 3
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.results.at(0).duplicate);
  EXPECT_EQ(again.results.at(0).seq, 3u);
  const StageResult stale = log.stage({status("V01-00002", "breach", "2020Q4")}, true);
  ASSERT_EQ(stale.errors.size(), 1u);
  EXPECT_EQ(stale.errors[0].error.code, "stale_quarter");
  EXPECT_EQ(stage_ok(log, {commit_letter("V01-00002"), reg("V01-00003")}), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(RawDb(path_).seqs(), (std::vector<std::int64_t>{1})) << "nothing of the group in flight is written yet";

  store.gate.set_value();
  writer.join();
  log.end_commit(nullptr);
  EXPECT_FALSE(log.in_flight());
  EXPECT_EQ(log.last_seq(), 3u);
  EXPECT_EQ(log.group_size(), 2u);
  store.gate = {};
  store.gate.set_value();
  log.commit_group(kNow + 2);
  EXPECT_EQ(log.last_seq(), 5u);
  EXPECT_EQ(RawDb(path_).seqs(), (std::vector<std::int64_t>{1, 2, 3, 4, 5}));

  EventLog reopened(std::make_unique<store::SqliteEventStore>(path_));
  EXPECT_EQ(reopened.last_seq(), 5u);
  EXPECT_EQ(reopened.household_count(), 3u);
}

// A group in flight that cannot be written takes the group staged on top of it down too (its
// seqs and states followed the lost one): both are dropped, the state is the committed one, and
// both groups' events are stored with the same seqs once they are sent again.
TEST_F(EventLogTest, AFailedWriteInFlightDropsTheGroupStagedOnTopOfIt) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V01-00001")});
  log.commit_group(kNow);

  RawDb raw(path_);
  raw.exec(
      "CREATE TRIGGER inject_failure BEFORE INSERT ON household WHEN NEW.household_id = 'V01-00002' "
      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  const std::vector<WireEvent> first = {reg("V01-00002")};
  const std::vector<WireEvent> second = {status("V01-00002", "credit", "2021Q1"), status("V01-00001", "breach", "2021Q1")};
  EXPECT_EQ(stage_ok(log, first), (std::vector<std::uint64_t>{2}));
  ASSERT_TRUE(log.begin_commit());
  EXPECT_EQ(stage_ok(log, second), (std::vector<std::uint64_t>{3, 4}));
  std::optional<StorageError> failure;
  std::thread writer([&] {
    try {
      log.write_in_flight(kNow + 1);
    } catch (const StorageError& e) {
      failure = e;
    }
  });
  writer.join();
  ASSERT_TRUE(failure) << "the trigger refuses the household row";
  EXPECT_FALSE(failure->outcome_unknown());
  log.end_commit(&*failure);

  EXPECT_FALSE(log.in_flight());
  EXPECT_TRUE(log.group_empty()) << "the group staged on the failed one is dropped with it";
  EXPECT_EQ(log.last_seq(), 1u);
  EXPECT_EQ(log.household_count(), 1u);
  EXPECT_EQ(raw.seqs(), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(log.stage({second[0]}, true).errors.at(0).error.code, "unknown_household");

  raw.exec("DROP TRIGGER inject_failure");
  EXPECT_EQ(stage_ok(log, first), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(stage_ok(log, second), (std::vector<std::uint64_t>{3, 4}));
  log.commit_group(kNow + 2);
  EXPECT_EQ(raw.seqs(), (std::vector<std::int64_t>{1, 2, 3, 4}));
}

TEST_F(EventLogTest, CommitGroupRefusesWhileAGroupIsInFlight) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path_));
  stage_ok(log, {reg("V01-00001")});
  ASSERT_TRUE(log.begin_commit());
  stage_ok(log, {reg("V01-00002")});
  EXPECT_THROW(log.commit_group(kNow), std::logic_error);
  log.write_in_flight(kNow);
  log.end_commit(nullptr);
  log.commit_group(kNow);
  EXPECT_EQ(log.last_seq(), 2u);
}

// The id filter at its smallest (1,024 ids) fills and is rebuilt several times over 5,000
// events; with many false positives on the way, every id is still new exactly once, a duplicate
// after a rebuild and after a restart is still answered with its seq, and a conflict still found.
TEST_F(EventLogTest, TheIdFilterIsRebuiltAsItFillsAndNeverHidesAStoredId) {
  {
    EventLog log(std::make_unique<store::SqliteEventStore>(path_), /*min_filter_capacity=*/1024);
    for (int batch = 0; batch < 10; ++batch) {
      std::vector<WireEvent> events;
      for (int i = 0; i < 500; ++i) {
        char household[16];
        std::snprintf(household, sizeof household, "V01-%05d", batch * 500 + i);
        events.push_back(reg(household));
      }
      const auto seqs = stage_ok(log, events);
      ASSERT_EQ(seqs.size(), 500u);
      EXPECT_EQ(seqs.front(), static_cast<std::uint64_t>(batch * 500 + 1));
      log.commit_group(kNow);
    }
    const StageResult again = log.stage({reg("V01-00000"), reg("V01-04999")}, false);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again.results[0].duplicate);
    EXPECT_EQ(again.results[0].seq, 1u);
    EXPECT_TRUE(again.results[1].duplicate);
    EXPECT_EQ(again.results[1].seq, 5000u);
    const StageResult conflict = log.stage({reg("V01-00042", "V02", "reg-V01-00042")}, true);
    ASSERT_EQ(conflict.errors.size(), 1u);
    EXPECT_EQ(conflict.errors[0].error.code, "conflict");
  }
  EventLog reopened(std::make_unique<store::SqliteEventStore>(path_), 1024);
  const StageResult again = reopened.stage({reg("V01-02500")}, false);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.results[0].duplicate);
  EXPECT_EQ(again.results[0].seq, 2501u);
  EXPECT_EQ(stage_ok(reopened, {reg("V01-05000")}), (std::vector<std::uint64_t>{5001}));
}

TEST_F(EventLogTest, SchemaIsCreatedAndReopenable) {
  { EventLog log(std::make_unique<store::SqliteEventStore>(path_)); }
  EXPECT_TRUE(fs::exists(path_));
  { EventLog again(std::make_unique<store::SqliteEventStore>(path_)); EXPECT_EQ(again.last_seq(), 0u); }
  EXPECT_NE(std::string(store::event_log_schema()).find("CREATE TABLE IF NOT EXISTS event"), std::string::npos);
}

}  // namespace
}  // namespace hub

// The views whose cost must not grow with the ledger (docs/benchmarks.md, the county's views).
//
// /metrics' running counts (sqlite_ledger.h's `tally`, events.db's `event_tally`) against the
// rows they count: after commits of every kind (deliveries with latencies in every bucket, each
// kind of action, failures, parked events, a commit that fails), the views' metrics() equal a
// recount made here with SQL over the rows — and again after both files are put back to the
// schema before the tallies and upgraded, which counts them from the rows.
//
// Reconciliation's one pass (each_current_evaluation, earlier_actions): every evaluated
// household once, in household_id order, with exactly the rows of its current event, also
// before any department has a cursor.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "delivery/ledger.h"
#include "domain/delivery_latency.h"
#include "eventlog/event_log.h"
#include "store/sqlite/database.h"
#include "store/sqlite/sqlite_event_store.h"
#include "store/sqlite/sqlite_ledger.h"
#include "store/sqlite/sqlite_report_views.h"
#include "testing/temp_dir.h"

namespace hub {
namespace {

using delivery::LedgerBatch;
using hub::sdk::ActionKind;
using hub::testing::TempDir;
using nlohmann::json;
using report::MetricsCounts;

constexpr std::int64_t kNow = 1'600'000'000'000;
constexpr int kHouseholds = 60;

WireEvent make(const json& j) {
  auto parsed = parse_event(j);
  if (auto* e = parsed.error()) throw std::runtime_error("bad test event: " + e->message);
  return parsed.value();
}

std::string household(int n) { return "V01-" + std::to_string(10000 + n); }

// Registrations, commitments and an evaluation per household, in three groups received a
// minute apart: seq 1..60, 61..120, 121..180.
void make_event_log(const std::string& path) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path));
  for (int group = 0; group < 3; ++group) {
    std::vector<WireEvent> events;
    for (int n = 1; n <= kHouseholds; ++n) {
      if (group == 0)
        events.push_back(make({{"type", "household"}, {"event_id", "reg-" + std::to_string(n)},
                               {"household_id", household(n)}, {"village", "V01"}, {"members", 3}}));
      else if (group == 1)
        events.push_back(make({{"type", "commitment"}, {"event_id", "com-" + std::to_string(n)},
                               {"household_id", household(n)}, {"signed_on", "2020-04-15"}}));
      else
        events.push_back(make({{"type", "status_change"}, {"event_id", "ev-" + std::to_string(n)},
                               {"household_id", household(n)}, {"status", n % 3 ? "credit" : "non_credit"},
                               {"quarter", "2020Q3"}}));
    }
    const StageResult r = log.stage(events, false, "fp-office");
    ASSERT_TRUE(r.ok()) << r.errors.front().error.message;
    log.commit_group(kNow + group * 60'000);
  }
}

// What the figures must be: the rows, counted.
MetricsCounts recount(const std::string& dir) {
  store::Database db(dir + "/ledger.db", store::Database::Mode::kReadWrite);
  store::Statement attach(db, "ATTACH DATABASE ? AS ev");
  attach.bind(1, dir + "/events.db");
  attach.run();
  MetricsCounts out;
  store::Statement events(db, "SELECT type, COUNT(*), MAX(seq) FROM ev.event GROUP BY type");
  while (events.step()) {
    out.events[events.column_text(0)] = events.column_int(1);
    out.last_seq = std::max(out.last_seq, events.column_int(2));
  }
  store::Statement deliveries(db, "SELECT department, COUNT(*) FROM delivery GROUP BY department");
  while (deliveries.step()) out.departments[deliveries.column_text(0)].deliveries = deliveries.column_int(1);
  store::Statement failures(db, "SELECT department, COUNT(*) FROM failure GROUP BY department");
  while (failures.step()) out.departments[failures.column_text(0)].failures = failures.column_int(1);
  store::Statement actions(db, "SELECT department, action, COUNT(*) FROM action GROUP BY department, action");
  while (actions.step())
    out.departments[actions.column_text(0)].actions[actions.column_text(1)] = actions.column_int(2);
  std::string sql = "SELECT d.department";
  for (std::int64_t bound : kDeliveryLatencyBoundsMs)
    sql += ", SUM(d.delivered_at_ms - e.received_at_ms <= " + std::to_string(bound) + ")";
  sql += ", COUNT(*), SUM(d.delivered_at_ms - e.received_at_ms) FROM delivery d JOIN ev.event e ON e.seq = d.seq "
         "GROUP BY d.department";
  store::Statement latency(db, sql.c_str());
  const int n = static_cast<int>(kDeliveryLatencyBoundsMs.size());
  while (latency.step()) {
    report::LatencyHistogram h;
    for (int i = 0; i < n; ++i) h.buckets.push_back(latency.column_int(1 + i));
    h.count = latency.column_int(1 + n);
    h.sum_ms = latency.column_int(2 + n);
    out.departments[latency.column_text(0)].latency = std::move(h);
  }
  return out;
}

void expect_equal(const MetricsCounts& got, const MetricsCounts& want) {
  EXPECT_EQ(got.events, want.events);
  EXPECT_EQ(got.last_seq, want.last_seq);
  ASSERT_EQ(got.departments.size(), want.departments.size());
  for (const auto& [id, w] : want.departments) {
    SCOPED_TRACE(id);
    const auto& g = got.departments.at(id);
    EXPECT_EQ(g.deliveries, w.deliveries);
    EXPECT_EQ(g.failures, w.failures);
    EXPECT_EQ(g.actions, w.actions);
    ASSERT_EQ(g.latency.has_value(), w.latency.has_value());
    if (!w.latency) continue;
    EXPECT_EQ(g.latency->buckets, w.latency->buckets);
    EXPECT_EQ(g.latency->count, w.latency->count);
    EXPECT_EQ(g.latency->sum_ms, w.latency->sum_ms);
  }
}

hub::sdk::PolicyAction action(int n, const std::string& policy, ActionKind kind) {
  hub::sdk::PolicyAction a;
  a.household_id = household(n);
  a.policy_id = policy;
  a.action = kind;
  if (kind == ActionKind::kRelease) a.amount_fen = 100 * n;
  a.reason = "reason " + std::to_string(static_cast<int>(kind));
  return a;
}

// Delivers the 60 evaluations (seq 121..180) to three departments in random rounds, with
// failures, a parked event, every kind of action and latencies in every bucket.
void deliver(store::SqliteLedger& ledger, std::mt19937& rng) {
  const std::vector<std::string> departments{"finance", "land", "schools"};
  std::map<std::string, std::uint64_t> cursor{{"finance", 120}, {"land", 120}, {"schools", 120}};
  // Each round's "now", so that latencies (now - received at kNow + 120 s) fall in every
  // bucket, +Inf included, and one is negative (a clock set back).
  const std::int64_t received = kNow + 120'000;
  std::vector<std::int64_t> nows{received - 5};
  for (std::int64_t bound : kDeliveryLatencyBoundsMs) nows.push_back(received + bound);
  nows.push_back(received + 900'000);
  std::size_t round = 0;
  while (cursor["finance"] < 180 || cursor["land"] < 180 || cursor["schools"] < 180) {
    std::vector<LedgerBatch> batches;
    for (const auto& department : departments) {
      if (cursor[department] >= 180) continue;
      LedgerBatch b;
      b.department = department;
      b.plugin_version = "1.0.0";
      const std::uint64_t last = std::min<std::uint64_t>(180, cursor[department] + 1 + rng() % 7);
      for (std::uint64_t seq = cursor[department] + 1; seq <= last; ++seq) {
        const int n = static_cast<int>(seq - 120);
        if (seq % 11 == 0) {  // a failed attempt before it is delivered
          b.failures.push_back({seq, 1 + static_cast<std::uint32_t>(rng() % 3), "timed out"});
        }
        if (department == "land" && seq == 150) {
          b.parked.push_back({seq, household(n), "ev-" + std::to_string(n), "refused", 5, 0});
          continue;
        }
        runtime::DeliveredEvent d;
        d.seq = seq;
        d.household_id = household(n);
        d.event_id = "ev-" + std::to_string(n);
        d.received_at_ms = received;
        for (int k = 0; k <= static_cast<int>(rng() % 6); ++k)
          d.actions.push_back(action(n, department + "." + std::to_string(k), static_cast<ActionKind>(rng() % 6)));
        b.delivered.push_back(std::move(d));
      }
      b.new_cursor = last;
      batches.push_back(std::move(b));
    }
    const std::int64_t now = nows[round++ % nows.size()];
    ledger.commit(batches, now);
    for (const auto& b : batches) cursor[b.department] = b.new_cursor;
  }
}

// The event log and a ledger with every evaluation delivered (deliver(), seeded).
void make_delivered_hub_files(const TempDir& dir, unsigned seed) {
  make_event_log(dir.file("events.db"));
  std::mt19937 rng(seed);
  store::SqliteLedger ledger(dir.file("ledger.db"), dir.file("events.db"));
  deliver(ledger, rng);
}

TEST(Tally, MetricsEqualTheRowsTheyCount) {
  TempDir dir;
  make_delivered_hub_files(dir, 7);
  const MetricsCounts counted = recount(dir.str());
  ASSERT_EQ(counted.departments.size(), 3u);
  EXPECT_EQ(counted.departments.at("land").deliveries, 59) << "one of 60 parked";
  EXPECT_GT(counted.departments.at("finance").failures, 0);
  for (std::int64_t bucket : counted.departments.at("schools").latency->buckets) EXPECT_GT(bucket, 0);
  expect_equal(store::open_sqlite_report_views(dir.str())->metrics(), counted);
}

TEST(Tally, AFailedCommitAddsNothing) {
  TempDir dir;
  make_event_log(dir.file("events.db"));
  store::SqliteLedger ledger(dir.file("ledger.db"), dir.file("events.db"));
  std::vector<LedgerBatch> batches(1);
  batches[0].department = "finance";
  batches[0].new_cursor = 121;
  runtime::DeliveredEvent d;
  d.seq = 121;
  d.household_id = household(1);
  d.event_id = "ev-1";
  d.received_at_ms = kNow + 120'000;
  d.actions.push_back(action(1, "finance.a", ActionKind::kApply));
  batches[0].delivered.push_back(d);
  {
    store::Database other(dir.file("ledger.db"), store::Database::Mode::kReadWrite);
    other.exec("PRAGMA busy_timeout=0");
    other.exec("BEGIN IMMEDIATE");
    EXPECT_THROW(ledger.commit(batches, kNow + 121'000), StorageError);
    other.exec("ROLLBACK");
  }
  EXPECT_TRUE(store::open_sqlite_report_views(dir.str())->metrics().departments.empty());
  ledger.commit(batches, kNow + 121'000);
  const MetricsCounts counts = store::open_sqlite_report_views(dir.str())->metrics();
  expect_equal(counts, recount(dir.str()));
  EXPECT_EQ(counts.departments.at("finance").deliveries, 1);
}

// Files written before the tallies existed (events.db version 1, ledger.db version 6) are
// counted once when hubd opens them.
TEST(Tally, AnUpgradeCountsTheStoredRows) {
  TempDir dir;
  make_delivered_hub_files(dir, 11);
  const MetricsCounts counted = recount(dir.str());
  {
    store::Database events(dir.file("events.db"), store::Database::Mode::kReadWrite);
    events.exec("DROP TABLE event_tally; PRAGMA user_version = 1;");
    store::Database ledger(dir.file("ledger.db"), store::Database::Mode::kReadWrite);
    ledger.exec("DROP TABLE tally; PRAGMA user_version = 6;");
  }
  { store::SqliteEventStore events(dir.file("events.db")); }
  { store::SqliteLedger ledger(dir.file("ledger.db"), dir.file("events.db")); }
  expect_equal(store::open_sqlite_report_views(dir.str())->metrics(), counted);
}

TEST(ReconcilePass, VisitsEveryEvaluatedHouseholdOnceWithItsOwnRows) {
  TempDir dir;
  make_event_log(dir.file("events.db"));
  {
    store::SqliteLedger ledger(dir.file("ledger.db"), dir.file("events.db"));
    // Before any delivery: every household visited, with no rows (to be counted pending).
    std::vector<std::string> visited;
    store::open_sqlite_report_views(dir.str())->each_current_evaluation([&](const report::EvaluationRecords& r) {
      visited.push_back(r.evaluation.household_id);
      EXPECT_TRUE(r.rows.empty());
    });
    ASSERT_EQ(visited.size(), static_cast<std::size_t>(kHouseholds));
    EXPECT_TRUE(std::is_sorted(visited.begin(), visited.end()));
    std::mt19937 rng(3);
    deliver(ledger, rng);
  }
  auto views = store::open_sqlite_report_views(dir.str());
  std::vector<std::string> visited;
  views->each_current_evaluation([&](const report::EvaluationRecords& r) {
    visited.push_back(r.evaluation.household_id);
    const int n = std::stoi(r.evaluation.household_id.substr(4)) - 10000;
    EXPECT_EQ(r.evaluation.seq, 120 + n);
    EXPECT_EQ(r.evaluation.event_id, "ev-" + std::to_string(n));
    EXPECT_EQ(r.evaluation.status, n % 3 ? "credit" : "non_credit");
    // land parked seq 150; the others recorded every evaluation.
    EXPECT_EQ(r.rows.size(), r.evaluation.seq == 150 ? 2u : 3u) << r.evaluation.household_id;
    for (const auto& [department, row] : r.rows) {
      EXPECT_EQ(row.seq, r.evaluation.seq);
      ASSERT_FALSE(row.actions.empty());
      EXPECT_EQ(row.actions.front().first, department + ".0");
    }
  });
  EXPECT_EQ(visited.size(), static_cast<std::size_t>(kHouseholds));
  EXPECT_TRUE(std::is_sorted(visited.begin(), visited.end()));
  // Nothing was delivered before the evaluations (seq 121..180).
  EXPECT_TRUE(views->earlier_actions("finance", household(1), 121).empty());
  EXPECT_EQ(views->earlier_actions("finance", household(1), 122).at("finance.0").seq, 121);
}

}  // namespace
}  // namespace hub

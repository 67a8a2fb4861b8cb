// The views whose cost must not grow with the ledger (docs/benchmarks.md, the county's views).
//
// /metrics' running counts (sqlite_ledger.h's `tally`, events.db's `event_tally`) against the
// rows they count: after commits of every kind (deliveries with latencies in every bucket, each
// kind of action, failures, parked events, a commit that fails), the views' metrics() equal a
// recount made here with SQL over the rows — and again after both files are put back to the
// schema before the tallies and upgraded, which counts them from the rows.
//
// The timeline's running counts (events.db's `status_minute`, the ledger's `delivery_minute`)
// against the rows, counted here per minute with SQL, for windows before, across and after the
// activity — after commits spread over many minutes, a failed commit, and upgrades.
//
// Reconciliation's one pass (each_current_evaluation, earlier_actions): every evaluated
// household once, in household_id order, with exactly the rows of its current event, also
// before any department has a cursor.
//
// The quarterly report's merged read (quarter()): its figures equal those of a query that looks
// each effective evaluation's row up by key, on a log where the quarter's evaluations are dense
// in places and far apart in others, with corrections, and a department that parked one. The
// packed actions read without the JSON parser equal what encode_actions wrote.
#include <algorithm>
#include <optional>
#include <set>
#include <tuple>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "delivery/ledger.h"
#include "domain/activity_minute.h"
#include "domain/delivery_latency.h"
#include "eventlog/event_log.h"
#include "store/sqlite/database.h"
#include "store/sqlite/sqlite_event_store.h"
#include "store/sqlite/sqlite_ledger.h"
#include "store/ledger_records.h"
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

// An event as the dispatcher hands it to the ledger, before the plugin's actions.
runtime::DeliveredEvent delivered(std::uint64_t seq, const std::string& household_id, const std::string& event_id,
                                  std::int64_t received_at_ms) {
  runtime::DeliveredEvent d;
  d.seq = seq;
  d.household_id = household_id;
  d.event_id = event_id;
  d.received_at_ms = received_at_ms;
  return d;
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
          b.parked.push_back({seq, household(n), "ev-" + std::to_string(n), "refused", 5, 0, ""});
          continue;
        }
        runtime::DeliveredEvent d = delivered(seq, household(n), "ev-" + std::to_string(n), received);
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

// What timeline(start, end) must give: the rows, counted per minute, as the view did before it
// had running counts.
report::TimelineCounts recount_timeline(const std::string& dir, std::int64_t start, std::int64_t end) {
  store::Database db(dir + "/ledger.db", store::Database::Mode::kReadWrite);
  store::Statement attach(db, "ATTACH DATABASE ? AS ev");
  attach.bind(1, dir + "/events.db");
  attach.run();
  report::TimelineCounts out;
  store::Statement received(db,
                            "SELECT village, status, MAX(?1 - 1, received_at_ms / 60000 * 60000), COUNT(*) FROM ev.event "
                            "WHERE type = 'status_change' AND received_at_ms < ?2 GROUP BY 1, 2, 3");
  received.bind(1, start).bind(2, end);
  while (received.step())
    out.received.push_back({received.column_text(0), received.column_text(1), received.column_int(2),
                            received.column_int(3)});
  store::Statement delivered(db,
                             "SELECT department, MAX(?1 - 1, delivered_at_ms / 60000 * 60000), COUNT(*) FROM delivery "
                             "WHERE delivered_at_ms < ?2 GROUP BY 1, 2");
  delivered.bind(1, start).bind(2, end);
  while (delivered.step())
    out.delivered.push_back({delivered.column_text(0), delivered.column_int(1), delivered.column_int(2)});
  return out;
}

using ReceivedKey = std::tuple<std::string, std::string, std::int64_t, std::int64_t>;
using DeliveredKey = std::tuple<std::string, std::int64_t, std::int64_t>;

std::set<ReceivedKey> received_set(const report::TimelineCounts& c) {
  std::set<ReceivedKey> out;
  for (const auto& r : c.received) out.emplace(r.village, r.status, r.minute_ms, r.n);
  return out;
}

std::set<DeliveredKey> delivered_set(const report::TimelineCounts& c) {
  std::set<DeliveredKey> out;
  for (const auto& d : c.delivered) out.emplace(d.department, d.minute_ms, d.n);
  return out;
}

// Windows of an hour starting before the first event, at the evaluations, in the middle of the
// deliveries, and after everything (all of it folded into the minute before the window).
void expect_timeline_equals_rows(const TempDir& dir) {
  auto views = store::open_sqlite_report_views(dir.str());
  const std::int64_t first = activity_minute(kNow);
  for (const std::int64_t start : {first - 10 * kActivityMinuteMs, first + 2 * kActivityMinuteMs,
                                   first + 6 * kActivityMinuteMs, first + 120 * kActivityMinuteMs}) {
    SCOPED_TRACE(start - first);
    const std::int64_t end = start + 60 * kActivityMinuteMs;
    const report::TimelineCounts want = recount_timeline(dir.str(), start, end);
    const report::TimelineCounts got = views->timeline(start, end);
    EXPECT_EQ(received_set(got), received_set(want));
    EXPECT_EQ(delivered_set(got), delivered_set(want));
  }
}

// More evaluations after the first ones: a second village's households registered at minute 5
// and evaluated at minute 7 (one alone with its status), and ten of the first village's for the
// next quarter at minute 7.
void add_later_evaluations(const std::string& path) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path));
  std::vector<WireEvent> registrations, evaluations;
  for (int n = 1; n <= 5; ++n) {
    const std::string id = "V02-" + std::to_string(20000 + n);
    registrations.push_back(make({{"type", "household"}, {"event_id", "reg2-" + std::to_string(n)},
                                  {"household_id", id}, {"village", "V02"}, {"members", 2}}));
    evaluations.push_back(make({{"type", "status_change"}, {"event_id", "ev2-" + std::to_string(n)},
                                {"household_id", id}, {"status", n == 5 ? "non_credit" : n % 2 ? "credit" : "breach"},
                                {"quarter", "2020Q3"}}));
  }
  for (int n = 1; n <= 10; ++n)
    evaluations.push_back(make({{"type", "status_change"}, {"event_id", "ev4-" + std::to_string(n)},
                                {"household_id", household(n)}, {"status", "non_credit"}, {"quarter", "2020Q4"}}));
  for (const auto& [events, at] : {std::pair{registrations, kNow + 300'000}, std::pair{evaluations, kNow + 420'000}}) {
    const StageResult r = log.stage(events, false, "fp-office");
    ASSERT_TRUE(r.ok()) << r.errors.front().error.message;
    log.commit_group(at);
  }
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

// Neither the tallies nor the timeline's deliveries per minute.
TEST(Tally, AFailedCommitAddsNothing) {
  TempDir dir;
  make_event_log(dir.file("events.db"));
  store::SqliteLedger ledger(dir.file("ledger.db"), dir.file("events.db"));
  std::vector<LedgerBatch> batches(1);
  batches[0].department = "finance";
  batches[0].new_cursor = 121;
  runtime::DeliveredEvent d = delivered(121, household(1), "ev-1", kNow + 120'000);
  d.actions.push_back(action(1, "finance.a", ActionKind::kApply));
  batches[0].delivered.push_back(d);
  {
    store::Database other(dir.file("ledger.db"), store::Database::Mode::kReadWrite);
    other.exec("PRAGMA busy_timeout=0");
    other.exec("BEGIN IMMEDIATE");
    EXPECT_THROW(ledger.commit(batches, kNow + 121'000), StorageError);
    other.exec("ROLLBACK");
  }
  const std::int64_t start = activity_minute(kNow);
  const auto timeline = [&] { return store::open_sqlite_report_views(dir.str())->timeline(start, start + 3'600'000); };
  EXPECT_TRUE(store::open_sqlite_report_views(dir.str())->metrics().departments.empty());
  EXPECT_TRUE(timeline().delivered.empty());
  ledger.commit(batches, kNow + 121'000);
  const MetricsCounts counts = store::open_sqlite_report_views(dir.str())->metrics();
  expect_equal(counts, recount(dir.str()));
  EXPECT_EQ(counts.departments.at("finance").deliveries, 1);
  EXPECT_EQ(delivered_set(timeline()), (std::set<DeliveredKey>{{"finance", activity_minute(kNow + 121'000), 1}}));
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
  expect_timeline_equals_rows(dir);
}

// --- the timeline's counts per minute ---

TEST(Timeline, RunningCountsEqualTheRowsPerMinute) {
  TempDir dir;
  make_delivered_hub_files(dir, 5);
  add_later_evaluations(dir.file("events.db"));
  const report::TimelineCounts all = recount_timeline(dir.str(), activity_minute(kNow), activity_minute(kNow) + 3'600'000);
  EXPECT_EQ(received_set(all).size(), 6u) << "V01 credit and non_credit at minute 2; V02 credit, breach and one "
                                             "non_credit, V01 non_credit at minute 7";
  EXPECT_GE(delivered_set(all).size(), 12u) << "three departments, each over four minutes or more";
  expect_timeline_equals_rows(dir);
}

// Files written before the counts per minute (events.db version 2, ledger.db version 7) have
// them counted from their rows once, when hubd opens them; the /metrics tallies are left as
// they were.
TEST(Timeline, AnUpgradeCountsTheStoredRows) {
  TempDir dir;
  make_delivered_hub_files(dir, 13);
  add_later_evaluations(dir.file("events.db"));
  const MetricsCounts counted = recount(dir.str());
  {
    store::Database events(dir.file("events.db"), store::Database::Mode::kReadWrite);
    events.exec("DROP TABLE status_minute; PRAGMA user_version = 2;");
    store::Database ledger(dir.file("ledger.db"), store::Database::Mode::kReadWrite);
    ledger.exec("DROP TABLE delivery_minute; UPDATE tally SET n = n + 1000 WHERE counter = 'deliveries'; "
                "PRAGMA user_version = 7;");
  }
  { store::SqliteEventStore events(dir.file("events.db")); }
  { store::SqliteLedger ledger(dir.file("ledger.db"), dir.file("events.db")); }
  expect_timeline_equals_rows(dir);
  const MetricsCounts metrics = store::open_sqlite_report_views(dir.str())->metrics();
  EXPECT_EQ(metrics.departments.at("finance").deliveries, counted.departments.at("finance").deliveries + 1000)
      << "a version 7 ledger's tallies are not counted again";
  store::Database events(dir.file("events.db"), store::Database::Mode::kReadOnly);
  store::Statement version(events, "PRAGMA user_version");
  ASSERT_TRUE(version.step());
  EXPECT_EQ(version.column_int(0), 3);
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

// --- the quarterly report's merged read ---

// 240 households in V01 and V02. Seq 1..240 registrations; 241..480 every household's 2020Q3;
// 481..680 registrations of 200 more (a gap wider than the merge steps over); 681..740 2020Q4
// for households 1..60; 741..750 2020Q3 corrections for 61..70 (still in 2020Q3); 751..756 2020Q4
// corrections for 1..5 and a second one for 1; 757..836 2020Q4 for 61..140.
void make_quarters_log(const std::string& path) {
  EventLog log(std::make_unique<store::SqliteEventStore>(path));
  int id = 0;
  const auto village = [](int n) { return n % 2 ? "V01" : "V02"; };
  const auto registration = [&](int n) {
    return make({{"type", "household"}, {"event_id", "e" + std::to_string(++id)}, {"household_id", household(n)},
                 {"village", village(n)}, {"members", 3}});
  };
  const auto status = [&](int n, const char* quarter) {
    static const char* kStatuses[] = {"credit", "non_credit", "breach"};
    return make({{"type", "status_change"}, {"event_id", "e" + std::to_string(++id)}, {"household_id", household(n)},
                 {"status", kStatuses[(n + id) % 3]}, {"quarter", quarter}});
  };
  const auto group = [&](std::vector<WireEvent> events, int minute) {
    const StageResult r = log.stage(events, false, "fp-office");
    ASSERT_TRUE(r.ok()) << r.errors.front().error.message;
    log.commit_group(kNow + minute * 60'000);
  };
  std::vector<WireEvent> events;
  for (int n = 1; n <= 240; ++n) events.push_back(registration(n));
  group(std::move(events), 0);
  for (int n = 1; n <= 240; ++n) events.push_back(status(n, "2020Q3"));
  group(std::move(events), 1);
  for (int n = 241; n <= 440; ++n) events.push_back(registration(n));
  group(std::move(events), 2);
  for (int n = 1; n <= 60; ++n) events.push_back(status(n, "2020Q4"));
  group(std::move(events), 3);
  for (int n = 61; n <= 70; ++n) events.push_back(status(n, "2020Q3"));
  group(std::move(events), 4);
  for (int n : {1, 2, 3, 4, 5, 1}) group({status(n, "2020Q4")}, 5);
  for (int n = 61; n <= 140; ++n) events.push_back(status(n, "2020Q4"));
  group(std::move(events), 6);
}

// finance and schools record every event (registrations with no actions); land parks seq 700.
// Commits of a few events each, at times that give the latencies a spread with ties.
void deliver_quarters(store::SqliteLedger& ledger, std::mt19937& rng) {
  std::uint64_t cursor = 0;
  while (cursor < 836) {
    const std::uint64_t last = std::min<std::uint64_t>(836, cursor + 1 + rng() % 40);
    std::vector<LedgerBatch> batches;
    for (const std::string department : {"finance", "land", "schools"}) {
      LedgerBatch b;
      b.department = department;
      b.plugin_version = "1.0.0";
      b.new_cursor = last;
      for (std::uint64_t seq = cursor + 1; seq <= last; ++seq) {
        const int n = static_cast<int>(seq % 240) + 1;
        if (department == "land" && seq == 700) {
          b.parked.push_back({seq, household(n), "e" + std::to_string(seq), "refused", 5, 0, ""});
          continue;
        }
        // The row's household is not the event's: the report and the oracle both take it from
        // the row. received_at_ms is not stored in the row; both take the event's.
        runtime::DeliveredEvent d = delivered(seq, household(n), "e" + std::to_string(seq), kNow);
        if (seq > 240 && (seq <= 480 || seq > 680)) {
          for (int k = 0; k <= static_cast<int>(rng() % 3); ++k) {
            auto a = action(n, department + ".p" + std::to_string(rng() % 3), static_cast<ActionKind>(rng() % 6));
            if (rng() % 2) a.amount_fen = static_cast<std::int64_t>(rng() % 100000) - 1000;
            d.actions.push_back(std::move(a));
          }
        }
        b.delivered.push_back(std::move(d));
      }
      batches.push_back(std::move(b));
    }
    ledger.commit(batches, kNow + 600'000 + static_cast<std::int64_t>(rng() % 5) * 1000);
    cursor = last;
  }
}

// What quarter() must give: each effective evaluation (the household's last status change for
// the quarter) looked up in each department's rows by key, the actions through the ledger's
// `action` view (SQLite's JSON), the statuses and corrections counted with SQL.
report::QuarterRecords expected_quarter(const std::string& dir, const std::string& quarter,
                                        const std::optional<std::string>& village) {
  store::Database db(dir + "/ledger.db", store::Database::Mode::kReadWrite);
  store::Statement attach(db, "ATTACH DATABASE ? AS ev");
  attach.bind(1, dir + "/events.db");
  attach.run();
  db.exec("CREATE TEMP TABLE eff AS SELECT e.seq, e.village, e.status, e.received_at_ms FROM ev.event e "
          "WHERE e.type = 'status_change' AND e.seq = (SELECT MAX(seq) FROM ev.event x WHERE x.household_id = "
          "e.household_id AND x.type = 'status_change' AND x.quarter = e.quarter)");
  report::QuarterRecords out;
  store::Statement statuses(db, "SELECT e.village, e.status, COUNT(*) FROM temp.eff e JOIN ev.event x ON x.seq = e.seq "
                                "WHERE x.quarter = ?1 GROUP BY 1, 2");
  statuses.bind(1, quarter);
  while (statuses.step()) out.statuses.push_back({statuses.column_text(0), statuses.column_text(1), statuses.column_int(2)});
  store::Statement corrections(db, "SELECT village, COUNT(*) FROM ev.event WHERE type = 'status_change' AND "
                                   "quarter = ?1 AND correction = 1 GROUP BY 1");
  corrections.bind(1, quarter);
  while (corrections.step()) out.corrections[corrections.column_text(0)] = corrections.column_int(1);
  const std::string from = " FROM temp.eff e JOIN ev.event x ON x.seq = e.seq JOIN delivery d ON d.seq = e.seq ";
  const std::string where = "WHERE x.quarter = ?1 AND (?2 IS NULL OR e.village = ?2) ";
  const std::string scope = from + where;
  const auto bind = [&](store::Statement& st) {
    st.bind(1, quarter);
    if (village) st.bind(2, *village); else st.bind_null(2);
  };
  store::Statement delivered(db, ("SELECT d.department, COUNT(*)" + scope + "GROUP BY 1").c_str());
  bind(delivered);
  while (delivered.step()) out.deliveries[delivered.column_text(0)].delivered = delivered.column_int(1);
  store::Statement actions(db, ("SELECT a.department, a.policy_id, a.action, COUNT(*), TOTAL(a.amount_fen)" + from +
                                "JOIN action a ON a.department = d.department AND a.seq = d.seq " + where +
                                "GROUP BY 1, 2, 3").c_str());
  bind(actions);
  while (actions.step())
    out.deliveries[actions.column_text(0)].actions[actions.column_text(1)][actions.column_text(2)] = {
        actions.column_int(3), static_cast<std::int64_t>(actions.column_int(4))};
  store::Statement slowest(db, ("SELECT d.department, d.seq, d.household_id, d.delivered_at_ms - e.received_at_ms" +
                                scope + "ORDER BY 1, 4 DESC, 2").c_str());
  bind(slowest);
  while (slowest.step()) {
    auto& list = out.deliveries[slowest.column_text(0)].slowest;
    if (list.size() < 3) list.push_back({slowest.column_int(1), slowest.column_text(2), slowest.column_int(3)});
  }
  return out;
}

void expect_same_quarter(const report::QuarterRecords& got, const report::QuarterRecords& want) {
  using Status = std::tuple<std::string, std::string, std::int64_t>;
  std::set<Status> got_statuses, want_statuses;
  for (const auto& s : got.statuses) got_statuses.insert({s.village, s.status, s.n});
  for (const auto& s : want.statuses) want_statuses.insert({s.village, s.status, s.n});
  EXPECT_EQ(got_statuses, want_statuses);
  EXPECT_EQ(got.corrections, want.corrections);
  ASSERT_EQ(got.deliveries.size(), want.deliveries.size());
  for (const auto& [department, w] : want.deliveries) {
    SCOPED_TRACE(department);
    const auto& g = got.deliveries.at(department);
    EXPECT_EQ(g.delivered, w.delivered);
    ASSERT_EQ(g.actions.size(), w.actions.size());
    for (const auto& [policy, totals] : w.actions)
      for (const auto& [action, total] : totals) {
        EXPECT_EQ(g.actions.at(policy).at(action).count, total.count) << policy << " " << action;
        EXPECT_EQ(g.actions.at(policy).at(action).amount_fen, total.amount_fen) << policy << " " << action;
      }
    ASSERT_EQ(g.slowest.size(), w.slowest.size());
    for (std::size_t i = 0; i < w.slowest.size(); ++i) {
      EXPECT_EQ(g.slowest[i].seq, w.slowest[i].seq);
      EXPECT_EQ(g.slowest[i].household_id, w.slowest[i].household_id);
      EXPECT_EQ(g.slowest[i].latency_ms, w.slowest[i].latency_ms);
    }
  }
}

TEST(QuarterReport, TheMergedReadEqualsALookUpPerEvaluation) {
  TempDir dir;
  make_quarters_log(dir.file("events.db"));
  {
    store::SqliteLedger ledger(dir.file("ledger.db"), dir.file("events.db"));
    std::mt19937 rng(5);
    deliver_quarters(ledger, rng);
  }
  auto views = store::open_sqlite_report_views(dir.str());
  for (const std::string quarter : {"2020Q3", "2020Q4", "2021Q1"})
    for (const auto& village : {std::optional<std::string>(), std::optional<std::string>("V01"),
                                std::optional<std::string>("V02"), std::optional<std::string>("V99")}) {
      SCOPED_TRACE(quarter + " " + village.value_or("town"));
      const report::QuarterRecords want = expected_quarter(dir.str(), quarter, village);
      expect_same_quarter(views->quarter(quarter, village), want);
      if (quarter == "2021Q1" || village == "V99") {
        EXPECT_TRUE(want.deliveries.empty());
        continue;
      }
      EXPECT_GT(want.deliveries.at("land").delivered, 0);
      EXPECT_FALSE(want.deliveries.at("finance").slowest.empty());
    }
  const report::QuarterRecords q4 = views->quarter("2020Q4", std::nullopt);
  // Households 1..60 and 61..140: 140 effective evaluations; 6 corrections, one of them replaced.
  EXPECT_EQ(q4.deliveries.at("finance").delivered, 140);
  EXPECT_EQ(q4.deliveries.at("land").delivered, 139) << "seq 700 parked";
  std::int64_t corrections = 0;
  for (const auto& [village, n] : q4.corrections) corrections += n;
  EXPECT_EQ(corrections, 6);
}

// --- packed actions ---

std::vector<std::tuple<std::string, std::string, std::optional<std::int64_t>>> read_back(std::string_view packed) {
  std::vector<std::tuple<std::string, std::string, std::optional<std::int64_t>>> out;
  store::for_each_packed_action(packed, [&](const store::PackedAction& a) {
    out.emplace_back(std::string(a.policy_id), std::string(a.action), a.amount_fen);
  });
  return out;
}

TEST(PackedActions, ReadBackAsWritten) {
  std::vector<hub::sdk::PolicyAction> actions;
  const auto add = [&](std::string policy, ActionKind kind, std::optional<std::int64_t> amount) {
    hub::sdk::PolicyAction a;
    a.policy_id = std::move(policy);
    a.action = kind;
    a.amount_fen = amount;
    a.reason = "r";
    actions.push_back(std::move(a));
  };
  add("finance.reward", ActionKind::kApply, 30000);
  add("schools.fee", ActionKind::kDefer, std::nullopt);
  add("odd \"quoted\" \\ \x01 政策", ActionKind::kWithhold, -5);  // escaped: read by the JSON parser
  add("big", ActionKind::kRelease, 9'223'372'036'854'775'807);    // 19 digits: by the JSON parser
  add("zero", ActionKind::kRestore, 0);
  const std::string packed = store::encode_actions(actions, [](const std::string&) { return 7; });
  const auto back = read_back(packed);
  ASSERT_EQ(back.size(), actions.size());
  for (std::size_t i = 0; i < actions.size(); ++i) {
    EXPECT_EQ(std::get<0>(back[i]), actions[i].policy_id);
    EXPECT_EQ(std::get<1>(back[i]), hub::sdk::to_string(actions[i].action));
    EXPECT_EQ(std::get<2>(back[i]), actions[i].amount_fen);
  }
  // Each action alone, so that the plain ones are read without the parser too.
  for (const auto& a : actions) {
    const std::string one = store::encode_actions({a}, [](const std::string&) { return 12; });
    EXPECT_EQ(read_back(one).size(), 1u) << one;
  }
  EXPECT_TRUE(read_back("[]").empty());
  // The same values written by another JSON writer (spaces) read the same.
  EXPECT_EQ(read_back(R"([ ["a", "apply", 5, 1], ["b","defer",null,2] ])"),
            read_back(R"([["a","apply",5,1],["b","defer",null,2]])"));
  for (const char* bad : {"", "[", "[[\"a\"]]", "[[1,\"apply\",null,1]]", "{\"a\":1}", "[[\"a\",\"apply\",null,1]]x"})
    EXPECT_THROW(read_back(bad), nlohmann::json::exception) << bad;
}

}  // namespace
}  // namespace hub

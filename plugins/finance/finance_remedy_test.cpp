// Tests of the finance office's remedy for a ruling on a past quarter (Event::past_quarter,
// 投诉裁定更正往季): the built plugin loaded through the SDK harness, as in
// finance_plugin_test.cpp, with its accruals read back from finance.db (read-only) where the
// actions alone cannot show them. The oracle test checks the remedy to the fen against a replay
// written here, independently of the plugin's remedy.cpp.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "hub/sdk/reasons.h"
#include "hub/sdk/testing/harness.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::format_yuan;
using hub::sdk::HouseholdStatus;
using hub::sdk::PolicyAction;
using hub::sdk_testing::actions_for;
using hub::sdk_testing::describe;
using hub::sdk_testing::EventBuilder;
using hub::sdk_testing::PluginUnderTest;
using hub::sdk_testing::TempDir;
using hub::sdk_testing::this_plugin;

constexpr auto kUnevaluated = HouseholdStatus::kUnevaluated;
constexpr auto kCredit = HouseholdStatus::kCredit;
constexpr auto kNonCredit = HouseholdStatus::kNonCredit;
constexpr auto kBreach = HouseholdStatus::kBreach;

constexpr const char* kOnlyChild = "finance.only_child_reward";
constexpr const char* kRural = "finance.rural_reward";
constexpr const char* kBoth = "V04-00100";  // on the roster for both rewards
constexpr std::int64_t kOnlyChildFen = 3000;
constexpr std::int64_t kRuralFen = 24000;
constexpr const char* kRoster =
    "household_id,policy_id,amount_fen_per_quarter\n"
    "V04-00100,finance.only_child_reward,3000\n"
    "V04-00100,finance.rural_reward,24000\n";
constexpr const char* kComplaint = "TS-2026-000123";

using Summary = std::vector<std::tuple<ActionKind, std::int64_t>>;
Summary summary(const std::vector<PolicyAction>& actions, const char* policy) {
  Summary out;
  for (const auto& a : actions_for(actions, policy)) out.emplace_back(a.action, a.amount_fen.value_or(-1));
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The money an answer pays for one policy: its apply, restore and release amounts.
std::int64_t paid_by(const std::vector<PolicyAction>& actions, const std::string& policy) {
  std::int64_t sum = 0;
  for (const auto& a : actions) {
    if (a.policy_id != policy) continue;
    if (a.action == ActionKind::kApply || a.action == ActionKind::kRestore || a.action == ActionKind::kRelease)
      sum += a.amount_fen.value_or(0);
  }
  return sum;
}

// finance.db opened read-only beside the running plugin (WAL lets both in), for what the
// actions do not show: the open accruals, the journalled statuses, the schema version.
class FinanceDb {
 public:
  explicit FinanceDb(const std::filesystem::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open " + file.string());
  }
  ~FinanceDb() { sqlite3_close(db_); }
  FinanceDb(const FinanceDb&) = delete;
  FinanceDb& operator=(const FinanceDb&) = delete;

  // Rows of text; NULL reads as "NULL".
  std::vector<std::vector<std::string>> rows(const std::string& sql, const std::vector<std::string>& params = {}) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
    for (std::size_t i = 0; i < params.size(); ++i)
      sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
    std::vector<std::vector<std::string>> out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        row.emplace_back(text == nullptr ? "NULL" : text);
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    return out;
  }

  std::map<std::string, std::int64_t> open_accruals(const std::string& household, const std::string& policy) {
    std::map<std::string, std::int64_t> out;
    for (const auto& row : rows("SELECT quarter, amount_fen FROM accrual WHERE household_id = ?1 AND policy_id = ?2 "
                                "AND settled_by IS NULL",
                                {household, policy}))
      out[row[0]] = std::stoll(row[1]);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Runs SQL on a file of its own (read-write), for building a finance.db of the old schema.
void run_sql(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

class FinanceRemedyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugin_.write_data_file("roster.csv", kRoster);
    ASSERT_STARTED(plugin_.start());
  }

  // An ordinary evaluation of `quarter`, numbered by the caller.
  std::vector<PolicyAction> evaluate(HouseholdStatus previous, HouseholdStatus next, const char* quarter,
                                     std::uint64_t sequence) {
    return plugin_.decide(EventBuilder().household(kBoth).from(previous).to(next).quarter(quarter).sequence(sequence));
  }
  static EventBuilder ruling(HouseholdStatus was, HouseholdStatus now, const char* quarter, std::uint64_t sequence,
                             std::string complaint = kComplaint) {
    return EventBuilder()
        .household(kBoth)
        .from(was)
        .to(now)
        .quarter(quarter)
        .previous_quarter(quarter)
        .past_quarter_ruling(std::move(complaint))
        .sequence(sequence);
  }
  std::map<std::string, std::int64_t> open(const char* policy) {
    return FinanceDb(plugin_.data_dir() / "finance.db").open_accruals(kBoth, policy);
  }

  PluginUnderTest plugin_{this_plugin()};
};

TEST_F(FinanceRemedyTest, BreachCorrectedToCreditPaysTheQuarterAndWhatItsBreachForfeited) {
  evaluate(kUnevaluated, kNonCredit, "2020Q1", 1);
  evaluate(kNonCredit, kBreach, "2020Q2", 2);  // 2020Q1's deferral forfeited, 2020Q2 withheld
  evaluate(kBreach, kCredit, "2020Q3", 3);
  const auto remedy = plugin_.decide(ruling(kBreach, kCredit, "2020Q2", 4));
  // Corrected: 2020Q1 deferred, released in 2020Q2 with 2020Q2 itself; 2020Q3 paid as before.
  EXPECT_EQ(summary(remedy, kOnlyChild), (Summary{{ActionKind::kRelease, 2 * kOnlyChildFen}}));
  EXPECT_EQ(summary(remedy, kRural), (Summary{{ActionKind::kRelease, 2 * kRuralFen}}));
  const std::string reason = actions_for(remedy, kOnlyChild)[0].reason;
  EXPECT_TRUE(contains(reason, "依投诉 TS-2026-000123 裁定，2020Q2 由违约户更正为诚信户，补发 ¥60.00")) << reason;
  EXPECT_TRUE(contains(reason, "ruling on complaint TS-2026-000123: 2020Q2 corrected from breach to credit, ¥60.00 "
                               "paid as the remedy"))
      << reason;
  EXPECT_TRUE(open(kOnlyChild).empty());

  // The household is credit now as it was: the next quarter pays only itself.
  const auto q4 = evaluate(kCredit, kCredit, "2020Q4", 5);
  EXPECT_EQ(summary(q4, kOnlyChild), (Summary{{ActionKind::kApply, kOnlyChildFen}}));
}

TEST_F(FinanceRemedyTest, NonCreditCorrectedToCreditReleasesItsOpenAccrualAndTheEarlierOnes) {
  evaluate(kUnevaluated, kNonCredit, "2020Q1", 1);
  evaluate(kNonCredit, kNonCredit, "2020Q2", 2);
  evaluate(kNonCredit, kNonCredit, "2020Q3", 3);
  const auto remedy = plugin_.decide(ruling(kNonCredit, kCredit, "2020Q2", 4));
  // Corrected: 2020Q1 released with 2020Q2 paid; 2020Q3 still deferred.
  EXPECT_EQ(summary(remedy, kRural), (Summary{{ActionKind::kRelease, 2 * kRuralFen}}));
  EXPECT_TRUE(contains(actions_for(remedy, kRural)[0].reason, "deferred 2020Q1,2020Q2 included"))
      << actions_for(remedy, kRural)[0].reason;
  EXPECT_EQ(open(kRural), (std::map<std::string, std::int64_t>{{"2020Q3", kRuralFen}}));

  const auto q4 = evaluate(kNonCredit, kCredit, "2020Q4", 5);
  EXPECT_EQ(summary(q4, kRural), (Summary{{ActionKind::kRelease, kRuralFen}, {ActionKind::kApply, kRuralFen}}));
}

TEST_F(FinanceRemedyTest, NonCreditCorrectedToCreditAfterItsAccrualWasReleasedPaysNothingMore) {
  evaluate(kUnevaluated, kNonCredit, "2020Q1", 1);
  evaluate(kNonCredit, kCredit, "2020Q2", 2);  // 2020Q1 released: already paid
  const auto remedy = plugin_.decide(ruling(kNonCredit, kCredit, "2020Q1", 3));
  EXPECT_EQ(summary(remedy, kOnlyChild), (Summary{{ActionKind::kNotApplicable, -1}}));
  const std::string reason = actions_for(remedy, kOnlyChild)[0].reason;
  EXPECT_TRUE(contains(reason, "兑现不变 / payments unchanged")) << reason;
  EXPECT_TRUE(contains(reason, "TS-2026-000123")) << reason;
  EXPECT_TRUE(open(kOnlyChild).empty());
}

TEST_F(FinanceRemedyTest, CreditCorrectedToBreachNamesTheOverpaidAmountAndRecoversNothing) {
  evaluate(kUnevaluated, kCredit, "2020Q1", 1);
  evaluate(kCredit, kCredit, "2020Q2", 2);
  const auto remedy = plugin_.decide(ruling(kCredit, kBreach, "2020Q1", 3));
  EXPECT_EQ(summary(remedy, kOnlyChild), (Summary{{ActionKind::kNotApplicable, -1}}));
  const std::string reason = actions_for(remedy, kRural)[0].reason;
  EXPECT_TRUE(contains(reason, "多发 ¥240.00，不在本系统追回")) << reason;
  EXPECT_TRUE(contains(reason, "¥240.00 overpaid: recovery is outside the hub")) << reason;

  const auto q3 = evaluate(kCredit, kCredit, "2020Q3", 4);
  EXPECT_EQ(summary(q3, kRural), (Summary{{ActionKind::kApply, kRuralFen}}));
}

TEST_F(FinanceRemedyTest, NonCreditCorrectedToBreachForfeitsTheOpenAccrualsBeforeIt) {
  evaluate(kUnevaluated, kNonCredit, "2020Q1", 1);
  evaluate(kNonCredit, kNonCredit, "2020Q2", 2);
  evaluate(kNonCredit, kNonCredit, "2020Q3", 3);
  const auto remedy = plugin_.decide(ruling(kNonCredit, kBreach, "2020Q2", 4));
  EXPECT_EQ(summary(remedy, kOnlyChild), (Summary{{ActionKind::kWithhold, 2 * kOnlyChildFen}}));
  const std::string reason = actions_for(remedy, kOnlyChild)[0].reason;
  EXPECT_TRUE(contains(reason, "deferred ¥60.00 (2020Q1,2020Q2) forfeited because of the ruling")) << reason;
  EXPECT_EQ(open(kOnlyChild), (std::map<std::string, std::int64_t>{{"2020Q3", kOnlyChildFen}}));
}

TEST_F(FinanceRemedyTest, BreachCorrectedToNonCreditReopensTheAccrualsAndALaterCreditReleasesThem) {
  evaluate(kUnevaluated, kNonCredit, "2020Q1", 1);
  evaluate(kNonCredit, kNonCredit, "2020Q2", 2);
  evaluate(kNonCredit, kBreach, "2020Q3", 3);  // forfeits 2020Q1 and 2020Q2
  const auto remedy = plugin_.decide(ruling(kBreach, kNonCredit, "2020Q3", 4));
  // Nothing to pay yet: the corrected history pays nothing until the household is credit.
  EXPECT_EQ(summary(remedy, kOnlyChild), (Summary{{ActionKind::kNotApplicable, -1}}));
  EXPECT_TRUE(contains(actions_for(remedy, kOnlyChild)[0].reason, "¥90.00 deferred (2020Q1,2020Q2,2020Q3)"))
      << actions_for(remedy, kOnlyChild)[0].reason;
  EXPECT_EQ(open(kOnlyChild).size(), 3u);

  // The household's status now is still breach (the ruling did not change it); credit again
  // releases the three reopened quarters.
  const auto q4 = evaluate(kBreach, kCredit, "2020Q4", 5);
  EXPECT_EQ(summary(q4, kOnlyChild),
            (Summary{{ActionKind::kRelease, 3 * kOnlyChildFen}, {ActionKind::kRestore, kOnlyChildFen}}));
}

TEST_F(FinanceRemedyTest, RedeliveredRulingGetsTheSameAnswerAndChangesNothing) {
  evaluate(kUnevaluated, kNonCredit, "2020Q1", 1);
  evaluate(kNonCredit, kNonCredit, "2020Q2", 2);
  evaluate(kNonCredit, kNonCredit, "2020Q3", 3);
  const auto the_ruling = ruling(kNonCredit, kCredit, "2020Q2", 4);
  const auto first = plugin_.decide(the_ruling);
  const auto accruals = open(kRural);
  EXPECT_EQ(describe(plugin_.decide(the_ruling)), describe(first));
  EXPECT_EQ(open(kRural), accruals);
  ASSERT_STARTED(plugin_.restart());
  EXPECT_EQ(describe(plugin_.decide(the_ruling)), describe(first));
  EXPECT_EQ(open(kRural), accruals);

  // Paid once: credit now releases only 2020Q3.
  const auto q4 = evaluate(kNonCredit, kCredit, "2020Q4", 5);
  EXPECT_EQ(summary(q4, kRural), (Summary{{ActionKind::kRelease, kRuralFen}, {ActionKind::kApply, kRuralFen}}));
}

TEST_F(FinanceRemedyTest, ASecondRulingReplaysTheFirstAndPaysOnlyTheDifference) {
  evaluate(kUnevaluated, kBreach, "2020Q1", 1);
  evaluate(kBreach, kBreach, "2020Q2", 2);
  EXPECT_EQ(summary(plugin_.decide(ruling(kBreach, kCredit, "2020Q1", 3)), kOnlyChild),
            (Summary{{ActionKind::kRelease, kOnlyChildFen}}));
  // The journal now says 2020Q1 credit: a ruling on 2020Q2 pays that quarter only.
  EXPECT_EQ(summary(plugin_.decide(ruling(kBreach, kCredit, "2020Q2", 4)), kOnlyChild),
            (Summary{{ActionKind::kRelease, kOnlyChildFen}}));
}

TEST_F(FinanceRemedyTest, AReasonWithoutTheComplaintsIdStillReadsWell) {
  evaluate(kUnevaluated, kBreach, "2020Q1", 1);
  evaluate(kBreach, kCredit, "2020Q2", 2);
  const auto remedy = plugin_.decide(ruling(kBreach, kCredit, "2020Q1", 3, /*complaint=*/""));
  const std::string reason = actions_for(remedy, kOnlyChild)[0].reason;
  EXPECT_TRUE(contains(reason, "依投诉裁定，2020Q1 由违约户更正为诚信户，补发 ¥30.00")) << reason;
  EXPECT_TRUE(contains(reason, "ruling on a complaint: 2020Q1 corrected from breach to credit")) << reason;
  EXPECT_FALSE(contains(reason, "  ")) << reason;
}

TEST_F(FinanceRemedyTest, AHouseholdNotOnTheRosterGetsNotApplicable) {
  const auto remedy = plugin_.decide(ruling(kBreach, kCredit, "2020Q1", 1).household("V13-00001"));
  for (const auto& action : remedy) EXPECT_EQ(action.action, ActionKind::kNotApplicable) << action.policy_id;
}

// A household that joined the roster later: the quarters it was evaluated in while off the
// roster earned nothing then, so a ruling on one of them pays nothing, and the replay of a
// ruling on a later quarter leaves them out too.
TEST_F(FinanceRemedyTest, QuartersOffTheRosterEarnNothingWhenARulingReplaysThem) {
  constexpr const char* kLate = "V04-00200";
  const auto evaluate_late = [&](HouseholdStatus was, HouseholdStatus now, const char* quarter, std::uint64_t seq) {
    return plugin_.decide(EventBuilder().household(kLate).from(was).to(now).quarter(quarter).sequence(seq));
  };
  evaluate_late(kUnevaluated, kBreach, "2020Q1", 1);  // off the roster: not_applicable
  evaluate_late(kBreach, kBreach, "2020Q2", 2);
  plugin_.write_data_file("roster.csv", std::string(kRoster) + "V04-00200,finance.rural_reward,24000\n");
  ASSERT_STARTED(plugin_.restart());
  evaluate_late(kBreach, kBreach, "2020Q3", 3);  // on it now: withheld
  evaluate_late(kBreach, kCredit, "2020Q4", 4);  // restored

  // A ruling on 2020Q2, a quarter off the roster: nothing to pay.
  const auto off = plugin_.decide(ruling(kBreach, kCredit, "2020Q2", 5).household(kLate));
  ASSERT_EQ(actions_for(off, kRural).size(), 1u);
  EXPECT_EQ(actions_for(off, kRural)[0].action, ActionKind::kNotApplicable);
  EXPECT_TRUE(contains(actions_for(off, kRural)[0].reason, "not on the roster")) << actions_for(off, kRural)[0].reason;
  // A ruling on 2020Q3, on the roster: that quarter alone is paid, not 2020Q1 and 2020Q2 besides.
  const auto on = plugin_.decide(ruling(kBreach, kCredit, "2020Q3", 6).household(kLate));
  EXPECT_EQ(summary(on, kRural), (Summary{{ActionKind::kRelease, kRuralFen}}));
}

// A finance.db written by the plugin before decisions had a status (schema version 1) is
// upgraded when the plugin starts: each old decision gets the status its actions show, and a
// ruling replays that history.
TEST(FinanceSchemaUpgrade, AnOldJournalGetsItsStatusesFromItsActions) {
  TempDir dir("finance-upgrade");
  dir.write("roster.csv", kRoster);
  // 2020Q1 non_credit (deferred, then forfeited by) 2020Q2 breach, 2020Q3 credit, and an
  // unevaluated event with nothing but not_applicable.
  run_sql(dir.path() / "finance.db", R"sql(
    CREATE TABLE accrual(id INTEGER PRIMARY KEY, household_id TEXT NOT NULL, policy_id TEXT NOT NULL,
      quarter TEXT NOT NULL, amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0), deferred_by TEXT NOT NULL,
      settled_by TEXT, settlement TEXT CHECK (settlement IN ('released', 'forfeited', 'superseded')),
      CHECK ((settled_by IS NULL) = (settlement IS NULL)));
    CREATE UNIQUE INDEX accrual_open ON accrual(household_id, policy_id, quarter) WHERE settled_by IS NULL;
    CREATE TABLE decision(idempotency_key TEXT PRIMARY KEY, sequence INTEGER NOT NULL, household_id TEXT NOT NULL,
      quarter TEXT NOT NULL, decided_at_ms INTEGER NOT NULL);
    CREATE TABLE decision_action(idempotency_key TEXT NOT NULL REFERENCES decision(idempotency_key),
      ordinal INTEGER NOT NULL, policy_id TEXT NOT NULL, action TEXT NOT NULL, amount_fen INTEGER,
      reason TEXT NOT NULL, PRIMARY KEY (idempotency_key, ordinal));
    INSERT INTO decision VALUES ('finance:1', 1, 'V04-00100', '2020Q1', 0), ('finance:2', 2, 'V04-00100', '2020Q2', 0),
      ('finance:3', 3, 'V04-00100', '2020Q3', 0), ('finance:4', 4, 'V04-00100', '2020Q4', 0);
    INSERT INTO decision_action VALUES
      ('finance:1', 0, 'finance.only_child_reward', 'defer', 3000, 'old'),
      ('finance:1', 1, 'finance.rural_reward', 'defer', 24000, 'old'),
      ('finance:2', 0, 'finance.only_child_reward', 'withhold', 6000, 'old'),
      ('finance:2', 1, 'finance.rural_reward', 'withhold', 48000, 'old'),
      ('finance:3', 0, 'finance.only_child_reward', 'restore', 3000, 'old'),
      ('finance:3', 1, 'finance.rural_reward', 'restore', 24000, 'old'),
      ('finance:4', 0, 'finance.only_child_reward', 'not_applicable', NULL, 'old'),
      ('finance:4', 1, 'finance.rural_reward', 'not_applicable', NULL, 'old');
    INSERT INTO accrual(household_id, policy_id, quarter, amount_fen, deferred_by, settled_by, settlement) VALUES
      ('V04-00100', 'finance.only_child_reward', '2020Q1', 3000, 'finance:1', 'finance:2', 'forfeited'),
      ('V04-00100', 'finance.rural_reward', '2020Q1', 24000, 'finance:1', 'finance:2', 'forfeited');
    PRAGMA user_version = 1;
  )sql");

  PluginUnderTest plugin(this_plugin().with_data_dir(dir.path()));
  ASSERT_STARTED(plugin.start());
  {
    FinanceDb db(dir.path() / "finance.db");
    EXPECT_EQ(db.rows("PRAGMA user_version"), (std::vector<std::vector<std::string>>{{"2"}}));
    EXPECT_EQ(db.rows("SELECT idempotency_key, status FROM decision ORDER BY sequence"),
              (std::vector<std::vector<std::string>>{
                  {"finance:1", "non_credit"}, {"finance:2", "breach"}, {"finance:3", "credit"}, {"finance:4", "NULL"}}));
  }
  // The old journal's 2020Q1 deferral, released with 2020Q2 now credit: two quarters' remedy.
  const auto remedy = plugin.decide(EventBuilder()
                                        .household(kBoth)
                                        .from(kBreach)
                                        .to(kCredit)
                                        .quarter("2020Q2")
                                        .previous_quarter("2020Q2")
                                        .past_quarter_ruling(kComplaint)
                                        .sequence(10));
  EXPECT_EQ(summary(remedy, kOnlyChild), (Summary{{ActionKind::kRelease, 2 * kOnlyChildFen}}));
  EXPECT_EQ(summary(remedy, kRural), (Summary{{ActionKind::kRelease, 2 * kRuralFen}}));
  // A redelivered old event is still answered from the upgraded journal.
  const auto old = plugin.decide(EventBuilder().household(kBoth).from(kNonCredit).to(kBreach).quarter("2020Q2").sequence(2));
  EXPECT_EQ(summary(old, kOnlyChild), (Summary{{ActionKind::kWithhold, 6000}}));
}

// ---- The oracle: many random eight-quarter histories, one ruling each, checked to the fen ----

// What the corrected history pays and leaves open, computed the plain way: walk the quarters
// in order with a list of deferred amounts. Written for this test, apart from the plugin.
struct OracleResult {
  std::int64_t paid = 0;
  std::map<std::string, std::int64_t> open;
};
OracleResult oracle(const std::vector<std::pair<std::string, HouseholdStatus>>& quarters, std::int64_t amount) {
  OracleResult result;
  for (const auto& [quarter, status] : quarters) {
    if (status == kCredit) {
      for (const auto& deferred : result.open) result.paid += deferred.second;
      result.open.clear();
      result.paid += amount;
    } else if (status == kNonCredit) {
      result.open[quarter] = amount;
    } else if (status == kBreach) {
      result.open.clear();  // forfeited: never paid
    }
  }
  return result;
}

std::string quarter_name(int index) { return std::to_string(2020 + index / 4) + "Q" + std::to_string(index % 4 + 1); }

TEST(FinanceRemedyOracle, EveryHouseholdIsPaidExactlyWhatItsCorrectedHistoryPays) {
  constexpr int kHouseholds = 200;
  constexpr int kQuarters = 8;  // 2020Q1…2021Q4; the ruling is on one of the first seven
  constexpr std::uint64_t kSeed = 20261207;
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  std::mt19937_64 random(kSeed);
  auto pick = [&random](int n) { return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(random)); };
  const HouseholdStatus kStatuses[] = {kCredit, kNonCredit, kBreach};

  struct Household {
    std::string id;
    std::map<std::string, std::int64_t> amounts;  // policy → fen a quarter (absent: not on the roster)
    std::vector<HouseholdStatus> statuses;        // as evaluated, one per quarter
    int ruled = 0;                                // the ruled quarter's index
    HouseholdStatus ruling = kCredit;
    std::optional<HouseholdStatus> further;       // one more ordinary quarter after the ruling
    std::map<std::string, std::int64_t> paid;     // policy → money in every action returned
    std::map<std::string, std::string> ruling_reason;  // policy → the ruling's first reason
  };
  std::vector<Household> households(kHouseholds);
  std::string roster = "household_id,policy_id,amount_fen_per_quarter\n";
  for (int i = 0; i < kHouseholds; ++i) {
    Household& h = households[i];
    char id[16];
    std::snprintf(id, sizeof id, "V07-%05d", i + 1);
    h.id = id;
    // Odd amounts in fen, so that a sum off by any quarter shows; one in ten only on one roster,
    // one in forty on none.
    const int rosters = i % 40 == 39 ? 0 : i % 10 == 9 ? 1 : 2;
    if (rosters >= 1) h.amounts[kRural] = 1 + pick(60000);
    if (rosters == 2) h.amounts[kOnlyChild] = 1 + pick(9000);
    for (const auto& [policy, fen] : h.amounts) roster += h.id + "," + policy + "," + std::to_string(fen) + "\n";
    for (int q = 0; q < kQuarters; ++q) h.statuses.push_back(kStatuses[pick(3)]);
    h.ruled = pick(kQuarters - 1);
    h.ruling = kStatuses[pick(3)];  // sometimes the status it had: a ruling that changes nothing
    if (pick(2) == 0) h.further = kStatuses[pick(3)];
  }

  TempDir dir("finance-oracle");
  dir.write("roster.csv", roster);
  PluginUnderTest plugin(this_plugin().with_data_dir(dir.path()));
  ASSERT_STARTED(plugin.start());
  std::uint64_t sequence = 1;
  auto deliver = [&](Household& h, EventBuilder event) {
    const auto actions = plugin.decide(event.household(h.id).sequence(sequence++));
    for (const auto& [policy, fen] : h.amounts) h.paid[policy] += paid_by(actions, policy);
    return actions;
  };

  // The town evaluates quarter by quarter, every household in each.
  for (int q = 0; q < kQuarters; ++q) {
    for (Household& h : households) {
      EventBuilder event = EventBuilder().from(q == 0 ? kUnevaluated : h.statuses[q - 1]).to(h.statuses[q]).quarter(
          quarter_name(q));
      if (q > 0) event.previous_quarter(quarter_name(q - 1));
      deliver(h, std::move(event));
    }
  }
  // One upheld complaint per household on a past quarter, then maybe one more ordinary quarter.
  for (int i = 0; i < kHouseholds; ++i) {
    Household& h = households[i];
    char complaint[32];
    std::snprintf(complaint, sizeof complaint, "TS-2026-%06d", i + 1);
    const std::string ruled = quarter_name(h.ruled);
    const auto actions = deliver(h, EventBuilder()
                                        .from(h.statuses[h.ruled])
                                        .to(h.ruling)
                                        .quarter(ruled)
                                        .previous_quarter(ruled)
                                        .past_quarter_ruling(complaint));
    for (const auto& [policy, fen] : h.amounts) h.ruling_reason[policy] = actions_for(actions, policy).at(0).reason;
  }
  for (Household& h : households) {
    if (!h.further) continue;
    deliver(h, EventBuilder().from(h.statuses.back()).to(*h.further).quarter(quarter_name(kQuarters)).previous_quarter(
                   quarter_name(kQuarters - 1)));
  }

  FinanceDb db(dir.path() / "finance.db");
  int overpaid = 0, remedied = 0;
  for (const Household& h : households) {
    std::vector<std::pair<std::string, HouseholdStatus>> evaluated, corrected;
    for (int q = 0; q < kQuarters; ++q) {
      evaluated.emplace_back(quarter_name(q), h.statuses[q]);
      corrected.emplace_back(quarter_name(q), q == h.ruled ? h.ruling : h.statuses[q]);
    }
    auto corrected_now = corrected;
    if (h.further) corrected_now.emplace_back(quarter_name(kQuarters), *h.further);

    for (const auto& [policy, fen] : h.amounts) {
      SCOPED_TRACE(h.id + " " + policy + " ruling on " + quarter_name(h.ruled));
      const OracleResult before = oracle(evaluated, fen);
      const OracleResult after_ruling = oracle(corrected, fen);
      const OracleResult now = oracle(corrected_now, fen);
      const std::int64_t remedy = after_ruling.paid - before.paid;
      // What the further quarter paid, from the corrected accruals.
      const std::int64_t further_paid = now.paid - after_ruling.paid;
      if (remedy >= 0) {
        // The invariant: money paid + open accruals are the corrected history's, to the fen.
        EXPECT_EQ(h.paid.at(policy), now.paid);
        ++remedied;
      } else {
        // Nothing clawed back: paid as evaluated, plus what came after; the overpayment named.
        EXPECT_EQ(h.paid.at(policy), before.paid + further_paid);
        EXPECT_TRUE(contains(h.ruling_reason.at(policy), format_yuan(-remedy) + " overpaid")) << h.ruling_reason.at(policy);
        ++overpaid;
      }
      EXPECT_EQ(db.open_accruals(h.id, policy), now.open);
    }
  }
  // The random histories must exercise both sides, or the test proves less than it says.
  EXPECT_GT(overpaid, 20);
  EXPECT_GT(remedied, 100);
}

}  // namespace

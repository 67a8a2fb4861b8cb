// Unit tests of the finance office plugin, loaded from its built library through hubd's
// loader (the SDK harness, hub::sdk_testing) with the shipped catalogue (config/departments/finance.json), a roster written to a
// fresh data directory and its accruals in that directory's finance.db. Restarts unload the
// library and load it again on the same data directory, as a hub restart would.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "hub/sdk/testing/harness.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::HouseholdStatus;
using hub::sdk::PolicyAction;
using hub::sdk_testing::actions_for;
using hub::sdk_testing::describe;
using hub::sdk_testing::EventBuilder;
using hub::sdk_testing::load_catalogue_file;
using hub::sdk_testing::PluginUnderTest;
using hub::sdk_testing::TempDir;
using hub::sdk_testing::this_plugin;

constexpr const char* kOnlyChild = "finance.only_child_reward";
constexpr const char* kRural = "finance.rural_reward";

constexpr const char* kBoth = "V04-00100";  // on the roster for both rewards
constexpr const char* kRuralOnly = "V04-00200";
constexpr std::int64_t kOnlyChildFen = 3000;  // per quarter
constexpr std::int64_t kRuralFen = 24000;

constexpr const char* kRoster =
    "household_id,policy_id,amount_fen_per_quarter\n"
    "V04-00100,finance.only_child_reward,3000\n"
    "V04-00100,finance.rural_reward,24000\n"
    "V04-00200,finance.rural_reward,24000\n";

// Shorthand for a policy's actions as (kind, amount) pairs, in order.
std::vector<std::tuple<ActionKind, std::int64_t>> summary(const std::vector<PolicyAction>& actions,
                                                          const char* policy) {
  std::vector<std::tuple<ActionKind, std::int64_t>> out;
  for (const auto& a : actions_for(actions, policy)) out.emplace_back(a.action, a.amount_fen.value_or(-1));
  return out;
}

using Summary = std::vector<std::tuple<ActionKind, std::int64_t>>;

class FinancePluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugin_.write_data_file("roster.csv", kRoster);
    ASSERT_STARTED(plugin_.start());
  }

  std::vector<PolicyAction> decide(EventBuilder event) { return plugin_.decide(std::move(event)); }

  // A household's status change for `quarter`, numbered by the caller (so that a test can
  // deliver the same event again, as the hub does after a crash).
  static EventBuilder change(const char* household, HouseholdStatus previous, HouseholdStatus next, const char* quarter,
                             std::uint64_t sequence, bool correction = false) {
    return EventBuilder().household(household).from(previous).to(next).quarter(quarter).sequence(sequence).correction(
        correction);
  }

  PluginUnderTest plugin_{this_plugin()};
};

constexpr auto kUnevaluated = HouseholdStatus::kUnevaluated;
constexpr auto kCredit = HouseholdStatus::kCredit;
constexpr auto kNonCredit = HouseholdStatus::kNonCredit;
constexpr auto kBreach = HouseholdStatus::kBreach;

TEST(FinanceCatalogue, BothRewardsAreMoneyOnTheRoster) {
  const auto catalogue = load_catalogue_file(HUB_PLUGIN_CATALOGUE);
  EXPECT_EQ(catalogue.department(), "finance");
  ASSERT_EQ(catalogue.policies().size(), 2u);
  for (const char* id : {kOnlyChild, kRural}) {
    const auto* policy = catalogue.find(id);
    ASSERT_NE(policy, nullptr) << id;
    EXPECT_TRUE(policy->money);
    EXPECT_EQ(policy->scope, hub::sdk::PolicyDefinition::Scope::kRoster);
  }
}

TEST_F(FinancePluginTest, CreditPaysTheQuarterlyAmountFromTheRoster) {
  const auto both = decide(change(kBoth, kUnevaluated, kCredit, "2020Q1", 1));
  EXPECT_EQ(summary(both, kOnlyChild), (Summary{{ActionKind::kApply, kOnlyChildFen}}));
  EXPECT_EQ(summary(both, kRural), (Summary{{ActionKind::kApply, kRuralFen}}));

  const auto rural_only = decide(change(kRuralOnly, kUnevaluated, kCredit, "2020Q1", 2));
  ASSERT_EQ(actions_for(rural_only, kOnlyChild).size(), 1u);
  EXPECT_EQ(actions_for(rural_only, kOnlyChild)[0].action, ActionKind::kNotApplicable);
  EXPECT_FALSE(actions_for(rural_only, kOnlyChild)[0].amount_fen.has_value());
  EXPECT_EQ(summary(rural_only, kRural), (Summary{{ActionKind::kApply, kRuralFen}}));

  const auto stranger = decide(change("V13-00001", kUnevaluated, kCredit, "2020Q1", 3));
  for (const auto& action : stranger) EXPECT_EQ(action.action, ActionKind::kNotApplicable) << action.policy_id;
}

TEST_F(FinancePluginTest, DeferredQuartersAreReleasedWithTheCurrentQuarterOnReturnToCredit) {
  const auto q1 = decide(change(kBoth, kUnevaluated, kNonCredit, "2020Q1", 1));
  EXPECT_EQ(summary(q1, kOnlyChild), (Summary{{ActionKind::kDefer, kOnlyChildFen}}));
  EXPECT_NE(actions_for(q1, kOnlyChild)[0].reason.find("¥30.00 accrued in total"), std::string::npos);

  const auto q2 = decide(change(kBoth, kNonCredit, kNonCredit, "2020Q2", 2));
  EXPECT_EQ(summary(q2, kRural), (Summary{{ActionKind::kDefer, kRuralFen}}));
  EXPECT_NE(actions_for(q2, kRural)[0].reason.find("¥480.00 accrued in total"), std::string::npos)
      << actions_for(q2, kRural)[0].reason;

  const auto q3 = decide(change(kBoth, kNonCredit, kCredit, "2020Q3", 3));
  EXPECT_EQ(summary(q3, kOnlyChild),
            (Summary{{ActionKind::kRelease, 2 * kOnlyChildFen}, {ActionKind::kApply, kOnlyChildFen}}));
  EXPECT_EQ(summary(q3, kRural), (Summary{{ActionKind::kRelease, 2 * kRuralFen}, {ActionKind::kApply, kRuralFen}}));
  const std::string release_reason = actions_for(q3, kRural)[0].reason;
  EXPECT_NE(release_reason.find("¥480.00 released (2020Q1,2020Q2)"), std::string::npos) << release_reason;

  // Released once: the next credit quarter pays only itself.
  const auto q4 = decide(change(kBoth, kCredit, kCredit, "2020Q4", 4));
  EXPECT_EQ(summary(q4, kOnlyChild), (Summary{{ActionKind::kApply, kOnlyChildFen}}));
  EXPECT_EQ(summary(q4, kRural), (Summary{{ActionKind::kApply, kRuralFen}}));
}

TEST_F(FinancePluginTest, BreachWithholdsTheQuarterAndForfeitsWhatHadAccrued) {
  decide(change(kBoth, kUnevaluated, kNonCredit, "2020Q1", 1));
  decide(change(kBoth, kNonCredit, kNonCredit, "2020Q2", 2));
  const auto q3 = decide(change(kBoth, kNonCredit, kBreach, "2020Q3", 3));
  EXPECT_EQ(summary(q3, kOnlyChild), (Summary{{ActionKind::kWithhold, 3 * kOnlyChildFen}}));
  EXPECT_EQ(summary(q3, kRural), (Summary{{ActionKind::kWithhold, 3 * kRuralFen}}));
  const std::string reason = actions_for(q3, kOnlyChild)[0].reason;
  EXPECT_NE(reason.find("¥30.00 withheld"), std::string::npos) << reason;
  EXPECT_NE(reason.find("deferred ¥60.00 (2020Q1,2020Q2) forfeited"), std::string::npos) << reason;

  // Back to credit after a breach: restored, nothing left to release.
  const auto q4 = decide(change(kBoth, kBreach, kCredit, "2020Q4", 4));
  EXPECT_EQ(summary(q4, kOnlyChild), (Summary{{ActionKind::kRestore, kOnlyChildFen}}));
  EXPECT_EQ(summary(q4, kRural), (Summary{{ActionKind::kRestore, kRuralFen}}));
}

TEST_F(FinancePluginTest, BreachWithNothingAccruedWithholdsOnlyTheQuarter) {
  const auto q1 = decide(change(kRuralOnly, kCredit, kBreach, "2020Q1", 1));
  EXPECT_EQ(summary(q1, kRural), (Summary{{ActionKind::kWithhold, kRuralFen}}));
  EXPECT_EQ(actions_for(q1, kRural)[0].reason.find("forfeited"), std::string::npos);
}

TEST_F(FinancePluginTest, CorrectionToCreditSupersedesThatQuartersDeferral) {
  decide(change(kBoth, kUnevaluated, kNonCredit, "2020Q1", 1));
  decide(change(kBoth, kNonCredit, kNonCredit, "2020Q2", 2));
  // The supervision group upholds a complaint: 2020Q2 was credit after all.
  const auto corrected = decide(change(kBoth, kNonCredit, kCredit, "2020Q2", 3, /*correction=*/true));
  EXPECT_EQ(summary(corrected, kOnlyChild),
            (Summary{{ActionKind::kRelease, kOnlyChildFen}, {ActionKind::kApply, kOnlyChildFen}}));
  const std::string release = actions_for(corrected, kOnlyChild)[0].reason;
  EXPECT_NE(release.find("(2020Q1)"), std::string::npos) << release;
  EXPECT_NE(release.find("correction"), std::string::npos) << release;

  const auto q3 = decide(change(kBoth, kCredit, kCredit, "2020Q3", 4));
  EXPECT_EQ(summary(q3, kOnlyChild), (Summary{{ActionKind::kApply, kOnlyChildFen}}));
}

TEST_F(FinancePluginTest, CorrectionThatKeepsNonCreditDoesNotAccrueTwice) {
  decide(change(kBoth, kUnevaluated, kNonCredit, "2020Q1", 1));
  const auto corrected = decide(change(kBoth, kNonCredit, kNonCredit, "2020Q1", 2, /*correction=*/true));
  EXPECT_EQ(summary(corrected, kOnlyChild), (Summary{{ActionKind::kDefer, kOnlyChildFen}}));
  EXPECT_NE(actions_for(corrected, kOnlyChild)[0].reason.find("¥30.00 accrued in total"), std::string::npos)
      << actions_for(corrected, kOnlyChild)[0].reason;

  const auto q2 = decide(change(kBoth, kNonCredit, kCredit, "2020Q2", 3));
  EXPECT_EQ(summary(q2, kOnlyChild),
            (Summary{{ActionKind::kRelease, kOnlyChildFen}, {ActionKind::kApply, kOnlyChildFen}}));
}

TEST_F(FinancePluginTest, CorrectionToBreachForfeitsEarlierQuartersButNotTheSupersededOne) {
  decide(change(kBoth, kUnevaluated, kNonCredit, "2020Q1", 1));
  decide(change(kBoth, kNonCredit, kNonCredit, "2020Q2", 2));
  const auto corrected = decide(change(kBoth, kNonCredit, kBreach, "2020Q2", 3, /*correction=*/true));
  // 2020Q2 withheld (its deferral superseded, not counted twice) + 2020Q1 forfeited.
  EXPECT_EQ(summary(corrected, kOnlyChild), (Summary{{ActionKind::kWithhold, 2 * kOnlyChildFen}}));
}

TEST_F(FinancePluginTest, RedeliveredEventGetsTheSameActionsAndAccruesOnce) {
  const auto event_change = change(kBoth, kUnevaluated, kNonCredit, "2020Q1", 1);
  const auto first = decide(event_change);
  const auto again = decide(event_change);
  EXPECT_EQ(describe(again), describe(first));
  EXPECT_TRUE(plugin_.host().logged("finance:1 redelivered"));

  const auto q2 = decide(change(kBoth, kNonCredit, kCredit, "2020Q2", 2));
  EXPECT_EQ(summary(q2, kOnlyChild),
            (Summary{{ActionKind::kRelease, kOnlyChildFen}, {ActionKind::kApply, kOnlyChildFen}}));
}

TEST_F(FinancePluginTest, RedeliveryAfterARestartGetsTheSameActionsAndAccruesOnce) {
  decide(change(kBoth, kUnevaluated, kNonCredit, "2020Q1", 1));
  const auto q2_change = change(kBoth, kNonCredit, kNonCredit, "2020Q2", 2);
  const auto q2 = decide(q2_change);

  // The hub crashed before recording seq 2: the plugin is unloaded, loaded again on the same
  // data directory, and gets seq 2 once more.
  ASSERT_STARTED(plugin_.restart());
  EXPECT_EQ(describe(decide(q2_change)), describe(q2));

  const auto q3 = decide(change(kBoth, kNonCredit, kCredit, "2020Q3", 3));
  EXPECT_EQ(summary(q3, kRural), (Summary{{ActionKind::kRelease, 2 * kRuralFen}, {ActionKind::kApply, kRuralFen}}));
}

TEST_F(FinancePluginTest, RedeliveredReleaseIsNotPaidTwiceAndOlderEventsDoNotReopenAccruals) {
  const auto q1_change = change(kBoth, kUnevaluated, kNonCredit, "2020Q1", 1);
  const auto q2_change = change(kBoth, kNonCredit, kCredit, "2020Q2", 2);
  const auto q1 = decide(q1_change);
  const auto q2 = decide(q2_change);
  ASSERT_EQ(summary(q2, kOnlyChild),
            (Summary{{ActionKind::kRelease, kOnlyChildFen}, {ActionKind::kApply, kOnlyChildFen}}));

  ASSERT_STARTED(plugin_.restart());
  EXPECT_EQ(describe(decide(q2_change)), describe(q2));
  EXPECT_EQ(describe(decide(q1_change)), describe(q1));

  const auto q3 = decide(change(kBoth, kCredit, kCredit, "2020Q3", 3));
  EXPECT_EQ(summary(q3, kOnlyChild), (Summary{{ActionKind::kApply, kOnlyChildFen}}));
}

TEST_F(FinancePluginTest, ABatchIsKeptOnlyOnceItEnds) {
  // Seq 1 is a whole batch (handled and ended); seq 2 is handled but the process stops before
  // the batch ends, so the hub never recorded it and will deliver it again.
  decide(change(kRuralOnly, kUnevaluated, kNonCredit, "2020Q1", 1));
  const auto unrecorded = plugin_.handle_in_open_batch(change(kRuralOnly, kNonCredit, kNonCredit, "2020Q2", 2));
  ASSERT_TRUE(unrecorded.recorded()) << unrecorded.failure.value_or("");
  ASSERT_STARTED(plugin_.restart());

  // Seq 2 again: decided afresh (not "redelivered"), and only one quarter accrued for it.
  const auto q2 = decide(change(kRuralOnly, kNonCredit, kNonCredit, "2020Q2", 2));
  EXPECT_FALSE(plugin_.host().logged("finance:2 redelivered"));
  EXPECT_EQ(describe(q2), describe(unrecorded.actions));
  const auto q3 = decide(change(kRuralOnly, kNonCredit, kCredit, "2020Q3", 3));
  EXPECT_EQ(summary(q3, kRural), (Summary{{ActionKind::kRelease, 2 * kRuralFen}, {ActionKind::kApply, kRuralFen}}));
}

TEST_F(FinancePluginTest, AccrualsSurviveARestart) {
  decide(change(kRuralOnly, kUnevaluated, kNonCredit, "2020Q1", 1));
  plugin_.unload();
  EXPECT_TRUE(std::filesystem::exists(plugin_.data_dir() / "finance.db"));
  ASSERT_STARTED(plugin_.start());
  const auto q2 = decide(change(kRuralOnly, kNonCredit, kCredit, "2020Q2", 2));
  EXPECT_EQ(summary(q2, kRural), (Summary{{ActionKind::kRelease, kRuralFen}, {ActionKind::kApply, kRuralFen}}));
}

TEST_F(FinancePluginTest, LongDeferralIsReleasedInFullWithAShortReason) {
  constexpr int kQuarters = 30;
  std::uint64_t sequence = 1;
  auto quarter = [](int i) { return std::to_string(2020 + i / 4) + "Q" + std::to_string(i % 4 + 1); };
  for (int i = 0; i < kQuarters; ++i) {
    const std::string q = quarter(i);
    decide(change(kBoth, i == 0 ? kUnevaluated : kNonCredit, kNonCredit, q.c_str(), sequence++));
  }
  const std::string last = quarter(kQuarters);
  const auto released = decide(change(kBoth, kNonCredit, kCredit, last.c_str(), sequence++));
  EXPECT_EQ(summary(released, kRural),
            (Summary{{ActionKind::kRelease, kQuarters * kRuralFen}, {ActionKind::kApply, kRuralFen}}));
  const std::string reason = actions_for(released, kRural)[0].reason;
  EXPECT_NE(reason.find("2020Q1…2027Q2, 30 quarters"), std::string::npos) << reason;
}

TEST_F(FinancePluginTest, DatabaseUsesWriteAheadLogInTheDataDirectory) {
  decide(change(kBoth, kUnevaluated, kNonCredit, "2020Q1", 1));
  EXPECT_TRUE(std::filesystem::exists(plugin_.data_dir() / "finance.db"));
  EXPECT_TRUE(std::filesystem::exists(plugin_.data_dir() / "finance.db-wal"));
}

TEST_F(FinancePluginTest, AccrualsAreKeptPerHousehold) {
  decide(change(kBoth, kUnevaluated, kNonCredit, "2020Q1", 1));
  decide(change(kRuralOnly, kUnevaluated, kNonCredit, "2020Q1", 2));
  const auto released = decide(change(kBoth, kNonCredit, kCredit, "2020Q2", 3));
  EXPECT_EQ(summary(released, kRural), (Summary{{ActionKind::kRelease, kRuralFen}, {ActionKind::kApply, kRuralFen}}));
  const auto other = decide(change(kRuralOnly, kNonCredit, kNonCredit, "2020Q2", 4));
  EXPECT_NE(actions_for(other, kRural)[0].reason.find("¥480.00 accrued in total"), std::string::npos)
      << actions_for(other, kRural)[0].reason;
}

TEST_F(FinancePluginTest, UnevaluatedChangesNothing) {
  decide(change(kBoth, kUnevaluated, kNonCredit, "2020Q1", 1));
  const auto unevaluated = decide(change(kBoth, kNonCredit, kUnevaluated, "2020Q2", 2));
  for (const auto& action : unevaluated) {
    EXPECT_EQ(action.action, ActionKind::kNotApplicable);
    EXPECT_FALSE(action.amount_fen.has_value());
  }
  const auto q3 = decide(change(kBoth, kUnevaluated, kCredit, "2020Q3", 3));
  EXPECT_EQ(summary(q3, kOnlyChild),
            (Summary{{ActionKind::kRelease, kOnlyChildFen}, {ActionKind::kApply, kOnlyChildFen}}));
}

TEST_F(FinancePluginTest, IdempotencyKeyReusedForAnotherHouseholdIsAnError) {
  decide(change(kBoth, kUnevaluated, kCredit, "2020Q1", 1));
  const auto decision = plugin_.handle(change(kRuralOnly, kUnevaluated, kCredit, "2020Q1", 1));
  EXPECT_EQ(decision.result.code(), hub::sdk::HandleResult::Code::kError);
  EXPECT_NE(decision.result.message().find("finance:1"), std::string::npos) << decision.result.message();
  EXPECT_TRUE(decision.actions.empty());
}

TEST_F(FinancePluginTest, MissingRosterIsAStartErrorNamingThePath) {
  TempDir empty("finance-empty");
  PluginUnderTest plugin(this_plugin().with_data_dir(empty.path()));
  const auto result = plugin.start();
  ASSERT_EQ(result.code(), hub::sdk::HandleResult::Code::kError);
  EXPECT_NE(result.message().find((empty.path() / "roster.csv").string()), std::string::npos) << result.message();
}

TEST_F(FinancePluginTest, BadRosterRowsAreStartErrorsNamingTheLine) {
  const std::string header = "household_id,policy_id,amount_fen_per_quarter\n";
  const std::vector<std::tuple<std::string, std::string>> cases = {
      {header + "V04-00100,finance.only_child_reward,3000\nV04-00100,finance.unknown,10\n", "line 3"},
      {header + "V04-00100,finance.only_child_reward,-1\n", "line 2"},
      {header + "V04-00100,finance.only_child_reward,30.5\n", "line 2"},
      {header + "V04-00100,finance.rural_reward,1\nV04-00100,finance.rural_reward,2\n", "line 3"},
      {"household_id,policy_id,amount\nV04-00100,finance.rural_reward,1\n", "amount_fen_per_quarter"},
  };
  for (const auto& [roster, expected] : cases) {
    SCOPED_TRACE(roster);
    TempDir dir("finance-bad");
    dir.write("roster.csv", roster);
    PluginUnderTest plugin(this_plugin().with_data_dir(dir.path()));
    const auto result = plugin.start();
    ASSERT_FALSE(result.is_ok());
    EXPECT_NE(result.message().find(expected), std::string::npos) << result.message();
  }
}

}  // namespace

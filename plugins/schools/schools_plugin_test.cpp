// Unit tests of the central school plugin, loaded from its built library through hubd's
// loader (the SDK harness, hub::sdk_testing) with the shipped catalogue (config/departments/schools.json) and a roster written to
// a fresh data directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "hub/sdk/testing/harness.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::HouseholdStatus;
using hub::sdk_testing::actions_for;
using hub::sdk_testing::EventBuilder;
using hub::sdk_testing::load_catalogue_file;
using hub::sdk_testing::PluginUnderTest;
using hub::sdk_testing::TempDir;
using hub::sdk_testing::this_plugin;

constexpr const char* kFee = "schools.fee_reduction";
constexpr const char* kEnrolment = "schools.enrolment_priority";

constexpr const char* kRoster =
    "household_id,children\n"
    "V01-00001,2\n"
    "V01-00002,1\n";

hub::sdk::PolicyAction only(const std::vector<hub::sdk::PolicyAction>& actions, const char* policy) {
  const auto mine = actions_for(actions, policy);
  EXPECT_EQ(mine.size(), 1u) << policy;
  return mine.empty() ? hub::sdk::PolicyAction{} : mine[0];
}

class SchoolsPluginTest : public ::testing::Test {
 protected:
  TempDir dir_{"schools"};
};

TEST(SchoolsCatalogue, FeeReductionCarriesMoneyAndBothPoliciesNeedTheRoster) {
  const auto catalogue = load_catalogue_file(HUB_PLUGIN_CATALOGUE);
  EXPECT_EQ(catalogue.department(), "schools");
  ASSERT_EQ(catalogue.policies().size(), 2u);
  ASSERT_NE(catalogue.find(kFee), nullptr);
  ASSERT_NE(catalogue.find(kEnrolment), nullptr);
  EXPECT_TRUE(catalogue.find(kFee)->money);
  EXPECT_FALSE(catalogue.find(kEnrolment)->money);
  EXPECT_EQ(catalogue.find(kFee)->scope, hub::sdk::PolicyDefinition::Scope::kRoster);
  EXPECT_EQ(catalogue.find(kEnrolment)->scope, hub::sdk::PolicyDefinition::Scope::kRoster);
}

TEST_F(SchoolsPluginTest, HouseholdOnTheRosterGetsTheFeeReductionPerChild) {
  dir_.write("roster.csv", kRoster);
  PluginUnderTest plugin(this_plugin().with_data_dir(dir_.path()));
  ASSERT_STARTED(plugin.start());
  EXPECT_TRUE(plugin.host().logged("2 households"));

  const auto two_children = plugin.decide(EventBuilder().household("V01-00001").to("credit"));
  ASSERT_EQ(two_children.size(), 2u);
  EXPECT_EQ(only(two_children, kFee).action, ActionKind::kApply);
  EXPECT_EQ(only(two_children, kFee).amount_fen, 30000);
  EXPECT_EQ(only(two_children, kEnrolment).action, ActionKind::kApply);
  EXPECT_FALSE(only(two_children, kEnrolment).amount_fen.has_value());

  const auto one_child = plugin.decide(EventBuilder().household("V01-00002").to("credit"));
  EXPECT_EQ(only(one_child, kFee).amount_fen, 15000);
}

TEST_F(SchoolsPluginTest, HouseholdNotOnTheRosterIsNotConcerned) {
  dir_.write("roster.csv", kRoster);
  PluginUnderTest plugin(this_plugin().with_data_dir(dir_.path()));
  ASSERT_STARTED(plugin.start());
  for (const auto next : {HouseholdStatus::kCredit, HouseholdStatus::kNonCredit, HouseholdStatus::kBreach}) {
    const auto actions = plugin.decide(EventBuilder().household("V09-00077").from("credit").to(next));
    ASSERT_EQ(actions.size(), 2u);
    for (const auto& action : actions) {
      EXPECT_EQ(action.action, ActionKind::kNotApplicable) << action.policy_id;
      EXPECT_FALSE(action.amount_fen.has_value()) << action.policy_id;
      EXPECT_NE(action.reason.find("not on the school roster"), std::string::npos) << action.reason;
    }
  }
}

TEST_F(SchoolsPluginTest, StandardRuleCarriesTheAmountOnEveryDecision) {
  dir_.write("roster.csv", kRoster);
  PluginUnderTest plugin(this_plugin().with_data_dir(dir_.path()));
  ASSERT_STARTED(plugin.start());
  const std::vector<std::tuple<HouseholdStatus, HouseholdStatus, ActionKind>> cases = {
      {HouseholdStatus::kCredit, HouseholdStatus::kNonCredit, ActionKind::kDefer},
      {HouseholdStatus::kNonCredit, HouseholdStatus::kCredit, ActionKind::kRelease},
      {HouseholdStatus::kCredit, HouseholdStatus::kBreach, ActionKind::kWithhold},
      {HouseholdStatus::kBreach, HouseholdStatus::kCredit, ActionKind::kRestore},
  };
  std::uint64_t sequence = 1;
  for (const auto& [previous, next, expected] : cases) {
    SCOPED_TRACE(std::string(to_string(previous)) + " -> " + std::string(to_string(next)));
    const auto actions =
        plugin.decide(EventBuilder().household("V01-00001").from(previous).to(next).sequence(sequence++));
    EXPECT_EQ(only(actions, kFee).action, expected);
    EXPECT_EQ(only(actions, kFee).amount_fen, 30000);
    EXPECT_EQ(only(actions, kEnrolment).action, expected);
    EXPECT_FALSE(only(actions, kEnrolment).amount_fen.has_value());
  }
  const auto unevaluated = plugin.decide(EventBuilder().household("V01-00001").from("credit").to("unevaluated"));
  EXPECT_EQ(only(unevaluated, kFee).action, ActionKind::kNotApplicable);
  EXPECT_FALSE(only(unevaluated, kFee).amount_fen.has_value());
}

TEST_F(SchoolsPluginTest, PerChildAmountAndRosterPathComeFromSettings) {
  std::filesystem::create_directory(dir_.path() / "rosters");
  dir_.write("rosters/enrolled.csv", "household_id,children\nV02-00003,3\n");
  PluginUnderTest plugin(
      this_plugin(R"({"fee_reduction_fen_per_child": 20000, "roster": "rosters/enrolled.csv"})").with_data_dir(dir_.path()));
  ASSERT_STARTED(plugin.start());
  const auto actions = plugin.decide(EventBuilder().household("V02-00003").to("credit"));
  EXPECT_EQ(only(actions, kFee).amount_fen, 60000);
  EXPECT_NE(only(actions, kFee).reason.find("¥600.00"), std::string::npos) << only(actions, kFee).reason;
}

TEST_F(SchoolsPluginTest, MissingRosterIsAStartErrorNamingThePath) {
  PluginUnderTest plugin(this_plugin().with_data_dir(dir_.path()));
  const auto result = plugin.start();
  ASSERT_EQ(result.code(), hub::sdk::HandleResult::Code::kError);
  EXPECT_NE(result.message().find((dir_.path() / "roster.csv").string()), std::string::npos) << result.message();
  EXPECT_NE(result.message().find("not found"), std::string::npos) << result.message();
}

TEST_F(SchoolsPluginTest, BadRosterRowsAreStartErrorsNamingTheLine) {
  const std::vector<std::tuple<std::string, std::string>> cases = {
      {"household_id,children\nV01-00001,2\nV01-00002,0\n", "line 3"},
      {"household_id,children\nV01-00001,two\n", "line 2"},
      {"household_id,children\nV01-00001,2\nV01-00001,1\n", "line 3"},
      {"household_id,children\n,1\n", "line 2"},
      {"household,kids\nV01-00001,2\n", "household_id,children"},
  };
  for (const auto& [roster, expected] : cases) {
    SCOPED_TRACE(roster);
    dir_.write("roster.csv", roster);
    PluginUnderTest plugin(this_plugin().with_data_dir(dir_.path()));
    const auto result = plugin.start();
    ASSERT_FALSE(result.is_ok());
    EXPECT_NE(result.message().find(expected), std::string::npos) << result.message();
  }
}

TEST_F(SchoolsPluginTest, InvalidPerChildSettingIsAStartError) {
  dir_.write("roster.csv", kRoster);
  PluginUnderTest plugin(this_plugin(R"({"fee_reduction_fen_per_child": -5})").with_data_dir(dir_.path()));
  const auto result = plugin.start();
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.message().find("fee_reduction_fen_per_child"), std::string::npos) << result.message();
}

}  // namespace

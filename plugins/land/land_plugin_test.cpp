// Unit tests of the land office plugin, loaded from its built library through hubd's loader
// (the SDK harness, hub::sdk_testing) with the shipped catalogue (config/departments/land.json) and a roster of pending homestead
// applications written to a fresh data directory.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "hub/sdk/testing/harness.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::HouseholdStatus;
using hub::sdk_testing::EventBuilder;
using hub::sdk_testing::load_catalogue_file;
using hub::sdk_testing::PluginUnderTest;
using hub::sdk_testing::TempDir;
using hub::sdk_testing::this_plugin;

constexpr const char* kHomestead = "land.homestead_priority";

constexpr const char* kRoster =
    "household_id,application_id,applied_on\n"
    "V02-00010,ZJD-2020-001,2020-03-02\n"
    "V02-00011,ZJD-2020-002,2020-04-18\n"
    "V02-00010,ZJD-2020-007,2020-06-30\n";

class LandPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugin_.write_data_file("roster.csv", kRoster);
    ASSERT_STARTED(plugin_.start());
  }

  // The one action the plugin returns for its one policy.
  hub::sdk::PolicyAction decide(EventBuilder event) {
    const auto actions = plugin_.decide(std::move(event));
    EXPECT_EQ(actions.size(), 1u);
    return actions.empty() ? hub::sdk::PolicyAction{} : actions[0];
  }

  PluginUnderTest plugin_{this_plugin()};
};

TEST(LandCatalogue, OnePolicyWithoutMoney) {
  const auto catalogue = load_catalogue_file(HUB_PLUGIN_CATALOGUE);
  EXPECT_EQ(catalogue.department(), "land");
  ASSERT_EQ(catalogue.policies().size(), 1u);
  EXPECT_EQ(catalogue.policies()[0].id, kHomestead);
  EXPECT_FALSE(catalogue.policies()[0].money);
}

TEST_F(LandPluginTest, LogsTheRosterItLoaded) {
  EXPECT_TRUE(plugin_.host().logged("3 pending applications of 2 households")) << plugin_.host().log_lines().back();
}

TEST_F(LandPluginTest, NonCreditPutsEveryPendingApplicationOnHoldAndCreditResumesThem) {
  const auto hold = decide(EventBuilder().household("V02-00010").from("credit").to("non_credit").quarter("2020Q3"));
  EXPECT_EQ(hold.action, ActionKind::kDefer);
  EXPECT_NE(hold.reason.find("application(s) ZJD-2020-001,ZJD-2020-007 put on hold"), std::string::npos) << hold.reason;
  EXPECT_EQ(hold.reason.find("ZJD-2020-002"), std::string::npos) << "another household's application";

  const auto resume = decide(EventBuilder()
                                 .household("V02-00010")
                                 .from("non_credit")
                                 .to("credit")
                                 .previous_quarter("2020Q3")
                                 .quarter("2020Q4"));
  EXPECT_EQ(resume.action, ActionKind::kRelease);
  EXPECT_NE(resume.reason.find("ZJD-2020-001,ZJD-2020-007 resumed"), std::string::npos) << resume.reason;
}

TEST_F(LandPluginTest, BreachWithholdsAndCreditRestores) {
  const auto hold = decide(EventBuilder().household("V02-00011").from("credit").to("breach"));
  EXPECT_EQ(hold.action, ActionKind::kWithhold);
  EXPECT_NE(hold.reason.find("ZJD-2020-002 on hold"), std::string::npos) << hold.reason;

  const auto resume = decide(EventBuilder().household("V02-00011").from("breach").to("credit").quarter("2020Q4"));
  EXPECT_EQ(resume.action, ActionKind::kRestore);
  EXPECT_NE(resume.reason.find("ZJD-2020-002 resumed"), std::string::npos) << resume.reason;
}

TEST_F(LandPluginTest, CreditToCreditKeepsPriority) {
  const auto action = decide(EventBuilder().household("V02-00011").from("credit").to("credit"));
  EXPECT_EQ(action.action, ActionKind::kApply);
  EXPECT_FALSE(action.amount_fen.has_value());
}

TEST_F(LandPluginTest, HouseholdWithoutPendingApplicationIsNotConcerned) {
  for (const auto next : {HouseholdStatus::kCredit, HouseholdStatus::kNonCredit, HouseholdStatus::kBreach}) {
    const auto action = decide(EventBuilder().household("V07-00001").from("credit").to(next));
    EXPECT_EQ(action.action, ActionKind::kNotApplicable);
    EXPECT_EQ(action.household_id, "V07-00001");
  }
}

TEST_F(LandPluginTest, ManyApplicationsAreCountedNotAllListed) {
  TempDir dir("land-many");
  std::string roster = "household_id,application_id,applied_on\n";
  for (int i = 1; i <= 40; ++i) roster += "V08-00001,ZJD-2019-" + std::to_string(1000 + i) + ",2019-05-01\n";
  dir.write("roster.csv", roster);
  PluginUnderTest plugin(this_plugin().with_data_dir(dir.path()));
  ASSERT_STARTED(plugin.start());
  const auto actions = plugin.decide(EventBuilder().household("V08-00001").to("non_credit"));
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].action, ActionKind::kDefer);
  EXPECT_NE(actions[0].reason.find("ZJD-2019-1005 and 35 more put on hold"), std::string::npos) << actions[0].reason;
  EXPECT_NE(actions[0].reason.find("等共 40 件"), std::string::npos) << actions[0].reason;
}

TEST_F(LandPluginTest, MissingRosterIsAStartErrorNamingThePath) {
  TempDir empty("land-empty");
  PluginUnderTest plugin(this_plugin(R"({"roster": "pending.csv"})").with_data_dir(empty.path()));
  const auto result = plugin.start();
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.message().find((empty.path() / "pending.csv").string()), std::string::npos) << result.message();
}

TEST_F(LandPluginTest, BadRosterRowsAreStartErrorsNamingTheLine) {
  const std::vector<std::tuple<std::string, std::string>> cases = {
      {"household_id,application_id,applied_on\nV02-00010,A1,2020-03-02\nV02-00011,A2,2020-13-01\n", "line 3"},
      {"household_id,application_id,applied_on\nV02-00010,,2020-03-02\n", "line 2"},
      {"household_id,application_id,applied_on\nV02-00010,A1,2020-03-02\nV02-00011,A1,2020-04-02\n", "line 3"},
      {"household_id,applied_on\nV02-00010,2020-03-02\n", "household_id,application_id,applied_on"},
  };
  for (const auto& [roster, expected] : cases) {
    SCOPED_TRACE(roster);
    TempDir dir("land-bad");
    dir.write("roster.csv", roster);
    PluginUnderTest plugin(this_plugin().with_data_dir(dir.path()));
    const auto result = plugin.start();
    ASSERT_FALSE(result.is_ok());
    EXPECT_NE(result.message().find(expected), std::string::npos) << result.message();
  }
}

}  // namespace

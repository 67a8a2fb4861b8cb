// Unit tests of the police station plugin, loaded from its built library through hubd's
// loader (the SDK harness, hub::sdk_testing) with the shipped catalogue
// (config/departments/police.json).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/sdk/testing/harness.h"
#include "hub/sdk/testing/standard_rule_checks.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk_testing::EventBuilder;
using hub::sdk_testing::load_catalogue_file;
using hub::sdk_testing::PluginUnderTest;
using hub::sdk_testing::this_plugin;

const std::vector<std::string> kPolicies = {"police.hukou_priority", "police.certificate_fast_track"};

class PolicePluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_STARTED(plugin_.start()); }

  PluginUnderTest plugin_{this_plugin()};
};

TEST(PoliceCatalogue, ShippedCatalogueListsTheStationsPolicies) {
  const auto catalogue = load_catalogue_file(HUB_PLUGIN_CATALOGUE);
  EXPECT_EQ(catalogue.department(), "police");
  EXPECT_EQ(catalogue.name_zh(), "派出所");
  ASSERT_EQ(catalogue.policies().size(), kPolicies.size());
  for (std::size_t i = 0; i < kPolicies.size(); ++i) {
    EXPECT_EQ(catalogue.policies()[i].id, kPolicies[i]);
    EXPECT_FALSE(catalogue.policies()[i].money);
    EXPECT_EQ(catalogue.policies()[i].scope, hub::sdk::PolicyDefinition::Scope::kAll);
  }
}

TEST_F(PolicePluginTest, ReportsItsIdentityAndLogsStart) {
  const auto info = plugin_.info();
  EXPECT_EQ(info.id, "police");
  EXPECT_EQ(info.version, "1.0.0");
  EXPECT_EQ(info.abi_version, HUB_SDK_ABI_VERSION);
  EXPECT_TRUE(plugin_.host().logged("police: started with 2 policies"));
}

TEST_F(PolicePluginTest, FollowsTheStandardRuleForEveryTransition) {
  hub::sdk_testing::expect_standard_rule(plugin_, kPolicies);
}

TEST_F(PolicePluginTest, ActionsAreForTheEventsHouseholdWithAReadableReason) {
  const auto actions =
      plugin_.decide(EventBuilder().household("V11-01234").from("credit").to("non_credit").quarter("2021Q1"));
  ASSERT_EQ(actions.size(), 2u);
  for (const auto& action : actions) {
    EXPECT_EQ(action.household_id, "V11-01234");
    EXPECT_NE(action.reason.find("不诚信户"), std::string::npos) << action.reason;
    EXPECT_NE(action.reason.find("non_credit: deferred (2021Q1)"), std::string::npos) << action.reason;
  }
}

TEST_F(PolicePluginTest, MarksCorrectionsInTheReason) {
  const auto actions = plugin_.decide(EventBuilder().from("non_credit").to("credit").quarter("2020Q3").correction());
  ASSERT_FALSE(actions.empty());
  EXPECT_NE(actions[0].reason.find("correction"), std::string::npos) << actions[0].reason;
}

TEST_F(PolicePluginTest, SameEventGetsTheSameAnswerAfterARestart) {
  const auto event = plugin_.event_for(EventBuilder().from("breach").to("credit").sequence(7));
  const auto first = plugin_.decide(event);
  ASSERT_STARTED(plugin_.restart());
  EXPECT_EQ(hub::sdk_testing::describe(plugin_.decide(event)), hub::sdk_testing::describe(first));
}

}  // namespace

// Unit tests of the police station plugin, loaded from its built library through the hub's
// loader with the shipped catalogue (config/departments/police.json).
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "plugin_test_support.h"
#include "standard_rule_checks.h"

namespace {

using hub::plugin_testing::actions_for;
using hub::plugin_testing::contract_violations;
using hub::plugin_testing::department_catalogue;
using hub::plugin_testing::make_event;
using hub::plugin_testing::PluginUnderTest;
using hub::plugin_testing::StatusChange;
using hub::plugin_testing::TempDir;
using hub::sdk::ActionKind;
using hub::sdk::HouseholdStatus;

const std::vector<std::string> kPolicies = {"police.hukou_priority", "police.certificate_fast_track"};

class PolicePluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_STARTED(plugin_.start()); }

  std::vector<hub::sdk::PolicyAction> decide(const StatusChange& change) {
    const auto event = make_event("police", change);
    auto actions = plugin_.handle_ok(event);
    EXPECT_EQ(contract_violations(catalogue_, event, actions), "");
    return actions;
  }

  TempDir dir_{"police"};
  PluginUnderTest plugin_{HUB_PLUGIN_PATH, "police", dir_.path()};
  hub::sdk::Catalogue catalogue_ = department_catalogue("police");
};

TEST(PoliceCatalogue, ShippedCatalogueListsTheStationsPolicies) {
  const auto catalogue = department_catalogue("police");
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
  const auto info = plugin_.instance().info();
  EXPECT_EQ(info.id, "police");
  EXPECT_EQ(info.version, "1.0.0");
  EXPECT_EQ(info.abi_version, HUB_SDK_ABI_VERSION);
  EXPECT_TRUE(plugin_.host().logged("police: started with 2 policies"));
}

TEST_F(PolicePluginTest, FollowsTheStandardRuleForEveryTransition) {
  hub::plugin_testing::expect_standard_rule(plugin_, "police", kPolicies);
}

TEST_F(PolicePluginTest, ActionsAreForTheEventsHouseholdWithAReadableReason) {
  const auto actions = decide({.household_id = "V11-01234",
                               .previous = HouseholdStatus::kCredit,
                               .next = HouseholdStatus::kNonCredit,
                               .quarter = "2021Q1"});
  ASSERT_EQ(actions.size(), 2u);
  for (const auto& action : actions) {
    EXPECT_EQ(action.household_id, "V11-01234");
    EXPECT_NE(action.reason.find("不诚信户"), std::string::npos) << action.reason;
    EXPECT_NE(action.reason.find("non_credit: deferred (2021Q1)"), std::string::npos) << action.reason;
  }
}

TEST_F(PolicePluginTest, MarksCorrectionsInTheReason) {
  const auto actions = decide({.previous = HouseholdStatus::kNonCredit,
                               .next = HouseholdStatus::kCredit,
                               .previous_quarter = "2020Q3",
                               .correction = true});
  ASSERT_FALSE(actions.empty());
  EXPECT_NE(actions[0].reason.find("correction"), std::string::npos) << actions[0].reason;
}

TEST_F(PolicePluginTest, SameEventGetsTheSameAnswerAfterARestart) {
  const StatusChange change{.previous = HouseholdStatus::kBreach, .next = HouseholdStatus::kCredit, .sequence = 7};
  const auto first = decide(change);
  ASSERT_STARTED(plugin_.restart());
  EXPECT_EQ(hub::plugin_testing::describe(decide(change)), hub::plugin_testing::describe(first));
}

}  // namespace

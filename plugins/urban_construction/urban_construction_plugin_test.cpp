// Unit tests of the urban construction office plugin, loaded from its built library through
// the hub's loader with the shipped catalogue (config/departments/urban_construction.json).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plugin_test_support.h"
#include "standard_rule_checks.h"

namespace {

using hub::plugin_testing::department_catalogue;
using hub::plugin_testing::describe;
using hub::plugin_testing::expect_all;
using hub::plugin_testing::make_event;
using hub::plugin_testing::PluginUnderTest;
using hub::plugin_testing::TempDir;
using hub::sdk::ActionKind;
using hub::sdk::HouseholdStatus;

const std::vector<std::string> kPolicies = {"urban_construction.renovation_priority",
                                            "urban_construction.building_permit_priority"};

class UrbanConstructionPluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_STARTED(plugin_.start()); }

  TempDir dir_{"urban_construction"};
  PluginUnderTest plugin_{HUB_PLUGIN_PATH, "urban_construction", dir_.path()};
};

TEST(UrbanConstructionCatalogue, RenovationAndPermitPriorityForEveryHousehold) {
  const auto catalogue = department_catalogue("urban_construction");
  EXPECT_EQ(catalogue.department(), "urban_construction");
  EXPECT_EQ(catalogue.name_zh(), "城建办");
  ASSERT_EQ(catalogue.policies().size(), kPolicies.size());
  for (std::size_t i = 0; i < kPolicies.size(); ++i) {
    EXPECT_EQ(catalogue.policies()[i].id, kPolicies[i]);
    EXPECT_FALSE(catalogue.policies()[i].money);
  }
  EXPECT_EQ(catalogue.find("urban_construction.renovation_priority")->name_zh, "危房改造优先安排");
}

TEST_F(UrbanConstructionPluginTest, ReportsItsIdentityAndLogsStart) {
  EXPECT_EQ(plugin_.instance().info().id, "urban_construction");
  EXPECT_TRUE(plugin_.host().logged("urban_construction: started with 2 policies"));
}

TEST_F(UrbanConstructionPluginTest, FollowsTheStandardRuleForEveryTransition) {
  hub::plugin_testing::expect_standard_rule(plugin_, "urban_construction", kPolicies);
}

TEST_F(UrbanConstructionPluginTest, DesignationsDoNotChangeTheDecision) {
  const auto plain = plugin_.handle_ok(
      make_event("urban_construction", {.previous = HouseholdStatus::kBreach, .next = HouseholdStatus::kCredit}));
  const auto designated = plugin_.handle_ok(make_event(
      "urban_construction",
      {.previous = HouseholdStatus::kBreach, .next = HouseholdStatus::kCredit, .designations = {"assistance"}}));
  EXPECT_EQ(describe(plain), describe(designated));
  expect_all(plain, ActionKind::kRestore, "诚信户，恢复优先安排 / credit: restored (2020Q3)");
}

}  // namespace

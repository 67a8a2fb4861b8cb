// Unit tests of the urban construction office plugin, loaded from its built library through
// hubd's loader (the SDK harness, hub::sdk_testing) with the shipped catalogue
// (config/departments/urban_construction.json).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/sdk/testing/harness.h"
#include "hub/sdk/testing/standard_rule_checks.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk_testing::describe;
using hub::sdk_testing::EventBuilder;
using hub::sdk_testing::expect_all;
using hub::sdk_testing::load_catalogue_file;
using hub::sdk_testing::PluginUnderTest;
using hub::sdk_testing::this_plugin;

const std::vector<std::string> kPolicies = {"urban_construction.renovation_priority",
                                            "urban_construction.building_permit_priority"};

class UrbanConstructionPluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_STARTED(plugin_.start()); }

  PluginUnderTest plugin_{this_plugin()};
};

TEST(UrbanConstructionCatalogue, RenovationAndPermitPriorityForEveryHousehold) {
  const auto catalogue = load_catalogue_file(HUB_PLUGIN_CATALOGUE);
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
  EXPECT_EQ(plugin_.info().id, "urban_construction");
  EXPECT_TRUE(plugin_.host().logged("urban_construction: started with 2 policies"));
}

TEST_F(UrbanConstructionPluginTest, FollowsTheStandardRuleForEveryTransition) {
  hub::sdk_testing::expect_standard_rule(plugin_, kPolicies);
}

TEST_F(UrbanConstructionPluginTest, DesignationsDoNotChangeTheDecision) {
  const auto plain = plugin_.decide(EventBuilder().from("breach").to("credit").quarter("2020Q3").sequence(1));
  const auto designated = plugin_.decide(
      EventBuilder().from("breach").to("credit").quarter("2020Q3").designation("assistance").sequence(1));
  EXPECT_EQ(describe(plain), describe(designated));
  expect_all(plain, ActionKind::kRestore, "诚信户，恢复优先安排 / credit: restored (2020Q3)");
}

}  // namespace

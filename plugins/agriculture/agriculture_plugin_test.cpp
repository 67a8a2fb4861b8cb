// Unit tests of the agricultural services centre plugin, loaded from its built library through
// hubd's loader (the SDK harness, hub::sdk_testing) with the shipped catalogue
// (config/departments/agriculture.json).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/sdk/testing/harness.h"
#include "hub/sdk/testing/standard_rule_checks.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk_testing::EventBuilder;
using hub::sdk_testing::expect_all;
using hub::sdk_testing::load_catalogue_file;
using hub::sdk_testing::PluginUnderTest;
using hub::sdk_testing::this_plugin;

const std::vector<std::string> kPolicies = {"agriculture.training_priority", "agriculture.project_support_priority",
                                            "agriculture.machinery_subsidy_priority"};

class AgriculturePluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_STARTED(plugin_.start()); }

  PluginUnderTest plugin_{this_plugin()};
};

TEST(AgricultureCatalogue, ListsTrainingProjectAndMachineryPrioritiesForEveryHousehold) {
  const auto catalogue = load_catalogue_file(HUB_PLUGIN_CATALOGUE);
  EXPECT_EQ(catalogue.department(), "agriculture");
  EXPECT_EQ(catalogue.name_zh(), "农业服务中心");
  EXPECT_EQ(catalogue.name_en(), "Agricultural services centre");
  ASSERT_EQ(catalogue.policies().size(), kPolicies.size());
  for (std::size_t i = 0; i < kPolicies.size(); ++i) {
    EXPECT_EQ(catalogue.policies()[i].id, kPolicies[i]);
    EXPECT_FALSE(catalogue.policies()[i].money);
    EXPECT_EQ(catalogue.policies()[i].scope, hub::sdk::PolicyDefinition::Scope::kAll);
    EXPECT_FALSE(catalogue.policies()[i].name_zh.empty());
  }
}

TEST_F(AgriculturePluginTest, ReportsItsIdentityAndLogsStart) {
  const auto info = plugin_.info();
  EXPECT_EQ(info.id, "agriculture");
  EXPECT_EQ(info.version, "1.0.0");
  EXPECT_EQ(info.abi_version, HUB_SDK_ABI_VERSION);
  EXPECT_TRUE(plugin_.host().logged("agriculture: started with 3 policies"));
}

TEST_F(AgriculturePluginTest, FollowsTheStandardRuleForEveryTransition) {
  hub::sdk_testing::expect_standard_rule(plugin_, kPolicies);
}

TEST_F(AgriculturePluginTest, ReasonsSayPriorityArrangementInBothLanguages) {
  expect_all(plugin_.decide(EventBuilder().from("credit").to("non_credit").quarter("2021Q1")), ActionKind::kDefer,
             "不诚信户，暂缓优先安排 / non_credit: deferred (2021Q1)");
  expect_all(plugin_.decide(EventBuilder().from("credit").to("breach")), ActionKind::kWithhold,
             "违约户，不予优先安排 / breach: withheld");
}

TEST_F(AgriculturePluginTest, SameEventGetsTheSameAnswerAfterARestart) {
  const auto event = plugin_.event_for(EventBuilder().from("non_credit").to("credit"));
  const auto first = plugin_.decide(event);
  ASSERT_STARTED(plugin_.restart());
  EXPECT_EQ(hub::sdk_testing::describe(plugin_.decide(event)), hub::sdk_testing::describe(first));
}

}  // namespace

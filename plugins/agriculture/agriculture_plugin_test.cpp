// Unit tests of the agricultural services centre plugin, loaded from its built library through
// the hub's loader with the shipped catalogue (config/departments/agriculture.json).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plugin_test_support.h"
#include "standard_rule_checks.h"

namespace {

using hub::plugin_testing::department_catalogue;
using hub::plugin_testing::expect_all;
using hub::plugin_testing::make_event;
using hub::plugin_testing::PluginUnderTest;
using hub::plugin_testing::TempDir;
using hub::sdk::ActionKind;
using hub::sdk::HouseholdStatus;

const std::vector<std::string> kPolicies = {"agriculture.training_priority", "agriculture.project_support_priority",
                                            "agriculture.machinery_subsidy_priority"};

class AgriculturePluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_STARTED(plugin_.start()); }

  TempDir dir_{"agriculture"};
  PluginUnderTest plugin_{HUB_PLUGIN_PATH, "agriculture", dir_.path()};
};

TEST(AgricultureCatalogue, ListsTrainingProjectAndMachineryPrioritiesForEveryHousehold) {
  const auto catalogue = department_catalogue("agriculture");
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
  const auto info = plugin_.instance().info();
  EXPECT_EQ(info.id, "agriculture");
  EXPECT_EQ(info.version, "1.0.0");
  EXPECT_EQ(info.abi_version, HUB_SDK_ABI_VERSION);
  EXPECT_TRUE(plugin_.host().logged("agriculture: started with 3 policies"));
}

TEST_F(AgriculturePluginTest, FollowsTheStandardRuleForEveryTransition) {
  hub::plugin_testing::expect_standard_rule(plugin_, "agriculture", kPolicies);
}

TEST_F(AgriculturePluginTest, ReasonsSayPriorityArrangementInBothLanguages) {
  expect_all(plugin_.handle_ok(make_event("agriculture", {.previous = HouseholdStatus::kCredit,
                                                          .next = HouseholdStatus::kNonCredit,
                                                          .quarter = "2021Q1"})),
             ActionKind::kDefer, "不诚信户，暂缓优先安排 / non_credit: deferred (2021Q1)");
  expect_all(plugin_.handle_ok(make_event("agriculture", {.previous = HouseholdStatus::kCredit,
                                                          .next = HouseholdStatus::kBreach,
                                                          .sequence = 2})),
             ActionKind::kWithhold, "违约户，不予优先安排 / breach: withheld");
}

TEST_F(AgriculturePluginTest, SameEventGetsTheSameAnswerAfterARestart) {
  const auto event = make_event("agriculture", {.previous = HouseholdStatus::kNonCredit, .next = HouseholdStatus::kCredit});
  const auto first = plugin_.handle_ok(event);
  ASSERT_STARTED(plugin_.restart());
  EXPECT_EQ(hub::plugin_testing::describe(plugin_.handle_ok(event)), hub::plugin_testing::describe(first));
}

}  // namespace

// Unit tests of the judicial office plugin, loaded from its built library through the hub's
// loader with the shipped catalogue (config/departments/judicial.json).
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

const std::vector<std::string> kPolicies = {"judicial.legal_aid_priority", "judicial.mediation_priority"};

class JudicialPluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_STARTED(plugin_.start()); }

  TempDir dir_{"judicial"};
  PluginUnderTest plugin_{HUB_PLUGIN_PATH, "judicial", dir_.path()};
};

TEST(JudicialCatalogue, LegalAidAndMediationPriorityForEveryHousehold) {
  const auto catalogue = department_catalogue("judicial");
  EXPECT_EQ(catalogue.department(), "judicial");
  EXPECT_EQ(catalogue.name_zh(), "司法所");
  ASSERT_EQ(catalogue.policies().size(), kPolicies.size());
  for (std::size_t i = 0; i < kPolicies.size(); ++i) {
    EXPECT_EQ(catalogue.policies()[i].id, kPolicies[i]);
    EXPECT_FALSE(catalogue.policies()[i].money);
    EXPECT_EQ(catalogue.policies()[i].scope, hub::sdk::PolicyDefinition::Scope::kAll);
  }
  EXPECT_EQ(catalogue.find("judicial.legal_aid_priority")->name_zh, "法律援助优先受理");
}

TEST_F(JudicialPluginTest, ReportsItsIdentityAndLogsStart) {
  EXPECT_EQ(plugin_.instance().info().id, "judicial");
  EXPECT_TRUE(plugin_.host().logged("judicial: started with 2 policies"));
}

TEST_F(JudicialPluginTest, FollowsTheStandardRuleForEveryTransition) {
  hub::plugin_testing::expect_standard_rule(plugin_, "judicial", kPolicies);
}

TEST_F(JudicialPluginTest, DeferredPriorityStillMeansTheCaseIsTakenInTheNormalOrder) {
  expect_all(plugin_.handle_ok(make_event("judicial", {.previous = HouseholdStatus::kCredit,
                                                       .next = HouseholdStatus::kNonCredit})),
             ActionKind::kDefer, "暂缓优先受理（按常规顺序受理） / non_credit: deferred (2020Q3)");
  expect_all(plugin_.handle_ok(make_event("judicial", {.previous = HouseholdStatus::kNonCredit,
                                                       .next = HouseholdStatus::kBreach,
                                                       .sequence = 2})),
             ActionKind::kWithhold, "不予优先受理（按常规顺序受理）");
}

TEST_F(JudicialPluginTest, MarksCorrectionsInTheReason) {
  expect_all(plugin_.handle_ok(make_event("judicial", {.previous = HouseholdStatus::kBreach,
                                                       .next = HouseholdStatus::kCredit,
                                                       .previous_quarter = "2020Q3",
                                                       .correction = true})),
             ActionKind::kRestore, "恢复优先受理 / credit: restored (2020Q3) [更正 / correction]");
}

}  // namespace

// Unit tests of the judicial office plugin, loaded from its built library through hubd's
// loader (the SDK harness, hub::sdk_testing) with the shipped catalogue
// (config/departments/judicial.json).
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

const std::vector<std::string> kPolicies = {"judicial.legal_aid_priority", "judicial.mediation_priority"};

class JudicialPluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_STARTED(plugin_.start()); }

  PluginUnderTest plugin_{this_plugin()};
};

TEST(JudicialCatalogue, LegalAidAndMediationPriorityForEveryHousehold) {
  const auto catalogue = load_catalogue_file(HUB_PLUGIN_CATALOGUE);
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
  EXPECT_EQ(plugin_.info().id, "judicial");
  EXPECT_TRUE(plugin_.host().logged("judicial: started with 2 policies"));
}

TEST_F(JudicialPluginTest, FollowsTheStandardRuleForEveryTransition) {
  hub::sdk_testing::expect_standard_rule(plugin_, kPolicies);
}

TEST_F(JudicialPluginTest, DeferredPriorityStillMeansTheCaseIsTakenInTheNormalOrder) {
  expect_all(plugin_.decide(EventBuilder().from("credit").to("non_credit").quarter("2020Q3")), ActionKind::kDefer,
             "暂缓优先受理（按常规顺序受理） / non_credit: deferred (2020Q3)");
  expect_all(plugin_.decide(EventBuilder().from("non_credit").to("breach")), ActionKind::kWithhold,
             "不予优先受理（按常规顺序受理）");
}

TEST_F(JudicialPluginTest, MarksCorrectionsInTheReason) {
  expect_all(plugin_.decide(EventBuilder().from("breach").to("credit").quarter("2020Q3").correction()),
             ActionKind::kRestore, "恢复优先受理 / credit: restored (2020Q3) [更正 / correction]");
}

}  // namespace

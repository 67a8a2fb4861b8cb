// Unit tests of the family-planning association plugin, loaded from its built library through
// the hub's loader with the shipped catalogue (config/departments/fp_association.json).
#include <gtest/gtest.h>

#include <string>
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

constexpr const char* kProgramme = "fp_association.assistance_programme";
constexpr const char* kGrant = "fp_association.assistance_grant";

class FpAssociationPluginTest : public ::testing::Test {
 protected:
  std::vector<hub::sdk::PolicyAction> decide(PluginUnderTest& plugin, const StatusChange& change) {
    const auto event = make_event("fp_association", change);
    auto actions = plugin.handle_ok(event);
    EXPECT_EQ(contract_violations(catalogue_, event, actions), "");
    return actions;
  }

  static hub::sdk::PolicyAction only(const std::vector<hub::sdk::PolicyAction>& actions, const char* policy) {
    const auto mine = actions_for(actions, policy);
    EXPECT_EQ(mine.size(), 1u) << policy;
    return mine.empty() ? hub::sdk::PolicyAction{} : mine[0];
  }

  TempDir dir_{"fp_association"};
  hub::sdk::Catalogue catalogue_ = department_catalogue("fp_association");
};

TEST(FpAssociationCatalogue, BothPoliciesAreForAssistanceHouseholdsAndTheGrantCarriesMoney) {
  const auto catalogue = department_catalogue("fp_association");
  EXPECT_EQ(catalogue.department(), "fp_association");
  EXPECT_EQ(catalogue.name_zh(), "计生协会");
  ASSERT_EQ(catalogue.policies().size(), 2u);
  for (const auto& policy : catalogue.policies()) {
    EXPECT_EQ(policy.scope, hub::sdk::PolicyDefinition::Scope::kDesignation) << policy.id;
    EXPECT_EQ(policy.designation, "assistance") << policy.id;
  }
  EXPECT_FALSE(catalogue.find(kProgramme)->money);
  EXPECT_TRUE(catalogue.find(kGrant)->money);
}

TEST_F(FpAssociationPluginTest, HouseholdsWithoutTheDesignationAreNotConcerned) {
  PluginUnderTest plugin(HUB_PLUGIN_PATH, "fp_association", dir_.path());
  ASSERT_STARTED(plugin.start());
  for (const auto next : {HouseholdStatus::kCredit, HouseholdStatus::kNonCredit, HouseholdStatus::kBreach}) {
    const auto actions = decide(plugin, {.previous = HouseholdStatus::kCredit, .next = next});
    ASSERT_EQ(actions.size(), 2u);
    for (const auto& action : actions) {
      EXPECT_EQ(action.action, ActionKind::kNotApplicable) << action.policy_id;
      EXPECT_FALSE(action.amount_fen.has_value()) << action.policy_id;
      EXPECT_NE(action.reason.find("非帮扶对象"), std::string::npos) << action.reason;
    }
  }
}

TEST_F(FpAssociationPluginTest, DesignatedHouseholdsFollowTheStandardRule) {
  PluginUnderTest plugin(HUB_PLUGIN_PATH, "fp_association", dir_.path());
  ASSERT_STARTED(plugin.start());
  hub::plugin_testing::expect_standard_rule(plugin, "fp_association", {kProgramme, kGrant}, {"assistance"});
}

TEST_F(FpAssociationPluginTest, TheGrantCarriesItsQuarterlyAmountOnEveryDecision) {
  PluginUnderTest plugin(HUB_PLUGIN_PATH, "fp_association", dir_.path());
  ASSERT_STARTED(plugin.start());
  EXPECT_TRUE(plugin.host().logged("assistance grant ¥300.00 per household and quarter"));
  std::uint64_t sequence = 1;
  for (const auto& [previous, next, expected] : hub::plugin_testing::standard_transitions()) {
    SCOPED_TRACE(std::string(to_string(previous)) + " -> " + std::string(to_string(next)));
    const auto actions = decide(
        plugin, {.previous = previous, .next = next, .sequence = sequence++, .designations = {"assistance"}});
    const auto grant = only(actions, kGrant);
    EXPECT_EQ(grant.action, expected);
    if (expected == ActionKind::kNotApplicable) {
      EXPECT_FALSE(grant.amount_fen.has_value());
    } else {
      EXPECT_EQ(grant.amount_fen, 30000);
      EXPECT_NE(grant.reason.find("¥300.00"), std::string::npos) << grant.reason;
    }
    EXPECT_FALSE(only(actions, kProgramme).amount_fen.has_value());
  }
}

TEST_F(FpAssociationPluginTest, GrantAmountComesFromSettings) {
  PluginUnderTest plugin(HUB_PLUGIN_PATH, "fp_association", dir_.path(), R"({"assistance_grant_fen": 45000})");
  ASSERT_STARTED(plugin.start());
  const auto actions = decide(plugin, {.previous = HouseholdStatus::kNonCredit,
                                       .next = HouseholdStatus::kCredit,
                                       .designations = {"assistance"}});
  EXPECT_EQ(only(actions, kGrant).action, ActionKind::kRelease);
  EXPECT_EQ(only(actions, kGrant).amount_fen, 45000);
  EXPECT_NE(only(actions, kGrant).reason.find("恢复兑现 / credit: released (2020Q3) — ¥450.00"), std::string::npos)
      << only(actions, kGrant).reason;
}

TEST_F(FpAssociationPluginTest, BadGrantSettingIsAStartErrorNamingTheSetting) {
  for (const char* settings : {R"({"assistance_grant_fen": -1})", R"({"assistance_grant_fen": "300"})",
                               R"({"assistance_grant_fen": 100000001})"}) {
    SCOPED_TRACE(settings);
    PluginUnderTest plugin(HUB_PLUGIN_PATH, "fp_association", dir_.path(), settings);
    const auto result = plugin.start();
    ASSERT_EQ(result.code(), hub::sdk::HandleResult::Code::kError);
    EXPECT_NE(result.message().find("settings.assistance_grant_fen"), std::string::npos) << result.message();
  }
}

}  // namespace

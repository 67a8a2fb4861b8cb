// Unit tests of the family-planning association plugin, loaded from its built library through
// hubd's loader (the SDK harness, hub::sdk_testing) with the shipped catalogue
// (config/departments/fp_association.json).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/sdk/testing/harness.h"
#include "hub/sdk/testing/standard_rule_checks.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::HouseholdStatus;
using hub::sdk_testing::actions_for;
using hub::sdk_testing::EventBuilder;
using hub::sdk_testing::load_catalogue_file;
using hub::sdk_testing::PluginUnderTest;
using hub::sdk_testing::this_plugin;

constexpr const char* kProgramme = "fp_association.assistance_programme";
constexpr const char* kGrant = "fp_association.assistance_grant";

// The single action for `policy`.
hub::sdk::PolicyAction only(const std::vector<hub::sdk::PolicyAction>& actions, const char* policy) {
  const auto mine = actions_for(actions, policy);
  EXPECT_EQ(mine.size(), 1u) << policy;
  return mine.empty() ? hub::sdk::PolicyAction{} : mine[0];
}

TEST(FpAssociationCatalogue, BothPoliciesAreForAssistanceHouseholdsAndTheGrantCarriesMoney) {
  const auto catalogue = load_catalogue_file(HUB_PLUGIN_CATALOGUE);
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

TEST(FpAssociationPlugin, HouseholdsWithoutTheDesignationAreNotConcerned) {
  PluginUnderTest plugin(this_plugin());
  ASSERT_STARTED(plugin.start());
  for (const auto next : {HouseholdStatus::kCredit, HouseholdStatus::kNonCredit, HouseholdStatus::kBreach}) {
    const auto actions = plugin.decide(EventBuilder().from(HouseholdStatus::kCredit).to(next));
    ASSERT_EQ(actions.size(), 2u);
    for (const auto& action : actions) {
      EXPECT_EQ(action.action, ActionKind::kNotApplicable) << action.policy_id;
      EXPECT_FALSE(action.amount_fen.has_value()) << action.policy_id;
      EXPECT_NE(action.reason.find("非帮扶对象"), std::string::npos) << action.reason;
    }
  }
}

TEST(FpAssociationPlugin, DesignatedHouseholdsFollowTheStandardRule) {
  PluginUnderTest plugin(this_plugin());
  ASSERT_STARTED(plugin.start());
  hub::sdk_testing::expect_standard_rule(plugin, {kProgramme, kGrant}, {"assistance"});
}

TEST(FpAssociationPlugin, TheGrantCarriesItsQuarterlyAmountOnEveryDecision) {
  PluginUnderTest plugin(this_plugin());
  ASSERT_STARTED(plugin.start());
  EXPECT_TRUE(plugin.host().logged("assistance grant ¥300.00 per household and quarter"));
  for (const auto& [previous, next, expected] : hub::sdk_testing::standard_transitions()) {
    SCOPED_TRACE(std::string(to_string(previous)) + " -> " + std::string(to_string(next)));
    const auto actions = plugin.decide(EventBuilder().from(previous).to(next).designation("assistance"));
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

TEST(FpAssociationPlugin, GrantAmountComesFromSettings) {
  PluginUnderTest plugin(this_plugin(R"({"assistance_grant_fen": 45000})"));
  ASSERT_STARTED(plugin.start());
  const auto actions =
      plugin.decide(EventBuilder().from("non_credit").to("credit").quarter("2020Q3").designation("assistance"));
  const auto grant = only(actions, kGrant);
  EXPECT_EQ(grant.action, ActionKind::kRelease);
  EXPECT_EQ(grant.amount_fen, 45000);
  EXPECT_NE(grant.reason.find("恢复兑现 / credit: released (2020Q3) — ¥450.00"), std::string::npos) << grant.reason;
}

TEST(FpAssociationPlugin, BadGrantSettingIsAStartErrorNamingTheSetting) {
  for (const char* settings : {R"({"assistance_grant_fen": -1})", R"({"assistance_grant_fen": "300"})",
                               R"({"assistance_grant_fen": 100000001})"}) {
    SCOPED_TRACE(settings);
    PluginUnderTest plugin(this_plugin(settings));
    const auto result = plugin.start();
    ASSERT_EQ(result.code(), hub::sdk::HandleResult::Code::kError);
    EXPECT_NE(result.message().find("settings.assistance_grant_fen"), std::string::npos) << result.message();
  }
}

}  // namespace

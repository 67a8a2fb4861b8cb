// Unit tests of the civil affairs office plugin, loaded from its built library through hubd's
// loader (the SDK harness, hub::sdk_testing) with the shipped catalogue
// (config/departments/civil_affairs.json).
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "hub/sdk/testing/harness.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::HouseholdStatus;
using hub::sdk_testing::actions_for;
using hub::sdk_testing::EventBuilder;
using hub::sdk_testing::load_catalogue_file;
using hub::sdk_testing::PluginUnderTest;
using hub::sdk_testing::this_plugin;

constexpr const char* kDibao = "civil_affairs.dibao_priority";
constexpr const char* kRelief = "civil_affairs.temporary_relief_priority";
constexpr const char* kAssistance = "civil_affairs.assistance_programme";

class CivilAffairsPluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_STARTED(plugin_.start()); }

  // The single action for `policy`.
  static hub::sdk::PolicyAction only(const std::vector<hub::sdk::PolicyAction>& actions, const char* policy) {
    const auto mine = actions_for(actions, policy);
    EXPECT_EQ(mine.size(), 1u) << policy;
    return mine.empty() ? hub::sdk::PolicyAction{} : mine[0];
  }

  PluginUnderTest plugin_{this_plugin()};
};

TEST(CivilAffairsCatalogue, AssistanceProgrammeIsScopedToTheDesignation) {
  const auto catalogue = load_catalogue_file(HUB_PLUGIN_CATALOGUE);
  EXPECT_EQ(catalogue.department(), "civil_affairs");
  ASSERT_EQ(catalogue.policies().size(), 3u);
  for (const auto& policy : catalogue.policies()) {
    EXPECT_EQ(policy.id.rfind("civil_affairs.", 0), 0u) << policy.id;
    EXPECT_FALSE(policy.money) << policy.id;
  }
  ASSERT_NE(catalogue.find(kAssistance), nullptr);
  EXPECT_EQ(catalogue.find(kAssistance)->scope, hub::sdk::PolicyDefinition::Scope::kDesignation);
  EXPECT_EQ(catalogue.find(kAssistance)->designation, "assistance");
  EXPECT_EQ(catalogue.find(kDibao)->scope, hub::sdk::PolicyDefinition::Scope::kAll);
  EXPECT_EQ(catalogue.find(kRelief)->scope, hub::sdk::PolicyDefinition::Scope::kAll);
}

TEST_F(CivilAffairsPluginTest, AssistanceProgrammeOnlyForDesignatedHouseholds) {
  const auto designated = plugin_.decide(EventBuilder().from("unevaluated").to("credit").designation("assistance"));
  EXPECT_EQ(only(designated, kAssistance).action, ActionKind::kApply);
  EXPECT_EQ(only(designated, kDibao).action, ActionKind::kApply);
  EXPECT_EQ(only(designated, kRelief).action, ActionKind::kApply);

  const auto plain = plugin_.decide(EventBuilder().household("V05-00001").from("unevaluated").to("credit"));
  const auto assistance = only(plain, kAssistance);
  EXPECT_EQ(assistance.action, ActionKind::kNotApplicable);
  EXPECT_NE(assistance.reason.find("非帮扶对象"), std::string::npos) << assistance.reason;
  EXPECT_EQ(only(plain, kDibao).action, ActionKind::kApply);
  EXPECT_EQ(only(plain, kRelief).action, ActionKind::kApply);
}

TEST_F(CivilAffairsPluginTest, OtherDesignationsDoNotQualify) {
  const auto actions = plugin_.decide(EventBuilder().to("credit").designation("veteran"));
  EXPECT_EQ(only(actions, kAssistance).action, ActionKind::kNotApplicable);
}

TEST_F(CivilAffairsPluginTest, DesignatedHouseholdFollowsTheStandardRuleOnEveryPolicy) {
  const std::vector<std::tuple<HouseholdStatus, HouseholdStatus, ActionKind>> cases = {
      {HouseholdStatus::kCredit, HouseholdStatus::kNonCredit, ActionKind::kDefer},
      {HouseholdStatus::kNonCredit, HouseholdStatus::kCredit, ActionKind::kRelease},
      {HouseholdStatus::kCredit, HouseholdStatus::kBreach, ActionKind::kWithhold},
      {HouseholdStatus::kBreach, HouseholdStatus::kCredit, ActionKind::kRestore},
      {HouseholdStatus::kCredit, HouseholdStatus::kCredit, ActionKind::kApply},
  };
  std::uint64_t sequence = 1;
  for (const auto& [previous, next, expected] : cases) {
    SCOPED_TRACE(std::string(to_string(previous)) + " -> " + std::string(to_string(next)));
    const auto actions =
        plugin_.decide(EventBuilder().from(previous).to(next).sequence(sequence++).designation("assistance"));
    ASSERT_EQ(actions.size(), 3u);
    for (const char* policy : {kDibao, kRelief, kAssistance})
      EXPECT_EQ(only(actions, policy).action, expected) << policy;
  }
}

TEST_F(CivilAffairsPluginTest, BreachWithoutDesignationWithholdsPrioritiesOnly) {
  const auto actions = plugin_.decide(EventBuilder().from("credit").to("breach"));
  EXPECT_EQ(only(actions, kDibao).action, ActionKind::kWithhold);
  EXPECT_EQ(only(actions, kRelief).action, ActionKind::kWithhold);
  EXPECT_EQ(only(actions, kAssistance).action, ActionKind::kNotApplicable);
  EXPECT_NE(only(actions, kDibao).reason.find("违约户"), std::string::npos);
}

}  // namespace

// Unit tests of the civil affairs office plugin, loaded from its built library through the
// hub's loader with the shipped catalogue (config/departments/civil_affairs.json).
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "plugin_test_support.h"

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

constexpr const char* kDibao = "civil_affairs.dibao_priority";
constexpr const char* kRelief = "civil_affairs.temporary_relief_priority";
constexpr const char* kAssistance = "civil_affairs.assistance_programme";

class CivilAffairsPluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_STARTED(plugin_.start()); }

  std::vector<hub::sdk::PolicyAction> decide(const StatusChange& change) {
    const auto event = make_event("civil_affairs", change);
    auto actions = plugin_.handle_ok(event);
    EXPECT_EQ(contract_violations(catalogue_, event, actions), "");
    return actions;
  }

  // The single action for `policy`.
  static hub::sdk::PolicyAction only(const std::vector<hub::sdk::PolicyAction>& actions, const char* policy) {
    const auto mine = actions_for(actions, policy);
    EXPECT_EQ(mine.size(), 1u) << policy;
    return mine.empty() ? hub::sdk::PolicyAction{} : mine[0];
  }

  TempDir dir_{"civil_affairs"};
  PluginUnderTest plugin_{HUB_PLUGIN_PATH, "civil_affairs", dir_.path()};
  hub::sdk::Catalogue catalogue_ = department_catalogue("civil_affairs");
};

TEST(CivilAffairsCatalogue, AssistanceProgrammeIsScopedToTheDesignation) {
  const auto catalogue = department_catalogue("civil_affairs");
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
  const auto designated = decide({.previous = HouseholdStatus::kUnevaluated,
                                  .next = HouseholdStatus::kCredit,
                                  .sequence = 1,
                                  .designations = {"assistance"}});
  EXPECT_EQ(only(designated, kAssistance).action, ActionKind::kApply);
  EXPECT_EQ(only(designated, kDibao).action, ActionKind::kApply);
  EXPECT_EQ(only(designated, kRelief).action, ActionKind::kApply);

  const auto plain = decide({.household_id = "V05-00001",
                             .previous = HouseholdStatus::kUnevaluated,
                             .next = HouseholdStatus::kCredit,
                             .sequence = 2});
  const auto assistance = only(plain, kAssistance);
  EXPECT_EQ(assistance.action, ActionKind::kNotApplicable);
  EXPECT_NE(assistance.reason.find("非帮扶对象"), std::string::npos) << assistance.reason;
  EXPECT_EQ(only(plain, kDibao).action, ActionKind::kApply);
  EXPECT_EQ(only(plain, kRelief).action, ActionKind::kApply);
}

TEST_F(CivilAffairsPluginTest, OtherDesignationsDoNotQualify) {
  const auto actions = decide({.next = HouseholdStatus::kCredit, .designations = {"veteran"}});
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
        decide({.previous = previous, .next = next, .sequence = sequence++, .designations = {"assistance"}});
    ASSERT_EQ(actions.size(), 3u);
    for (const char* policy : {kDibao, kRelief, kAssistance})
      EXPECT_EQ(only(actions, policy).action, expected) << policy;
  }
}

TEST_F(CivilAffairsPluginTest, BreachWithoutDesignationWithholdsPrioritiesOnly) {
  const auto actions = decide({.previous = HouseholdStatus::kCredit, .next = HouseholdStatus::kBreach});
  EXPECT_EQ(only(actions, kDibao).action, ActionKind::kWithhold);
  EXPECT_EQ(only(actions, kRelief).action, ActionKind::kWithhold);
  EXPECT_EQ(only(actions, kAssistance).action, ActionKind::kNotApplicable);
  EXPECT_NE(only(actions, kDibao).reason.find("违约户"), std::string::npos);
}

}  // namespace

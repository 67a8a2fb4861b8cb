#include "standard_rule_checks.h"

#include <gtest/gtest.h>

namespace hub::plugin_testing {

using hub::sdk::ActionKind;
using hub::sdk::HouseholdStatus;

std::vector<std::tuple<HouseholdStatus, HouseholdStatus, ActionKind>> standard_transitions() {
  return {
      {HouseholdStatus::kUnevaluated, HouseholdStatus::kCredit, ActionKind::kApply},
      {HouseholdStatus::kCredit, HouseholdStatus::kCredit, ActionKind::kApply},
      {HouseholdStatus::kCredit, HouseholdStatus::kNonCredit, ActionKind::kDefer},
      {HouseholdStatus::kCredit, HouseholdStatus::kBreach, ActionKind::kWithhold},
      {HouseholdStatus::kNonCredit, HouseholdStatus::kCredit, ActionKind::kRelease},
      {HouseholdStatus::kBreach, HouseholdStatus::kCredit, ActionKind::kRestore},
      {HouseholdStatus::kNonCredit, HouseholdStatus::kBreach, ActionKind::kWithhold},
      {HouseholdStatus::kBreach, HouseholdStatus::kNonCredit, ActionKind::kDefer},
      {HouseholdStatus::kCredit, HouseholdStatus::kUnevaluated, ActionKind::kNotApplicable},
  };
}

void expect_standard_rule(PluginUnderTest& plugin, const std::string& department,
                          const std::vector<std::string>& policies, const std::vector<std::string>& designations) {
  const hub::sdk::Catalogue catalogue = department_catalogue(department);
  std::uint64_t sequence = 1;
  for (const auto& [previous, next, expected] : standard_transitions()) {
    SCOPED_TRACE(std::string(to_string(previous)) + " -> " + std::string(to_string(next)));
    const auto event = make_event(department, {.household_id = "V07-00321",
                                               .previous = previous,
                                               .next = next,
                                               .sequence = sequence++,
                                               .designations = designations});
    const auto actions = plugin.handle_ok(event);
    EXPECT_EQ(contract_violations(catalogue, event, actions), "");
    for (const auto& policy : policies) {
      const auto mine = actions_for(actions, policy);
      ASSERT_EQ(mine.size(), 1u) << policy;
      EXPECT_EQ(mine[0].action, expected) << policy;
      EXPECT_EQ(mine[0].household_id, "V07-00321") << policy;
    }
  }
}

void expect_all(const std::vector<hub::sdk::PolicyAction>& actions, ActionKind kind, const std::string& reason_fragment) {
  EXPECT_FALSE(actions.empty());
  for (const auto& action : actions) {
    EXPECT_EQ(action.action, kind) << action.policy_id;
    EXPECT_NE(action.reason.find(reason_fragment), std::string::npos) << action.policy_id << ": " << action.reason;
  }
}

}  // namespace hub::plugin_testing

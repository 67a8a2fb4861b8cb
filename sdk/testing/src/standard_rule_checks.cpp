#include "hub/sdk/testing/standard_rule_checks.h"

#include <gtest/gtest.h>

#include "hub/sdk/testing/event_builder.h"
#include "hub/sdk/testing/expectations.h"

namespace hub::sdk_testing {

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

void expect_standard_rule(PluginUnderTest& plugin, const std::vector<std::string>& policies,
                          const std::vector<std::string>& designations) {
  for (const auto& [previous, next, expected] : standard_transitions()) {
    SCOPED_TRACE(std::string(to_string(previous)) + " -> " + std::string(to_string(next)));
    EventBuilder event;
    event.household("V07-00321").from(previous).to(next);
    for (const auto& designation : designations) event.designation(designation);
    const auto actions = plugin.decide(event);
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

}  // namespace hub::sdk_testing

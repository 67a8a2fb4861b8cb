#include "hub/sdk/testing/expectations.h"

#include "hub/loader/action_validator.h"

namespace hub::sdk_testing {

std::vector<hub::sdk::PolicyAction> actions_for(const std::vector<hub::sdk::PolicyAction>& actions,
                                                std::string_view policy_id) {
  std::vector<hub::sdk::PolicyAction> out;
  for (const auto& a : actions)
    if (a.policy_id == policy_id) out.push_back(a);
  return out;
}

std::string describe(const std::vector<hub::sdk::PolicyAction>& actions) {
  std::string out;
  for (const auto& a : actions) {
    out += a.policy_id + " " + a.household_id + " " + std::string(hub::sdk::to_string(a.action)) + " " +
           (a.amount_fen ? std::to_string(*a.amount_fen) : std::string("-")) + " " + a.reason + "\n";
  }
  return out.empty() ? "(no actions)\n" : out;
}

::testing::AssertionResult has_action(const std::vector<hub::sdk::PolicyAction>& actions, std::string_view policy_id,
                                      hub::sdk::ActionKind kind, std::optional<std::int64_t> amount_fen) {
  const auto mine = actions_for(actions, policy_id);
  const std::string wanted = std::string(policy_id) + " " + std::string(hub::sdk::to_string(kind)) +
                             (amount_fen ? " " + std::to_string(*amount_fen) : std::string());
  if (mine.size() != 1)
    return ::testing::AssertionFailure() << "expected one action " << wanted << ", found " << mine.size()
                                         << " for that policy in:\n"
                                         << describe(actions);
  if (mine[0].action != kind || (amount_fen && mine[0].amount_fen != amount_fen))
    return ::testing::AssertionFailure() << "expected " << wanted << ", got:\n" << describe(mine);
  return ::testing::AssertionSuccess();
}

std::string contract_violations(const hub::sdk::Catalogue& catalogue, const hub::sdk::Event& event,
                                const std::vector<hub::sdk::PolicyAction>& actions) {
  std::string out;
  if (auto refused = hub::validate_actions(catalogue, event.household_id, actions)) out += *refused + "\n";
  for (std::size_t i = 0; i < actions.size(); ++i)
    if (actions[i].reason.empty())
      out += "actions[" + std::to_string(i) + "].reason: empty (administrators read it in hubctl household)\n";
  for (const auto& policy : catalogue.policies())
    if (actions_for(actions, policy.id).empty())
      out += "no action for policy " + policy.id + " (answer not_applicable when it does not concern the household)\n";
  return out;
}

}  // namespace hub::sdk_testing

namespace hub::sdk {

void PrintTo(const PolicyAction& action, std::ostream* out) {
  *out << hub::sdk_testing::describe({action});
}
void PrintTo(ActionKind kind, std::ostream* out) { *out << to_string(kind); }
void PrintTo(HouseholdStatus status, std::ostream* out) { *out << to_string(status); }

}  // namespace hub::sdk

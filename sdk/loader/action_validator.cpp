#include "hub/loader/action_validator.h"

namespace hub {

std::optional<std::string> validate_actions(const hub::sdk::Catalogue& catalogue, const std::string& household_id,
                                            const std::vector<hub::sdk::PolicyAction>& actions) {
  using hub::sdk::ActionKind;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const auto& a = actions[i];
    const std::string where = "invalid_action: actions[" + std::to_string(i) + "].";
    const auto* policy = catalogue.find(a.policy_id);
    if (policy == nullptr)
      return where + "policy_id: '" + a.policy_id.substr(0, 80) + "' is not in the " + catalogue.department() +
             " catalogue";
    if (a.household_id != household_id)
      return where + "household_id: '" + a.household_id.substr(0, 80) + "' is not the event's household '" +
             household_id + "'";
    if (static_cast<unsigned>(a.action) > static_cast<unsigned>(ActionKind::kNotApplicable))
      return where + "action: unknown action value " + std::to_string(static_cast<unsigned>(a.action));
    if (a.amount_fen && *a.amount_fen < 0)
      return where + "amount_fen: negative amount " + std::to_string(*a.amount_fen);
    if (a.amount_fen && !policy->money)
      return where + "amount_fen: policy '" + a.policy_id + "' carries no money";
    if (!a.amount_fen && policy->money && a.action != ActionKind::kNotApplicable)
      return where + "amount_fen: policy '" + a.policy_id + "' carries money; the amount is missing";
    if (a.reason.size() > kMaxReasonBytes)
      return where + "reason: longer than " + std::to_string(kMaxReasonBytes) + " bytes";
  }
  return std::nullopt;
}

std::optional<std::string> answer_failure(const hub::sdk::HandleResult& result, const hub::sdk::Catalogue& catalogue,
                                          const std::string& household_id,
                                          const std::vector<hub::sdk::PolicyAction>& actions) {
  switch (result.code()) {
    case hub::sdk::HandleResult::Code::kOk: return validate_actions(catalogue, household_id, actions);
    case hub::sdk::HandleResult::Code::kRetry: return "plugin asked to retry: " + result.message();
    case hub::sdk::HandleResult::Code::kError: break;
  }
  return "plugin error: " + result.message();
}

}  // namespace hub

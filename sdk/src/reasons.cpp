#include "hub/sdk/reasons.h"

namespace hub::sdk {

std::string_view status_name_zh(HouseholdStatus status) noexcept {
  switch (status) {
    case HouseholdStatus::kCredit: return "诚信户";
    case HouseholdStatus::kNonCredit: return "不诚信户";
    case HouseholdStatus::kBreach: return "违约户";
    case HouseholdStatus::kUnevaluated: break;
  }
  return "未评议";
}

std::string standard_reason(const Event& event, ActionKind kind, const ActionWording& wording) {
  std::string_view zh = "不适用";
  std::string_view en = "not applicable";
  switch (kind) {
    case ActionKind::kApply: zh = wording.apply; en = "applied"; break;
    case ActionKind::kDefer: zh = wording.defer; en = "deferred"; break;
    case ActionKind::kWithhold: zh = wording.withhold; en = "withheld"; break;
    case ActionKind::kRelease: zh = wording.release; en = "released"; break;
    case ActionKind::kRestore: zh = wording.restore; en = "restored"; break;
    case ActionKind::kNotApplicable: break;
  }
  std::string reason = std::string(status_name_zh(event.new_status)) + "，" + std::string(zh) + " / " +
                       std::string(to_string(event.new_status)) + ": " + std::string(en) + " (" + event.quarter + ")";
  reason += correction_suffix(event);
  return reason;
}

std::string correction_suffix(const Event& event) {
  if (event.past_quarter) {
    const std::string complaint = event.complaint_id.empty() ? std::string() : " " + event.complaint_id;
    return " [依投诉" + complaint + (complaint.empty() ? "" : " ") + "裁定更正往季 " + event.quarter + "，原为" +
           std::string(status_name_zh(event.previous_status)) + " / past quarter " + event.quarter +
           " corrected by the ruling on complaint" + complaint + ", was " +
           std::string(to_string(event.previous_status)) + "]";
  }
  if (!event.complaint_id.empty())
    return " [依投诉 " + event.complaint_id + " 裁定更正 / correction by the ruling on complaint " + event.complaint_id + "]";
  if (event.correction) return " [更正 / correction]";
  return {};
}

std::string missing_designation_reason(std::string_view designation) {
  const std::string name(designation);
  const std::string who = name == "assistance" ? std::string("非帮扶对象") : "无“" + name + "”认定";
  return who + "，不适用 / not designated '" + name + "': not applicable";
}

PolicyAction standard_policy_action(const PolicyDefinition& policy, const Event& event, const ActionWording& wording) {
  PolicyAction action;
  action.policy_id = policy.id;
  action.household_id = event.household_id;
  if (policy.scope == PolicyDefinition::Scope::kDesignation && !event.has_designation(policy.designation)) {
    action.action = ActionKind::kNotApplicable;
    action.reason = missing_designation_reason(policy.designation);
    if (event.past_quarter) action.reason += correction_suffix(event);  // a remedy names its complaint
  } else {
    action.action = standard_action(policy, event);
    action.reason = standard_reason(event, action.action, wording);
  }
  return action;
}

std::string format_yuan(std::int64_t fen) {
  const bool negative = fen < 0;
  const std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(fen) : static_cast<std::uint64_t>(fen);
  std::string cents = std::to_string(magnitude % 100);
  if (cents.size() < 2) cents = "0" + cents;
  return std::string(negative ? "-¥" : "¥") + std::to_string(magnitude / 100) + "." + cents;
}

}  // namespace hub::sdk

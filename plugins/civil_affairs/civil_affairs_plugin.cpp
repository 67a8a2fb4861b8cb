// 社会事务办 (civil affairs office): priority in the minimum-living allowance (低保) and in
// temporary relief for every household, and assistance programmes (帮扶项目) for households
// designated "assistance" (帮扶对象). Designation-scoped policies answer not_applicable for
// households without the designation; everything else follows the catalogue's standard rule.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/plugin.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::Catalogue;
using hub::sdk::Event;
using hub::sdk::HandleResult;
using hub::sdk::Host;
using hub::sdk::HouseholdStatus;
using hub::sdk::PolicyAction;
using hub::sdk::PolicyDefinition;

const char* status_zh(HouseholdStatus status) {
  switch (status) {
    case HouseholdStatus::kCredit: return "诚信户";
    case HouseholdStatus::kNonCredit: return "不诚信户";
    case HouseholdStatus::kBreach: return "违约户";
    case HouseholdStatus::kUnevaluated: break;
  }
  return "未评议";
}

// "<状态>，<处理> / <status>: <action> (<quarter>)", e.g. "违约户，不兑现 / breach: withheld (2020Q3)".
std::string standard_reason(const Event& event, ActionKind kind) {
  const char* zh = "不适用";
  const char* en = "not applicable";
  switch (kind) {
    case ActionKind::kApply:
      zh = "兑现";
      en = "applied";
      break;
    case ActionKind::kDefer:
      zh = "暂缓兑现";
      en = "deferred";
      break;
    case ActionKind::kWithhold:
      zh = "不兑现";
      en = "withheld";
      break;
    case ActionKind::kRelease:
      zh = "恢复兑现";
      en = "released";
      break;
    case ActionKind::kRestore:
      zh = "恢复兑现";
      en = "restored";
      break;
    case ActionKind::kNotApplicable: break;
  }
  std::string reason = std::string(status_zh(event.new_status)) + "，" + zh + " / " +
                       std::string(hub::sdk::to_string(event.new_status)) + ": " + en + " (" + event.quarter + ")";
  if (event.correction) reason += " [更正 / correction]";
  return reason;
}

class CivilAffairsPlugin final : public hub::sdk::Plugin {
 protected:
  HandleResult on_start(Host& host) override {
    std::string error;
    auto catalogue = Catalogue::from_plugin_config(host.config_json(), &error);
    if (!catalogue) return HandleResult::error("civil_affairs: cannot read the policy catalogue: " + error);
    for (const PolicyDefinition& policy : catalogue->policies()) {
      // Priorities and programmes carry no money here, and the office keeps no roster of its
      // own: designations arrive with the event.
      if (policy.money)
        return HandleResult::error("civil_affairs: policy " + policy.id +
                                   " is marked \"money\": true, but this plugin decides priorities, not amounts; "
                                   "fix config/departments/civil_affairs.json");
      if (policy.scope == PolicyDefinition::Scope::kRoster)
        return HandleResult::error("civil_affairs: policy " + policy.id +
                                   " has scope \"roster\", but the civil affairs office keeps no roster; use \"all\" "
                                   "or \"designation:<name>\" in config/departments/civil_affairs.json");
    }
    host.log(hub::sdk::LogLevel::kInfo,
             "civil_affairs: started with " + std::to_string(catalogue->policies().size()) + " policies");
    catalogue_ = std::move(catalogue);
    return HandleResult::ok();
  }

  HandleResult on_event(const Event& event, std::vector<PolicyAction>& actions) override {
    if (!catalogue_) return HandleResult::error("civil_affairs: event before a successful start");
    for (const PolicyDefinition& policy : catalogue_->policies()) {
      PolicyAction action;
      action.policy_id = policy.id;
      action.household_id = event.household_id;
      if (policy.scope == PolicyDefinition::Scope::kDesignation && !event.has_designation(policy.designation)) {
        action.action = ActionKind::kNotApplicable;
        const std::string who =
            policy.designation == "assistance" ? std::string("非帮扶对象") : "无“" + policy.designation + "”认定";
        action.reason = who + "，不适用 / not designated '" + policy.designation + "': not applicable";
      } else {
        action.action = hub::sdk::standard_action(policy, event);
        action.reason = standard_reason(event, action.action);
      }
      actions.push_back(std::move(action));
    }
    return HandleResult::ok();
  }

 private:
  std::optional<Catalogue> catalogue_;
};

}  // namespace

HUB_DECLARE_PLUGIN(CivilAffairsPlugin, "civil_affairs", "1.0.0")

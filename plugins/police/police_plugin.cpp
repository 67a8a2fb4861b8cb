// 派出所 (police station): priority household-registration (户籍) services and fast-track
// certificates. Every household is concerned, so the plugin needs no department data: the
// catalogue's standard rule decides (credit → apply, non_credit → defer, breach → withhold,
// and back to credit → release after non_credit, restore after breach).
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

// "<状态>，<处理> / <status>: <action> (<quarter>)", e.g. "不诚信户，暂缓办理 / non_credit: deferred (2020Q3)".
std::string standard_reason(const Event& event, ActionKind kind) {
  const char* zh = "不适用";
  const char* en = "not applicable";
  switch (kind) {
    case ActionKind::kApply:
      zh = "优先办理";
      en = "applied";
      break;
    case ActionKind::kDefer:
      zh = "暂缓优先办理";
      en = "deferred";
      break;
    case ActionKind::kWithhold:
      zh = "不予优先办理";
      en = "withheld";
      break;
    case ActionKind::kRelease:
      zh = "恢复优先办理";
      en = "released";
      break;
    case ActionKind::kRestore:
      zh = "恢复优先办理";
      en = "restored";
      break;
    case ActionKind::kNotApplicable: break;
  }
  std::string reason = std::string(status_zh(event.new_status)) + "，" + zh + " / " +
                       std::string(hub::sdk::to_string(event.new_status)) + ": " + en + " (" + event.quarter + ")";
  if (event.correction) reason += " [更正 / correction]";
  return reason;
}

class PolicePlugin final : public hub::sdk::Plugin {
 protected:
  HandleResult on_start(Host& host) override {
    std::string error;
    auto catalogue = Catalogue::from_plugin_config(host.config_json(), &error);
    if (!catalogue) return HandleResult::error("police: cannot read the policy catalogue: " + error);
    for (const PolicyDefinition& policy : catalogue->policies()) {
      // The station keeps no roster and pays nothing: a catalogue asking for either is a
      // configuration mistake that must surface at start, not as wrong actions later.
      if (policy.money)
        return HandleResult::error("police: policy " + policy.id +
                                   " is marked \"money\": true, but the police station pays no money; "
                                   "fix config/departments/police.json");
      if (policy.scope == PolicyDefinition::Scope::kRoster)
        return HandleResult::error("police: policy " + policy.id +
                                   " has scope \"roster\", but the police station keeps no roster; "
                                   "use \"all\" or \"designation:<name>\" in config/departments/police.json");
    }
    host.log(hub::sdk::LogLevel::kInfo,
             "police: started with " + std::to_string(catalogue->policies().size()) + " policies");
    catalogue_ = std::move(catalogue);
    return HandleResult::ok();
  }

  HandleResult on_event(const Event& event, std::vector<PolicyAction>& actions) override {
    if (!catalogue_) return HandleResult::error("police: event before a successful start");
    for (const PolicyDefinition& policy : catalogue_->policies()) {
      PolicyAction action;
      action.policy_id = policy.id;
      action.household_id = event.household_id;
      if (policy.scope == PolicyDefinition::Scope::kDesignation && !event.has_designation(policy.designation)) {
        action.action = ActionKind::kNotApplicable;
        action.reason = "无“" + policy.designation + "”认定，不适用 / not designated '" + policy.designation + "'";
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

HUB_DECLARE_PLUGIN(PolicePlugin, "police", "1.0.0")

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
#include "hub/sdk/reasons.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::Catalogue;
using hub::sdk::Event;
using hub::sdk::HandleResult;
using hub::sdk::Host;
using hub::sdk::HouseholdStatus;
using hub::sdk::PolicyAction;
using hub::sdk::PolicyDefinition;

// A police station grants priority services rather than payments.
constexpr hub::sdk::ActionWording kWording{"优先办理", "暂缓优先办理", "不予优先办理", "恢复优先办理", "恢复优先办理"};

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
    for (const PolicyDefinition& policy : catalogue_->policies())
      actions.push_back(hub::sdk::standard_policy_action(policy, event, kWording));
    return HandleResult::ok();
  }

 private:
  std::optional<Catalogue> catalogue_;
};

}  // namespace

HUB_DECLARE_PLUGIN(PolicePlugin, "police", "1.0.0")

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
    for (const PolicyDefinition& policy : catalogue_->policies())
      actions.push_back(hub::sdk::standard_policy_action(policy, event));
    return HandleResult::ok();
  }

 private:
  std::optional<Catalogue> catalogue_;
};

}  // namespace

HUB_DECLARE_PLUGIN(CivilAffairsPlugin, "civil_affairs", "1.0.0")

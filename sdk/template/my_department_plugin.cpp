// my_department: a department plugin made from the Chengxin Hub SDK template.
// 部门插件模板：按政策目录（catalogue）为每户的评议结果决定各项政策的处理。
//
// For every status change the hub delivers, the plugin answers one action per policy of the
// department's catalogue (catalogue/my_department.json):
//   scope "all"                  every household: the catalogue's effect for the new status;
//   scope "designation:<name>"   only households with that designation, others not_applicable;
//   scope "roster"               only households on the department's roster, others
//                                not_applicable: a CSV with a household_id column at
//                                <data_dir>/roster.csv or at settings.roster (hub::sdk::load_roster).
// Change on_event() to put your department's own rules in; keep one action per policy.
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/plugin.h"
#include "hub/sdk/reasons.h"
#include "hub/sdk/roster.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::Catalogue;
using hub::sdk::Event;
using hub::sdk::HandleResult;
using hub::sdk::Host;
using hub::sdk::PolicyAction;
using hub::sdk::PolicyDefinition;

// The department's roster: households by household_id; add the other columns you need.
const hub::sdk::RosterSpec kRosterSpec{.department = "my_department", .columns = {}};

class MyDepartmentPlugin final : public hub::sdk::Plugin {
 protected:
  // Runs once, before the first event: read the catalogue and the department's own data.
  // Anything wrong here is reported by `hubctl status` (state "refused") with this message.
  HandleResult on_start(Host& host) override {
    std::string error;
    auto catalogue = Catalogue::from_plugin_config(host.config_json(), &error);
    if (!catalogue) return HandleResult::error("my_department: cannot read the policy catalogue: " + error);
    bool needs_roster = false;
    for (const PolicyDefinition& policy : catalogue->policies()) {
      if (policy.money)
        return HandleResult::error("my_department: policy " + policy.id +
                                   " carries money; this plugin has no amounts (see docs/writing-a-plugin.md)");
      needs_roster = needs_roster || policy.scope == PolicyDefinition::Scope::kRoster;
    }
    if (needs_roster) {
      if (HandleResult loaded = load_roster(host); !loaded.is_ok()) return loaded;
    }
    host.log(hub::sdk::LogLevel::kInfo, "my_department: started with " +
                                            std::to_string(catalogue->policies().size()) + " policies");
    catalogue_ = std::move(*catalogue);
    return HandleResult::ok();
  }

  // Runs for each status change, in order. Must give the same answer when the same event
  // (same event.idempotency_key) comes again after a restart.
  HandleResult on_event(const Event& event, std::vector<PolicyAction>& actions) override {
    for (const PolicyDefinition& policy : catalogue_.policies()) {
      if (policy.scope == PolicyDefinition::Scope::kRoster && roster_.count(event.household_id) == 0) {
        actions.push_back(PolicyAction{policy.id, event.household_id, ActionKind::kNotApplicable, std::nullopt,
                                       "不在名册，不适用 / not on the department's roster: not applicable"});
        continue;
      }
      actions.push_back(hub::sdk::standard_policy_action(policy, event));
    }
    return HandleResult::ok();
  }

 private:
  // The SDK's roster loader finds the file, checks the header and names the line of a bad row in
  // its error. To read more columns, name them in kRosterSpec and pass a check of each row (see
  // hub/sdk/roster.h); a missing or bad roster stops the start, so `hubctl status` shows it.
  HandleResult load_roster(Host& host) {
    std::string error;
    const auto path = hub::sdk::roster_path(kRosterSpec, host.config_json(), host.data_dir(), &error);
    if (!path) return HandleResult::error(error);
    const auto roster = hub::sdk::load_roster(kRosterSpec, *path, /*check=*/{}, &error);
    if (!roster) return HandleResult::error(error);
    for (const hub::sdk::RosterRow& row : roster->rows) roster_.insert(row.household_id);
    return HandleResult::ok();
  }

  Catalogue catalogue_;
  std::set<std::string> roster_;
};

}  // namespace

// Exports the plugin: class, department id (must match hub.json and the catalogue), version.
HUB_DECLARE_PLUGIN(MyDepartmentPlugin, "my_department", "0.1.0")

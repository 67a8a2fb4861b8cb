// my_department: a department plugin made from the Chengxin Hub SDK template.
// 部门插件模板：按政策目录（catalogue）为每户的评议结果决定各项政策的处理。
//
// For every status change the hub delivers, the plugin answers one action per policy of the
// department's catalogue (catalogue/my_department.json):
//   scope "all"                  every household: the catalogue's effect for the new status;
//   scope "designation:<name>"   only households with that designation, others not_applicable;
//   scope "roster"               only households listed in <data_dir>/roster.csv (a CSV with a
//                                household_id column), others not_applicable.
// Change on_event() to put your department's own rules in; keep one action per policy.
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/csv.h"
#include "hub/sdk/plugin.h"
#include "hub/sdk/reasons.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::Catalogue;
using hub::sdk::Event;
using hub::sdk::HandleResult;
using hub::sdk::Host;
using hub::sdk::PolicyAction;
using hub::sdk::PolicyDefinition;

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
      if (HandleResult loaded = load_roster(std::string(host.data_dir()) + "/roster.csv"); !loaded.is_ok())
        return loaded;
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
  HandleResult load_roster(const std::string& path) {
    std::string error;
    auto table = hub::sdk::read_csv_file(path, &error);
    if (!table) return HandleResult::error("my_department: roster: " + error);
    const auto column = table->column("household_id");
    if (!column) return HandleResult::error("my_department: roster " + path + ": no household_id column");
    for (const auto& row : table->rows) {
      if (row.fields[*column].empty())
        return HandleResult::error("my_department: roster " + path + " line " + std::to_string(row.line) +
                                   ": empty household_id");
      roster_.insert(row.fields[*column]);
    }
    return HandleResult::ok();
  }

  Catalogue catalogue_;
  std::set<std::string> roster_;
};

}  // namespace

// Exports the plugin: class, department id (must match hub.json and the catalogue), version.
HUB_DECLARE_PLUGIN(MyDepartmentPlugin, "my_department", "0.1.0")

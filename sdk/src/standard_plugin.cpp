#include "hub/sdk/standard_plugin.h"

namespace hub::sdk {

HandleResult StandardPlugin::configure(Host& host, const Catalogue& catalogue) {
  (void)host;
  (void)catalogue;
  return HandleResult::ok();
}

PolicyAction StandardPlugin::decide(const PolicyDefinition& policy, const Event& event) {
  return standard_policy_action(policy, event, options_.wording);
}

std::optional<std::string> StandardPlugin::unsuitable(const Catalogue& catalogue) const {
  const std::string& id = options_.department;
  const std::string file = "config/departments/" + id + ".json";
  if (catalogue.department() != id)
    return "the catalogue is for department '" + catalogue.department() + "', not '" + id + "'";
  for (const PolicyDefinition& policy : catalogue.policies()) {
    // A mistake in the catalogue must surface at start, not as wrong actions later.
    if (policy.money && !options_.prices_money)
      return "policy " + policy.id + " is marked \"money\": true, but this plugin decides no amounts; fix " + file;
    if (policy.scope == PolicyDefinition::Scope::kRoster)
      return "policy " + policy.id + " has scope \"roster\", but this plugin keeps no roster; use \"all\" or " +
             "\"designation:<name>\" in " + file;
  }
  return std::nullopt;
}

HandleResult StandardPlugin::on_start(Host& host) {
  const std::string& id = options_.department;
  std::string error;
  auto catalogue = Catalogue::from_plugin_config(host.config_json(), &error);
  if (!catalogue) return HandleResult::error(id + ": cannot read the policy catalogue: " + error);
  if (auto problem = unsuitable(*catalogue)) return HandleResult::error(id + ": " + *problem);
  if (HandleResult configured = configure(host, *catalogue); !configured.is_ok()) return configured;
  host.log(LogLevel::kInfo, id + ": started with " + std::to_string(catalogue->policies().size()) + " policies");
  catalogue_ = std::move(catalogue);
  return HandleResult::ok();
}

HandleResult StandardPlugin::on_event(const Event& event, std::vector<PolicyAction>& actions) {
  if (!catalogue_) return HandleResult::error(options_.department + ": event before a successful start");
  for (const PolicyDefinition& policy : catalogue_->policies()) actions.push_back(decide(policy, event));
  return HandleResult::ok();
}

}  // namespace hub::sdk

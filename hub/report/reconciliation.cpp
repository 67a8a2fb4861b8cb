#include "report/reconciliation.h"

#include <algorithm>

namespace hub::report {
namespace {

using nlohmann::json;
using hub::sdk::PolicyDefinition;

std::string expected_state(const PolicyDefinition& policy, hub::sdk::HouseholdStatus status,
                           const std::vector<std::string>& designations) {
  if (policy.scope == PolicyDefinition::Scope::kDesignation &&
      std::find(designations.begin(), designations.end(), policy.designation) == designations.end())
    return "not_applicable";
  return policy_state_of_action(std::string(hub::sdk::to_string(hub::sdk::effect_for_status(policy, status))));
}

}  // namespace

std::string policy_state_of_action(const std::string& action) {
  if (action == "apply" || action == "release" || action == "restore") return "applied";
  if (action == "defer") return "deferred";
  if (action == "withhold") return "withheld";
  return "not_applicable";
}

json reconcile(ReportViews& views, const HubConfig& config) {
  const auto recorded = views.latest_actions();
  const auto cursor = views.cursors();
  json disagreements = json::array();
  json by_department = json::object();
  std::int64_t checked = 0, pending = 0;

  for (const auto& ev : views.current_evaluations()) {
    const auto status = hub::sdk::parse_household_status(ev.status).value_or(hub::sdk::HouseholdStatus::kUnevaluated);
    for (const auto& plugin : config.plugins) {
      if (!plugin.enabled || !plugin.subscribes(ev.village, ev.status)) continue;
      const auto c = cursor.find(plugin.id);
      if (c == cursor.end() || c->second < ev.seq) {
        ++pending;
        continue;
      }
      for (const auto& policy : plugin.catalogue.policies()) {
        ++checked;
        const std::string expected = expected_state(policy, status, ev.designations);
        const auto r = recorded.find({plugin.id, ev.household_id, policy.id});
        const std::string state = r == recorded.end() ? "none" : policy_state_of_action(r->second.action);
        const bool roster_not_applicable =
            policy.scope == PolicyDefinition::Scope::kRoster && state == "not_applicable";
        std::string kind;
        if (r == recorded.end()) kind = "missing";
        else if (r->second.seq != ev.seq) kind = "stale";
        else if (state != expected && !roster_not_applicable) kind = "mismatch";
        if (kind.empty()) continue;
        by_department[plugin.id] = by_department.value(plugin.id, 0) + 1;
        disagreements.push_back({{"household_id", ev.household_id},
                                 {"village", ev.village},
                                 {"department", plugin.id},
                                 {"policy_id", policy.id},
                                 {"kind", kind},
                                 {"status", ev.status},
                                 {"quarter", ev.quarter},
                                 {"expected", expected},
                                 {"recorded", state},
                                 {"recorded_action", r == recorded.end() ? json(nullptr) : json(r->second.action)},
                                 {"recorded_seq", r == recorded.end() ? json(nullptr) : json(r->second.seq)},
                                 {"since_ms", r == recorded.end() ? json(nullptr) : json(r->second.delivered_at_ms)},
                                 {"event_seq", ev.seq},
                                 {"event_id", ev.event_id},
                                 {"effective_date", ev.effective_date}});
      }
    }
  }
  return {{"ok", true},
          {"checked", checked},
          {"pending", pending},
          {"count", disagreements.size()},
          {"by_department", by_department},
          {"disagreements", std::move(disagreements)}};
}

}  // namespace hub::report

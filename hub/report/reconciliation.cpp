#include "report/reconciliation.h"

#include <algorithm>
#include <map>
#include <optional>

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
  const auto cursor = views.cursors();
  json disagreements = json::array();
  json by_department = json::object();
  std::int64_t checked = 0, pending = 0, count = 0;

  views.each_current_evaluation([&](const EvaluationRecords& records) {
    const CurrentEvaluation& ev = records.evaluation;
    const auto status = hub::sdk::parse_household_status(ev.status).value_or(hub::sdk::HouseholdStatus::kUnevaluated);
    for (const auto& plugin : config.plugins) {
      if (!plugin.enabled || !plugin.subscribes(ev.village, ev.status)) continue;
      const auto c = cursor.find(plugin.id);
      if (c == cursor.end() || c->second < ev.seq) {
        ++pending;
        continue;
      }
      // The department's actions of the current evaluation; for a policy they lack, its latest
      // earlier action (read only then: a clean ledger never needs it).
      std::map<std::string, LatestAction> recorded;
      if (auto row = records.rows.find(plugin.id); row != records.rows.end())
        for (const auto& [policy, action] : row->second.actions)
          recorded[policy] = LatestAction{action, row->second.seq, row->second.delivered_at_ms};
      std::optional<std::map<std::string, LatestAction>> earlier;
      for (const auto& policy : plugin.catalogue.policies()) {
        ++checked;
        const std::string expected = expected_state(policy, status, ev.designations);
        const LatestAction* r = nullptr;
        if (auto it = recorded.find(policy.id); it != recorded.end()) {
          r = &it->second;
        } else {
          if (!earlier) earlier = views.earlier_actions(plugin.id, ev.household_id, ev.seq);
          if (auto it = earlier->find(policy.id); it != earlier->end()) r = &it->second;
        }
        const std::string state = r == nullptr ? "none" : policy_state_of_action(r->action);
        const bool roster_not_applicable =
            policy.scope == PolicyDefinition::Scope::kRoster && state == "not_applicable";
        std::string kind;
        if (r == nullptr) kind = "missing";
        else if (r->seq != ev.seq) kind = "stale";
        else if (state != expected && !roster_not_applicable) kind = "mismatch";
        if (kind.empty()) continue;
        ++count;
        by_department[plugin.id] = by_department.value(plugin.id, 0) + 1;
        if (disagreements.size() >= kMaxListedDisagreements) continue;
        disagreements.push_back({{"household_id", ev.household_id},
                                 {"village", ev.village},
                                 {"department", plugin.id},
                                 {"policy_id", policy.id},
                                 {"kind", kind},
                                 {"status", ev.status},
                                 {"quarter", ev.quarter},
                                 {"expected", expected},
                                 {"recorded", state},
                                 {"recorded_action", r == nullptr ? json(nullptr) : json(r->action)},
                                 {"recorded_seq", r == nullptr ? json(nullptr) : json(r->seq)},
                                 {"since_ms", r == nullptr ? json(nullptr) : json(r->delivered_at_ms)},
                                 {"event_seq", ev.seq},
                                 {"event_id", ev.event_id},
                                 {"effective_date", ev.effective_date}});
      }
    }
  });
  return {{"ok", true},
          {"checked", checked},
          {"pending", pending},
          {"count", count},
          {"truncated", count > static_cast<std::int64_t>(disagreements.size())},
          {"by_department", by_department},
          {"disagreements", std::move(disagreements)}};
}

}  // namespace hub::report

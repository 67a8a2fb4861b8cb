#include "report/reconciliation.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "report/ledger_views.h"

namespace hub::report {
namespace {

using nlohmann::json;
using hub::sdk::PolicyDefinition;

struct Recorded {
  std::string action;
  std::int64_t seq = 0;
  std::int64_t delivered_at_ms = 0;
};

using Key = std::tuple<std::string, std::string, std::string>;  // department, household, policy

// The latest action per department, household and policy: one pass over the ledger's delivery
// rows in key order (department, seq), so a later row replaces an earlier one; within a row the
// actions are in the plugin's order (finance's release-then-apply share one seq).
std::map<Key, Recorded> latest_actions(store::Database& db) {
  std::map<Key, Recorded> out;
  store::Statement q(db, "SELECT department, seq, household_id, delivered_at_ms, actions FROM delivery "
                         "ORDER BY department, seq");
  while (q.step()) {
    const std::string department = q.column_text(0), household = q.column_text(2);
    const std::int64_t seq = q.column_int(1), at = q.column_int(3);
    // actions: [[policy_id, action, amount_fen or null, reason id], ...] (delivery/ledger.cpp)
    for (const auto& a : json::parse(q.column_text(4)))
      out[{department, household, a.at(0).get<std::string>()}] = Recorded{a.at(1).get<std::string>(), seq, at};
  }
  return out;
}

std::map<std::string, std::int64_t> cursors(store::Database& db) {
  std::map<std::string, std::int64_t> out;
  store::Statement q(db, "SELECT department, seq FROM cursor");
  while (q.step()) out[q.column_text(0)] = q.column_int(1);
  return out;
}

std::string expected_state(const PolicyDefinition& policy, hub::sdk::HouseholdStatus status,
                           const std::vector<std::string>& designations) {
  if (policy.scope == PolicyDefinition::Scope::kDesignation &&
      std::find(designations.begin(), designations.end(), policy.designation) == designations.end())
    return "not_applicable";
  return policy_state_of_action(std::string(hub::sdk::to_string(hub::sdk::effect_for_status(policy, status))));
}

struct Evaluation {
  std::string household_id, village, status_text, event_id, effective_date, quarter;
  hub::sdk::HouseholdStatus status;
  std::vector<std::string> designations;
  std::int64_t seq;
};

}  // namespace

json reconcile(store::Database& views, const HubConfig& config) {
  const auto recorded = latest_actions(views);
  const auto cursor = cursors(views);
  json disagreements = json::array();
  json by_department = json::object();
  std::int64_t checked = 0, pending = 0;

  store::Statement households(views,
                              "SELECT h.household_id, h.village, h.status, h.designations, h.status_seq, e.event_id, "
                              "e.effective_date, e.quarter FROM ev.household h CROSS JOIN ev.event e ON e.seq = h.status_seq "
                              "WHERE h.status != 'unevaluated' ORDER BY h.household_id");
  while (households.step()) {
    Evaluation ev{households.column_text(0), households.column_text(1), households.column_text(2),
                  households.column_text(5), households.column_text(6), households.column_text(7), {}, {}, 0};
    ev.status = hub::sdk::parse_household_status(ev.status_text).value_or(hub::sdk::HouseholdStatus::kUnevaluated);
    if (!households.column_is_null(3)) ev.designations = json::parse(households.column_text(3)).get<std::vector<std::string>>();
    ev.seq = households.column_int(4);

    for (const auto& plugin : config.plugins) {
      if (!plugin.enabled || !plugin.subscribes(ev.village, ev.status_text)) continue;
      const auto c = cursor.find(plugin.id);
      if (c == cursor.end() || c->second < ev.seq) {
        ++pending;
        continue;
      }
      for (const auto& policy : plugin.catalogue.policies()) {
        ++checked;
        const std::string expected = expected_state(policy, ev.status, ev.designations);
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
                                 {"status", ev.status_text},
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

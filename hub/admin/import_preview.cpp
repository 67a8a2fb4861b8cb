#include "admin/import_preview.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "domain/logged_event.h"
#include "domain/status_json.h"
#include "domain/wire_event.h"
#include "hub/sdk/reasons.h"
#include "runtime/dry_evaluation.h"
#include "runtime/subscription.h"

namespace hub::admin {
namespace {

using nlohmann::json;
using hub::sdk::ActionKind;

// Sequence numbers of the events as the dry instances see them: far above any real one, so
// that their idempotency keys ("<department>:<seq>") can never be a delivered event's.
constexpr std::uint64_t kPreviewSeqBase = 1'000'000'000'000'000ull;

// What the hub knows of a household before the file's row: its village, current status and
// quarter, and the ids of its stored events.
struct Known {
  bool registered = false;
  std::string village;
  hub::sdk::HouseholdStatus status = hub::sdk::HouseholdStatus::kUnevaluated;
  std::string quarter;
  std::set<std::string> event_ids;
};

struct PreviewRow {
  std::size_t line = 0;
  LoggedEvent event;
};

json action_json(const hub::sdk::PolicyAction& a) {
  json out{{"policy_id", a.policy_id}, {"action", std::string(hub::sdk::to_string(a.action))}, {"reason", a.reason}};
  out["amount_fen"] = a.amount_fen ? json(*a.amount_fen) : json(nullptr);
  return out;
}

}  // namespace

json import_preview(const HubConfig& config, report::ReportViews& views, const json& request) {
  const auto events = request.find("events");
  if (events == request.end() || !events->is_array())
    return error_reply("invalid_request", "import_preview needs \"events\": [wire event, …]", "events");
  const json lines = request.value("lines", json::array());
  std::size_t detail_limit = std::numeric_limits<std::size_t>::max();
  if (const auto d = request.find("detail"); d != request.end() && d->is_number_unsigned())
    detail_limit = d->get<std::size_t>();

  // 1. The file's status changes in order, each after the household's state so far.
  std::map<std::string, Known> known;
  auto state_of = [&](const std::string& household_id) -> Known& {
    auto it = known.find(household_id);
    if (it != known.end()) return it->second;
    Known k;
    if (auto view = views.household(household_id, {})) {
      k.registered = true;
      k.village = view->household.village;
      k.status = hub::sdk::parse_household_status(view->household.status).value_or(hub::sdk::HouseholdStatus::kUnevaluated);
      k.quarter = view->household.quarter.value_or("");
      for (const auto& e : view->history) k.event_ids.insert(e.event_id);
    }
    return known.emplace(household_id, std::move(k)).first->second;
  };
  std::vector<PreviewRow> rows;
  std::size_t already_stored = 0, status_changes = 0, not_registered = 0;
  for (std::size_t i = 0; i < events->size(); ++i) {
    auto parsed = parse_event((*events)[i]);
    if (auto* e = parsed.error()) {
      json reply = error_reply(e->code, e->message, e->field);
      reply["index"] = i;
      return reply;
    }
    const WireEvent& w = parsed.value();
    Known& k = state_of(w.household_id);
    if (k.event_ids.count(w.event_id)) {
      if (w.type == EventType::kStatusChange) ++already_stored;
      continue;
    }
    k.event_ids.insert(w.event_id);
    if (w.type == EventType::kHousehold) {
      if (!k.registered) {
        k.registered = true;
        k.village = w.village;
      }
      continue;
    }
    if (w.type != EventType::kStatusChange) continue;
    ++status_changes;
    if (!k.registered) {
      ++not_registered;  // ingest refuses it (unknown_household); nothing would be delivered
      continue;
    }
    PreviewRow row;
    row.line = i < lines.size() && lines[i].is_number_unsigned() ? lines[i].get<std::size_t>() : i + 1;
    LoggedEvent& e = row.event;
    e.seq = kPreviewSeqBase + i;
    e.type = EventType::kStatusChange;
    e.event_id = w.event_id;
    e.household_id = w.household_id;
    e.village = k.village;
    e.status = w.status;
    e.previous_status = k.status;
    e.quarter = w.quarter;
    e.previous_quarter = k.quarter;
    e.effective_date = w.effective_date.empty() ? first_day_after_quarter(w.quarter) : w.effective_date;
    e.designations = w.designations;
    e.correction = !k.quarter.empty() && k.quarter == w.quarter;
    k.status = w.status;
    k.quarter = w.quarter;
    rows.push_back(std::move(row));
  }

  // 2. Each enabled department, about the rows its subscription takes.
  json departments = json::array();
  for (const auto& plugin : config.plugins) {
    if (!plugin.enabled) continue;
    std::vector<const PreviewRow*> mine;
    std::vector<hub::sdk::Event> sdk_events;
    for (const auto& row : rows)
      if (runtime::subscribed(plugin, row.event)) {
        mine.push_back(&row);
        sdk_events.push_back(runtime::to_sdk_event(plugin, row.event));
      }
    json dept{{"id", plugin.id}, {"name_zh", plugin.catalogue.name_zh()}, {"name_en", plugin.catalogue.name_en()},
              {"events", mine.size()}};
    runtime::DryEvaluation evaluated;
    if (!mine.empty()) {
      const auto timeout = std::chrono::milliseconds(std::max<std::int64_t>(plugin.call_timeout_ms, 1000) +
                                                     static_cast<std::int64_t>(mine.size()) * 10);
      evaluated = runtime::dry_evaluate(plugin, config.data_dir, sdk_events, timeout);
    }
    const bool by_plugin = evaluated.error.empty();
    dept["mode"] = by_plugin ? "plugin" : "catalogue";
    if (!by_plugin) dept["note"] = evaluated.error;

    std::map<std::string, std::pair<std::size_t, std::int64_t>> totals;  // action → (actions, fen)
    std::map<std::string, std::set<std::string>> households_by_action;
    std::size_t failed = 0;
    json detail = json::array();
    for (std::size_t j = 0; j < mine.size(); ++j) {
      std::vector<hub::sdk::PolicyAction> actions;
      std::string failure;
      if (by_plugin) {
        actions = evaluated.answers[j].actions;
        failure = evaluated.answers[j].failure;
      } else {
        for (const auto& policy : plugin.catalogue.policies())
          if (policy.scope != hub::sdk::PolicyDefinition::Scope::kRoster)
            actions.push_back(hub::sdk::standard_policy_action(policy, sdk_events[j]));
      }
      if (!failure.empty()) ++failed;
      for (const auto& a : actions) {
        const std::string kind(hub::sdk::to_string(a.action));
        auto& [count, fen] = totals[kind];
        ++count;
        fen += a.amount_fen.value_or(0);
        households_by_action[kind].insert(a.household_id);
      }
      if (detail.size() < detail_limit) {
        json row{{"line", mine[j]->line}, {"household_id", mine[j]->event.household_id},
                 {"status", std::string(hub::sdk::to_string(mine[j]->event.status))},
                 {"previous_status", std::string(hub::sdk::to_string(mine[j]->event.previous_status))},
                 {"actions", json::array()}};
        for (const auto& a : actions) row["actions"].push_back(action_json(a));
        if (!failure.empty()) row["failure"] = failure;
        detail.push_back(std::move(row));
      }
    }
    json totals_json = json::object();
    std::int64_t paid = 0;  // what the department would pay out: applied, released, restored
    for (const auto& [kind, t] : totals) {
      totals_json[kind] = {{"actions", t.first}, {"households", households_by_action[kind].size()}, {"amount_fen", t.second}};
      if (kind == "apply" || kind == "release" || kind == "restore") paid += t.second;
    }
    dept["totals"] = totals_json;
    dept["paid_fen"] = paid;
    dept["failed"] = failed;
    dept["households"] = std::move(detail);
    dept["truncated"] = mine.size() > detail_limit;
    departments.push_back(std::move(dept));
  }
  return json{{"ok", true},
              {"events", events->size()},
              {"status_changes", status_changes},
              {"already_stored", already_stored},
              {"not_registered", not_registered},
              {"departments", std::move(departments)}};
}

}  // namespace hub::admin

#include "admin/read_views.h"

#include <chrono>
#include <map>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/status_json.h"
#include "domain/wire_event.h"
#include "report/household_search.h"
#include "report/quarterly_report.h"
#include "report/reconciliation.h"
#include "report/timeline.h"

namespace hub::admin {
namespace {

using nlohmann::json;

// The report's scope from {"quarter":"2020Q4","village":"V03"}; a reply when it is invalid.
std::variant<report::ReportRequest, json> report_request(const json& request) {
  auto quarter = request.find("quarter");
  if (quarter == request.end())
    return error_reply("missing_field", "report needs \"quarter\", e.g. \"2020Q4\"", "quarter");
  if (!quarter->is_string() || !quarter_index(quarter->get<std::string>()))
    return error_reply("invalid_field", "\"quarter\" must look like 2020Q4", "quarter");
  report::ReportRequest out{quarter->get<std::string>(), std::nullopt};
  if (auto village = request.find("village"); village != request.end() && !village->is_null()) {
    if (!village->is_string() || !is_valid_id(village->get<std::string>()))
      return error_reply("invalid_field", "\"village\" must be a village id such as V03", "village");
    out.village = village->get<std::string>();
  }
  return out;
}

// Optional values read as JSON null when absent.
template <class T>
json or_null(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json household(const HubConfig& config, report::ReportViews& views, const std::string& household_id) {
  std::vector<std::string> department_ids;
  for (const auto& plugin : config.plugins) department_ids.push_back(plugin.id);
  const auto found = views.household(household_id, department_ids);
  if (!found) return error_reply("unknown_household", "household '" + household_id + "' is not registered");
  const report::HouseholdRecord& hh = found->household;
  json out{{"ok", true},
           {"household_id", household_id},
           {"village", hh.village},
           {"head", or_null(hh.head)},
           {"members", or_null(hh.members)},
           {"commitment_signed_on", or_null(hh.commitment_signed_on)},
           {"status", hh.status},
           {"quarter", or_null(hh.quarter)},
           {"designations", hh.designations}};

  json history = json::array();
  for (const auto& e : found->history) {
    json item{{"seq", e.seq}, {"event_id", e.event_id}, {"type", e.type}, {"received_at_ms", e.received_at_ms}};
    if (e.type == "status_change") {
      item["status"] = e.status;
      item["previous_status"] = e.previous_status;
      item["quarter"] = e.quarter;
      item["effective_date"] = e.effective_date;
      item["correction"] = e.correction;
      item["past_quarter"] = e.past_quarter;
      item["complaint_id"] = e.complaint_id.empty() ? json(nullptr) : json(e.complaint_id);
    }
    history.push_back(std::move(item));
  }
  out["history"] = std::move(history);
  // The rulings on past quarters: their actions are remedies for those quarters, not the
  // policies' state now, so they are listed apart ("remedies") and never become "state".
  std::map<std::int64_t, const report::HouseholdEvent*> past_quarter;
  for (const auto& e : found->history)
    if (e.past_quarter) past_quarter[e.seq] = &e;

  // Per department and policy: the latest recorded action, its time and its source event.
  json departments = json::array();
  for (const auto& plugin : config.plugins) {
    std::map<std::string, json> latest;  // policy → its latest action: ordered by seq, the last one wins
    std::map<std::string, json> remedies;  // policy → the actions of rulings on past quarters
    for (const auto& a : found->actions.at(plugin.id)) {
      json action{{"seq", a.seq},
                  {"action", a.action},
                  {"amount_fen", or_null(a.amount_fen)},
                  {"reason", a.reason},
                  {"delivered_at_ms", a.delivered_at_ms},
                  {"event_id", a.event_id},
                  {"handoff", a.handoff}};  // how it reached the department's system
      if (const auto ruling = past_quarter.find(a.seq); ruling != past_quarter.end()) {
        action["quarter"] = ruling->second->quarter;
        action["complaint_id"] = ruling->second->complaint_id;
        remedies[a.policy_id].push_back(std::move(action));
        continue;
      }
      latest[a.policy_id] = std::move(action);
    }
    const auto cursor = found->cursors.find(plugin.id);
    const std::int64_t cursor_seq = cursor == found->cursors.end() ? 0 : cursor->second;
    json policies = json::array();
    for (const auto& p : plugin.catalogue.policies()) {
      json item{{"policy_id", p.id}, {"name_zh", p.name_zh}, {"name_en", p.name_en}};
      if (auto it = latest.find(p.id); it != latest.end()) {
        item["state"] = it->second;
      } else {
        item["state"] = nullptr;
      }
      if (auto it = remedies.find(p.id); it != remedies.end()) item["remedies"] = std::move(it->second);
      policies.push_back(std::move(item));
    }
    departments.push_back({{"id", plugin.id},
                           {"name_zh", plugin.catalogue.name_zh()},
                           {"name_en", plugin.catalogue.name_en()},
                           {"up_to_date", !found->latest_status_seq || cursor_seq >= *found->latest_status_seq},
                           {"policies", std::move(policies)}});
  }
  out["departments"] = std::move(departments);
  return out;
}

}  // namespace

std::optional<json> answer_read_request(const HubConfig& config, const report::ReportViewsOpener& open_views,
                                        const json& request) {
  const std::string cmd = request.value("cmd", "");
  if (cmd == "household") {
    auto it = request.find("household_id");
    if (it == request.end() || !it->is_string() || !is_valid_id(it->get<std::string>()))
      return error_reply(it == request.end() ? "missing_field" : "invalid_field",
                         "household needs \"household_id\": a household id such as V03-00417", "household_id");
    return household(config, *open_views(), it->get<std::string>());
  }
  if (cmd == "households") {
    auto query = report::household_query(request);
    if (auto* invalid = std::get_if<json>(&query)) return *invalid;
    const auto format = request.find("format");
    if (format != request.end() && !format->is_null() && *format != "json" && *format != "csv")
      return error_reply("invalid_field", "\"format\" must be json or csv", "format");
    if (format != request.end() && *format == "csv") {
      auto csv = report::household_search_csv(*open_views(), std::get<report::HouseholdQuery>(query));
      if (auto* refused = std::get_if<json>(&csv)) return *refused;
      return json{{"ok", true}, {"format", "csv"}, {"csv", std::get<std::string>(csv)}};
    }
    return report::household_search(*open_views(), std::get<report::HouseholdQuery>(query));
  }
  if (cmd == "report") {
    auto scope = report_request(request);
    if (auto* invalid = std::get_if<json>(&scope)) return *invalid;
    return report::quarterly_report(*open_views(), config, std::get<report::ReportRequest>(scope));
  }
  if (cmd == "quarters") {
    return report::available_quarters(*open_views());
  }
  if (cmd == "timeline") {
    int minutes = 60;
    if (auto it = request.find("minutes"); it != request.end()) {
      if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 1440)
        return error_reply("invalid_field", "\"minutes\" must be a whole number from 1 to 1440", "minutes");
      minutes = it->get<int>();
    }
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count();
    return report::delivery_timeline(*open_views(), config, now, minutes);
  }
  if (cmd == "reconcile") {
    return report::reconcile(*open_views(), config);
  }
  return std::nullopt;
}

}  // namespace hub::admin

#include "admin/read_views.h"

#include <chrono>
#include <map>
#include <variant>

#include <nlohmann/json.hpp>

#include "domain/status_json.h"
#include "domain/wire_event.h"
#include "report/ledger_views.h"
#include "report/quarterly_report.h"
#include "report/reconciliation.h"
#include "report/timeline.h"
#include "store/sqlite/database.h"

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


json household(const HubConfig& config, const std::string& household_id) {
  auto views = report::open_views(config.data_dir);
  store::Database& db = *views;

  store::Statement hh(db,
                      "SELECT village, head, members, commitment_signed_on, status, quarter, designations "
                      "FROM ev.household WHERE household_id = ?");
  hh.bind(1, household_id);
  if (!hh.step()) return error_reply("unknown_household", "household '" + household_id + "' is not registered");
  json out{{"ok", true},
           {"household_id", household_id},
           {"village", hh.column_text(0)},
           {"head", hh.column_is_null(1) ? json(nullptr) : json(hh.column_text(1))},
           {"members", hh.column_optional_int(2) ? json(*hh.column_optional_int(2)) : json(nullptr)},
           {"commitment_signed_on", hh.column_is_null(3) ? json(nullptr) : json(hh.column_text(3))},
           {"status", hh.column_text(4)},
           {"quarter", hh.column_is_null(5) ? json(nullptr) : json(hh.column_text(5))},
           {"designations", hh.column_is_null(6) ? json::array() : json::parse(hh.column_text(6))}};

  json history = json::array();
  store::Statement ev(db,
                      "SELECT seq, event_id, type, status, previous_status, quarter, effective_date, correction, "
                      "received_at_ms FROM ev.event WHERE household_id = ? ORDER BY seq");
  ev.bind(1, household_id);
  while (ev.step()) {
    json item{{"seq", ev.column_int(0)}, {"event_id", ev.column_text(1)}, {"type", ev.column_text(2)},
              {"received_at_ms", ev.column_int(8)}};
    if (item["type"] == "status_change") {
      item["status"] = ev.column_text(3);
      item["previous_status"] = ev.column_text(4);
      item["quarter"] = ev.column_text(5);
      item["effective_date"] = ev.column_text(6);
      item["correction"] = ev.column_int(7) != 0;
    }
    history.push_back(std::move(item));
  }
  out["history"] = std::move(history);

  // Per department and policy: the latest recorded action, its time and its source event.
  store::Statement actions(db,
                           // CROSS JOIN fixes the order: the household's events (index), then each
                           // one's delivery row (primary key), then its packed actions — never a
                           // scan of the department's whole ledger.
                           "SELECT d.seq, j.value ->> 0, j.value ->> 1, j.value ->> 2, r.text, d.delivered_at_ms, "
                           "d.event_id, d.handoff "
                           "FROM ev.event e CROSS JOIN delivery d ON d.department = ?1 AND d.seq = e.seq "
                           "CROSS JOIN json_each(d.actions) j JOIN reason r ON r.id = j.value ->> 3 "
                           "WHERE e.household_id = ?2 ORDER BY d.seq, CAST(j.key AS INTEGER)");
  store::Statement cursor(db, "SELECT seq FROM cursor WHERE department = ?");
  store::Statement last_status(db, "SELECT MAX(seq) FROM ev.event WHERE household_id = ? AND type = 'status_change'");
  last_status.bind(1, household_id);
  last_status.step();
  const auto latest_status_seq = last_status.column_optional_int(0);
  last_status.reset();

  json departments = json::array();
  for (const auto& plugin : config.plugins) {
    std::map<std::string, json> latest;
    std::map<std::string, std::vector<json>> history_by_policy;
    actions.bind(1, plugin.id).bind(2, household_id);
    while (actions.step()) {
      json a{{"seq", actions.column_int(0)},
             {"action", actions.column_text(2)},
             {"amount_fen", actions.column_optional_int(3) ? json(*actions.column_optional_int(3)) : json(nullptr)},
             {"reason", actions.column_text(4)},
             {"delivered_at_ms", actions.column_int(5)},
             {"event_id", actions.column_text(6)},
             {"handoff", actions.column_text(7)}};  // how it reached the department's system
      latest[actions.column_text(1)] = a;  // ordered by seq: the last one wins
    }
    actions.reset();
    cursor.bind(1, plugin.id);
    const std::int64_t cursor_seq = cursor.step() ? cursor.column_int(0) : 0;
    cursor.reset();
    json policies = json::array();
    for (const auto& p : plugin.catalogue.policies()) {
      json item{{"policy_id", p.id}, {"name_zh", p.name_zh}, {"name_en", p.name_en}};
      if (auto it = latest.find(p.id); it != latest.end()) {
        item["state"] = it->second;
      } else {
        item["state"] = nullptr;
      }
      policies.push_back(std::move(item));
    }
    departments.push_back({{"id", plugin.id},
                           {"name_zh", plugin.catalogue.name_zh()},
                           {"name_en", plugin.catalogue.name_en()},
                           {"up_to_date", !latest_status_seq || cursor_seq >= *latest_status_seq},
                           {"policies", std::move(policies)}});
  }
  out["departments"] = std::move(departments);
  return out;
}

}  // namespace


std::optional<json> answer_read_request(const HubConfig& config, const json& request) {
  const std::string cmd = request.value("cmd", "");
  if (cmd == "household") {
    auto it = request.find("household_id");
    if (it == request.end() || !it->is_string() || !is_valid_id(it->get<std::string>()))
      return error_reply(it == request.end() ? "missing_field" : "invalid_field",
                         "household needs \"household_id\": a household id such as V03-00417", "household_id");
    return household(config, it->get<std::string>());
  }
  if (cmd == "report") {
    auto scope = report_request(request);
    if (auto* invalid = std::get_if<json>(&scope)) return *invalid;
    auto views = report::open_views(config.data_dir);
    return report::quarterly_report(*views, config, std::get<report::ReportRequest>(scope));
  }
  if (cmd == "quarters") {
    auto views = report::open_views(config.data_dir);
    return report::available_quarters(*views);
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
    auto views = report::open_views(config.data_dir);
    return report::delivery_timeline(*views, config, now, minutes);
  }
  if (cmd == "reconcile") {
    auto views = report::open_views(config.data_dir);
    return report::reconcile(*views, config);
  }
  return std::nullopt;
}

}  // namespace hub::admin

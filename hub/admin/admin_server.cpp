#include "admin/admin_server.h"

#include <chrono>
#include <map>
#include <variant>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "ingest/wire_event.h"
#include "report/ledger_views.h"
#include "report/metrics.h"
#include "report/quarterly_report.h"
#include "report/reconciliation.h"
#include "report/timeline.h"
#include "store/sqlite.h"

namespace hub {
namespace {

using nlohmann::json;

json error_reply(const std::string& code, const std::string& message) {
  return json{{"ok", false}, {"error", {{"code", code}, {"message", message}}}};
}

json field_error(const std::string& code, const std::string& field, const std::string& message) {
  json reply = error_reply(code, message);
  reply["error"]["field"] = field;
  return reply;
}

// The report's scope from {"quarter":"2020Q4","village":"V03"}; a reply when it is invalid.
std::variant<report::ReportRequest, json> report_request(const json& request) {
  auto quarter = request.find("quarter");
  if (quarter == request.end())
    return field_error("missing_field", "quarter", "report needs \"quarter\", e.g. \"2020Q4\"");
  if (!quarter->is_string() || !quarter_index(quarter->get<std::string>()))
    return field_error("invalid_field", "quarter", "\"quarter\" must look like 2020Q4");
  report::ReportRequest out{quarter->get<std::string>(), std::nullopt};
  if (auto village = request.find("village"); village != request.end() && !village->is_null()) {
    if (!village->is_string() || !is_valid_id(village->get<std::string>()))
      return field_error("invalid_field", "village", "\"village\" must be a village id such as V03");
    out.village = village->get<std::string>();
  }
  return out;
}

}  // namespace

AdminServer::AdminServer(zmq::context_t& context, const HubConfig& config, const std::string& control_endpoint,
                         const std::string& status_endpoint, const std::string& internal_endpoint)
    : config_(config),
      router_(context, zmq::socket_type::router),
      control_(context, zmq::socket_type::pair),
      status_(context, zmq::socket_type::req) {
  router_.set(zmq::sockopt::linger, 1000);
  router_.bind(config.admin_endpoint);
  bound_endpoint_ = router_.get(zmq::sockopt::last_endpoint);  // before the internal bind
  if (!internal_endpoint.empty()) router_.bind(internal_endpoint);
  control_.connect(control_endpoint);
  status_.connect(status_endpoint);
}

std::string AdminServer::bound_endpoint() const { return bound_endpoint_; }

void AdminServer::run() {
  zmq::pollitem_t items[] = {{router_.handle(), 0, ZMQ_POLLIN, 0}, {control_.handle(), 0, ZMQ_POLLIN, 0}};
  for (;;) {
    zmq::poll(items, 2, std::chrono::milliseconds(-1));
    if (items[1].revents & ZMQ_POLLIN) return;
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    std::vector<zmq::message_t> envelope;
    zmq::message_t frame;
    (void)router_.recv(frame);
    while (frame.more()) {
      envelope.push_back(std::move(frame));
      frame = zmq::message_t();
      (void)router_.recv(frame);
    }
    if (envelope.empty()) continue;
    json reply;
    if (frame.size() > 1 << 20) {
      reply = error_reply("too_large", "admin requests are limited to 1 MiB");
    } else {
      json request = json::parse(static_cast<const char*>(frame.data()),
                                 static_cast<const char*>(frame.data()) + frame.size(), nullptr, false);
      try {
        reply = request.is_discarded() ? error_reply("invalid_json", "the request is not valid JSON")
                                       : handle(request);
      } catch (const std::exception& e) {
        spdlog::error("admin: {}", e.what());
        reply = error_reply("internal_error", e.what());
      }
    }
    for (auto& part : envelope) router_.send(part, zmq::send_flags::sndmore);
    const std::string text = reply.dump();
    router_.send(zmq::buffer(text), zmq::send_flags::dontwait);
  }
}

json AdminServer::handle(const json& request) {
  if (!request.is_object() || !request.contains("cmd") || !request["cmd"].is_string())
    return error_reply("invalid_request",
                       "an admin request is {\"cmd\": \"status\" | \"household\" | \"report\" | \"reconcile\" | "
                       "\"quarters\" | \"timeline\" | \"metrics\" | \"plugins\" | \"parked\" | \"ping\", …}");
  const std::string cmd = request["cmd"];
  if (cmd == "ping") return json{{"ok", true}};
  if (cmd == "status") return dispatcher_status();
  if (cmd == "household") {
    auto it = request.find("household_id");
    if (it == request.end() || !it->is_string() || !is_valid_id(it->get<std::string>()))
      return field_error(it == request.end() ? "missing_field" : "invalid_field", "household_id",
                         "household needs \"household_id\": a household id such as V03-00417");
    return household(it->get<std::string>());
  }
  if (cmd == "report") {
    auto scope = report_request(request);
    if (auto* invalid = std::get_if<json>(&scope)) return *invalid;
    auto views = report::open_views(config_.data_dir);
    return report::quarterly_report(*views, config_, std::get<report::ReportRequest>(scope));
  }
  if (cmd == "quarters") {
    auto views = report::open_views(config_.data_dir);
    return report::available_quarters(*views);
  }
  if (cmd == "timeline") {
    int minutes = 60;
    if (auto it = request.find("minutes"); it != request.end()) {
      if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 1440)
        return field_error("invalid_field", "minutes", "\"minutes\" must be a whole number from 1 to 1440");
      minutes = it->get<int>();
    }
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count();
    auto views = report::open_views(config_.data_dir);
    return report::delivery_timeline(*views, config_, now, minutes);
  }
  if (cmd == "reconcile") {
    auto views = report::open_views(config_.data_dir);
    return report::reconcile(*views, config_);
  }
  if (cmd == "metrics") {
    auto views = report::open_views(config_.data_dir);
    json snapshot = report::metrics_snapshot(*views, dispatcher_status());
    snapshot["ok"] = true;
    return snapshot;
  }
  if (cmd == "plugins") return plugins();
  if (cmd == "parked") {
    // Parking (dead letters) arrives with issue 4; until then nothing is ever parked.
    return json{{"ok", true}, {"parked", json::array()},
                {"note", "parking of failing events is not built yet (issue 4): a failing event is retried with "
                         "backoff and never parked, so this list is always empty"}};
  }
  return error_reply("unknown_command", "unknown command '" + cmd +
                                            "' (status, household, report, quarters, timeline, reconcile, metrics, plugins, parked, ping)");
}

json AdminServer::dispatcher_status() {
  status_.send(zmq::buffer(std::string("status")), zmq::send_flags::none);
  zmq::message_t reply;
  (void)status_.recv(reply);
  return json::parse(reply.to_string());
}

json AdminServer::plugins() {
  const json status = dispatcher_status();
  json out = json::array();
  for (const auto& plugin : config_.plugins) {
    json item{{"id", plugin.id}, {"name_zh", plugin.catalogue.name_zh()}, {"name_en", plugin.catalogue.name_en()},
              {"enabled", plugin.enabled}, {"library", plugin.library}, {"state", plugin.enabled ? "unknown" : "disabled"},
              {"version", ""}, {"abi_version", nullptr}, {"last_error", ""}};
    for (const auto& d : status.value("departments", json::array())) {
      if (d.value("id", "") != plugin.id) continue;
      item["state"] = d.value("state", "unknown");
      item["version"] = d.value("plugin_version", "");
      item["abi_version"] = d.value("abi_version", 0);
      item["last_error"] = d.value("last_error", "");
    }
    out.push_back(std::move(item));
  }
  return json{{"ok", true}, {"plugins", std::move(out)}};
}

json AdminServer::household(const std::string& household_id) {
  auto views = report::open_views(config_.data_dir);
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
  for (const auto& plugin : config_.plugins) {
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

}  // namespace hub

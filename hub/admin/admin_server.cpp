#include "admin/admin_server.h"

#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "eventlog/event_log.h"
#include "delivery/ledger.h"
#include "ingest/wire_event.h"
#include "store/sqlite.h"

namespace hub {
namespace {

using nlohmann::json;

json error_reply(const std::string& code, const std::string& message) {
  return json{{"ok", false}, {"error", {{"code", code}, {"message", message}}}};
}

}  // namespace

AdminServer::AdminServer(zmq::context_t& context, const HubConfig& config, const std::string& control_endpoint,
                         const std::string& status_endpoint)
    : config_(config),
      router_(context, zmq::socket_type::router),
      control_(context, zmq::socket_type::pair),
      status_(context, zmq::socket_type::req) {
  router_.set(zmq::sockopt::linger, 1000);
  router_.bind(config.admin_endpoint);
  control_.connect(control_endpoint);
  status_.connect(status_endpoint);
}

std::string AdminServer::bound_endpoint() const { return router_.get(zmq::sockopt::last_endpoint); }

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
    return error_reply("invalid_request", "an admin request is {\"cmd\": \"status\" | \"household\" | \"ping\", …}");
  const std::string cmd = request["cmd"];
  if (cmd == "ping") return json{{"ok", true}};
  if (cmd == "status") {
    status_.send(zmq::buffer(std::string("status")), zmq::send_flags::none);
    zmq::message_t reply;
    (void)status_.recv(reply);
    return json::parse(reply.to_string());
  }
  if (cmd == "parked" || cmd == "plugins") {
    // Dead letters and plugin lifecycle belong to the delivery thread: forwarded as they are
    // (it validates them); a retry or reload answers once it is done.
    status_.send(zmq::buffer(request.dump()), zmq::send_flags::none);
    zmq::message_t reply;
    (void)status_.recv(reply);
    return json::parse(reply.to_string());
  }
  if (cmd == "household") {
    auto it = request.find("household_id");
    if (it == request.end() || !it->is_string() || !is_valid_id(it->get<std::string>()))
    {
      json reply = error_reply(it == request.end() ? "missing_field" : "invalid_field",
                               "household needs \"household_id\": a household id such as V03-00417");
      reply["error"]["field"] = "household_id";
      return reply;
    }
    return household(it->get<std::string>());
  }
  return error_reply("unknown_command", "unknown command '" + cmd + "' (status, household, parked, plugins, ping)");
}

json AdminServer::household(const std::string& household_id) {
  namespace fs = std::filesystem;
  // Read-only views over both files: the ledger with the event log attached.
  store::Database db((fs::path(config_.data_dir) / "ledger.db").string(), store::Database::Mode::kReadWrite);
  {
    store::Statement attach(db, "ATTACH DATABASE ? AS ev");
    attach.bind(1, (fs::path(config_.data_dir) / "events.db").string());
    attach.run();
  }
  db.exec("PRAGMA query_only=1");

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

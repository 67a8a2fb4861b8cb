#include "admin/admin_server.h"

#include <chrono>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "admin/read_views.h"
#include "report/ledger_views.h"
#include "report/metrics.h"

namespace hub {

using nlohmann::json;
using admin::error_reply;

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
  if (auto reply = admin::answer_read_request(config_, request)) return *reply;
  if (cmd == "metrics") {
    auto views = report::open_views(config_.data_dir);
    json snapshot = report::metrics_snapshot(*views, dispatcher_status());
    snapshot["ok"] = true;
    return snapshot;
  }
  if (cmd == "parked" || cmd == "plugins") {
    // Dead letters and plugin lifecycle belong to the delivery thread: forwarded as they are
    // (it validates them); a retry or reload answers once it is done.
    status_.send(zmq::buffer(request.dump()), zmq::send_flags::none);
    zmq::message_t reply;
    (void)status_.recv(reply);
    return json::parse(reply.to_string());
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

}  // namespace hub

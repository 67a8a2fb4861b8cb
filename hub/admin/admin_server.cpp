#include "admin/admin_server.h"
#include "admin/import_preview.h"

#include <chrono>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "domain/notice.h"
#include "domain/status_json.h"
#include "admin/complaint_requests.h"
#include "admin/internal_publish.h"
#include "admin/notice_requests.h"
#include "admin/operator_requests.h"
#include "admin/read_views.h"
#include "delivery/operator_commands.h"
#include "report/metrics.h"

namespace hub {
namespace {
// How long a ruling waits for ingest to store its correction: a group commit, or a disk that
// has stalled (then the clerk is told, and the same ruling sent again finds what was stored).
constexpr int kPublishTimeoutMs = 30000;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

using nlohmann::json;
using hub::error_reply;

AdminServer::AdminServer(zmq::context_t& context, const HubConfig& config, report::ReportViewsOpener open_views,
                         const std::string& control_endpoint, const std::string& status_endpoint,
                         audit::AuditTrail& audit, const std::string& internal_endpoint, security::Gatekeeper* gate,
                         admin::BackupJob::Runner backup, complaints::ComplaintStoreOpener complaint_stores,
                         std::string ingest_internal_endpoint)
    : config_(config),
      open_views_(std::move(open_views)),
      router_(context, zmq::socket_type::router),
      control_(context, zmq::socket_type::pair),
      status_(context, zmq::socket_type::req),
      audit_(audit),
      gate_(gate),
      complaints_(complaint_stores ? std::make_unique<complaints::ComplaintRegister>(complaint_stores,
                                                                                    config.complaint_deadline_days)
                                   : nullptr),
      notices_(complaint_stores ? std::make_unique<complaints::NoticeBoard>(complaint_stores, config.notice_period_days)
                                : nullptr),
      context_(context),
      ingest_internal_endpoint_(std::move(ingest_internal_endpoint)),
      rate_limiter_(config.max_requests_per_second),
      backup_(std::move(backup)) {
  router_.set(zmq::sockopt::linger, 1000);
  if (gate_ != nullptr) gate_->secure(router_, "admin");
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
    if (!rate_limiter_.allow(envelope.front().to_string())) {
      for (auto& part : envelope) router_.send(part, zmq::send_flags::sndmore);
      const std::string text =
          error_reply("rate_limited", "more than " + std::to_string(config_.max_requests_per_second) +
                                          " requests per second from this connection (limits.max_requests_per_second); "
                                          "nothing was done: send it again after a pause")
              .dump();
      router_.send(zmq::buffer(text), zmq::send_flags::dontwait);
      continue;
    }
    json reply;
    // Who asks: an admin key's name, or "http" for the dashboard (inproc, no handshake). An
    // insecure hub cannot tell.
    std::string caller = "unauthenticated";
    if (gate_ != nullptr) {
      const auto verdict = gate_->allow(frame, "admin", "admin", "an admin request");
      caller = verdict.internal ? "http" : verdict.who;
      if (!verdict.allowed) {
        for (auto& part : envelope) router_.send(part, zmq::send_flags::sndmore);
        const std::string text = error_reply("unauthorized", verdict.reason).dump();
        router_.send(zmq::buffer(text), zmq::send_flags::dontwait);
        continue;
      }
    }
    if (frame.size() > 1 << 20) {
      reply = error_reply("too_large", "admin requests are limited to 1 MiB");
    } else {
      json request = json::parse(static_cast<const char*>(frame.data()),
                                 static_cast<const char*>(frame.data()) + frame.size(), nullptr, false);
      try {
        reply = request.is_discarded() ? error_reply("invalid_json", "the request is not valid JSON")
                                       : handle(request, caller);
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

json AdminServer::handle(const json& request, const std::string& caller) {
  if (!request.is_object() || !request.contains("cmd") || !request["cmd"].is_string())
    return error_reply("invalid_request",
                       "an admin request is {\"cmd\": \"status\" | \"household\" | \"households\" | \"report\" | "
                       "\"reconcile\" | \"quarters\" | \"timeline\" | \"metrics\" | \"plugins\" | \"parked\" | \"keys\" | "
                       "\"complaints\" | \"notice\" | \"ping\", …}");
  const std::string cmd = request["cmd"];
  if (cmd == "ping") return json{{"ok", true}};
  if (cmd == "status") return dispatcher_status();
  if (cmd == "complaints") return complaints(request, caller);
  if (cmd == "notice") return notice(request, caller);
  if (cmd == "import_preview") return admin::import_preview(config_, *open_views_(), request);  // stores nothing
  if (auto reply = admin::answer_read_request(config_, open_views_, request))
    return cmd == "report" ? add_complaints_to_report(std::move(*reply), request) : *reply;
  if (cmd == "metrics") {
    json snapshot = report::metrics_snapshot(*open_views_(), dispatcher_status());
    if (complaints_) try {
        snapshot["complaints"] = admin::complaint_summary(*complaints_, hub::local_today());
      } catch (const StorageError& e) {
        spdlog::error("admin: metrics without the complaints register: {}", e.what());
      }
    snapshot["ok"] = true;
    return snapshot;
  }
  if (cmd == "parked" || cmd == "plugins") {
    const auto action = request.find("action");
    if (action == request.end() || (action->is_string() && action->get<std::string>() == "list"))
      return carry_out(request);  // reading is not audited
    return operator_action(request, caller, [&] { return carry_out(request); });
  }
  if (cmd == "keys") return keys(request, caller);
  if (cmd == "backup") return backup(request, caller);
  return error_reply("unknown_command", "unknown command '" + cmd +
                                            "' (status, household, report, quarters, timeline, reconcile, metrics, plugins, parked, keys, backup, "
                                            "complaints, notice, import_preview, ping)");
}

json AdminServer::carry_out(const json& request) {
  // Dead letters and plugin lifecycle belong to the delivery thread: checked here, then handed
  // over as a typed command; a retry or reload answers once it is done.
  delivery::OperatorCommand command;
  if (json error = admin::parse_operator_request(config_, request, command); !error.is_null()) return error;
  return ask_dispatcher(delivery::encode_command(command));
}

json AdminServer::ask_dispatcher(const std::string& frame) {
  status_.send(zmq::buffer(frame), zmq::send_flags::none);
  zmq::message_t reply;
  (void)status_.recv(reply);
  return json::parse(reply.to_string());
}

json AdminServer::keys(const json& request, const std::string& caller) {
  const auto action = request.find("action");
  const std::string what = action != request.end() && action->is_string() ? action->get<std::string>() : "list";
  if (what != "list" && what != "reload")
    return error_reply("invalid_request", "keys: action must be \"list\" or \"reload\"");
  if (gate_ == nullptr)
    return error_reply("not_supported",
                       "this hub runs with security.mode \"insecure\": it has no keys (CURVE is off)");
  if (what == "list") {
    json reply = gate_->describe();
    reply["ok"] = true;
    return reply;
  }
  return operator_action(request, caller, [&] {
    const auto result = gate_->reload();
    if (!result.ok) return error_reply("invalid_keys", "the keys were not reloaded and the old ones stay in force: " + result.error);
    return json{{"ok", true}, {"keys", result.keys}, {"added", result.added}, {"removed", result.removed}};
  });
}

// Publishing from this thread through ingest's in-process endpoint (none: the hub cannot, and
// an upheld ruling or a confirmation answers not_supported).
std::function<json(const json&, const std::string&)> AdminServer::internal_publisher() {
  if (ingest_internal_endpoint_.empty()) return {};
  return [this](const json& event, const std::string& publisher) {
    return admin::publish_internally(context_, ingest_internal_endpoint_, publisher, event, kPublishTimeoutMs);
  };
}

json AdminServer::register_request(const json& request, const std::string& caller, bool write, const char* what,
                                   const char* web_refusal, const std::function<json()>& answer) {
  // A store that cannot be read or written answers storage_unavailable (and, for a write, the
  // outcome is audited as such); the register opens its store again for the next request.
  const auto answered = [&]() -> json {
    try {
      return answer();
    } catch (const StorageError& e) {
      spdlog::error("admin: {}: {}", what, e.what());
      return error_reply(e.status());
    }
  };
  if (!write) return answered();
  // Writes wait for the web's accounts: the dashboard reads only.
  if (caller == "http") return error_reply("forbidden", web_refusal);
  return operator_action(request, caller, answered);
}

json AdminServer::complaints(const json& request, const std::string& caller) {
  if (!complaints_) return error_reply("not_supported", "this hub keeps no complaints register");
  const auto lookup = [this](const std::string& household_id) -> std::optional<admin::KnownHousehold> {
    const auto found = open_views_()->household(household_id, {});
    if (!found) return std::nullopt;
    admin::KnownHousehold known{found->household.village, {}};
    for (const auto& e : found->history)
      if (!e.quarter.empty()) known.evaluated_quarters.insert(e.quarter);
    return known;
  };
  // An upheld complaint's correction goes to ingest as the ruling's own publisher.
  return register_request(request, caller, admin::is_complaint_write(request), "complaints",
                          "complaints are lodged and ruled with hubctl / 投诉的登记与裁定请用 hubctl", [&] {
                            return admin::answer_complaint_request(*complaints_, request, lookup,
                                                                   hub::local_today(), now_ms(),
                                                                   internal_publisher());
                          });
}

json AdminServer::notice(const json& request, const std::string& caller) {
  if (!notices_) return error_reply("not_supported", "this hub keeps no notice board / 本枢纽不保存公示");
  const auto household_of = [this](const std::string& household_id) -> std::optional<admin::NoticeHousehold> {
    const auto found = open_views_()->household(household_id, {});
    if (!found) return std::nullopt;
    return admin::NoticeHousehold{found->household.village, found->household.head};
  };
  // A confirmed proposal's status change goes to ingest as its village's notice.
  return register_request(request, caller, admin::is_notice_write(request), "notice",
                          "notices are proposed and confirmed with hubctl / 公示的提交与确认请用 hubctl", [&] {
                            return admin::answer_notice_request(*notices_, request, household_of,
                                                                hub::local_today(), now_ms(),
                                                                internal_publisher());
                          });
}

json AdminServer::add_complaints_to_report(json report, const json& request) {
  if (!complaints_ || !report.value("ok", false)) return report;
  std::optional<std::string> village;
  if (const auto it = request.find("village"); it != request.end() && it->is_string()) village = it->get<std::string>();
  try {
    report["complaints"] = admin::complaint_summary(*complaints_, hub::local_today(), village);
  } catch (const StorageError& e) {  // the report stands without them; the log says why
    spdlog::error("admin: report without the complaints register: {}", e.what());
  }
  return report;
}

json AdminServer::backup(const json& request, const std::string& caller) {
  const std::string action = request.value("action", std::string("status"));
  if (action == "status") return backup_.status();
  if (action != "start") return error_reply("invalid_request", "backup: action must be \"start\" or \"status\"");
  const auto to = request.find("to");
  if (to == request.end() || !to->is_string() || to->get<std::string>().empty() ||
      to->get<std::string>().front() != '/')
    return error_reply("invalid_request", "backup start needs \"to\": an absolute folder on the hub's machine", "to");
  if (!backup_.supported()) return error_reply("not_supported", "this hub cannot make backups");
  // Audited before it starts; the outcome recorded is that it started (the copy's own outcome
  // is in hubd's log and in the backup's manifest).
  return operator_action(request, caller, [&] { return backup_.start(to->get<std::string>()); });
}

json AdminServer::reload_keys(const std::string& actor) {
  return keys(json{{"cmd", "keys"}, {"action", "reload"}}, actor);
}

json AdminServer::operator_action(const json& request, const std::string& caller,
                                  const std::function<json()>& perform) {
  // Audited before it is carried out, and not carried out when the audit log cannot be
  // written (fail closed). The outcome is audited too, once known.
  const auto text = [&request](const char* key) {
    auto it = request.find(key);
    return it != request.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  audit::AuditEntry entry;
  const std::string action = text("action");
  entry.kind = "admin_" + request["cmd"].get<std::string>() + "_" + (action.empty() ? "invalid" : action.substr(0, 32));
  // The actor is who holds the key (or "http"); `by` is what the operator typed, kept in detail.
  entry.actor = caller + (text("by").empty() ? std::string() : " (by " + text("by").substr(0, 64) + ")");
  entry.subject = text("department");
  if (entry.subject.empty()) entry.subject = text("id").substr(0, 64);            // complaints investigate|rule
  if (entry.subject.empty()) entry.subject = text("household_id").substr(0, 64);  // complaints lodge
  if (entry.subject.empty() && !text("village").empty())                          // notice confirm
    entry.subject = (text("village") + " " + text("quarter")).substr(0, 64);
  json detail = request;
  if (detail.contains("events") && detail["events"].is_array()) {
    // notice propose: the households and quarters, not every event (the board keeps those).
    json proposed = json::array();
    for (const json& e : detail["events"])
      proposed.push_back(e.is_object() ? json(e.value("household_id", "") + " " + e.value("quarter", "")) : json("?"));
    detail["events"] = std::move(proposed);
    detail.erase("lines");
  }
  entry.detail = detail.dump(-1, ' ', false, json::error_handler_t::replace);
  try {
    audit_.append(entry);
  } catch (const std::exception& e) {
    spdlog::error("admin: {} refused: the audit log cannot be written ({})", entry.kind, e.what());
    return error_reply("audit_unavailable", std::string("the audit log could not be written, so nothing was done (") +
                                                e.what() + "); try again when the disk has space");
  }
  json reply = perform();
  audit::AuditEntry outcome = entry;
  outcome.kind = entry.kind + "_result";
  json summary{{"ok", reply.value("ok", false)}};
  if (reply.contains("error")) summary["error"] = reply["error"].value("code", "");
  for (const char* names : {"added", "removed"})  // a key reload's outcome: which keys it changed
    if (reply.contains(names)) summary[names] = reply[names];
  if (reply.contains("complaint"))  // a complaint's: its id and state after the change
    summary["complaint"] = {{"id", reply["complaint"]["id"]}, {"state", reply["complaint"]["state"]}};
  for (const char* counted : {"replaced", "unchanged", "already_final"})  // notice propose|confirm ("added" above)
    if (reply.contains(counted) && reply[counted].is_number()) summary[counted] = reply[counted];
  for (const char* listed : {"confirmed", "held", "not_stored"})
    if (reply.contains(listed) && reply[listed].is_array()) summary[listed] = reply[listed].size();
  if (reply.contains("correction"))  // an upheld ruling's: the correction it stored, and where
    summary["correction"] = {{"event_id", reply["correction"]["event_id"]}, {"seq", reply["correction"]["seq"]}};
  outcome.detail = summary.dump();
  try {
    audit_.append(outcome);
  } catch (const std::exception& e) {
    spdlog::error("admin: the outcome of {} could not be audited ({}); the action itself was", entry.kind, e.what());
  }
  return reply;
}

json AdminServer::dispatcher_status() { return ask_dispatcher("status"); }

}  // namespace hub

#include "http/http_server.h"

#include <chrono>
#include <functional>
#include <filesystem>
#include <thread>

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "domain/status_json.h"
#include "domain/wire_event.h"
#include "admin/internal_publish.h"
#include "admin/read_views.h"
#include "http/guarded_server.h"
#include "http/static_files.h"
#include "http/web_access.h"
#include "http/web_import.h"
#include "report/metrics.h"
#include "report/quarterly_report.h"

namespace hub::http {
namespace {

using nlohmann::json;

// Reports over a county can take a while; beyond this the admin thread is stuck.
constexpr int kAdminTimeoutMs = 120000;


// HTTP status for an admin reply: the error codes are stable strings (docs/protocol.md).
int http_status(const json& reply) {
  if (reply.value("ok", false)) return 200;
  const std::string code = reply["error"].value("code", "");
  if (code == "unknown_household" || code == "unknown_complaint" || code == "unknown_notice") return 404;
  if (code == "unauthorized" || code == "session_ended" || code == "login_failed") return 401;
  if (code == "forbidden" || code == "csrf_failed") return 403;
  if (code == "locked_out") return 429;
  if (code == "not_implemented") return 501;
  if (code == "hub_unavailable" || code == "storage_unavailable") return 503;
  if (code == "internal_error") return 500;
  return 400;
}

std::string content_type(const std::string& path) {
  auto ends = [&](const char* ext) {
    const std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json")) return "application/json";
  return "text/plain; charset=utf-8";
}

void send_json(httplib::Response& res, const json& body) {
  res.status = http_status(body);
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

using security::UserRole;

json forbidden(const std::string& why) { return error_reply("forbidden", why); }

// A department user's view of a reply: only its own department's entry of "departments".
json own_department(const Principal& who, json reply) {
  if (who.role != UserRole::kDepartment || !reply.contains("departments") || !reply["departments"].is_array())
    return reply;
  json kept = json::array();
  for (auto& d : reply["departments"])
    if (d.value("id", "") == who.department) kept.push_back(std::move(d));
  reply["departments"] = std::move(kept);
  return reply;
}

bool reads_everything(const Principal& who) {
  return who.anonymous || who.role == UserRole::kAdmin || who.role == UserRole::kSupervisor;
}

}  // namespace

HttpServer::HttpServer(zmq::context_t& context, const HubConfig& config, report::ReportViewsOpener open_views,
                       std::string admin_internal_endpoint, audit::AuditTrail* audit,
                       std::string ingest_internal_endpoint)
    : context_(context), config_(config), open_views_(std::move(open_views)),
      admin_endpoint_(std::move(admin_internal_endpoint)), ingest_endpoint_(std::move(ingest_internal_endpoint)),
      access_(std::make_unique<WebAccess>(config, audit)) {
  const auto address = parse_http_address(config.http_address);
  if (!address) throw std::runtime_error("invalid http address '" + config.http_address + "'");
  host_ = address->host;
  TlsContext tls;
  if (config.http.tls()) {
    auto made = make_tls_context(config.http);
    if (!made) throw std::runtime_error(made.status().message);
    tls = std::move(made).value();
  }
  const ClientLimits limits{std::chrono::milliseconds(config.http.request_timeout_ms),
                            static_cast<std::size_t>(config.http.max_connections),
                            static_cast<std::size_t>(config.http.max_connections_per_client)};
  server_ = std::make_unique<GuardedServer>(limits, std::move(tls));
  // The largest body is an import file (web_import.h, which answers file_too_large up to this).
  server_->set_payload_max_length(kMaxImportBytes + (1u << 20));
  routes();
  port_ = server_->bind(host_, address->port);
  if (port_ <= 0) throw std::runtime_error("cannot listen for HTTP on " + config.http_address + " (in use?)");
}

HttpServer::~HttpServer() = default;

std::string HttpServer::bound_address() const {
  return (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
}

std::string HttpServer::url() const { return (server_->tls() ? "https://" : "http://") + bound_address() + "/"; }

void HttpServer::run() { server_->listen_after_bind(); }

void HttpServer::stop() {
  // cpp-httplib 0.11's stop() does nothing until listen_after_bind() has marked the server
  // running, and a listen that starts after it then serves for ever: a hubd told to stop right
  // after it became ready hung joining this thread. So wait (bounded) until run() is listening.
  for (int i = 0; i < 500 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  server_->stop();
}

void HttpServer::routes() {
  // Read-only questions (household, report, quarters, timeline, reconcile) are answered on this
  // request's own thread from its own read-only connection, so a long report never holds up
  // the status page. The rest goes to the admin thread, on a socket of this request's own.
  auto ask = [this](const json& request) -> json {
    try {
      if (auto reply = admin::answer_read_request(config_, open_views_, request)) return *reply;
    } catch (const std::exception& e) {
      spdlog::error("http: {} failed: {}", request.value("cmd", ""), e.what());
      return error_reply("internal_error", e.what());
    }
    zmq::socket_t socket(context_, zmq::socket_type::req);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::rcvtimeo, kAdminTimeoutMs);
    socket.connect(admin_endpoint_);
    socket.send(zmq::buffer(request.dump()), zmq::send_flags::none);
    zmq::message_t reply;
    if (!socket.recv(reply)) return error_reply("hub_unavailable", "the admin thread did not answer");
    return json::parse(reply.to_string(), nullptr, false);
  };

  // Every /api/ read: who asks (a session, the admin token, or nobody where no login is
  // needed); `handle` answers for them. The scoping rules are in the header comment.
  using Handler = std::function<void(const Principal&, const httplib::Request&, httplib::Response&)>;
  auto as = [this](Handler handle) {
    return [this, handle = std::move(handle)](const httplib::Request& req, httplib::Response& res) {
      auto who = access_->authenticate(req);
      if (auto* error = std::get_if<json>(&who)) return send_json(res, *error);
      handle(std::get<Principal>(who), req, res);
    };
  };
  const std::string department_only = "部门用户只能查看本部门的数据 / a department user sees its own department only";

  server_->Get("/api/status", as([ask](const Principal& who, const httplib::Request&, httplib::Response& res) {
    send_json(res, own_department(who, ask({{"cmd", "status"}})));
  }));
  server_->Get("/api/plugins", as([ask](const Principal& who, const httplib::Request&, httplib::Response& res) {
    if (!reads_everything(who)) return send_json(res, forbidden("须为管理员或监督小组 / admin or supervisor only"));
    send_json(res, ask({{"cmd", "plugins"}}));
  }));
  server_->Get("/api/parked", as([ask](const Principal& who, const httplib::Request&, httplib::Response& res) {
    if (!reads_everything(who)) return send_json(res, forbidden("须为管理员或监督小组 / admin or supervisor only"));
    send_json(res, ask({{"cmd", "parked"}}));
  }));
  server_->Get("/api/quarters", as([ask](const Principal&, const httplib::Request&, httplib::Response& res) {
    send_json(res, ask({{"cmd", "quarters"}}));
  }));
  server_->Get("/api/timeline", as([ask](const Principal& who, const httplib::Request& req, httplib::Response& res) {
    json request{{"cmd", "timeline"}};
    if (req.has_param("minutes")) {
      const std::string text = req.get_param_value("minutes");
      const bool digits = !text.empty() && text.size() <= 4 && text.find_first_not_of("0123456789") == std::string::npos;
      request["minutes"] = digits ? json(std::stoi(text)) : json(text);  // the admin thread validates
    }
    send_json(res, own_department(who, ask(request)));
  }));
  // The complaints register, read only (lodging and ruling stay with hubctl until the web has
  // its forms): ?state=&household=&village=&overdue=1&after=&limit= as the admin request's
  // fields. Complaints are the office's business: not for a department user; a clerk limited to
  // villages lists one of them (village=) and sees only their complaints.
  server_->Get("/api/complaints", as([ask](const Principal& who, const httplib::Request& req, httplib::Response& res) {
    if (who.role == UserRole::kDepartment)
      return send_json(res, forbidden("投诉举报不对部门用户开放 / complaints are not shown to department users"));
    const std::string village = req.has_param("village") ? req.get_param_value("village") : "";
    if (who.role == UserRole::kClerk && !who.villages.empty() && (village.empty() || !who.may_see_village(village)))
      return send_json(res, forbidden("只能查看您负责的村的投诉 / only your villages' complaints: add village="));
    json request{{"cmd", "complaints"}, {"action", "list"}};
    for (const auto& [param, field] : {std::pair{"state", "state"}, std::pair{"household", "household_id"},
                                       std::pair{"village", "village"}})
      if (req.has_param(param)) request[field] = req.get_param_value(param);
    if (req.has_param("overdue")) {
      const std::string v = req.get_param_value("overdue");
      request["overdue"] = v == "1" || v == "true" ? json(true) : v == "0" || v == "false" ? json(false) : json(v);
    }
    for (const char* param : {"after", "limit"})
      if (req.has_param(param)) {
        const std::string text = req.get_param_value(param);
        const bool digits = !text.empty() && text.size() <= 15 && text.find_first_not_of("0123456789") == std::string::npos;
        request[param] = digits ? json(std::stoull(text)) : json(text);  // the admin thread validates
      }
    send_json(res, ask(request));
  }));
  server_->Get(R"(/api/complaints/([^/]+))", as([ask](const Principal& who, const httplib::Request& req,
                                                      httplib::Response& res) {
    if (who.role == UserRole::kDepartment)
      return send_json(res, forbidden("投诉举报不对部门用户开放 / complaints are not shown to department users"));
    const json reply = ask({{"cmd", "complaints"}, {"action", "show"}, {"id", req.matches[1].str()}});
    if (reply.value("ok", false) && reply.contains("complaint") &&
        !who.may_see_village(reply["complaint"].value("village", "")))
      return send_json(res, forbidden("此投诉不在您负责的村 / this complaint is not in your villages"));
    send_json(res, reply);
  }));
  // The notice board (公示), read only (proposing and confirming stay with hubctl for now): every
  // village's notice (?quarter=, and ?village= to keep one village's), and one village's notice
  // list for a quarter as the village posts it. The office's business, like the complaints: not
  // for a department user; a clerk limited to villages sees only theirs (the list is cut to them).
  const auto notice_params = [](const httplib::Request& req, const std::string& village,
                                const std::string& quarter) -> json {
    for (const auto& [param, value] : req.params)
      if (param != "quarter" && param != "village")
        return error_reply("unknown_field", "不认识的查询参数 / '" + param.substr(0, 40) + "' is not a parameter of "
                                            "/api/notices (quarter, village)", param.substr(0, 40));
    if (req.has_param("village") || !village.empty())
      if (!is_valid_id(village))
        return error_reply("invalid_field", "村编号格式不对 / 'village' must be a village id such as V03", "village");
    if (req.has_param("quarter") || !quarter.empty())
      if (!quarter_index(quarter))
        return error_reply("invalid_field", "季度格式不对 / 'quarter' must be a quarter such as 2026Q4", "quarter");
    return nullptr;
  };
  const std::string notices_not_for_departments = "公示不对部门用户开放 / notices are not shown to department users";
  server_->Get("/api/notices", as([ask, notice_params, notices_not_for_departments](
                                      const Principal& who, const httplib::Request& req, httplib::Response& res) {
    if (who.role == UserRole::kDepartment) return send_json(res, forbidden(notices_not_for_departments));
    const std::string village = req.has_param("village") ? req.get_param_value("village") : "";
    const std::string quarter = req.has_param("quarter") ? req.get_param_value("quarter") : "";
    if (const json invalid = notice_params(req, village, quarter); !invalid.is_null()) return send_json(res, invalid);
    if (!village.empty() && !who.may_see_village(village))
      return send_json(res, forbidden("只能查看您负责的村的公示 / only your villages' notices"));
    json request{{"cmd", "notice"}, {"action", "list"}};
    if (req.has_param("quarter")) request["quarter"] = quarter;
    json reply = ask(request);
    if (reply.value("ok", false) && reply.contains("notices") && reply["notices"].is_array()) {
      json kept = json::array();
      for (auto& n : reply["notices"]) {
        const std::string of = n.value("village", "");
        if (who.may_see_village(of) && (village.empty() || of == village)) kept.push_back(std::move(n));
      }
      reply["notices"] = std::move(kept);
    }
    send_json(res, reply);
  }));
  server_->Get(R"(/api/notices/([^/]+)/([^/]+))", as([ask, notice_params, notices_not_for_departments](
                                                        const Principal& who, const httplib::Request& req,
                                                        httplib::Response& res) {
    if (who.role == UserRole::kDepartment) return send_json(res, forbidden(notices_not_for_departments));
    const std::string village = req.matches[1].str(), quarter = req.matches[2].str();
    if (!req.params.empty())
      return send_json(res, error_reply("unknown_field", "此处不用查询参数 / /api/notices/VILLAGE/QUARTER takes no "
                                                         "query parameters", req.params.begin()->first.substr(0, 40)));
    if (const json invalid = notice_params(req, village, quarter); !invalid.is_null()) return send_json(res, invalid);
    if (!who.may_see_village(village))
      return send_json(res, forbidden("此村不在您负责的村 / this village is not one of yours"));
    send_json(res, ask({{"cmd", "notice"}, {"action", "show"}, {"village", village}, {"quarter", quarter}}));
  }));
  // Confirming a village's notice from the console (公示确认): a clerk (of that village, when limited
  // to villages) or an admin, with the session's CSRF token. The body may hold the reason an
  // early confirmation needs: {"reason":"…"}. The admin command `notice confirm` (§10.15) does it,
  // with the user as `by`: audited, the same checks, codes and reply as from hubctl.
  server_->Post(R"(/api/notices/([^/]+)/([^/]+)/confirm)", [this, ask, notice_params](const httplib::Request& req,
                                                                                     httplib::Response& res) {
    auto authenticated = access_->authenticate(req);
    if (auto* error = std::get_if<json>(&authenticated)) return send_json(res, *error);
    const Principal& who = std::get<Principal>(authenticated);
    if (const json refused = access_->authorize_write(who, req, {UserRole::kClerk, UserRole::kAdmin});
        !refused.is_null())
      return send_json(res, refused);
    const std::string village = req.matches[1].str(), quarter = req.matches[2].str();
    if (const json invalid = notice_params(req, village, quarter); !invalid.is_null()) return send_json(res, invalid);
    if (!who.may_see_village(village))
      return send_json(res, forbidden("此村不在您负责的村 / this village is not one of yours"));
    const json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
    if (!body.is_object())
      return send_json(res, error_reply("invalid_json", "请求须为 JSON 对象 / the body must be a JSON object, e.g. "
                                                        "{\"reason\":\"村民代表会议审议无异议\"}"));
    for (const auto& [field, value] : body.items())
      if (field != "reason")
        return send_json(res, error_reply("unknown_field", "只接受 reason / the body takes only \"reason\"",
                                          field.substr(0, 40)));
    json request{{"cmd", "notice"}, {"action", "confirm"}, {"village", village}, {"quarter", quarter},
                 {"by", who.by_token ? "http-admin" : who.name}};
    if (body.contains("reason")) request["reason"] = body["reason"];  // checked by the admin command
    if (const json failed = access_->audit_write(who, req, "notice confirm " + village + " " + quarter);
        !failed.is_null())
      return send_json(res, failed);
    send_json(res, ask(request));
  });
  server_->Get("/api/reconcile", as([ask](const Principal& who, const httplib::Request&, httplib::Response& res) {
    // Every department's disagreements across every village: not for a department or a clerk
    // limited to villages.
    if (!(reads_everything(who) || (who.role == UserRole::kClerk && who.villages.empty())))
      return send_json(res, forbidden("对账须能查看全部部门和村 / reconciliation covers every department and village"));
    send_json(res, ask({{"cmd", "reconcile"}}));
  }));
  // Finding households: the criteria as query parameters (report/household_search.h), a page as
  // JSON, or every match as CSV (format=csv) for a spreadsheet. A department user gets no head's
  // name or member count (data minimisation) and so may neither search by name nor export; a
  // clerk limited to villages searches one of them (village=).
  server_->Get("/api/households", as([ask](const Principal& who, const httplib::Request& req, httplib::Response& res) {
    const std::string village = req.has_param("village") ? req.get_param_value("village") : "";
    if (who.role == UserRole::kClerk && !who.villages.empty() && (village.empty() || !who.may_see_village(village)))
      return send_json(res, forbidden("只能查找您负责的村的户 / only your villages' households: add village="));
    if (who.role == UserRole::kDepartment &&
        (req.has_param("head") || (req.has_param("format") && req.get_param_value("format") == "csv")))
      return send_json(res, forbidden("部门用户不能按户主姓名查找或导出 / a department user may not search by the "
                                      "head's name or export: the wire never gives a department those"));
    json request{{"cmd", "households"}};
    for (const char* field : {"id", "head", "village", "status", "designation", "after", "format"})
      if (req.has_param(field)) request[field] = req.get_param_value(field);
    if (req.has_param("limit")) {
      const std::string text = req.get_param_value("limit");
      const bool digits = !text.empty() && text.size() <= 4 && text.find_first_not_of("0123456789") == std::string::npos;
      request["limit"] = digits ? json(std::stoi(text)) : json(text);  // household_query() refuses what is not
    }
    json reply = ask(request);
    if (reply.value("ok", false) && reply.value("format", "") == "csv") {
      res.set_header("Content-Disposition", "attachment; filename=\"households.csv\"");
      return res.set_content(reply["csv"].get<std::string>(), "text/csv; charset=utf-8");
    }
    if (who.role == UserRole::kDepartment && reply.contains("households"))
      for (auto& h : reply["households"]) {
        h.erase("head");
        h.erase("members");
      }
    send_json(res, reply);
  }));
  server_->Get(R"(/api/household/([^/]+))", as([ask, department_only](const Principal& who, const httplib::Request& req,
                                                                      httplib::Response& res) {
    // ?department=ID: only that department's policy states.
    const std::string department = req.has_param("department") ? req.get_param_value("department") : "";
    if (who.role == UserRole::kDepartment && !department.empty() && department != who.department)
      return send_json(res, forbidden(department_only));
    json reply = ask({{"cmd", "household"}, {"household_id", req.matches[1].str()}});
    if (!reply.value("ok", false)) return send_json(res, reply);
    if (!who.may_see_village(reply.value("village", "")))
      return send_json(res, forbidden("此户不在您负责的村 / this household is not in your villages"));
    if (who.role == UserRole::kDepartment) {
      // What the wire gives a department (docs/security.md, data minimisation): never the head's
      // name, the member count or the basis of an evaluation.
      reply.erase("head");
      reply.erase("members");
      if (reply.contains("history"))
        for (auto& e : reply["history"]) e.erase("basis");
    }
    reply = own_department(who, std::move(reply));
    if (!department.empty() && reply.contains("departments")) {
      json kept = json::array();
      for (auto& d : reply["departments"])
        if (d.value("id", "") == department) kept.push_back(std::move(d));
      reply["departments"] = std::move(kept);
    }
    send_json(res, reply);
  }));
  server_->Get("/api/report", as([ask, department_only](const Principal& who, const httplib::Request& req,
                                                        httplib::Response& res) {
    json request{{"cmd", "report"}};
    if (req.has_param("quarter")) request["quarter"] = req.get_param_value("quarter");
    const std::string village = req.has_param("village") ? req.get_param_value("village") : "";
    if (!village.empty()) request["village"] = village;
    if (who.role == UserRole::kClerk && !who.villages.empty() && (village.empty() || !who.may_see_village(village)))
      return send_json(res, forbidden("只能查看您负责的村的报告 / only your villages' reports: add village="));
    if (who.role == UserRole::kDepartment && req.has_param("department") && req.get_param_value("department") != who.department)
      return send_json(res, forbidden(department_only));
    const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
    if (format != "json" && format != "csv") {
      return send_json(res, error_reply("invalid_field", "format must be json or csv", "format"));
    }
    json reply = ask(request);
    if (reply.value("ok", false) && who.role != UserRole::kDepartment) {
      // The complaints register's figures, as hubctl report shows them (not a department's business).
      json summary{{"cmd", "complaints"}, {"action", "summary"}};
      if (request.contains("village")) summary["village"] = request["village"];
      if (const json complaints = ask(summary); complaints.value("ok", false)) {
        reply["complaints"] = complaints;
        reply["complaints"].erase("ok");
      }
    }
    reply = own_department(who, std::move(reply));
    if (format == "csv" && reply.value("ok", false)) {
      res.set_header("Content-Disposition", "attachment; filename=\"report-" + reply["quarter"].get<std::string>() + ".csv\"");
      return res.set_content(report::report_csv(reply), "text/csv; charset=utf-8");
    }
    send_json(res, reply);
  }));
  server_->Get("/metrics", [this, ask](const httplib::Request&, httplib::Response& res) {
    // The live figures from the dispatcher (through the admin thread), the counts from the
    // files on this thread.
    const json status = ask({{"cmd", "status"}});
    if (!status.value("ok", true) || !status.contains("departments")) return send_json(res, status);
    json snapshot;
    try {
      snapshot = report::metrics_snapshot(*open_views_(), status);
    } catch (const std::exception& e) {
      return send_json(res, error_reply("internal_error", e.what()));
    }
    if (const json keys = ask({{"cmd", "keys"}, {"action", "list"}}); keys.value("ok", false))
      snapshot["security"] = {{"accepted", keys["handshakes"].value("accepted", 0)},
                              {"refused", keys["handshakes"].value("refused", 0)},
                              {"refused_by_reason", keys["handshakes"].value("refused_by_reason", json::object())},
                              {"refused_messages", keys.value("refused_messages", 0)}};
    if (const json complaints = ask({{"cmd", "complaints"}, {"action", "summary"}}); complaints.value("ok", false))
      snapshot["complaints"] = complaints;
    // The disk filling: statvfs of the data directory (free = what an unprivileged hubd can use).
    std::error_code disk_error;
    const auto space = std::filesystem::space(config_.data_dir, disk_error);
    if (!disk_error) snapshot["data_dir"] = {{"size_bytes", space.capacity}, {"free_bytes", space.available}};
    res.set_content(report::prometheus_text(snapshot), "text/plain; version=0.0.4; charset=utf-8");
  });

  // Admin-only actions: the role admin with the session's CSRF token, or the admin token
  // (scripts). The JSON body carries the command's fields (docs/protocol.md §10.9, §10.10), e.g.
  // {"department":"police","seq":9}; the action itself is the admin command of the same name,
  // asked of the admin thread, recorded first in the audit log with the user's name.
  access_->add_routes(*server_);
  server_->Post(R"(/api/(parked|plugins)/(retry|skip|reload|enable|disable))",
                [this, ask](const httplib::Request& req, httplib::Response& res) {
                  auto authenticated = access_->authenticate(req);
                  if (auto* error = std::get_if<json>(&authenticated)) return send_json(res, *error);
                  const Principal& who = std::get<Principal>(authenticated);
                  if (const json refused = access_->authorize_admin_write(who, req); !refused.is_null())
                    return send_json(res, refused);
                  const std::string cmd = req.matches[1].str(), action = req.matches[2].str();
                  const bool parked_action = action == "retry" || action == "skip";
                  if (parked_action != (cmd == "parked")) {
                    json e = error_reply("not_found", "no action " + action + " for " + cmd);
                    send_json(res, e);
                    res.status = 404;
                    return;
                  }
                  json request = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
                  if (!request.is_object()) {
                    json e = error_reply("invalid_json", "the request body must be a JSON object, e.g. "
                                                        "{\"department\":\"police\",\"seq\":9}");
                    return send_json(res, e);
                  }
                  request["cmd"] = cmd;
                  request["action"] = action;
                  // A logged-in user is who did it; a script with the token may name its operator.
                  if (!who.by_token || !request.contains("by")) request["by"] = who.by_token ? "http-admin" : who.name;
                  if (const json failed = access_->audit_write(who, req, cmd + " " + action); !failed.is_null())
                    return send_json(res, failed);
                  send_json(res, ask(request));
                });

  // Publishing one household's evaluation from the console (issue 19, item 3): a clerk (of the
  // household's village, when limited to villages) or an admin, with the session's CSRF token.
  // The body holds the status change's fields (docs/protocol.md §5.3) without type and event_id:
  // the id is generated from the content as an import's is (§11.2), so a form sent twice stores
  // one event. Ingest validates, stores and acknowledges it like any publisher's request (its
  // inproc endpoint; the publisher recorded is "web:<user>"), and its reply is the answer, with
  // the same codes, fields and texts as on the wire.
  server_->Post("/api/publish", [this, ask](const httplib::Request& req, httplib::Response& res) {
    auto authenticated = access_->authenticate(req);
    if (auto* error = std::get_if<json>(&authenticated)) return send_json(res, *error);
    const Principal& who = std::get<Principal>(authenticated);
    if (const json refused = access_->authorize_write(who, req, {UserRole::kClerk, UserRole::kAdmin});
        !refused.is_null())
      return send_json(res, refused);
    if (ingest_endpoint_.empty())
      return send_json(res, error_reply("not_implemented", "this server does not publish / publishing is not set up"));
    json event = json::parse(req.body, nullptr, false);
    if (!event.is_object())
      return send_json(res, error_reply("invalid_json", "请求须为 JSON 对象 / the body must be a JSON object, e.g. "
                                                        "{\"household_id\":\"V01-00001\",\"status\":\"credit\","
                                                        "\"quarter\":\"2020Q4\"}"));
    for (const char* set_by_hub : {"type", "event_id"})
      if (event.contains(set_by_hub))
        return send_json(res, error_reply("invalid_field", std::string("\"") + set_by_hub +
                                                               "\" 由枢纽填写 / is set by the hub, leave it out",
                                          set_by_hub));
    event["type"] = "status_change";
    event["event_id"] = "pending";
    auto parsed = parse_event(event);
    if (auto* e = parsed.error()) return send_json(res, error_reply(e->code, e->message, e->field));
    event["event_id"] = generated_event_id(parsed.value());
    const std::string household = parsed.value().household_id;
    if (who.role == UserRole::kClerk && !who.villages.empty()) {
      const json found = ask({{"cmd", "household"}, {"household_id", household}});
      if (!found.value("ok", false)) return send_json(res, found);
      if (!who.may_see_village(found.value("village", "")))
        return send_json(res, forbidden("此户不在您负责的村 / this household is not in your villages"));
    }
    if (const json failed = access_->audit_write(who, req, "publish " + household + " " + parsed.value().quarter);
        !failed.is_null())
      return send_json(res, failed);
    json reply = admin::publish_internally(context_, ingest_endpoint_, "web:" + who.name, event, kAdminTimeoutMs);
    if (reply.value("ok", false)) reply["event_id"] = event["event_id"];
    send_json(res, reply);
  });

  // Importing a file: preview, then confirm (web_import.h).
  import_ = std::make_unique<WebImport>(context_, config_, *access_, ask, ingest_endpoint_);
  import_->add_routes(*server_);

  server_->Get("/api/.*", [](const httplib::Request& req, httplib::Response& res) {
    json e = error_reply("not_found", "no API at " + req.path);
    send_json(res, e);
    res.status = 404;
  });

  // The dashboard: embedded static files; "/" is the overview page.
  server_->Get(R"(/(.*))", [](const httplib::Request& req, httplib::Response& res) {
    const std::string path = req.path == "/" ? "/index.html" : req.path;
    const auto& files = static_files();
    const auto it = files.find(path);
    if (it == files.end()) {
      res.status = 404;
      return res.set_content("404 未找到 / not found: " + req.path + "\n", "text/plain; charset=utf-8");
    }
    res.set_content(std::string(it->second), content_type(path));
  });
}

}  // namespace hub::http

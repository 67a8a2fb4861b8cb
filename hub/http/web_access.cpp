#include "http/web_access.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "domain/status_json.h"
#include "domain/wire_event.h"

namespace hub::http {
namespace {

using nlohmann::json;
using security::UserRole;

constexpr const char* kCookie = "hub_session";

std::string cookie_value(const httplib::Request& req, const std::string& name) {
  const std::string header = req.get_header_value("Cookie");
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(pos, end - pos);
    const auto first = part.find_first_not_of(' ');
    part = first == std::string::npos ? "" : part.substr(first);
    if (part.size() > name.size() && part.compare(0, name.size(), name) == 0 && part[name.size()] == '=')
      return part.substr(name.size() + 1);
    pos = end + 1;
  }
  return {};
}

}  // namespace

bool Principal::may_see_village(const std::string& village) const {
  if (role == UserRole::kClerk && !villages.empty())
    return std::find(villages.begin(), villages.end(), village) != villages.end();
  return true;
}

WebAccess::WebAccess(const HubConfig& config, audit::AuditTrail* audit)
    : config_(config), audit_(audit), users_file_(config.users_file()),
      sessions_(std::chrono::minutes(config.http.session_idle_minutes), std::chrono::hours(config.http.session_max_hours)) {
  for (const auto& p : config.plugins) departments_.insert(p.id);
  const auto list = users();
  spdlog::info("http: {} web console users in {}; login {}", list.size(), users_file_,
               config.http.login || !list.empty() ? "required 须登录" : "not required (loopback, no users yet)");
}

std::vector<security::User> WebAccess::users() {
  FileStamp stamp;
  struct stat st {};
  if (::stat(users_file_.c_str(), &st) == 0) stamp = {true, st.st_mtim, st.st_size, st.st_ino};
  std::lock_guard lock(users_mutex_);
  if (stamp_ && *stamp_ == stamp) return users_;
  auto loaded = security::load_users_file(users_file_, departments_);
  stamp_ = stamp;
  users_broken_ = std::holds_alternative<security::UsersError>(loaded);
  if (const auto* error = std::get_if<security::UsersError>(&loaded)) {
    spdlog::error("http: users file not reloaded, the last good list ({} users) stays in force: {}", users_.size(),
                  error->to_string());
    return users_;
  }
  users_ = std::get<std::vector<security::User>>(std::move(loaded));
  // Sessions of users removed or disabled end now (new passwords are caught at each request).
  for (const auto& user : users_)
    if (user.disabled) sessions_.erase_user(user.name);
  spdlog::info("http: users file {} read: {} users", users_file_, users_.size());
  return users_;
}

bool WebAccess::login_required() {
  if (config_.http.login || !users().empty()) return true;
  std::lock_guard lock(users_mutex_);
  return users_broken_;
}

std::variant<Principal, json> WebAccess::authenticate(const httplib::Request& req) {
  const std::string authorization = req.get_header_value("Authorization");
  if (!authorization.empty()) {
    if (!config_.admin_token.empty() && same_token(authorization, "Bearer " + config_.admin_token)) {
      Principal p;
      p.name = "admin-token";
      p.role = UserRole::kAdmin;
      p.by_token = true;
      return p;
    }
    return error_reply("unauthorized", "令牌无效 / the bearer token is not the hub's admin_token");
  }
  if (const std::string id = cookie_value(req, kCookie); !id.empty()) {
    if (auto session = sessions_.find(id, Clock::now())) {
      const auto list = users();
      const auto it = std::find_if(list.begin(), list.end(), [&](const auto& u) { return u.name == session->user; });
      if (it == list.end() || it->disabled || it->password_hash != session->password_hash) {
        sessions_.erase(id);
        return error_reply("session_ended", "会话已结束，请重新登录 / the session has ended (user disabled, removed or "
                                            "given a new password): log in again");
      }
      Principal p;
      p.name = it->name;
      p.role = it->role;
      p.department = it->department;
      p.villages = it->villages;
      p.session_id = session->id;
      p.csrf_token = session->csrf_token;
      return p;
    }
  }
  if (!login_required()) {
    Principal p;
    p.anonymous = true;
    return p;
  }
  return error_reply("unauthorized", "请先登录 / log in first");
}

json WebAccess::authorize_admin_write(const Principal& who, const httplib::Request& req) {
  return authorize_write(who, req, {UserRole::kAdmin});
}

json WebAccess::authorize_write(const Principal& who, const httplib::Request& req,
                                std::initializer_list<UserRole> roles) {
  if (who.anonymous) {
    if (config_.admin_token.empty())
      return error_reply("forbidden", "管理操作须登录 / admin actions over HTTP need a login (hubctl users add "
                                      "--role admin) or admin_token in the hub's configuration");
    return error_reply("unauthorized", "此操作须管理员登录 / this action needs an admin's login or the header "
                                       "'Authorization: Bearer <admin_token>'");
  }
  if (!who.by_token && !same_token(req.get_header_value("X-CSRF-Token"), who.csrf_token))
    return error_reply("csrf_failed", "缺少或错误的 CSRF 令牌，请刷新页面 / missing or wrong X-CSRF-Token header: "
                                      "reload the page");
  if (std::find(roles.begin(), roles.end(), who.role) == roles.end()) {
    std::string needed;
    for (const UserRole role : roles) needed += std::string(needed.empty() ? "" : " or ") + security::role_name(role);
    const bool admin_only = roles.size() == 1 && *roles.begin() == UserRole::kAdmin;
    return error_reply("forbidden", std::string(admin_only ? "此操作须管理员角色" : "您的角色不能进行此操作") +
                                        " / this action needs the role " + needed + "; " + who.name + " is " +
                                        security::role_name(who.role));
  }
  return nullptr;
}

void WebAccess::record(const std::string& kind, const std::string& actor, const std::string& subject,
                       const json& detail, bool refusal) {
  if (!audit_) return;
  audit::AuditEntry entry{kind, actor, subject, detail.dump()};
  if (refusal) audit_->record_refusal(std::move(entry));
  else audit_->append(entry);
}

json WebAccess::audit_write(const Principal& who, const httplib::Request& req, const std::string& what,
                            bool with_body) {
  try {
    json detail{{"address", req.remote_addr}, {"role", security::role_name(who.role)}};
    // The body's first 1000 bytes, cut back to whole UTF-8 characters; a body that is not UTF-8
    // (an uploaded GB18030 file) or not wanted is recorded by its size only.
    std::string body = req.body.substr(0, 1000);
    for (int cut = 0; cut < 3 && req.body.size() > body.size() && !body.empty() && !is_valid_utf8(body); ++cut)
      body.pop_back();  // a character cut in two at byte 1000
    if (with_body && is_valid_utf8(body)) detail["body"] = body;
    else detail["body_bytes"] = req.body.size();
    record("web_write", who.name, what, detail, false);
  } catch (const std::exception& e) {
    return error_reply("hub_unavailable", std::string("审计日志无法写入，操作未执行 / the audit log cannot be written, "
                                                      "so the action was not done: ") + e.what());
  }
  return nullptr;
}

json WebAccess::describe(const Principal& who) {
  json reply{{"ok", true}, {"login_required", login_required()}};
  if (who.anonymous) {
    reply["user"] = nullptr;
    reply["role"] = nullptr;
    return reply;
  }
  reply["user"] = who.name;
  reply["role"] = security::role_name(who.role);
  if (who.role == UserRole::kDepartment) reply["department"] = who.department;
  if (!who.villages.empty()) reply["villages"] = who.villages;
  if (!who.by_token) reply["csrf_token"] = who.csrf_token;
  reply["idle_minutes"] = config_.http.session_idle_minutes;
  return reply;
}

void WebAccess::add_routes(httplib::Server& server) {
  server.Post("/api/login", [this](const httplib::Request& req, httplib::Response& res) { login(req, res); });
  server.Post("/api/logout", [this](const httplib::Request& req, httplib::Response& res) { logout(req, res); });
  server.Get("/api/session", [this](const httplib::Request& req, httplib::Response& res) { session(req, res); });
}

namespace {
void send(httplib::Response& res, const json& body, int status) {
  res.status = status;
  res.set_content(body.dump(), "application/json; charset=utf-8");
}
}  // namespace

void WebAccess::session(const httplib::Request& req, httplib::Response& res) {
  auto who = authenticate(req);
  if (auto* error = std::get_if<json>(&who)) {
    json body = *error;
    body["login_required"] = true;
    return send(res, body, 401);
  }
  send(res, describe(std::get<Principal>(who)), 200);
}

void WebAccess::login(const httplib::Request& req, httplib::Response& res) {
  // Only a script of this page's own origin can send JSON (another site's form cannot without
  // a CORS preflight, which the hub never grants): no logging a victim in to another account.
  if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0)
    return send(res, error_reply("invalid_request", "须为 Content-Type: application/json / the login must be sent as "
                                                    "application/json"), 415);
  const json body = json::parse(req.body, nullptr, false);
  if (!body.is_object())
    return send(res, error_reply("invalid_json", "须为 JSON 对象 / the body must be {\"user\": …, \"password\": …}"), 400);
  const auto user_field = body.find("user");
  if (user_field == body.end() || !user_field->is_string() || !security::is_valid_user_name(user_field->get<std::string>()))
    return send(res, error_reply(user_field == body.end() ? "missing_field" : "invalid_field",
                                 "请输入用户名 / \"user\" must be a user name (letters, digits, . _ -)", "user"), 400);
  const auto password_field = body.find("password");
  if (password_field == body.end() || !password_field->is_string() || password_field->get<std::string>().empty() ||
      password_field->get<std::string>().size() > 1024)
    return send(res, error_reply(password_field == body.end() ? "missing_field" : "invalid_field",
                                 "请输入口令 / \"password\" must be the password (1-1024 characters)", "password"), 400);
  const std::string name = user_field->get<std::string>();
  const std::string& address = req.remote_addr;
  const auto now = Clock::now();

  if (const auto until = throttle_.locked_until(name, address, now)) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*until - now).count() + 1;
    record("web_login_locked", name, "login", {{"address", address}}, true);
    json reply = error_reply("locked_out", "登录失败次数过多，已暂时锁定，请 " + std::to_string((seconds + 59) / 60) +
                                               " 分钟后再试 / too many failed logins: locked, try again in " +
                                               std::to_string(seconds) + " s");
    reply["retry_after_s"] = seconds;
    res.set_header("Retry-After", std::to_string(seconds));
    return send(res, reply, 429);
  }

  const auto list = users();
  const auto it = std::find_if(list.begin(), list.end(), [&](const auto& u) { return u.name == name; });
  bool ok;
  {
    std::lock_guard lock(verify_mutex_);
    if (it == list.end()) {
      if (dummy_hash_.empty()) dummy_hash_ = security::hash_password(random_token());
      security::verify_password(dummy_hash_, password_field->get<std::string>());
      ok = false;
    } else {
      ok = security::verify_password(it->password_hash, password_field->get<std::string>()) && !it->disabled;
    }
  }
  if (!ok) {
    const bool locked = throttle_.failed(name, address, now);
    record("web_login_failed", name, "login",
           {{"address", address}, {"reason", it == list.end() ? "unknown_user" : it->disabled ? "disabled" : "wrong_password"}},
           true);
    if (locked) {
      spdlog::warn("http: logins locked for user {} or address {} after too many failures", name, address);
      try {
        record("web_lockout", name, "login",
               {{"address", address}, {"lock_s", throttle_.limits().lock.count()}}, false);
      } catch (const std::exception& e) {
        spdlog::error("http: lock-out of {} not audited: {}", name, e.what());
      }
    }
    return send(res, error_reply("login_failed", "用户名或口令错误 / wrong user name or password"), 401);
  }
  try {
    record("web_login", name, "login", {{"address", address}, {"role", security::role_name(it->role)}}, false);
  } catch (const std::exception& e) {
    return send(res, error_reply("hub_unavailable", std::string("审计日志无法写入，不能登录 / the audit log cannot be "
                                                                "written, so no login: ") + e.what()), 503);
  }
  throttle_.succeeded(name);
  // A new id at every login (no session fixation); the browser's previous session ends.
  if (const std::string previous = cookie_value(req, kCookie); !previous.empty()) sessions_.erase(previous);
  const Session session = sessions_.open(name, it->password_hash, address, now);
  res.set_header("Set-Cookie", std::string(kCookie) + "=" + session.id + "; Path=/; HttpOnly; SameSite=Strict" +
                                   (config_.http.tls() ? "; Secure" : ""));
  res.set_header("Cache-Control", "no-store");
  Principal p;
  p.name = it->name;
  p.role = it->role;
  p.department = it->department;
  p.villages = it->villages;
  p.session_id = session.id;
  p.csrf_token = session.csrf_token;
  send(res, describe(p), 200);
}

void WebAccess::logout(const httplib::Request& req, httplib::Response& res) {
  auto who = authenticate(req);
  if (auto* error = std::get_if<json>(&who)) return send(res, *error, 401);
  const Principal& p = std::get<Principal>(who);
  if (p.session_id.empty()) return send(res, error_reply("invalid_request", "没有登录会话 / no session to log out of"), 400);
  if (!same_token(req.get_header_value("X-CSRF-Token"), p.csrf_token))
    return send(res, error_reply("csrf_failed", "缺少或错误的 CSRF 令牌 / missing or wrong X-CSRF-Token header"), 403);
  sessions_.erase(p.session_id);
  try {
    record("web_logout", p.name, "logout", {{"address", req.remote_addr}}, false);
  } catch (const std::exception& e) {
    spdlog::error("http: logout of {} not audited: {}", p.name, e.what());  // the session has ended all the same
  }
  res.set_header("Set-Cookie", std::string(kCookie) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" +
                                   (config_.http.tls() ? "; Secure" : ""));
  send(res, json{{"ok", true}}, 200);
}

}  // namespace hub::http

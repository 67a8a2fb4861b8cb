// Who is asking, and may they (issue 19): the web console's accounts, sessions, CSRF tokens,
// login throttle and the audit records of logins and writes, for HttpServer (http_server.h).
//
// Users come from the users file (security/users.h; config.users_file()), read again whenever
// its modification time, size or inode changes, checked at each request with one stat(): so a
// `hubctl users add|passwd|disable` takes effect at the next request, with no signal to send. A
// file that no longer parses leaves the last good list in force (logged), and logins required.
//
// A login is required for every /api/ read (and so for every page's data) when http.login is
// true or the users file lists at least one user. Without that (a hub on loopback with no users
// yet) reads are open, as before accounts existed. The static files (the page shell, scripts,
// styles) carry no data and are served to anyone: the shell shows the login form.
//
// Two ways in:
// - a session: POST /api/login {"user","password"} sets the cookie `hub_session` (HttpOnly,
//   SameSite=Strict, Path=/, Secure under HTTPS) and answers the session's CSRF token, which
//   every POST must carry in the header X-CSRF-Token (checked in constant time); GET
//   /api/session answers it again (the page reloads); POST /api/logout ends the session.
// - the bearer admin_token (Authorization: Bearer …), kept for scripts: it acts as role admin,
//   name "admin-token", and needs no CSRF token (a browser never sends it by itself).
//
// Threads: every member may be called from any request's thread; the users list is guarded by
// a mutex, sessions and throttle by their own (sessions.h). One password check at a time
// (Argon2id takes 64 MiB): a flood of logins cannot exhaust memory.
#pragma once

#include <sys/stat.h>

#include <initializer_list>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "audit/audit_trail.h"
#include "config/hub_config.h"
#include "http/sessions.h"
#include "security/users.h"

namespace hub::http {

struct Principal {
  std::string name;  // the user's name; "admin-token" for the bearer token; "" when anonymous
  security::UserRole role = security::UserRole::kSupervisor;
  std::string department;             // kDepartment
  std::vector<std::string> villages;  // kClerk: only these (empty = all)
  bool anonymous = false;             // no login needed and none given: reads only
  bool by_token = false;
  std::string session_id, csrf_token;

  bool may_see_village(const std::string& village) const;
};

class WebAccess {
 public:
  // `audit` may be null (unit tests of the server without a hub): nothing is recorded then.
  WebAccess(const HubConfig& config, audit::AuditTrail* audit);

  bool login_required();
  // The principal of this request, or an error reply (unauthorized, session_ended).
  std::variant<Principal, nlohmann::json> authenticate(const httplib::Request& req);
  // For a write: the CSRF token (sessions), then the role admin. An error reply, or null.
  nlohmann::json authorize_admin_write(const Principal& who, const httplib::Request& req);
  // The same for a write that any of `roles` may do (the admin token counts as admin).
  nlohmann::json authorize_write(const Principal& who, const httplib::Request& req,
                                 std::initializer_list<security::UserRole> roles);
  // Records a web write by `who` before it is done (with the start of the request's body, or,
  // without `with_body` or when it is not UTF-8, its size); an error reply when the audit log
  // cannot be written (the write is then not done), else null.
  nlohmann::json audit_write(const Principal& who, const httplib::Request& req, const std::string& what,
                             bool with_body = true);

  // /api/login, /api/logout, /api/session.
  void add_routes(httplib::Server& server);

 private:
  struct FileStamp {
    bool exists = false;
    struct timespec mtime {};
    off_t size = 0;
    ino_t inode = 0;
    bool operator==(const FileStamp& o) const {
      return exists == o.exists && mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec &&
             size == o.size && inode == o.inode;
    }
  };
  std::vector<security::User> users();  // the current list, read again when the file changed
  void login(const httplib::Request& req, httplib::Response& res);
  void logout(const httplib::Request& req, httplib::Response& res);
  void session(const httplib::Request& req, httplib::Response& res);
  nlohmann::json describe(const Principal& who);
  void record(const std::string& kind, const std::string& actor, const std::string& subject,
              const nlohmann::json& detail, bool refusal);

  const HubConfig& config_;
  audit::AuditTrail* audit_;
  const std::string users_file_;
  std::set<std::string> departments_;
  SessionStore sessions_;
  LoginThrottle throttle_;
  std::mutex users_mutex_;  // guards users_, stamp_
  std::vector<security::User> users_;
  std::optional<FileStamp> stamp_;
  bool users_broken_ = false;  // the file's last read failed: logins required (fail closed)
  std::mutex verify_mutex_;  // one Argon2id verification at a time
  std::string dummy_hash_;   // verified for an unknown user, so that it takes as long as a known one
};

}  // namespace hub::http

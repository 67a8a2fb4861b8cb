// The admin endpoint (§4): a ZeroMQ ROUTER that answers hubctl's read commands —
// status and plugins (forwarded to the dispatcher, which owns the live figures), household,
// report, reconcile and metrics (read from the event log and the ledger through a snapshot this
// thread opens per request with the opener hubd hands in, see report/report_views.h), and the
// operators' parked and plugins commands (parsed here, admin/operator_requests.h; carried out by
// the dispatcher).
//
// Requests are one JSON frame {"cmd":"status"} | {"cmd":"household","household_id":"…"} |
// {"cmd":"report","quarter":"2020Q4","village":"V03"} | {"cmd":"reconcile"} | {"cmd":"metrics"} |
// {"cmd":"plugins"} | {"cmd":"parked"} | {"cmd":"backup","action":"start"|"status"} (admin/backup_job.h) |
// {"cmd":"complaints","action":…} (the complaints register, admin/complaint_requests.h) |
// {"cmd":"notice","action":…} (公示, admin/notice_requests.h) |
// {"cmd":"ping"}; replies are one JSON frame with "ok".
// Runs on its own thread until $TERM. The HTTP server asks the same questions through the
// internal (inproc) endpoint, so both front ends give the same answers.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>
#include <zmq.hpp>

#include "admin/backup_job.h"
#include "audit/audit_trail.h"
#include "complaints/complaint_register.h"
#include "complaints/notice_board.h"
#include "common/rate_limiter.h"
#include "config/hub_config.h"
#include "report/report_views.h"
#include "security/gatekeeper.h"

namespace hub {

class AdminServer {
 public:
  // Every operator action is first written to `audit`. With a gatekeeper the endpoint is a
  // CURVE server and only an admin's key is served (`unauthorized`); requests on the internal
  // endpoint (inproc, from the HTTP server, which checks its own bearer token) come without a
  // key. `open_views` opens a read snapshot of the storage backend for the read commands;
  // `backup` makes a backup (hubd hands in the backend's, store/sqlite/backup.h; none: the
  // backup command answers not_supported). `complaint_stores` opens the complaints register's
  // store (the backend's; none: the complaints command answers not_supported).
  // `ingest_internal_endpoint`: ingest's inproc endpoint, where an upheld complaint's correction
  // is published (admin/internal_publish.h; "": ruling a complaint upheld answers not_supported).
  AdminServer(zmq::context_t& context, const HubConfig& config, report::ReportViewsOpener open_views,
              const std::string& control_endpoint, const std::string& status_endpoint, audit::AuditTrail& audit,
              const std::string& internal_endpoint = "", security::Gatekeeper* gate = nullptr,
              admin::BackupJob::Runner backup = {}, complaints::ComplaintStoreOpener complaint_stores = {},
              std::string ingest_internal_endpoint = "");
  std::string bound_endpoint() const;
  void run();

  // `keys reload` for a caller that is not a connection (hubd's SIGHUP): audited, then carried
  // out, exactly as the admin command. Safe from any thread: it touches only the gatekeeper and
  // the audit trail, which both serialise their callers.
  nlohmann::json reload_keys(const std::string& actor);

 private:
  nlohmann::json handle(const nlohmann::json& request, const std::string& caller);
  nlohmann::json dispatcher_status();
  // parked retry|skip, plugins reload|disable|enable, keys reload: audited, then carried out
  // by `perform` (by default: carried out by the dispatcher).
  nlohmann::json operator_action(const nlohmann::json& request, const std::string& caller,
                                 const std::function<nlohmann::json()>& perform);
  nlohmann::json keys(const nlohmann::json& request, const std::string& caller);
  // complaints: reads answered, writes (lodge, investigate, rule) audited with the caller's name
  // and then carried out; the web (caller "http") may only read.
  nlohmann::json complaints(const nlohmann::json& request, const std::string& caller);
  // A request to the complaints register's store (complaints, notice), answered by `answer`
  // (a StorageError: storage_unavailable). A `write` is refused from the web (`web_refusal`) and
  // audited with the caller's name before it is carried out; `what` names it in the log.
  nlohmann::json register_request(const nlohmann::json& request, const std::string& caller, bool write,
                                  const char* what, const char* web_refusal,
                                  const std::function<nlohmann::json()>& answer);
  // Publishing through ingest's in-process endpoint (empty when hubd gave none).
  std::function<nlohmann::json(const nlohmann::json&, const std::string&)> internal_publisher();
  // notice (公示): reads answered, writes (propose, confirm) audited with the caller's name and
  // then carried out; the web may only read.
  nlohmann::json notice(const nlohmann::json& request, const std::string& caller);
  // The report, with the complaints register's figures for its scope (open, overdue).
  nlohmann::json add_complaints_to_report(nlohmann::json report, const nlohmann::json& request);
  // backup start (audited) | status
  nlohmann::json backup(const nlohmann::json& request, const std::string& caller);
  // parked and plugins: parsed into a typed command (admin/operator_requests.h), which the
  // dispatcher carries out; its reply, or the request's error reply.
  nlohmann::json carry_out(const nlohmann::json& request);
  // One frame to the dispatcher's status socket ("status" or an encoded command) and its reply.
  nlohmann::json ask_dispatcher(const std::string& frame);

  const HubConfig& config_;
  report::ReportViewsOpener open_views_;
  zmq::socket_t router_;
  std::string bound_endpoint_;  // the configured (tcp/ipc) endpoint, as bound
  zmq::socket_t control_;
  zmq::socket_t status_;
  audit::AuditTrail& audit_;
  security::Gatekeeper* gate_;
  std::unique_ptr<complaints::ComplaintRegister> complaints_;  // none: no store handed in
  std::unique_ptr<complaints::NoticeBoard> notices_;           // 公示, in the same store
  zmq::context_t& context_;                 // for the sockets of publish_internally
  std::string ingest_internal_endpoint_;    // where a ruling's correction is published
  RateLimiter rate_limiter_;  // limits.max_requests_per_second, per connection
  admin::BackupJob backup_;    // last: its thread is joined first when the server goes
};

}  // namespace hub

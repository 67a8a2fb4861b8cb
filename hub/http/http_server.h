// The HTTP front end inside hubd (§4): the dashboard (static files compiled into hubd), a
// JSON API under /api/ that mirrors hubctl, and /metrics in the Prometheus text format.
//
// Every /api/ read asks the same question hubctl asks, so the CLI and the web show the same
// figures from the same code: the read-only ones (household, report, quarters, timeline,
// reconcile, and the counts of /metrics) are answered on the HTTP request's own thread through
// admin/read_views.h; the live ones (status, plugins, parked) by the admin thread, through a
// ZeroMQ REQ socket of the request's own to its internal inproc endpoint.
//
// Who may ask what (web_access.h, docs/security.md "Web console accounts"): once accounts exist
// every /api/ read needs a login; a department user sees its own department only (other
// departments' rows are left out, and asking for one by name is refused), a clerk limited to
// villages sees those villages' households only; admin actions (POST) need the role admin and
// the session's CSRF token, or `Authorization: Bearer <admin_token>` (scripts). /metrics stays
// open: counts per department, no household's data.
//
// Over HTTPS when the configuration has http.tls_cert and http.tls_key; with bounds on the time
// and the connections each client may hold, so that slow clients cannot deny the dashboard to
// others (guarded_server.h says how and why).
//
// Threads: every admitted connection has a thread of its own (guarded_server.h); the constructor
// binds on the caller's thread (so a bad address stops hubd at start-up), run() serves on a
// thread the caller owns, stop() may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include <zmq.hpp>

#include "config/hub_config.h"
#include "report/report_views.h"

namespace hub::audit {
class AuditTrail;
}

namespace hub::http {

class GuardedServer;
class WebAccess;
class WebImport;

class HttpServer {
 public:
  // Binds config.http_address (port 0 picks a free port). Throws std::runtime_error naming
  // the address when it cannot bind, or the file when the TLS certificate or key is unusable
  // (hubd checks them first with check_tls_files(), tls_context.h). `open_views` opens a read snapshot of the storage backend
  // (the read-only questions and /metrics' counts), on the request's thread.
  // `audit`: where logins and web writes are recorded (null: nowhere, for tests of the server alone).
  // `ingest_internal_endpoint`: ingest's inproc endpoint for the console's publishing (POST
  // /api/publish; "" = none, publishing answers not_implemented).
  HttpServer(zmq::context_t& context, const HubConfig& config, report::ReportViewsOpener open_views,
             std::string admin_internal_endpoint, audit::AuditTrail* audit = nullptr,
             std::string ingest_internal_endpoint = "");
  ~HttpServer();
  std::string bound_address() const;  // "127.0.0.1:8080"
  std::string url() const;            // "http://127.0.0.1:8080/" or "https://…/"
  void run();
  void stop();

 private:
  void routes();

  zmq::context_t& context_;
  const HubConfig& config_;
  report::ReportViewsOpener open_views_;
  std::string admin_endpoint_;
  std::string ingest_endpoint_;
  std::unique_ptr<WebAccess> access_;
  std::unique_ptr<WebImport> import_;
  std::unique_ptr<GuardedServer> server_;
  std::string host_;
  int port_ = 0;
};

}  // namespace hub::http

// Importing a file from the web console (issue 19, item 3): POST /api/import/preview and POST
// /api/import/confirm, for a clerk or an admin with the session's CSRF token, as every web write.
//
// Both take the file itself as the request body (its bytes as saved: UTF-8 or GB18030 CSV with
// English or Chinese headers, or JSONL; read by the same code as `hubctl import`,
// domain/import_file.h) and its name in the query (?name=评议.csv: the ending picks CSV or
// JSONL). A file larger than kMaxImportBytes is refused (file_too_large), as is .xlsx
// (unsupported_format: save it as CSV; the workbook format is not read by the hub).
//
// preview stores nothing: it parses the file, has ingest check every row against the hub's state
// (a dry-run batch: unknown household, stale quarter, conflict…), and asks the admin thread what
// each department would do (admin/import_preview.h). The reply lists every bad row with its line,
// field and code, the counts, the per-department effects and totals, and the file's digest.
// confirm takes the same file and the digest the preview answered (?digest=…): a file that is
// not the previewed one is refused (preview_mismatch), one with any bad row too; otherwise the
// write is audited (web_write, with the user's name) and the rows are sent to ingest as one
// atomic batch — the same events with the same generated ids as in the preview, so a second
// confirm stores nothing new (its rows come back as duplicates) — and the reply gives the
// stored and duplicate counts. Anything refused stores nothing. docs/protocol.md §10.15.
//
// Threads: the routes run on the HTTP request's thread; admin and ingest are asked over sockets
// of the request's own.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "config/hub_config.h"
#include "http/web_access.h"

namespace hub::http {

inline constexpr std::size_t kMaxImportBytes = 32u << 20;

class WebImport {
 public:
  using Ask = std::function<nlohmann::json(const nlohmann::json&)>;  // a question to the admin thread

  // `ingest_endpoint`: ingest's inproc endpoint ("" = importing answers not_implemented).
  WebImport(zmq::context_t& context, const HubConfig& config, WebAccess& access, Ask ask_admin,
            std::string ingest_endpoint);

  void add_routes(httplib::Server& server);

 private:
  struct Checked;  // a parsed file and what the hub said of its rows
  void preview(const httplib::Request& req, httplib::Response& res);
  void confirm(const httplib::Request& req, httplib::Response& res);
  // Authentication, role, CSRF, size and format; on success `who` is set and null is returned.
  nlohmann::json admit(const httplib::Request& req, Principal& who);
  nlohmann::json ask_ingest(const std::string& publisher, const nlohmann::json& request);

  zmq::context_t& context_;
  const HubConfig& config_;
  WebAccess& access_;
  Ask ask_admin_;
  std::string ingest_endpoint_;
};

}  // namespace hub::http

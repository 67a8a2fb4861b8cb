#include "http/web_import.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "admin/internal_publish.h"
#include "domain/import_file.h"
#include "domain/status_json.h"
#include "domain/wire_event.h"

namespace hub::http {
namespace {

using nlohmann::json;
using security::UserRole;

constexpr int kIngestTimeoutMs = 120000;
// Per-household detail listed per department in the preview (the totals count every row).
constexpr std::size_t kPreviewDetailRows = 500;

void reply(httplib::Response& res, const json& body, int status) {
  res.status = status;
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

int status_of(const json& body) {
  if (body.value("ok", false)) return 200;
  const std::string code = body["error"].value("code", "");
  if (code == "unauthorized" || code == "session_ended") return 401;
  if (code == "forbidden" || code == "csrf_failed") return 403;
  if (code == "file_too_large") return 413;
  if (code == "unsupported_format") return 415;
  if (code == "not_implemented") return 501;
  if (code == "hub_unavailable") return 503;
  if (code == "invalid_rows" || code == "preview_mismatch") return 422;
  return 400;
}

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && std::equal(tail.rbegin(), tail.rend(), text.rbegin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

json issue_json(const ImportIssue& i) {
  return json{{"line", i.line}, {"code", i.code}, {"field", i.field}, {"message", i.message}};
}

}  // namespace

struct WebImport::Checked {
  std::string name;
  ImportFile file;
  std::vector<ImportIssue> issues;  // the file's own and the hub's, by line
  std::size_t would_store = 0, duplicates = 0;
  std::string digest;
};

WebImport::WebImport(zmq::context_t& context, const HubConfig& config, WebAccess& access, Ask ask_admin,
                     std::string ingest_endpoint)
    : context_(context), config_(config), access_(access), ask_admin_(std::move(ask_admin)),
      ingest_endpoint_(std::move(ingest_endpoint)) {}

void WebImport::add_routes(httplib::Server& server) {
  server.Post("/api/import/preview", [this](const httplib::Request& req, httplib::Response& res) { preview(req, res); });
  server.Post("/api/import/confirm", [this](const httplib::Request& req, httplib::Response& res) { confirm(req, res); });
}

json WebImport::admit(const httplib::Request& req, Principal& who) {
  auto authenticated = access_.authenticate(req);
  if (auto* error = std::get_if<json>(&authenticated)) return *error;
  who = std::get<Principal>(authenticated);
  if (json refused = access_.authorize_write(who, req, {UserRole::kClerk, UserRole::kAdmin}); !refused.is_null())
    return refused;
  if (ingest_endpoint_.empty())
    return error_reply("not_implemented", "this server does not import / importing is not set up");
  if (req.body.size() > kMaxImportBytes)
    return error_reply("file_too_large", "文件过大（超过 " + std::to_string(kMaxImportBytes >> 20) +
                                             " MB），未导入：请拆分文件，或用 hubctl import / the file is larger than " +
                                             std::to_string(kMaxImportBytes >> 20) +
                                             " MB: split it, or use hubctl import; nothing was stored", "file");
  const std::string name = req.has_param("name") ? req.get_param_value("name") : "";
  if (ends_with(name, ".xlsx") || ends_with(name, ".xls"))
    return error_reply("unsupported_format", "不能读取 Excel 工作簿，请在 Excel 或 WPS 中“另存为” CSV 后上传 / an Excel "
                                             "workbook is not read: save it as CSV (Excel or WPS: Save as → CSV) and "
                                             "upload that", "name");
  if (!(ends_with(name, ".csv") || ends_with(name, ".jsonl") || ends_with(name, ".json") || ends_with(name, ".ndjson")))
    return error_reply("invalid_field", "请选择 .csv 或 .jsonl 文件 / the file must be .csv or .jsonl (?name=FILE.csv)",
                       "name");
  if (req.body.empty()) return error_reply("invalid_field", "文件为空 / the file is empty", "file");
  return nullptr;
}

json WebImport::ask_ingest(const std::string& publisher, const json& request) {
  return admin::publish_internally(context_, ingest_endpoint_, publisher, request, kIngestTimeoutMs);
}

void WebImport::preview(const httplib::Request& req, httplib::Response& res) {
  Principal who;
  if (json refused = admit(req, who); !refused.is_null()) return reply(res, refused, status_of(refused));
  const std::string name = req.get_param_value("name");
  ImportFile file = parse_import(name, req.body);
  check_file_consistency(file);
  std::vector<ImportIssue> issues = file.issues;

  // A clerk limited to villages imports only their households.
  if (who.role == UserRole::kClerk && !who.villages.empty()) {
    std::map<std::string, std::string> village_of;
    for (const auto& r : file.rows)
      if (r.event["type"] == "household") village_of[r.event["household_id"].get<std::string>()] = r.event["village"].get<std::string>();
    for (const auto& r : file.rows) {
      const std::string household = r.event["household_id"].get<std::string>();
      if (!village_of.count(household)) {
        const json found = ask_admin_({{"cmd", "household"}, {"household_id", household}});
        village_of[household] = found.value("village", "");
      }
      if (!village_of[household].empty() && !who.may_see_village(village_of[household]))
        issues.push_back({r.line, "forbidden", "household_id", "此户不在您负责的村 / " + household + " is not in your villages"});
    }
  }

  // Every well-formed row checked by ingest against the hub's state, storing nothing.
  std::size_t would_store = 0, duplicates = 0;
  std::set<std::string> registered_here;
  for (const auto& r : file.rows)
    if (r.event["type"] == "household") registered_here.insert(r.event["household_id"].get<std::string>());
  std::set<std::size_t> bad_rows;
  if (!file.rows.empty()) {
    json events = json::array();
    for (const auto& r : file.rows) events.push_back(r.event);
    const json checked = ask_ingest("web:" + who.name, {{"type", "batch"}, {"events", std::move(events)}, {"dry_run", true}});
    if (checked.value("ok", false)) {
      would_store = checked.value("would_store", 0);
      duplicates = checked.value("duplicates", 0);
    } else if (checked.contains("errors")) {
      for (const auto& item : checked["errors"]) {
        const std::size_t index = item.value("index", 0);
        if (index >= file.rows.size()) continue;
        const auto& row = file.rows[index];
        if (item.value("code", "") == "unknown_household" &&
            registered_here.count(row.event["household_id"].get<std::string>()))
          continue;  // registered earlier in this file
        bad_rows.insert(index);
        issues.push_back({row.line, item.value("code", ""), item.value("field", ""), item.value("message", "")});
      }
    } else {
      return reply(res, checked, status_of(checked));
    }
  }
  std::stable_sort(issues.begin(), issues.end(), [](const auto& a, const auto& b) { return a.line < b.line; });

  // What each department would do with the good rows.
  json preview_request{{"cmd", "import_preview"}, {"events", json::array()}, {"lines", json::array()},
                       {"detail", kPreviewDetailRows}};
  for (std::size_t i = 0; i < file.rows.size(); ++i) {
    if (bad_rows.count(i)) continue;
    preview_request["events"].push_back(file.rows[i].event);
    preview_request["lines"].push_back(file.rows[i].line);
  }
  json departments = json::array();
  json counts = json::object();
  if (!preview_request["events"].empty()) {
    json preview = ask_admin_(preview_request);
    if (!preview.value("ok", false)) return reply(res, preview, status_of(preview));
    departments = std::move(preview["departments"]);
    counts = {{"status_changes", preview["status_changes"]}, {"already_stored", preview["already_stored"]}};
  }
  json issues_json = json::array();
  for (const auto& i : issues) issues_json.push_back(issue_json(i));
  std::map<std::string, std::size_t> by_status;
  for (const auto& r : file.rows)
    if (r.event["type"] == "status_change") ++by_status[r.event["status"].get<std::string>()];
  reply(res,
        json{{"ok", true},
             {"valid", issues.empty()},
             {"file", {{"name", name}, {"kind", file.kind}, {"encoding", file.encoding}, {"bytes", req.body.size()},
                       {"digest", content_digest(req.body)}}},
             {"rows", file.rows.size()},
             {"bad_rows", issues.size()},
             {"would_store", would_store},
             {"duplicates", duplicates},
             {"status_changes", by_status},
             {"counts", counts},
             {"issues", std::move(issues_json)},
             {"departments", std::move(departments)},
             {"detail_rows", kPreviewDetailRows}},
        200);
}

void WebImport::confirm(const httplib::Request& req, httplib::Response& res) {
  Principal who;
  if (json refused = admit(req, who); !refused.is_null()) return reply(res, refused, status_of(refused));
  const std::string name = req.get_param_value("name");
  const std::string digest = content_digest(req.body);
  if (!req.has_param("digest") || req.get_param_value("digest") != digest) {
    const json e = error_reply("preview_mismatch", "文件与预览的不同，请重新预览 / this is not the file that was previewed "
                                                   "(?digest= from the preview): preview it again; nothing was stored",
                               "digest");
    return reply(res, e, status_of(e));
  }
  ImportFile file = parse_import(name, req.body);
  check_file_consistency(file);
  auto refuse_rows = [&](const std::vector<ImportIssue>& issues) {
    json e = error_reply("invalid_rows", std::to_string(issues.size()) + " 行有误，未导入任何数据 / " +
                                             std::to_string(issues.size()) + " bad rows: nothing was stored");
    e["issues"] = json::array();
    for (const auto& i : issues) e["issues"].push_back(issue_json(i));
    reply(res, e, status_of(e));
  };
  if (!file.issues.empty() || file.rows.empty()) return refuse_rows(file.issues);
  if (who.role == UserRole::kClerk && !who.villages.empty()) {
    std::vector<ImportIssue> outside;
    std::map<std::string, std::string> village_of;
    for (const auto& r : file.rows)
      if (r.event["type"] == "household") village_of[r.event["household_id"].get<std::string>()] = r.event["village"].get<std::string>();
    for (const auto& r : file.rows) {
      const std::string household = r.event["household_id"].get<std::string>();
      if (!village_of.count(household))
        village_of[household] = ask_admin_({{"cmd", "household"}, {"household_id", household}}).value("village", "");
      if (!village_of[household].empty() && !who.may_see_village(village_of[household]))
        outside.push_back({r.line, "forbidden", "household_id", "此户不在您负责的村 / " + household + " is not in your villages"});
    }
    if (!outside.empty()) return refuse_rows(outside);
  }
  if (json failed = access_.audit_write(who, req, "import " + name + " " + std::to_string(file.rows.size()) +
                                                      " rows digest " + digest,
                                      /*with_body=*/false);
      !failed.is_null())
    return reply(res, failed, 503);
  json events = json::array();
  for (const auto& r : file.rows) events.push_back(r.event);
  // One batch: ingest stores it atomically (all rows or none).
  json stored = ask_ingest("web:" + who.name, {{"type", "batch"}, {"events", std::move(events)}});
  if (!stored.value("ok", false)) {
    if (stored.contains("errors")) {
      std::vector<ImportIssue> issues;
      for (const auto& item : stored["errors"]) {
        const std::size_t index = item.value("index", 0);
        if (index < file.rows.size())
          issues.push_back({file.rows[index].line, item.value("code", ""), item.value("field", ""), item.value("message", "")});
      }
      return refuse_rows(issues);
    }
    return reply(res, stored, status_of(stored));
  }
  // The highest seq among the file's events (stored now or before): the page follows each
  // department's cursor up to it ("watch the departments catch up").
  std::int64_t last_seq = 0;
  for (const auto& item : stored.value("results", json::array())) last_seq = std::max(last_seq, item.value("seq", std::int64_t{0}));
  spdlog::info("http: {} imported {} ({} rows): {} stored, {} duplicates", who.name, name, file.rows.size(),
               stored.value("stored", 0), stored.value("duplicates", 0));
  reply(res,
        json{{"ok", true},
             {"file", {{"name", name}, {"kind", file.kind}, {"encoding", file.encoding}, {"digest", digest}}},
             {"rows", file.rows.size()},
             {"stored", stored.value("stored", 0)},
             {"duplicates", stored.value("duplicates", 0)},
             {"last_seq", last_seq}},
        200);
}

}  // namespace hub::http

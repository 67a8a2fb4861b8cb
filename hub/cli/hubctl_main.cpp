// hubctl: the command line for the family-planning office and administrators.
//
// Exit codes (§4): 0 ok, 1 rejected or failed, 2 usage error, 3 hub unreachable.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <functional>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "cli/hub_client.h"
#include "cli/hubctl_backup.h"
#include "cli/hubctl_complaints.h"
#include "cli/hubctl_notice.h"
#include "cli/hubctl_households.h"
#include "cli/hubctl_lifecycle.h"
#include "cli/hubctl_users.h"
#include "cli/hubctl_verbs.h"
#include "domain/import_file.h"
#include "cli/output.h"
#include "common/command_line.h"
#include "audit/audit_log.h"
#include "store/sqlite/chain_keeper.h"
#include "store/postgresql/pg_audit_log.h"
#include "store/postgresql/pg_event_store.h"
#include "store/postgresql/pg_ledger.h"
#include "report/quarterly_report.h"
#include "security/keys.h"
#include "hub/sdk/version.h"
#include "domain/wire_event.h"

namespace {

using nlohmann::json;
using hub::cli::HubClient;

constexpr int kOk = 0, kRejected = 1, kUsage = 2, kUnreachable = 3;

constexpr const char* kDescription = "hubctl — 诚信枢纽命令行 / Chengxin Hub command line";

constexpr const char* kFooter = R"(Run 'hubctl COMMAND --help' for a command's options, e.g. hubctl import --help.
Exit codes: 0 ok, 1 rejected or failed, 2 usage error, 3 hub unreachable.)";

struct Options {
  bool json_output = false;
  std::string ingest, admin, data_dir;
  std::string keys_dir, key_name;  // --keys, --key
  int timeout_ms = 10000;
  bool timeout_given = false;  // --timeout on the command line
  const CLI::App* command = nullptr;  // the verb given: its usage errors point to its --help
  hub::cli::VerbArgs verb;
};

// The CURVE keys for one side (hub_client.h says where they are found); nothing for an
// insecure hub. Throws hub::cli::KeyError.
std::optional<hub::cli::CurveKeys> keys_for(const Options& o, const std::string& default_name) {
  return hub::cli::resolve_keys(o.keys_dir, o.key_name.empty() ? default_name : o.key_name, o.data_dir);
}

int usage_error(const Options& o, const std::string& message) {
  return hub::command_line::usage_error(*o.command, message);
}

int unreachable(const std::string& endpoint) { return hub::cli::report_unreachable(endpoint); }

int no_answer(const std::string& endpoint, int timeout_ms) {
  std::cerr << "hubctl: 枢纽未在 " << timeout_ms / 1000 << " 秒内应答 / the hub at " << endpoint
            << " did not answer within " << timeout_ms << " ms (is hubd running? see --ingest/--admin/--data-dir; "
            << "a large report or reconciliation may need a longer --timeout)\n";
  return kUnreachable;
}

void print_error(const json& reply) { hub::cli::report_rejected(reply); }

int cmd_publish(const Options& o, zmq::context_t& ctx) {
  const hub::cli::VerbArgs& v = o.verb;
  for (const auto& [name, value] : {std::pair{"--household", &v.household}, std::pair{"--status", &v.status},
                                    std::pair{"--quarter", &v.quarter}})
    if (value->empty()) return usage_error(o, std::string("publish needs ") + name);
  json ev{{"type", "status_change"}, {"household_id", v.household}, {"status", v.status}, {"quarter", v.quarter}};
  if (!v.effective.empty()) ev["effective_date"] = v.effective;
  if (!v.basis.empty()) ev["basis"] = v.basis;
  ev["designations"] = v.designations;
  if (!v.event_id.empty()) {
    ev["event_id"] = v.event_id;
  } else {
    // The same stable id an import would give this row.
    auto file = hub::parse_import("publish.jsonl", ev.dump() + "\n");
    if (!file.issues.empty()) {
      const auto& issue = file.issues.front();
      std::cerr << "hubctl: 被拒绝 / rejected: " << issue.code << ": " << issue.message << "\n";
      return kRejected;
    }
    ev = file.rows.front().event;
  }
  HubClient client(ctx, o.ingest, std::chrono::milliseconds(o.timeout_ms), keys_for(o, "publisher"));
  auto reply = client.request(ev);
  if (!reply) return unreachable(o.ingest);
  if (o.json_output) std::cout << reply->dump() << "\n";
  if (!reply->value("ok", false)) {
    if (!o.json_output) print_error(*reply);
    return kRejected;
  }
  if (!o.json_output)
    std::cout << (reply->value("duplicate", false) ? "已存在 / already published: " : "已发布 / published: ")
              << ev["event_id"].get<std::string>() << " seq " << (*reply)["seq"] << "\n";
  return kOk;
}

void print_issues(const std::string& file, const std::vector<hub::ImportIssue>& issues) {
  std::cerr << "hubctl: " << file << ": " << issues.size()
            << " 行有误，未导入任何数据 / bad rows; nothing was stored:\n";
  for (const auto& i : issues) {
    std::cerr << "  line " << i.line << ": " << i.code;
    if (!i.field.empty()) std::cerr << " [" << i.field << "]";
    std::cerr << ": " << i.message << "\n";
  }
}

int cmd_import(const Options& o, zmq::context_t& ctx) {
  if (o.verb.file.empty()) return usage_error(o, "import needs exactly one FILE");
  const std::string path = o.verb.file;
  const bool dry_run = o.verb.dry_run;
  std::size_t batch = 2000;
  if (!o.verb.batch.empty()) {
    batch = std::strtoul(o.verb.batch.c_str(), nullptr, 10);
    if (batch == 0) return usage_error(o, "--batch must be a positive number");
  }
  // The whole file is read and checked in memory before anything is sent: bounded.
  std::uintmax_t max_mb = 1024;
  if (const std::string& text = o.verb.max_file_mb; !text.empty()) {
    char* end = nullptr;
    max_mb = std::strtoull(text.c_str(), &end, 10);
    if (max_mb == 0 || end == nullptr || *end != '\0' || max_mb > 1u << 20)
      return usage_error(o, "--max-file-mb must be a whole number of megabytes, 1 to 1048576");
  }
  std::error_code size_error;
  const std::uintmax_t size = std::filesystem::file_size(path, size_error);
  if (!size_error && size > max_mb * 1024 * 1024) {
    std::cerr << "hubctl: " << path << ": file_too_large: " << size << " bytes, more than --max-file-mb " << max_mb
              << " MB; nothing was stored. 文件过大，未导入：请拆分文件，或放宽 --max-file-mb。 Split the file, or "
                 "raise --max-file-mb if this machine has the memory for it.\n";
    return kRejected;
  }

  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "hubctl: cannot read " << path << "\n";
    return kRejected;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  auto file = hub::parse_import(path, buffer.str());
  hub::check_file_consistency(file);
  if (file.encoding != "UTF-8" && !o.json_output)
    std::cerr << "hubctl: " << path << ": 按 " << file.encoding << " 编码读取 / read as " << file.encoding
              << " (not UTF-8)\n";
  if (file.rows.empty()) {
    print_issues(path, file.issues);
    return kRejected;
  }

  // Households the file itself registers: later rows may refer to them before the hub has them.
  std::set<std::string> registered_here;
  for (const auto& r : file.rows)
    if (r.event["type"] == "household") registered_here.insert(r.event["household_id"].get<std::string>());

  HubClient client(ctx, o.ingest, std::chrono::milliseconds(std::max(o.timeout_ms, 60000)), keys_for(o, "publisher"));
  // Several batches in flight (kInFlight): the hub stages the next while it writes the last
  // (group commit, pipelined), and answers them in the order they were sent. Each reply is
  // matched to its batch by that order.
  constexpr std::size_t kInFlight = 4;
  auto send_batches = [&](bool check_only, std::vector<hub::ImportIssue>* issues, std::size_t* stored,
                          std::size_t* duplicates) -> int {
    hub::cli::Progress progress(check_only ? "检查 checking " + path : "导入 importing " + path, file.rows.size());
    std::deque<std::size_t> in_flight;  // the first row of each batch sent and not yet answered
    std::size_t next = 0;               // the first row not yet sent
    std::optional<std::size_t> refused_at;  // the first row of the first batch the hub refused whole
    json refusal;
    int rc = kOk;
    while (rc == kOk && (next < file.rows.size() || !in_flight.empty())) {
      // Keep the window full, unless a batch was refused: then only the answers are awaited.
      while (!refused_at && next < file.rows.size() && in_flight.size() < kInFlight) {
        const std::size_t end = std::min(file.rows.size(), next + batch);
        json events = json::array();
        for (std::size_t i = next; i < end; ++i) events.push_back(file.rows[i].event);
        json request{{"type", "batch"}, {"events", std::move(events)}};
        if (check_only) request["dry_run"] = true;
        client.send(request);
        in_flight.push_back(next);
        next = end;
      }
      const std::size_t start = in_flight.front();
      in_flight.pop_front();
      const std::size_t end = std::min(file.rows.size(), start + batch);
      auto reply = client.receive();
      if (!reply) {
        progress.finish();
        return unreachable(o.ingest);
      }
      if (reply->value("ok", false)) {
        *stored += reply->value(check_only ? "would_store" : "stored", 0);
        *duplicates += reply->value("duplicates", 0);
      } else if (reply->contains("errors")) {
        for (const auto& item : (*reply)["errors"]) {
          const auto& row = file.rows[start + item.value("index", 0)];
          if (check_only && item.value("code", "") == "unknown_household" &&
              registered_here.count(row.event["household_id"].get<std::string>()))
            continue;  // registered earlier in this file
          issues->push_back({row.line, item.value("code", ""), item.value("field", ""), item.value("message", "")});
        }
        if (!check_only && !refused_at) refused_at = start;
      } else if (!refused_at) {
        refused_at = start;
        refusal = *reply;
      }
      progress.update(end);
      if (refused_at && in_flight.empty()) rc = kRejected;
    }
    progress.finish();
    if (rc == kOk) return kOk;
    // A batch was refused: the batches sent after it were answered too (each stored or refused
    // whole), and *stored counts what was stored.
    if (!refusal.is_null()) print_error(refusal);
    if (check_only) return kRejected;
    if (!issues->empty()) print_issues(path, *issues);
    if (*stored == 0 && *refused_at == 0)
      std::cerr << "hubctl: nothing was stored\n";
    else
      std::cerr << "hubctl: " << *stored << " rows were stored (the rows before line " << file.rows[*refused_at].line
                << ", and any later batch the hub accepted); import the file again to continue (stored rows are "
                   "skipped as duplicates)\n";
    return kRejected;
  };

  // 1. The hub checks every well-formed row against its current state, storing nothing, so
  //    that the clerk sees every bad row of the file at once.
  std::vector<hub::ImportIssue> issues = file.issues;
  std::size_t would_store = 0, would_duplicate = 0;
  if (int rc = send_batches(true, &issues, &would_store, &would_duplicate); rc != kOk) {
    if (!file.issues.empty()) print_issues(path, file.issues);
    return rc;
  }
  if (!issues.empty()) {
    std::stable_sort(issues.begin(), issues.end(),
                     [](const hub::ImportIssue& a, const hub::ImportIssue& b) { return a.line < b.line; });
    print_issues(path, issues);
    return kRejected;
  }
  issues.clear();
  std::map<std::string, std::size_t> by_status;
  for (const auto& r : file.rows)
    if (r.event["type"] == "status_change") ++by_status[r.event["status"].get<std::string>()];
  if (dry_run) {
    // What each department would do: the admin endpoint asks each in-process plugin on a copy
    // of its data (admin/import_preview.h); nothing is stored or delivered.
    json preview_request{{"cmd", "import_preview"}, {"events", json::array()}, {"lines", json::array()}};
    for (const auto& r : file.rows) {
      preview_request["events"].push_back(r.event);
      preview_request["lines"].push_back(r.line);
    }
    if (!o.json_output) preview_request["detail"] = 0;
    // The admin endpoint needs the admin's key on a CURVE hub: a publisher without one still gets
    // the rows checked, and is told why the departments' part is missing.
    std::optional<json> preview;
    std::string no_preview;
    try {
      HubClient admin(ctx, o.admin, std::chrono::milliseconds(std::max(o.timeout_ms, 120000)), keys_for(o, "admin"));
      preview = admin.request(preview_request);
      if (!preview) no_preview = "the admin endpoint " + o.admin + " did not answer";
      else if (!preview->value("ok", false)) no_preview = preview->dump();
    } catch (const hub::cli::KeyError& e) {
      no_preview = std::string("no admin key: ") + e.what();
    }
    if (!no_preview.empty())
      std::cerr << "hubctl: 无法显示各部门的预览 / no per-department preview (" << no_preview << ")\n";
    json summary{{"ok", true}, {"dry_run", true}, {"file", path}, {"kind", file.kind}, {"encoding", file.encoding},
                 {"rows", file.rows.size()},
                 {"would_store", would_store}, {"duplicates", would_duplicate}, {"status_changes", by_status},
                 {"departments", no_preview.empty() ? (*preview)["departments"] : json(nullptr)}};
    if (o.json_output) {
      std::cout << summary.dump() << "\n";
    } else {
      std::cout << "预览 / dry run: " << path << " (" << file.kind << "): " << file.rows.size() << " rows, "
                << would_store << " would be stored, " << would_duplicate << " already stored\n";
      for (const auto& [status, n] : by_status) std::cout << "  " << status << ": " << n << "\n";
      if (no_preview.empty()) hub::cli::print_import_preview(std::cout, *preview);
      std::cout << "nothing was stored 未保存任何数据\n";
    }
    return kOk;
  }
  // 2. Store.
  std::size_t stored = 0, duplicates = 0;
  if (int rc = send_batches(false, &issues, &stored, &duplicates); rc != kOk) return rc;
  if (o.json_output) {
    std::cout << json{{"ok", true}, {"file", path}, {"kind", file.kind}, {"encoding", file.encoding}, {"rows", file.rows.size()},
                      {"stored", stored}, {"duplicates", duplicates}}.dump()
              << "\n";
  } else {
    std::cout << "已导入 / imported " << path << " (" << file.kind << "): " << stored << " stored, " << duplicates
              << " already there\n";
  }
  return kOk;
}

std::string age_text(std::int64_t ms) { return ms <= 0 ? "-" : hub::cli::duration_text(ms); }

int cmd_status(const Options& o, zmq::context_t& ctx) {
  HubClient client(ctx, o.admin, std::chrono::milliseconds(o.timeout_ms), keys_for(o, "admin"));
  auto reply = client.request(json{{"cmd", "status"}});
  if (!reply) return unreachable(o.admin);
  if (!reply->value("ok", false)) {
    print_error(*reply);
    return kRejected;
  }
  if (o.json_output) {
    std::cout << reply->dump() << "\n";
    return kOk;
  }
  std::cout << "事件总数 / events in log: " << hub::cli::group_digits((*reply)["last_seq"].get<std::uint64_t>()) << "\n";
  hub::cli::Table table({"部门 department", "状态 state", "版本 version", "游标 cursor", "滞后 lag", "最早未送达 oldest",
                         "已送达 delivered", "失败 failed", "暂存 parked"});
  for (const auto& d : (*reply)["departments"]) {
    // A department on a plugin host shows which host serves it: "running @police-server-1".
    const std::string host = d.value("host", "");
    table.add({d["id"].get<std::string>() + " " + d["name_zh"].get<std::string>(),
               d["state"].get<std::string>() + (host.empty() ? "" : " @" + host), d["plugin_version"],
               hub::cli::group_digits(d["cursor"]), hub::cli::group_digits(d["lag"]),
               age_text(d["oldest_undelivered_ms"]), hub::cli::group_digits(d["delivered"]),
               hub::cli::group_digits(d["failed"]), hub::cli::group_digits(d["parked"])});
  }
  table.print(std::cout);
  for (const auto& d : (*reply)["departments"])
    if (!d["last_error"].get<std::string>().empty())
      std::cout << "  " << d["id"].get<std::string>() << ": " << d["last_error"].get<std::string>() << "\n";
  return kOk;
}

// What the history's "previous" column adds for a correction: a quarter re-evaluated, or a
// past quarter put right by a complaint's ruling (with the complaint).
std::string correction_note(const json& e) {
  const std::string complaint = e.value("complaint_id", json(nullptr)).is_string() ? e["complaint_id"].get<std::string>() : "";
  if (e.value("past_quarter", false)) return " (往季更正 past quarter, 投诉 complaint " + complaint + ")";
  if (!complaint.empty()) return " (更正 correction, 投诉 complaint " + complaint + ")";
  return e.value("correction", false) ? " (更正 correction)" : "";
}

int cmd_household(const Options& o, zmq::context_t& ctx) {
  if (o.verb.household_id.empty()) return usage_error(o, "household needs exactly one household id");
  HubClient client(ctx, o.admin, std::chrono::milliseconds(o.timeout_ms), keys_for(o, "admin"));
  auto reply = client.request(json{{"cmd", "household"}, {"household_id", o.verb.household_id}});
  if (!reply) return unreachable(o.admin);
  if (o.json_output) std::cout << reply->dump() << "\n";
  if (!reply->value("ok", false)) {
    if (!o.json_output) print_error(*reply);
    return kRejected;
  }
  if (o.json_output) return kOk;
  const json& h = *reply;
  std::cout << "户 household " << h["household_id"].get<std::string>() << "  村 village " << h["village"].get<std::string>();
  if (h["head"].is_string() && !h["head"].get<std::string>().empty()) std::cout << "  户主 head " << h["head"].get<std::string>();
  std::cout << "\n当前 status: " << h["status"].get<std::string>();
  if (!h["quarter"].is_null()) std::cout << " (" << h["quarter"].get<std::string>() << ")";
  if (!h["designations"].empty()) std::cout << "  designations: " << h["designations"].dump();
  std::cout << "\n承诺书 commitment: " << (h["commitment_signed_on"].is_null() ? std::string("未签 not signed")
                                                                                 : h["commitment_signed_on"].get<std::string>())
            << "\n\n评议历史 / history:\n";
  hub::cli::Table history({"seq", "event", "type", "quarter", "status", "previous"});
  for (const auto& e : h["history"])
    history.add({std::to_string(e["seq"].get<std::int64_t>()), e["event_id"], e["type"], e.value("quarter", ""),
                 e.value("status", ""), e.value("previous_status", "") + correction_note(e)});
  history.print(std::cout);
  std::cout << "\n各部门政策 / policies per department:\n";
  hub::cli::Table policies({"部门 department", "政策 policy", "状态 state", "金额 amount", "事件 event", "原因 reason"});
  std::vector<std::vector<std::string>> remedies;  // the actions of rulings on past quarters, listed after
  for (const auto& d : h["departments"]) {
    for (const auto& p : d["policies"]) {
      const json& s = p["state"];
      policies.add({d["id"].get<std::string>() + " " + d["name_zh"].get<std::string>() + (d["up_to_date"].get<bool>() ? "" : " (送达中 pending)"),
                    p["name_zh"].get<std::string>(),
                    s.is_null() ? "-" : s["action"].get<std::string>(),
                    s.is_null() || s["amount_fen"].is_null() ? "" : hub::cli::yuan(s["amount_fen"].get<std::int64_t>()) + " 元",
                    s.is_null() ? "" : s["event_id"].get<std::string>(),
                    s.is_null() ? "" : s["reason"].get<std::string>()});
      for (const auto& r : p.value("remedies", json::array()))
        remedies.push_back({d["id"].get<std::string>(), p["name_zh"].get<std::string>(), r["quarter"].get<std::string>(),
                            r["action"].get<std::string>(),
                            r["amount_fen"].is_null() ? "" : hub::cli::yuan(r["amount_fen"].get<std::int64_t>()) + " 元",
                            r["reason"].get<std::string>()});
    }
  }
  policies.print(std::cout);
  if (!remedies.empty()) {
    std::cout << "\n依投诉裁定的往季补救 / remedies for past quarters after complaints:\n";
    hub::cli::Table table({"部门 department", "政策 policy", "季度 quarter", "处理 action", "金额 amount", "原因 reason"});
    for (auto& row : remedies) table.add(std::move(row));
    table.print(std::cout);
  }
  return kOk;
}

// Asks the admin endpoint; prints an error and returns the exit code when it fails.
std::optional<json> ask_admin(const Options& o, zmq::context_t& ctx, const json& request, int* exit_code) {
  // Reports and reconciliation read the whole ledger: give them minutes unless told otherwise.
  const std::string cmd = request.value("cmd", "");
  const int timeout_ms = !o.timeout_given && (cmd == "report" || cmd == "reconcile") ? 300000 : o.timeout_ms;
  HubClient client(ctx, o.admin, std::chrono::milliseconds(timeout_ms), keys_for(o, "admin"));
  auto reply = client.request(request);
  if (!reply) {
    *exit_code = no_answer(o.admin, timeout_ms);
    return std::nullopt;
  }
  if (!reply->value("ok", false)) {
    if (o.json_output) std::cout << reply->dump() << "\n";
    else print_error(*reply);
    *exit_code = kRejected;
    return std::nullopt;
  }
  return reply;
}

std::string percent_text(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", ratio * 100.0);
  return buf;
}

void print_report_table(const json& r) {
  const json& c = r["commitments"];
  std::cout << "季度 quarter " << r["quarter"].get<std::string>() << "  范围 scope "
            << (r["village"].is_null() ? std::string("全镇 whole town") : r["village"].get<std::string>()) << "\n"
            << "户数 households: " << hub::cli::group_digits(r["households"]) << "  承诺书 commitments signed: "
            << hub::cli::group_digits(c["signed"]) << " / " << hub::cli::group_digits(c["due"]) << " ("
            << percent_text(c["rate"]) << ")\n评议 statuses:";
  for (const char* s : {"credit", "non_credit", "breach", "unevaluated"})
    std::cout << "  " << s << " " << hub::cli::group_digits(r["statuses"][s]);
  std::cout << "\n\n各部门 / per department:\n";
  auto figure = [](const json& p, const char* action) {
    std::string text = hub::cli::group_digits(p[action]["count"]);
    if (p[action].contains("amount_fen") && p[action]["amount_fen"].get<std::int64_t>() > 0)
      text += " (" + hub::cli::yuan(p[action]["amount_fen"]) + " 元)";
    return text;
  };
  hub::cli::Table departments({"部门 department", "政策 policy", "兑现 applied", "暂缓 deferred", "不兑现 withheld",
                               "恢复兑现 released", "恢复 restored", "不适用 n/a", "送达 delivered"});
  for (const auto& d : r["departments"])
    for (const auto& p : d["policies"])
      departments.add({d["id"], p["policy_id"], figure(p, "apply"), figure(p, "defer"), figure(p, "withhold"),
                       figure(p, "release"), figure(p, "restore"), figure(p, "not_applicable"),
                       hub::cli::group_digits(d["delivered"]) + "/" + hub::cli::group_digits(d["due"]) + " (" +
                           percent_text(d["completeness"]) + ")"});
  departments.print(std::cout);
  std::cout << "\n各村 / villages (全镇不诚信+违约占比 town share " << percent_text(r["town"]["adverse_share"]) << "):\n";
  hub::cli::Table villages({"村 village", "户数 households", "签订率 signed", "诚信 credit", "不诚信 non_credit",
                            "违约 breach", "未评议 unevaluated", "占比 share", "偏离 flagged", "更正 corrections"});
  for (const auto& v : r["villages"])
    villages.add({v["village"], hub::cli::group_digits(v["households"]), percent_text(v["signing_rate"]),
                  hub::cli::group_digits(v["statuses"]["credit"]), hub::cli::group_digits(v["statuses"]["non_credit"]),
                  hub::cli::group_digits(v["statuses"]["breach"]), hub::cli::group_digits(v["statuses"]["unevaluated"]),
                  percent_text(v["adverse_share"]), v["flagged"].get<bool>() ? "⚠ 是 yes" : "",
                  hub::cli::group_digits(v["corrections"])});
  villages.print(std::cout);
  if (r.contains("complaints")) {  // the complaints register, as of today (hubctl complaints list --overdue)
    const json& c = r["complaints"];
    std::cout << "\n投诉举报 / complaints (" << c["today"].get<std::string>() << "): 未裁定 open " << c["open"]
              << "  逾期 overdue " << c["overdue"] << (c["overdue"].get<std::int64_t>() > 0 ? " ⚠" : "") << "  属实 upheld "
              << c["upheld"] << "  不属实 dismissed " << c["dismissed"] << "\n";
    for (const auto& id : c["overdue_ids"]) std::cout << "  逾期 overdue: " << id.get<std::string>() << "\n";
  }
}

int cmd_report(const Options& o, zmq::context_t& ctx) {
  if (o.verb.quarter.empty()) return usage_error(o, "report needs --quarter, e.g. --quarter 2020Q4");
  std::string format = o.verb.format;
  if (format.empty()) format = o.json_output ? "json" : "table";
  if (format != "table" && format != "json" && format != "csv") return usage_error(o, "--format is table, json or csv");
  json request{{"cmd", "report"}, {"quarter", o.verb.quarter}};
  if (!o.verb.village.empty()) request["village"] = o.verb.village;
  int code = kOk;
  auto reply = ask_admin(o, ctx, request, &code);
  if (!reply) return code;
  if (format == "json") std::cout << reply->dump() << "\n";
  else if (format == "csv") std::cout << hub::report::report_csv(*reply);
  else print_report_table(*reply);
  return kOk;
}

int cmd_reconcile(const Options& o, zmq::context_t& ctx) {
  int code = kOk;
  auto reply = ask_admin(o, ctx, json{{"cmd", "reconcile"}}, &code);
  if (!reply) return code;
  const json& r = *reply;
  const bool clean = r["count"].get<std::int64_t>() == 0;
  if (o.json_output) {
    std::cout << r.dump() << "\n";
    return clean ? kOk : kRejected;
  }
  std::cout << "已核对 checked " << hub::cli::group_digits(r["checked"]) << " 项 policy states, 待送达 pending "
            << hub::cli::group_digits(r["pending"]) << ", 不一致 disagreements " << hub::cli::group_digits(r["count"]) << "\n";
  if (clean) return kOk;
  hub::cli::Table table({"户 household", "部门 department", "政策 policy", "类型 kind", "应为 expected", "记录 recorded",
                         "应生效事件 event"});
  for (const auto& d : r["disagreements"])
    table.add({d["household_id"], d["department"], d["policy_id"], d["kind"], d["expected"], d["recorded"],
               "#" + std::to_string(d["event_seq"].get<std::int64_t>()) + " " + d["event_id"].get<std::string>()});
  table.print(std::cout);
  if (r.value("truncated", false))
    std::cout << "只列出前 " << hub::cli::group_digits(r["disagreements"].size()) << " 项 / only the first "
              << hub::cli::group_digits(r["disagreements"].size()) << " are listed (by_department counts them all)\n";
  return kRejected;
}

json verify_json(const hub::audit::VerifyResult& result) {
  json out{{"ok", result.ok}, {"records", result.records}, {"signatures_checked", result.signatures_checked},
           {"message", result.message}};
  if (result.ok) {
    out["head_hash"] = result.head_hash_hex;
  } else {
    out["first_bad_seq"] = result.first_bad_seq;
    out["problem"] = result.problem;
    if (!result.first_bad_subject.empty()) out["first_bad_subject"] = result.first_bad_subject;
  }
  return out;
}

int cmd_audit(const Options& o) {
  std::optional<std::array<unsigned char, 32>> public_key;
  if (!o.verb.public_key.empty()) {
    std::ifstream in(o.verb.public_key);
    std::string text;
    in >> text;
    const auto bytes = hub::audit::from_hex(text, 32);
    if (!bytes) return usage_error(o, "--public-key " + o.verb.public_key +
                                   " must hold an Ed25519 public key as 64 hex digits (NAME.sign.pub from hubctl keygen)");
    public_key.emplace();
    std::copy(bytes->begin(), bytes->end(), public_key->begin());
  }

  if (!o.verb.audit_file.empty()) {  // one audit.db, as before
    const std::string path = o.verb.audit_file;
    if (!std::ifstream(path)) {
      std::cerr << "hubctl: 找不到审计日志 / no audit log at " << path << " (see --file, --data-dir)\n";
      return kRejected;
    }
    const auto result = hub::store::verify_audit_log(path, public_key);
    if (o.json_output) {
      std::cout << verify_json(result).dump(2) << "\n";
    } else {
      (result.ok ? std::cout : std::cerr) << result.message << "\n";
      if (result.ok) {
        std::cout << "  head 链头: " << (result.head_hash_hex.empty() ? "-" : result.head_hash_hex) << "\n";
        std::cout << "  signatures 签名: "
                  << (public_key ? std::to_string(result.signatures_checked) + " checked 已校验"
                                 : std::string("not checked (no --public-key) 未校验"))
                  << "\n";
      }
    }
    return result.ok ? kOk : kRejected;
  }

  // The three chains, each read-only in one snapshot: of the data directory's files, or of one
  // hub's rows in a PostgreSQL database (--dsn, --hub-id).
  struct Chain {
    const char* name;
    std::string where;  // the file, or "hub <id>: <chain>" on PostgreSQL
    std::function<hub::audit::VerifyResult()> verify;
  };
  std::vector<Chain> chains;
  const bool on_postgresql = !o.verb.dsn.empty();
  if (on_postgresql != !o.verb.hub_id.empty())
    return usage_error(o, "--dsn and --hub-id go together: the database and the hub whose chains to check");
  const std::filesystem::path dir = o.data_dir.empty() ? std::string("var") : o.data_dir;
  if (on_postgresql) {
    const std::string dsn = o.verb.dsn, hub_id = o.verb.hub_id;
    chains = {{"audit", "hub " + hub_id + ": audit", [=] { return hub::store::pg::verify_pg_audit_log(dsn, hub_id, public_key); }},
              {"events", "hub " + hub_id + ": events", [=] { return hub::store::pg::verify_pg_event_chain(dsn, hub_id); }},
              {"ledger", "hub " + hub_id + ": ledger", [=] { return hub::store::pg::verify_pg_ledger_chain(dsn, hub_id); }}};
  } else {
    auto file_chain = [&](const char* name, const char* file, auto verify_file) {
      const std::string path = (dir / file).string();
      return Chain{name, path, [=]() {
                     hub::audit::VerifyResult result;
                     // hubd creates all three files at its start: a missing one is a finding.
                     if (!std::filesystem::exists(path)) {
                       result.problem = "missing";
                       result.message = std::string("找不到 / missing: ") + path +
                                        " (hubd creates it at its first start; see --data-dir)";
                       return result;
                     }
                     return verify_file(path);
                   }};
    };
    chains = {file_chain("audit", "audit.db", [&](const std::string& p) { return hub::store::verify_audit_log(p, public_key); }),
              file_chain("events", "events.db", [](const std::string& p) { return hub::store::verify_event_chain(p); }),
              file_chain("ledger", "ledger.db", [](const std::string& p) { return hub::store::verify_ledger_chain(p); })};
  }
  bool all_ok = true;
  json report = json::array();
  for (const Chain& c : chains) {
    const hub::audit::VerifyResult result = c.verify();
    all_ok = all_ok && result.ok;
    if (o.json_output) {
      json one = verify_json(result);
      one["chain"] = c.name;
      one[on_postgresql ? "where" : "file"] = c.where;
      if (!result.ok && result.problem == "missing") one["problem"] = "missing";
      report.push_back(std::move(one));
      continue;
    }
    const std::string label = on_postgresql ? c.where : std::filesystem::path(c.where).filename().string();
    (result.ok ? std::cout : std::cerr) << label << ": " << result.message << "\n";
    if (result.ok) {
      std::cout << "  head 链头: " << (result.head_hash_hex.empty() ? "-" : result.head_hash_hex) << "\n";
      if (std::string(c.name) == "audit")
        std::cout << "  signatures 签名: "
                  << (public_key ? std::to_string(result.signatures_checked) + " checked 已校验"
                                 : std::string("not checked (no --public-key) 未校验"))
                  << "\n";
    }
  }
  if (o.json_output) {
    json out{{"ok", all_ok}, {"chains", report}};
    if (on_postgresql)
      out["hub_id"] = o.verb.hub_id;
    else
      out["data_dir"] = dir.string();
    std::cout << out.dump(2) << "\n";
  }
  return all_ok ? kOk : kRejected;
}

// Writes `text` to `path`, created new with `mode`; an existing file is never overwritten.
bool write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  std::string error;
  if (hub::security::write_new_file(path, text, mode, &error)) return true;
  std::cerr << "hubctl: " << error << "\n";
  return false;
}

// keys list | reload: the keys the hub lets in, and reloading them from its clients file.
int cmd_keys(const Options& o, zmq::context_t& ctx) {
  const std::string action = o.command->get_name();  // list or reload
  json request{{"cmd", "keys"}, {"action", action}};
  const char* user = std::getenv("USER");
  request["by"] = !o.verb.by.empty() ? o.verb.by : std::string(user != nullptr ? user : "");
  int exit_code = kOk;
  auto reply = ask_admin(o, ctx, request, &exit_code);
  if (!reply) return exit_code;
  if (o.json_output) {
    std::cout << reply->dump(2) << "\n";
    return kOk;
  }
  if (action == "reload") {
    std::cout << "已重新加载密钥 / keys reloaded: " << reply->value("keys", 0) << " keys";
    for (const char* what : {"added", "removed"})
      if (reply->contains(what) && !(*reply)[what].empty()) std::cout << "; " << what << " " << (*reply)[what].dump();
    std::cout << "\n";
    return kOk;
  }
  std::cout << "hub public key 枢纽公钥: " << reply->value("server_public_key", "") << "\n"
            << "clients file 客户端文件: " << reply->value("clients_file", "") << "\n";
  hub::cli::Table table({"name 名称", "roles 角色", "public key 公钥"});
  for (const auto& k : reply->value("keys", json::array())) {
    std::string roles;
    for (const auto& r : k.value("roles", json::array())) roles += (roles.empty() ? "" : ", ") + r.get<std::string>();
    table.add({k.value("name", ""), roles, k.value("public_key", "")});
  }
  table.print(std::cout);
  const json hs = reply->value("handshakes", json::object());
  std::string reasons;  // the kinds of refusal that happened, e.g. "not_curve 12, wrong_hub_key 3"
  const json by_reason = hs.value("refused_by_reason", json::object());
  for (const auto& [reason, n] : by_reason.items())
    if (n.get<std::uint64_t>() > 0) reasons += (reasons.empty() ? "" : ", ") + reason + " " + n.dump();
  std::cout << "handshakes 握手: " << hs.value("accepted", 0) << " accepted 接受, " << hs.value("refused", 0)
            << " refused 拒绝" << (reasons.empty() ? "" : " (" + reasons + ")")
            << "; refused requests 拒绝的请求: " << reply->value("refused_messages", 0) << "\n";
  return kOk;
}

int cmd_keygen(const Options& o) {
  if (!hub::is_valid_id(o.verb.key_to_make))
    return usage_error(o, "usage: hubctl keygen NAME [--dir DIR] (NAME: letters, digits, '-', '_')");
  const std::string dir = o.verb.dir.empty() ? "." : o.verb.dir;
  const std::string base = dir + "/" + o.verb.key_to_make;
  if (!std::filesystem::is_directory(dir)) {
    // A keys directory is private: made 0700 (as hubd makes its own).
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (!ec) std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    if (ec) {
      std::cerr << "hubctl: cannot create the directory " << dir << ": " << ec.message() << "\n";
      return kRejected;
    }
  }
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
  char curve_public[41], curve_secret[41];
  if (zmq_curve_keypair(curve_public, curve_secret) != 0)
    throw std::runtime_error("this libzmq cannot make CURVE keys (built without libsodium?)");
  unsigned char sign_public[crypto_sign_PUBLICKEYBYTES], sign_secret[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(sign_public, sign_secret);
  const bool ok =
      write_new_file(base + ".curve.key", std::string(curve_secret) + "\n", 0600) &&
      write_new_file(base + ".curve.pub", std::string(curve_public) + "\n", 0644) &&
      write_new_file(base + ".sign.key", hub::audit::to_hex(sign_secret, sizeof sign_secret) + "\n", 0600) &&
      write_new_file(base + ".sign.pub", hub::audit::to_hex(sign_public, sizeof sign_public) + "\n", 0644);
  sodium_memzero(curve_secret, sizeof curve_secret);
  sodium_memzero(sign_secret, sizeof sign_secret);
  if (!ok) return kRejected;
  std::cout << "已生成 / written: " << base << ".curve.pub (CURVE public key " << curve_public << ")\n"
            << "                  " << base << ".sign.pub (Ed25519 public key)\n"
            << "                  " << base << ".curve.key, " << base << ".sign.key (secret, mode 0600: keep them private)\n";
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  using hub::cli::add_text_options;
  using hub::cli::add_verb;
  using hub::command_line::usage_error;
  Options o;
  hub::cli::VerbArgs& v = o.verb;
  bool* json = &o.json_output;
  std::string timeout;  // checked below, so that its error says what it needs
  CLI::App app(kDescription, "hubctl");
  app.footer(kFooter);
  hub::command_line::repeated_options_take_the_last(app);
  app.require_subcommand(0, 1);  // one verb; a missing one is reported below in hubctl's words
  app.set_version_flag("--version", "hubctl " HUB_SDK_VERSION_STRING, "print the version");
  app.add_flag("--json", o.json_output, "machine-readable output (also after the command)");
  add_text_options(
      app, {{"--ingest", &o.ingest, "ENDPOINT",
             "ingest endpoint (default tcp://127.0.0.1:7001, or $HUB_INGEST_ENDPOINT)"},
            {"--admin", &o.admin, "ENDPOINT", "admin endpoint (default tcp://127.0.0.1:7004, or $HUB_ADMIN_ENDPOINT)"},
            {"--data-dir", &o.data_dir, "DIR", "read the endpoints of the hubd using DIR (DIR/hubd.endpoints.json)"},
            {"--keys", &o.keys_dir, "DIR",
             "CURVE keys: DIR/hub.curve.pub and DIR/NAME.curve.key (default $HUB_KEYS_DIR, else DIR/keys with "
             "--data-dir, else var/keys, where hubd writes them on its first run); none there: no CURVE"},
            {"--key", &o.key_name, "NAME",
             "which key to use (default: admin for admin commands, publisher for publish and import)"},
            {"--timeout", &timeout, "MS",
             "how long to wait for the hub, in milliseconds (default 10000; report and reconcile: 300000)"}});

  CLI::App* publish = add_verb(app, "publish",
                               "发布一条评议结果 / publish one status change "
                               "(S: credit 诚信户 | non_credit 不诚信户 | breach 违约户)",
                               json);
  add_text_options(*publish,
                   {{"--household", &v.household, "H", "户 / the household (required)"},
                    {"--status", &v.status, "S", "评议结果 / credit | non_credit | breach (required)"},
                    {"--quarter", &v.quarter, "Q", "季度 / e.g. 2020Q4 (required)"},
                    {"--effective", &v.effective, "YYYY-MM-DD", "生效日期 / effective date"},
                    {"--basis", &v.basis, "TEXT", "评议依据 / the basis of the evaluation"},
                    {"--event-id", &v.event_id, "ID",
                     "the event's id (default: the one an import would give this row)"}});
  publish->add_option("--designation", v.designations, "e.g. assistance (repeatable)")
      ->type_name("D")
      ->allow_extra_args(false)  // one value per --designation, as before
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);

  CLI::App* import = add_verb(app, "import",
                              "导入 CSV 或 JSONL (户籍, 承诺书, 评议) / import households, commitments or "
                              "evaluations; an invalid file stores nothing",
                              json);
  import->add_option("FILE", v.file, "the CSV or JSONL file");
  import->add_flag("--dry-run", v.dry_run, "预览 / check every row with the hub, store nothing");
  add_text_options(*import, {{"--batch", &v.batch, "N", "rows per request (default 2000)"},
                             {"--max-file-mb", &v.max_file_mb, "N",
                              "a larger file is refused (file_too_large), as it is checked in memory (default 1024)"}});

  CLI::App* status = add_verb(app, "status", "各部门送达情况 / delivery status per department", json);
  CLI::App* household =
      add_verb(app, "household", "一户的评议历史与各部门政策状态 / one household across departments", json);
  household->add_option("HOUSEHOLD", v.household_id, "户 / the household id");
  CLI::App* households = hub::cli::add_households_verb(app, v, json);

  const hub::cli::LifecycleVerbs lifecycle = hub::cli::add_lifecycle_verbs(app, v, json);
  hub::cli::ComplaintArgs complaint_args;
  CLI::App* complaints = hub::cli::add_complaints_verbs(app, complaint_args, json);
  hub::cli::NoticeArgs notice_args;
  CLI::App* notice = hub::cli::add_notice_verbs(app, notice_args, json);

  CLI::App* report = add_verb(app, "report",
                              "季度报告 / the quarterly report (households, commitments, statuses, policies per "
                              "department, villages)",
                              json);
  add_text_options(*report, {{"--quarter", &v.quarter, "Q", "季度 / e.g. 2020Q4 (required)"},
                             {"--village", &v.village, "V", "村 / one village only"},
                             {"--format", &v.format, "FORMAT",
                              "table | json | csv (default table, json with --json)"}});
  CLI::App* reconcile = add_verb(app, "reconcile",
                                 "对账：部门记录与评议结果不一致的户 / households whose department records "
                                 "disagree with their status (exit 1 if any)",
                                 json);

  CLI::App* audit = add_verb(app, "audit", "校验哈希链 / check the hash chains (audit verify --help)", json);
  CLI::App* verify = add_verb(*audit, "verify",
                              "walk the hash chains of DIR (--data-dir, else var; or of one hub in a PostgreSQL database: --dsn, --hub-id): audit.db (operator actions, "
                              "refusals, key reloads), events.db (every accepted event) and ledger.db (every "
                              "department's policy actions), read-only; names the file and the first record "
                              "modified, deleted, inserted or reordered (exit 1)",
                              json);
  add_text_options(*verify, {{"--file", &v.audit_file, "FILE", "only this audit.db"},
                             {"--dsn", &v.dsn, "DSN",
                              "PostgreSQL backend: the database's connection string (as storage.dsn in hub.json; "
                              "with --hub-id)"},
                             {"--hub-id", &v.hub_id, "ID", "PostgreSQL backend: the hub whose chains to check"},
                             {"--public-key", &v.public_key, "FILE",
                              "the hub's signing public key (NAME.sign.pub from keygen): checks audit.db's "
                              "signatures too"}});

  CLI::App* keys = add_verb(app, "keys",
                            "枢纽允许的密钥 / the keys the hub lets in, with their roles and the handshakes "
                            "refused, by reason: keys list | keys reload",
                            json);
  add_verb(*keys, "list", "the keys, their roles and the handshakes refused", json);
  CLI::App* keys_reload = add_verb(*keys, "reload",
                                   "read the hub's clients file again (as SIGHUP does): a removed key is refused at "
                                   "once, on the connections it has too (audited)",
                                   json);
  hub::cli::add_by_option(*keys_reload, v);

  const hub::cli::BackupVerbs backup_verbs = hub::cli::add_backup_verbs(app, v, json);
  hub::cli::UsersArgs users_args;
  const hub::cli::UsersVerbs users_verbs = hub::cli::add_users_verbs(app, users_args, json);

  CLI::App* keygen = add_verb(app, "keygen",
                              "生成密钥 / write key pairs for NAME into DIR: NAME.curve.pub / NAME.curve.key "
                              "(ZeroMQ CURVE, Z85) and NAME.sign.pub / NAME.sign.key (Ed25519, hex); the secret "
                              "files are created with mode 0600 and never printed",
                              json);
  keygen->add_option("NAME", v.key_to_make, "the key's name: letters, digits, '-', '_'");
  keygen->add_option("--dir", v.dir, "where to write them (default .; created, mode 0700, when missing)")
      ->type_name("DIR");

  if (const auto exit_code = hub::command_line::parse_command_line(app, argc, argv)) return *exit_code;
  if (app.get_subcommands().empty()) return usage_error(app, "no command given");
  const CLI::App* verb = app.get_subcommands().front();
  // A verb with actions ("parked list"): the action is the command its errors point to.
  o.command = verb->get_subcommands().empty() ? verb : verb->get_subcommands().front();
  if (o.command == verb && !hub::command_line::declared_subcommands(*verb).empty()) {
    std::string actions;
    for (const CLI::App* action : hub::command_line::declared_subcommands(*verb))
      actions += (actions.empty() ? "" : ", ") + action->get_name();
    return usage_error(*verb, verb->get_name() + " needs one of: " + actions);
  }
  if (!o.key_name.empty() && !hub::is_valid_id(o.key_name))
    return usage_error(app, "--key needs a key's NAME (the NAME.curve.key file in the keys directory)");
  if (app.count("--timeout") > 0) {
    o.timeout_ms = std::atoi(timeout.c_str());
    if (o.timeout_ms <= 0) return usage_error(app, "--timeout needs milliseconds");
    o.timeout_given = true;
  }
  const auto endpoints = hub::cli::resolve_endpoints(o.ingest, o.admin, o.data_dir);
  o.ingest = endpoints.ingest;
  o.admin = endpoints.admin;

  zmq::context_t ctx(1);
  try {
    if (verb == publish) return cmd_publish(o, ctx);
    if (verb == import) return cmd_import(o, ctx);
    if (verb == status) return cmd_status(o, ctx);
    if (verb == household) return cmd_household(o, ctx);
    if (verb == households) {
      HubClient client(ctx, o.admin, std::chrono::milliseconds(o.timeout_ms), keys_for(o, "admin"));
      return hub::cli::run_households(*verb, v, o.json_output, client);
    }
    if (verb == lifecycle.parked || verb == lifecycle.plugins) {
      HubClient client(ctx, o.admin, std::chrono::milliseconds(o.timeout_ms), keys_for(o, "admin"));
      return verb == lifecycle.parked ? hub::cli::run_parked(*o.command, v, o.json_output, client)
                                      : hub::cli::run_plugins(*o.command, v, o.json_output, client);
    }
    if (verb == complaints) {
      HubClient client(ctx, o.admin, std::chrono::milliseconds(o.timeout_ms), keys_for(o, "admin"));
      return hub::cli::run_complaints(*o.command, complaint_args, o.json_output, client);
    }
    if (verb == notice) {
      HubClient client(ctx, o.admin, std::chrono::milliseconds(o.timeout_ms), keys_for(o, "admin"));
      return hub::cli::run_notice(*o.command, notice_args, o.json_output, client);
    }
    if (verb == report) return cmd_report(o, ctx);
    if (verb == reconcile) return cmd_reconcile(o, ctx);
    if (verb == audit) return cmd_audit(o);
    if (verb == keys) return cmd_keys(o, ctx);
    if (verb == keygen) return cmd_keygen(o);
    if (verb == users_verbs.users)
      return hub::cli::run_users(*o.command, users_args, o.json_output, o.keys_dir, o.data_dir);
    if (verb == backup_verbs.restore) return hub::cli::run_restore(*verb, v, o.json_output, o.data_dir);
    if (verb == backup_verbs.backup) {
      HubClient client(ctx, o.admin, std::chrono::milliseconds(o.timeout_ms), keys_for(o, "admin"));
      return hub::cli::run_backup(*verb, v, o.json_output, client);
    }
  } catch (const hub::cli::KeyError& e) {
    std::cerr << "hubctl: " << e.what() << "\n";
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "hubctl: failed: " << e.what() << "\n";
    return kRejected;
  }
  return usage_error(*verb, "no such command");  // every verb added above is run above
}

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
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "cli/hub_client.h"
#include "cli/hubctl_lifecycle.h"
#include "cli/import_file.h"
#include "cli/output.h"
#include "audit/audit_log.h"
#include "audit/chain_keeper.h"
#include "report/quarterly_report.h"
#include "security/keys.h"
#include "hub/sdk/version.h"
#include "domain/wire_event.h"

namespace {

using nlohmann::json;
using hub::cli::HubClient;

constexpr int kOk = 0, kRejected = 1, kUsage = 2, kUnreachable = 3;

constexpr const char* kUsageText = R"(hubctl — 诚信枢纽命令行 / Chengxin Hub command line

Usage: hubctl [OPTIONS] COMMAND [ARGS]

Commands:
  publish --household H --status S --quarter Q [--effective YYYY-MM-DD] [--basis TEXT]
          [--designation assistance] [--event-id ID]
                              发布一条评议结果 / publish one status change
                              (S: credit 诚信户 | non_credit 不诚信户 | breach 违约户)
  import FILE [--dry-run] [--batch N] [--max-file-mb N]
                              导入 CSV 或 JSONL (户籍, 承诺书, 评议) / import households,
                              commitments or evaluations; an invalid file stores nothing;
                              a file over --max-file-mb (default 1024) is refused (file_too_large)
  status                      各部门送达情况 / delivery status per department
  household H                 一户的评议历史与各部门政策状态 / one household across departments
  parked list [--department D] [--household H] [--seq N] [--all] [--limit N]
  parked retry|skip [--department D] [--household H] [--seq N] [--by NAME]
                              暂存事件 / parked events (dead letters); --all adds the resolved
                              ones with who retried or skipped them; --by defaults to $USER
  plugins list | reload D [--library PATH] | disable D [--reason TEXT] | enable D  [--by NAME]
                              插件管理 / plugin lifecycle without restarting hubd; list shows
                              who disabled a department and since when, and whether its
                              library is the config's or a reload's (by whom, when). Disable,
                              enable and a successful reload are recorded in the ledger and
                              survive a restart of hubd (a reload only while the config's
                              library stays the one it replaced)
  report --quarter Q [--village V] [--format table|json|csv]
                              季度报告 / the quarterly report (households, commitments,
                              statuses, policies per department, villages)
  reconcile                   对账：部门记录与评议结果不一致的户 / households whose
                              department records disagree with their status (exit 1 if any)
  audit verify [--file FILE] [--public-key FILE]
                              校验哈希链 / walk the hash chains of DIR (--data-dir, else
                              var): audit.db (operator actions,
                              refusals, key reloads), events.db (every accepted
                              event) and ledger.db (every department's policy actions),
                              read-only; names the file and the first record modified,
                              deleted, inserted or reordered (exit 1). --file: only that
                              audit.db. With the hub's signing public key (NAME.sign.pub
                              from keygen) checks audit.db's signatures too
  keys list | keys reload [--by NAME]
                              枢纽允许的密钥 / the keys the hub lets in, with their roles
                              and the handshakes refused, by reason (unknown_key,
                              wrong_hub_key, not_curve…); reload reads the hub's clients
                              file again (as SIGHUP does) — a removed key is refused at
                              once, on the connections it has too (audited)
  keygen NAME [--dir DIR]     生成密钥 / write key pairs for NAME into DIR (default .):
                              NAME.curve.pub / NAME.curve.key (ZeroMQ CURVE, Z85) and
                              NAME.sign.pub / NAME.sign.key (Ed25519, hex); the secret
                              files are created with mode 0600 and never printed
                              (DIR is created, mode 0700, when missing)

Options:
  --json               machine-readable output
  --ingest ENDPOINT    ingest endpoint (default tcp://127.0.0.1:7001, or $HUB_INGEST_ENDPOINT)
  --admin ENDPOINT     admin endpoint (default tcp://127.0.0.1:7004, or $HUB_ADMIN_ENDPOINT)
  --data-dir DIR       read the endpoints of the hubd using DIR (DIR/hubd.endpoints.json)
  --keys DIR           CURVE keys: DIR/hub.curve.pub and DIR/NAME.curve.key (default
                       $HUB_KEYS_DIR, else DIR/keys with --data-dir, else var/keys, where
                       hubd writes them on its first run); none there: no CURVE
  --key NAME           which key to use (default: admin for admin commands, publisher for
                       publish and import)
  --timeout MS         how long to wait for the hub (default 10000; report and
                       reconcile: 300000)
  --help, --version

Exit codes: 0 ok, 1 rejected or failed, 2 usage error, 3 hub unreachable.
)";

struct Options {
  bool json_output = false;
  std::string ingest, admin, data_dir;
  std::string keys_dir, key_name;  // --keys, --key
  int timeout_ms = 10000;
  bool timeout_given = false;  // --timeout on the command line
  std::string command;
  std::vector<std::string> args;
};

// The CURVE keys for one side (hub_client.h says where they are found); nothing for an
// insecure hub. Throws hub::cli::KeyError.
std::optional<hub::cli::CurveKeys> keys_for(const Options& o, const std::string& default_name) {
  return hub::cli::resolve_keys(o.keys_dir, o.key_name.empty() ? default_name : o.key_name, o.data_dir);
}

int usage_error(const std::string& message) {
  std::cerr << "hubctl: " << message << "\n(run 'hubctl --help' for usage)\n";
  return kUsage;
}

int unreachable(const std::string& endpoint) {
  std::cerr << "hubctl: 无法连接枢纽 / the hub is unreachable at " << endpoint
            << " (is hubd running? see --ingest/--admin/--data-dir)\n";
  return kUnreachable;
}

int no_answer(const std::string& endpoint, int timeout_ms) {
  std::cerr << "hubctl: 枢纽未在 " << timeout_ms / 1000 << " 秒内应答 / the hub at " << endpoint
            << " did not answer within " << timeout_ms << " ms (is hubd running? see --ingest/--admin/--data-dir; "
            << "a large report or reconciliation may need a longer --timeout)\n";
  return kUnreachable;
}

void print_error(const json& reply) {
  const json& e = reply.value("error", json::object());
  std::cerr << "hubctl: 被拒绝 / rejected: " << e.value("code", "error") << ": " << e.value("message", "");
  if (e.contains("field")) std::cerr << " [field " << e["field"].get<std::string>() << "]";
  std::cerr << "\n";
  if (reply.contains("errors"))
    for (const auto& item : reply["errors"])
      std::cerr << "  #" << item.value("index", 0) << " " << item.value("code", "") << ": " << item.value("message", "")
                << "\n";
}

// Takes "--name value" pairs (and repeated ones) from args.
struct Flags {
  std::map<std::string, std::vector<std::string>> values;
  std::set<std::string> switches;
  std::vector<std::string> positional;
  std::string error;
};

Flags parse_flags(const std::vector<std::string>& args, const std::set<std::string>& with_value,
                  const std::set<std::string>& switches) {
  Flags f;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) == 0) {
      if (switches.count(a)) {
        f.switches.insert(a);
      } else if (with_value.count(a)) {
        if (i + 1 >= args.size()) {
          f.error = a + " needs a value";
          return f;
        }
        f.values[a].push_back(args[++i]);
      } else {
        f.error = "unknown option " + a;
        return f;
      }
    } else {
      f.positional.push_back(a);
    }
  }
  return f;
}

std::string first(const Flags& f, const std::string& name) {
  auto it = f.values.find(name);
  return it == f.values.end() ? std::string() : it->second.front();
}

int cmd_publish(const Options& o, zmq::context_t& ctx) {
  Flags f = parse_flags(o.args, {"--household", "--status", "--quarter", "--effective", "--basis", "--designation", "--event-id"}, {});
  if (!f.error.empty()) return usage_error(f.error);
  if (!f.positional.empty()) return usage_error("publish takes no positional arguments");
  for (const char* required : {"--household", "--status", "--quarter"})
    if (first(f, required).empty()) return usage_error(std::string("publish needs ") + required);
  json ev{{"type", "status_change"},
          {"household_id", first(f, "--household")},
          {"status", first(f, "--status")},
          {"quarter", first(f, "--quarter")}};
  if (!first(f, "--effective").empty()) ev["effective_date"] = first(f, "--effective");
  if (!first(f, "--basis").empty()) ev["basis"] = first(f, "--basis");
  json designations = json::array();
  if (auto it = f.values.find("--designation"); it != f.values.end())
    for (const auto& d : it->second) designations.push_back(d);
  ev["designations"] = designations;
  if (!first(f, "--event-id").empty()) {
    ev["event_id"] = first(f, "--event-id");
  } else {
    // The same stable id an import would give this row.
    auto file = hub::cli::parse_import("publish.jsonl", ev.dump() + "\n");
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

void print_issues(const std::string& file, const std::vector<hub::cli::ImportIssue>& issues) {
  std::cerr << "hubctl: " << file << ": " << issues.size()
            << " 行有误，未导入任何数据 / bad rows; nothing was stored:\n";
  for (const auto& i : issues) {
    std::cerr << "  line " << i.line << ": " << i.code;
    if (!i.field.empty()) std::cerr << " [" << i.field << "]";
    std::cerr << ": " << i.message << "\n";
  }
}

int cmd_import(const Options& o, zmq::context_t& ctx) {
  Flags f = parse_flags(o.args, {"--batch", "--max-file-mb"}, {"--dry-run"});
  if (!f.error.empty()) return usage_error(f.error);
  if (f.positional.size() != 1) return usage_error("import needs exactly one FILE");
  const std::string path = f.positional.front();
  const bool dry_run = f.switches.count("--dry-run") > 0;
  std::size_t batch = 2000;
  if (!first(f, "--batch").empty()) {
    batch = std::strtoul(first(f, "--batch").c_str(), nullptr, 10);
    if (batch == 0) return usage_error("--batch must be a positive number");
  }
  // The whole file is read and checked in memory before anything is sent: bounded.
  std::uintmax_t max_mb = 1024;
  if (const std::string text = first(f, "--max-file-mb"); !text.empty()) {
    char* end = nullptr;
    max_mb = std::strtoull(text.c_str(), &end, 10);
    if (max_mb == 0 || end == nullptr || *end != '\0' || max_mb > 1u << 20)
      return usage_error("--max-file-mb must be a whole number of megabytes, 1 to 1048576");
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
  auto file = hub::cli::parse_import(path, buffer.str());
  hub::cli::check_file_consistency(file);
  if (file.rows.empty()) {
    print_issues(path, file.issues);
    return kRejected;
  }

  // Households the file itself registers: later rows may refer to them before the hub has them.
  std::set<std::string> registered_here;
  for (const auto& r : file.rows)
    if (r.event["type"] == "household") registered_here.insert(r.event["household_id"].get<std::string>());

  HubClient client(ctx, o.ingest, std::chrono::milliseconds(std::max(o.timeout_ms, 60000)), keys_for(o, "publisher"));
  auto send_batches = [&](bool check_only, std::vector<hub::cli::ImportIssue>* issues, std::size_t* stored,
                          std::size_t* duplicates) -> int {
    hub::cli::Progress progress(check_only ? "检查 checking " + path : "导入 importing " + path, file.rows.size());
    for (std::size_t start = 0; start < file.rows.size(); start += batch) {
      const std::size_t end = std::min(file.rows.size(), start + batch);
      json events = json::array();
      for (std::size_t i = start; i < end; ++i) events.push_back(file.rows[i].event);
      json request{{"type", "batch"}, {"events", std::move(events)}};
      if (check_only) request["dry_run"] = true;
      auto reply = client.request(request);
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
      } else {
        progress.finish();
        print_error(*reply);
        if (!check_only && start > 0)
          std::cerr << "hubctl: rows before line " << file.rows[start].line
                    << " were stored; import the file again to continue (stored rows are skipped as duplicates)\n";
        return kRejected;
      }
      if (!check_only && !issues->empty()) {
        progress.finish();
        print_issues(path, *issues);
        if (start > 0)
          std::cerr << "hubctl: the hub's state changed during the import; rows before line " << file.rows[start].line
                    << " were stored\n";
        return kRejected;
      }
      progress.update(end);
    }
    progress.finish();
    return kOk;
  };

  // 1. The hub checks every well-formed row against its current state, storing nothing, so
  //    that the clerk sees every bad row of the file at once.
  std::vector<hub::cli::ImportIssue> issues = file.issues;
  std::size_t would_store = 0, would_duplicate = 0;
  if (int rc = send_batches(true, &issues, &would_store, &would_duplicate); rc != kOk) {
    if (!file.issues.empty()) print_issues(path, file.issues);
    return rc;
  }
  if (!issues.empty()) {
    std::stable_sort(issues.begin(), issues.end(),
                     [](const hub::cli::ImportIssue& a, const hub::cli::ImportIssue& b) { return a.line < b.line; });
    print_issues(path, issues);
    return kRejected;
  }
  issues.clear();
  std::map<std::string, std::size_t> by_status;
  for (const auto& r : file.rows)
    if (r.event["type"] == "status_change") ++by_status[r.event["status"].get<std::string>()];
  if (dry_run) {
    json summary{{"ok", true}, {"dry_run", true}, {"file", path}, {"kind", file.kind}, {"rows", file.rows.size()},
                 {"would_store", would_store}, {"duplicates", would_duplicate}, {"status_changes", by_status}};
    if (o.json_output) {
      std::cout << summary.dump() << "\n";
    } else {
      std::cout << "预览 / dry run: " << path << " (" << file.kind << "): " << file.rows.size() << " rows, "
                << would_store << " would be stored, " << would_duplicate << " already stored\n";
      for (const auto& [status, n] : by_status) std::cout << "  " << status << ": " << n << "\n";
      std::cout << "nothing was stored\n";
    }
    return kOk;
  }
  // 2. Store.
  std::size_t stored = 0, duplicates = 0;
  if (int rc = send_batches(false, &issues, &stored, &duplicates); rc != kOk) return rc;
  if (o.json_output) {
    std::cout << json{{"ok", true}, {"file", path}, {"kind", file.kind}, {"rows", file.rows.size()},
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
  if (!o.args.empty()) return usage_error("status takes no arguments");
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

int cmd_household(const Options& o, zmq::context_t& ctx) {
  if (o.args.size() != 1) return usage_error("household needs exactly one household id");
  HubClient client(ctx, o.admin, std::chrono::milliseconds(o.timeout_ms), keys_for(o, "admin"));
  auto reply = client.request(json{{"cmd", "household"}, {"household_id", o.args.front()}});
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
                 e.value("status", ""), e.value("previous_status", "") + (e.value("correction", false) ? " (更正 correction)" : "")});
  history.print(std::cout);
  std::cout << "\n各部门政策 / policies per department:\n";
  hub::cli::Table policies({"部门 department", "政策 policy", "状态 state", "金额 amount", "事件 event", "原因 reason"});
  for (const auto& d : h["departments"]) {
    for (const auto& p : d["policies"]) {
      const json& s = p["state"];
      policies.add({d["id"].get<std::string>() + " " + d["name_zh"].get<std::string>() + (d["up_to_date"].get<bool>() ? "" : " (送达中 pending)"),
                    p["name_zh"].get<std::string>(),
                    s.is_null() ? "-" : s["action"].get<std::string>(),
                    s.is_null() || s["amount_fen"].is_null() ? "" : hub::cli::yuan(s["amount_fen"].get<std::int64_t>()) + " 元",
                    s.is_null() ? "" : s["event_id"].get<std::string>(),
                    s.is_null() ? "" : s["reason"].get<std::string>()});
    }
  }
  policies.print(std::cout);
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
}

int cmd_report(const Options& o, zmq::context_t& ctx) {
  Flags f = parse_flags(o.args, {"--quarter", "--village", "--format"}, {});
  if (!f.error.empty()) return usage_error(f.error);
  if (!f.positional.empty()) return usage_error("report takes no positional arguments");
  if (first(f, "--quarter").empty()) return usage_error("report needs --quarter, e.g. --quarter 2020Q4");
  std::string format = first(f, "--format");
  if (format.empty()) format = o.json_output ? "json" : "table";
  if (format != "table" && format != "json" && format != "csv") return usage_error("--format is table, json or csv");
  json request{{"cmd", "report"}, {"quarter", first(f, "--quarter")}};
  if (!first(f, "--village").empty()) request["village"] = first(f, "--village");
  int code = kOk;
  auto reply = ask_admin(o, ctx, request, &code);
  if (!reply) return code;
  if (format == "json") std::cout << reply->dump() << "\n";
  else if (format == "csv") std::cout << hub::report::report_csv(*reply);
  else print_report_table(*reply);
  return kOk;
}

int cmd_reconcile(const Options& o, zmq::context_t& ctx) {
  if (!o.args.empty()) return usage_error("reconcile takes no arguments");
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
  const Flags f = parse_flags(o.args, {"--file", "--public-key"}, {});
  if (!f.error.empty()) return usage_error(f.error);
  if (f.positional.size() != 1 || f.positional[0] != "verify")
    return usage_error("usage: hubctl audit verify [--file FILE] [--public-key FILE]");
  std::optional<std::array<unsigned char, 32>> public_key;
  if (f.values.count("--public-key")) {
    std::ifstream in(f.values.at("--public-key").back());
    std::string text;
    in >> text;
    const auto bytes = hub::audit::from_hex(text, 32);
    if (!bytes) return usage_error("--public-key " + f.values.at("--public-key").back() +
                                   " must hold an Ed25519 public key as 64 hex digits (NAME.sign.pub from hubctl keygen)");
    public_key.emplace();
    std::copy(bytes->begin(), bytes->end(), public_key->begin());
  }

  if (f.values.count("--file")) {  // one audit.db, as before
    const std::string path = f.values.at("--file").back();
    if (!std::ifstream(path)) {
      std::cerr << "hubctl: 找不到审计日志 / no audit log at " << path << " (see --file, --data-dir)\n";
      return kRejected;
    }
    const auto result = hub::audit::verify_audit_log(path, public_key);
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

  // The data directory: the three chains, each read-only in one snapshot of its file.
  const std::filesystem::path dir = o.data_dir.empty() ? std::string("var") : o.data_dir;
  struct Chain {
    const char* name;
    const char* file;
  };
  const Chain chains[] = {{"audit", "audit.db"}, {"events", "events.db"}, {"ledger", "ledger.db"}};
  bool all_ok = true;
  json report = json::array();
  for (const Chain& c : chains) {
    const std::string path = (dir / c.file).string();
    hub::audit::VerifyResult result;
    // hubd creates all three files at its start: a missing one is a finding.
    if (!std::filesystem::exists(path)) {
      result.problem = "missing";
      result.message = std::string("找不到 / missing: ") + path + " (hubd creates it at its first start; see --data-dir)";
    } else if (std::string(c.name) == "audit") {
      result = hub::audit::verify_audit_log(path, public_key);
    } else if (std::string(c.name) == "events") {
      result = hub::audit::verify_event_chain(path);
    } else {
      result = hub::audit::verify_ledger_chain(path);
    }
    all_ok = all_ok && result.ok;
    if (o.json_output) {
      json one = verify_json(result);
      one["chain"] = c.name;
      one["file"] = path;
      if (!result.ok && result.problem == "missing") one["problem"] = "missing";
      report.push_back(std::move(one));
      continue;
    }
    (result.ok ? std::cout : std::cerr) << c.file << ": " << result.message << "\n";
    if (result.ok) {
      std::cout << "  head 链头: " << (result.head_hash_hex.empty() ? "-" : result.head_hash_hex) << "\n";
      if (std::string(c.name) == "audit")
        std::cout << "  signatures 签名: "
                  << (public_key ? std::to_string(result.signatures_checked) + " checked 已校验"
                                 : std::string("not checked (no --public-key) 未校验"))
                  << "\n";
    }
  }
  if (o.json_output) std::cout << json{{"ok", all_ok}, {"data_dir", dir.string()}, {"chains", report}}.dump(2) << "\n";
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
  const Flags f = parse_flags(o.args, {"--by"}, {});
  if (!f.error.empty()) return usage_error(f.error);
  if (f.positional.size() != 1 || (f.positional[0] != "list" && f.positional[0] != "reload"))
    return usage_error("usage: hubctl keys list | keys reload [--by NAME]");
  json request{{"cmd", "keys"}, {"action", f.positional[0]}};
  const char* user = std::getenv("USER");
  request["by"] = f.values.count("--by") ? f.values.at("--by").back() : std::string(user != nullptr ? user : "");
  int exit_code = kOk;
  auto reply = ask_admin(o, ctx, request, &exit_code);
  if (!reply) return exit_code;
  if (o.json_output) {
    std::cout << reply->dump(2) << "\n";
    return kOk;
  }
  if (f.positional[0] == "reload") {
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
  const Flags f = parse_flags(o.args, {"--dir"}, {});
  if (!f.error.empty()) return usage_error(f.error);
  if (f.positional.size() != 1 || !hub::is_valid_id(f.positional[0]))
    return usage_error("usage: hubctl keygen NAME [--dir DIR] (NAME: letters, digits, '-', '_')");
  const std::string dir = f.values.count("--dir") ? f.values.at("--dir").back() : ".";
  const std::string base = dir + "/" + f.positional[0];
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
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsageText;
      return kOk;
    } else if (a == "--version") {
      std::cout << "hubctl " HUB_SDK_VERSION_STRING "\n";
      return kOk;
    } else if (a == "--json") {
      o.json_output = true;
    } else if (a == "--ingest") {
      if (!value(&o.ingest)) return usage_error("--ingest needs an endpoint");
    } else if (a == "--admin") {
      if (!value(&o.admin)) return usage_error("--admin needs an endpoint");
    } else if (a == "--data-dir") {
      if (!value(&o.data_dir)) return usage_error("--data-dir needs a directory");
    } else if (a == "--keys") {
      if (!value(&o.keys_dir)) return usage_error("--keys needs a directory");
    } else if (a == "--key") {
      if (!value(&o.key_name) || !hub::is_valid_id(o.key_name))
        return usage_error("--key needs a key's NAME (the NAME.curve.key file in the keys directory)");
    } else if (a == "--timeout") {
      std::string t;
      if (!value(&t) || std::atoi(t.c_str()) <= 0) return usage_error("--timeout needs milliseconds");
      o.timeout_ms = std::atoi(t.c_str());
      o.timeout_given = true;
    } else if (a.rfind("--", 0) == 0) {
      return usage_error("unknown option " + a);
    } else {
      break;
    }
  }
  if (i >= args.size()) return usage_error("no command given");
  o.command = args[i];
  for (++i; i < args.size(); ++i) {
    if (args[i] == "--json") o.json_output = true;
    else o.args.push_back(args[i]);
  }
  const auto endpoints = hub::cli::resolve_endpoints(o.ingest, o.admin, o.data_dir);
  o.ingest = endpoints.ingest;
  o.admin = endpoints.admin;

  zmq::context_t ctx(1);
  try {
    if (o.command == "publish") return cmd_publish(o, ctx);
    if (o.command == "import") return cmd_import(o, ctx);
    if (o.command == "status") return cmd_status(o, ctx);
    if (o.command == "household") return cmd_household(o, ctx);
    if (o.command == "parked" || o.command == "plugins") {
      HubClient client(ctx, o.admin, std::chrono::milliseconds(o.timeout_ms), keys_for(o, "admin"));
      return o.command == "parked" ? hub::cli::run_parked(o.args, o.json_output, client)
                                   : hub::cli::run_plugins(o.args, o.json_output, client);
    }
    if (o.command == "report") return cmd_report(o, ctx);
    if (o.command == "reconcile") return cmd_reconcile(o, ctx);
    if (o.command == "audit") return cmd_audit(o);
    if (o.command == "keys") return cmd_keys(o, ctx);
    if (o.command == "keygen") return cmd_keygen(o);
  } catch (const hub::cli::KeyError& e) {
    std::cerr << "hubctl: " << e.what() << "\n";
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "hubctl: failed: " << e.what() << "\n";
    return kRejected;
  }
  return usage_error("unknown command '" + o.command + "'");
}

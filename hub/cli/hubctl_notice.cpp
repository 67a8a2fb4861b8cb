#include "cli/hubctl_notice.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <variant>

#include <nlohmann/json.hpp>

#include "cli/hubctl_verbs.h"
#include "cli/output.h"
#include "common/command_line.h"
#include "domain/import_file.h"

namespace hub::cli {
namespace {

using nlohmann::json;
using command_line::usage_error;

constexpr std::uintmax_t kMaxFileBytes = 64u << 20;  // a town's quarter is well under 1 MB

std::string text_or(const json& value, const char* none) {
  return value.is_string() ? value.get<std::string>() : std::string(none);
}

std::string joined(const json& values, const char* separator) {
  std::string out;
  for (const json& v : values) out += (out.empty() ? "" : separator) + v.get<std::string>();
  return out;
}

// The file's status changes with their lines, or the exit code after saying what is wrong.
std::variant<json, int> read_proposals(const CLI::App& command, const std::string& path) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) return usage_error(command, "cannot read " + path + " (" + error.message() + ")");
  if (size > kMaxFileBytes) {
    std::cerr << "hubctl: " << path << ": file_too_large: " << size
              << " bytes; propose one village or quarter per file / 文件过大，请按村拆分\n";
    return kExitRejected;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  ImportFile file = parse_import(path, text.str());
  check_file_consistency(file);
  for (const ImportRow& row : file.rows)
    if (row.event.value("type", "") != "status_change")
      file.issues.push_back({row.line, "invalid_field", "type",
                             "only evaluations are proposed; import households and commitments with hubctl import / "
                             "公示只含评议结果"});
  if (file.rows.empty() && file.issues.empty())
    file.issues.push_back({0, "missing_field", "", "the file has no evaluations / 文件中没有评议结果"});
  if (!file.issues.empty()) {
    std::cerr << "hubctl: " << path << ": " << file.issues.size() << " 行有误，未提交任何公示 / bad rows; nothing was proposed:\n";
    for (const ImportIssue& i : file.issues)
      std::cerr << "  line " << i.line << ": " << i.code << (i.field.empty() ? "" : " [" + i.field + "]") << ": "
                << i.message << "\n";
    return kExitRejected;
  }
  json request{{"cmd", "notice"}, {"action", "propose"}, {"events", json::array()}, {"lines", json::array()}};
  for (ImportRow& row : file.rows) {
    request["events"].push_back(std::move(row.event));
    request["lines"].push_back(row.line);
  }
  return request;
}

void print_notice(const json& n) {
  std::cout << n["village"].get<std::string>() << " " << n["quarter"].get<std::string>()
            << " 公示名单 / notice list — 公示期至 notice period until " << n["ends_on"].get<std::string>()
            << (n["period_over"].get<bool>() ? " (已满 over)" : " (未满 running)") << "\n";
  Table table({"户号 household", "户主 head", "评议结果 result", "认定 designations", "生效日期 effective",
               "状态 standing", "投诉 complaints"});
  for (const json& h : n["households"])
    table.add({h["household_id"], text_or(h["head"], "-"),
               h["status_zh"].get<std::string>() + " " + h["status"].get<std::string>(), joined(h["designations"], ", "),
               text_or(h["effective_date"], "-"),
               h["standing_zh"].get<std::string>() + " " + h["standing"].get<std::string>(),
               h["superseded_by"].is_string() ? "裁定 ruled " + h["superseded_by"].get<std::string>()
                                              : joined(h["complaints"], ", ")});
  table.print(std::cout);
  const json& c = n["counts"];
  std::cout << "公示中 proposed " << c["proposed"] << ", 有异议 disputed " << c["disputed"] << ", 已确认 final "
            << c["final"] << ", 已生效 in effect " << c["in_effect"] << ", 已更正 superseded " << c["superseded"] << "\n";
}

}  // namespace

CLI::App* add_notice_verbs(CLI::App& hubctl, NoticeArgs& a, bool* json_output) {
  CLI::App* verb = add_verb(hubctl, "notice",
                            "公示 / notice before effect: propose, list, show, confirm (notice ACTION --help)",
                            json_output);
  const auto village_quarter = [&a](CLI::App* action) {
    add_text_options(*action, {{"--village", &a.village, "V", "村 / the village, e.g. V03 (required)"},
                               {"--quarter", &a.quarter, "Q", "季度 / the quarter, e.g. 2026Q4 (required)"}});
  };
  const auto by = [&a](CLI::App* action) {
    add_text_options(*action, {{"--by", &a.by, "NAME", "操作人 / who does it, recorded with it (default $USER)"}});
  };
  CLI::App* propose = add_verb(*verb, "propose",
                               "提交公示 / post a quarter's evaluations as proposed: listed, not delivered (audited)",
                               json_output);
  propose->add_option("FILE", a.file, "评议结果文件 / an evaluations CSV or JSONL, as hubctl import reads it");
  by(propose);
  CLI::App* list = add_verb(*verb, "list", "公示一览 / every village's notice, latest quarter first", json_output);
  add_text_options(*list, {{"--quarter", &a.quarter, "Q", "季度 / one quarter's"}});
  CLI::App* show = add_verb(*verb, "show", "公示名单 / the notice list a village posts", json_output);
  village_quarter(show);
  CLI::App* confirm = add_verb(*verb, "confirm",
                               "确认公示 / make the village's undisputed proposals final, so they are delivered "
                               "(audited)",
                               json_output);
  village_quarter(confirm);
  add_text_options(*confirm, {{"--reason", &a.reason, "TEXT",
                               "提前确认理由 / why, when the notice period is not over (required then)"}});
  by(confirm);
  return verb;
}

int run_notice(const CLI::App& command, const NoticeArgs& a, bool json_output, HubClient& client) {
  const std::string action = command.get_name();
  json request{{"cmd", "notice"}, {"action", action}};
  if (action == "propose") {
    if (a.file.empty()) return usage_error(command, "notice propose needs the evaluations FILE");
    auto read = read_proposals(command, a.file);
    if (const int* code = std::get_if<int>(&read)) return *code;
    request = std::move(std::get<json>(read));
  }
  const auto put = [&request](const char* field, const std::string& value) {
    if (!value.empty()) request[field] = value;
  };
  put("quarter", a.quarter);
  if (action == "show" || action == "confirm") put("village", a.village);
  if (action == "confirm") put("reason", a.reason);
  if (action == "propose" || action == "confirm") request["by"] = operator_name(a.by);

  const auto reply = client.request(request);
  if (!reply) return report_unreachable(client.endpoint());
  if (json_output) std::cout << reply->dump() << "\n";
  if (!reply->value("ok", false) && !(action == "confirm" && reply->contains("confirmed")))
    return report_rejected(*reply);
  if (json_output) return reply->value("ok", false) ? kExitOk : kExitRejected;
  const json& r = *reply;
  if (action == "propose") {
    std::cout << "已提交公示 / proposed: " << r["added"] << " new, " << r["replaced"] << " replaced, " << r["unchanged"]
              << " unchanged (not delivered until confirmed 确认前不送达)\n";
    for (const json& n : r["notices"])
      std::cout << "  " << n["village"].get<std::string>() << " " << n["quarter"].get<std::string>() << ": "
                << n["proposals"] << " 户 households, 公示期至 notice period until " << n["ends_on"].get<std::string>()
                << "\n";
  } else if (action == "list") {
    Table table({"村 village", "季度 quarter", "公示中 proposed", "已确认 confirmed", "已更正 superseded",
                 "提交 proposed on", "公示期至 until"});
    for (const json& n : r["notices"])
      table.add({n["village"], n["quarter"], n["proposed"].dump(), n["confirmed"].dump(), n["superseded"].dump(),
                 n["last_proposed_on"], n["ends_on"].get<std::string>() + (n["period_over"].get<bool>() ? " ✓" : "")});
    table.print(std::cout);
  } else if (action == "show") {
    print_notice(r["notice"]);
  } else {
    std::cout << "已确认 / confirmed " << r["village"].get<std::string>() << " " << r["quarter"].get<std::string>()
              << ": " << r["confirmed"].size() << " 户 households final"
              << (r["early"].get<bool>() ? " (提前确认 early: " + text_or(r["reason"], "") + ")" : "") << "\n";
    for (const json& h : r["held"])
      std::cout << "  有异议，暂不确认 held by a complaint: " << h["household_id"].get<std::string>() << " ("
                << joined(h["complaints"], ", ") << ")\n";
    if (r.contains("not_stored")) {
      for (const json& n : r["not_stored"])
        std::cerr << "  未能保存 not stored: " << n["household_id"].get<std::string>() << ": "
                  << n["error"].value("code", "") << " " << n["error"].value("message", "") << "\n";
      std::cerr << "hubctl: " << r["not_stored"].size()
                << " 户未能保存，仍在公示中；请再次确认 / not stored and still proposed; confirm again\n";
      return kExitRejected;
    }
  }
  return kExitOk;
}

}  // namespace hub::cli

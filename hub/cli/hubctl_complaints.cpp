#include "cli/hubctl_complaints.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/hubctl_verbs.h"
#include "cli/output.h"
#include "common/command_line.h"

namespace hub::cli {
namespace {

using nlohmann::json;
using command_line::usage_error;

constexpr int kOk = kExitOk, kRejected = kExitRejected;

int unreachable(const HubClient& client) { return report_unreachable(client.endpoint()); }

int rejected(const json& reply) { return report_rejected(reply); }

std::string text_or(const json& value, const char* none) {
  return value.is_string() ? value.get<std::string>() : std::string(none);
}

void print_complaint(const json& c) {
  const auto line = [](const char* label, const std::string& value) { std::cout << label << value << "\n"; };
  line("编号 id:               ", c["id"].get<std::string>());
  line("户 household:          ", c["household_id"].get<std::string>() + " (" + c["village"].get<std::string>() + ")");
  line("季度 quarter:          ", c["quarter"].get<std::string>());
  line("渠道 channel:          ", c["channel_zh"].get<std::string>() + " " + c["channel"].get<std::string>());
  line("受理日期 received:     ", c["received_on"].get<std::string>());
  line("办理期限 deadline:     ", c["deadline"].get<std::string>() + (c["overdue"].get<bool>() ? "  ⚠ 已逾期 overdue" : ""));
  line("状态 state:            ", c["state_zh"].get<std::string>() + " " + c["state"].get<std::string>());
  line("投诉人 lodged by:      ", text_or(c["lodged_by"], "匿名 anonymous"));
  line("承办人 handler:        ", text_or(c["handler"], "-"));
  line("内容 summary:          ", c["summary"].get<std::string>());
  if (c["ruling"].is_string()) {
    line("裁定日期 ruled on:     ", c["ruled_on"].get<std::string>());
    line("裁定 ruling:           ", c["ruling"].get<std::string>());
  }
}

}  // namespace

CLI::App* add_complaints_verbs(CLI::App& hubctl, ComplaintArgs& a, bool* json_output) {
  CLI::App* verb = add_verb(hubctl, "complaints",
                            "投诉举报 / the complaints register: add, show, list, investigate, rule "
                            "(complaints ACTION --help)",
                            json_output);
  const auto id = [&a](CLI::App* action) {
    action->add_option("ID", a.id, "投诉编号 / the complaint's id, e.g. TS-2026-000123 (or its number)");
  };
  const auto by = [&a](CLI::App* action) {
    add_text_options(*action, {{"--by", &a.by, "NAME", "操作人 / who does it, recorded with it (default $USER)"}});
  };

  CLI::App* add = add_verb(*verb, "add", "登记投诉 / lodge a complaint (audited)", json_output);
  add_text_options(*add, {{"--household", &a.household, "H", "户 / the household concerned, e.g. V03-00417 (required)"},
                          {"--quarter", &a.quarter, "Q", "季度 / the quarter whose evaluation is challenged (required)"},
                          {"--channel", &a.channel, "C",
                           "渠道 / town_box 镇投诉箱, village_box 村投诉箱, phone 电话, visit 来访, online 网上 "
                           "(required)"},
                          {"--summary", &a.summary, "TEXT", "内容 / what the complaint says, up to 1000 characters (required)"},
                          {"--received", &a.received, "YYYY-MM-DD", "受理日期 / the day it was received (default today)"},
                          {"--lodged-by", &a.lodged_by, "NAME", "投诉人 / who lodged it (omit: anonymous 匿名)"},
                          {"--handler", &a.handler, "NAME", "承办人 / who handles it (or at investigate)"}});
  by(add);

  CLI::App* show = add_verb(*verb, "show", "查看投诉 / one complaint", json_output);
  id(show);

  CLI::App* list = add_verb(*verb, "list", "投诉列表 / complaints, oldest first", json_output);
  add_text_options(*list, {{"--state", &a.state, "S", "状态 / received, investigating, upheld or dismissed"},
                           {"--household", &a.household, "H", "户 / one household's"},
                           {"--village", &a.village, "V", "村 / one village's"},
                           {"--after", &a.after, "N", "paging: complaints numbered after N (next_after of the last page)"},
                           {"--limit", &a.limit, "N", "at most N (1-1000, default 100)"}});
  list->add_flag("--overdue", a.overdue, "逾期 / only those not ruled by their deadline");

  CLI::App* investigate =
      add_verb(*verb, "investigate", "开始调查 / received → investigating (audited)", json_output);
  id(investigate);
  add_text_options(*investigate,
                   {{"--handler", &a.handler, "NAME", "承办人 / who investigates (required unless already named)"}});
  by(investigate);

  CLI::App* rule = add_verb(*verb, "rule", "裁定 / rule: upheld 属实 or dismissed 不属实 (final, audited)", json_output);
  id(rule);
  add_text_options(*rule, {{"--outcome", &a.outcome, "O", "upheld 属实 | dismissed 不属实 (required)"},
                           {"--ruling", &a.ruling, "TEXT", "裁定意见 / the ruling, up to 2000 characters (required)"},
                           {"--ruled-on", &a.ruled_on, "YYYY-MM-DD",
                            "裁定日期 / not before the received date, not after today (required)"},
                           {"--status", &a.corrected_status, "S",
                            "更正后的评议结果 / upheld: the complaint's quarter corrected to credit 诚信户, non_credit "
                            "不诚信户 or breach 违约户 (required when upheld; a past quarter too)"},
                           {"--effective-date", &a.corrected_effective_date, "YYYY-MM-DD",
                            "更正生效日期 / upheld: the correction's effective date (default: the day after the quarter)"}});
  rule->add_option("--designation", a.corrected_designations,
                   "认定 / upheld: a designation of the corrected evaluation, e.g. assistance 帮扶对象 (repeat for more)");
  by(rule);
  return verb;
}

int run_complaints(const CLI::App& command, const ComplaintArgs& a, bool json_output, HubClient& client) {
  const std::string action = command.get_name() == "add" ? "lodge" : command.get_name();
  json request{{"cmd", "complaints"}, {"action", action}};
  const auto put = [&request](const char* field, const std::string& value) {
    if (!value.empty()) request[field] = value;
  };
  if (action == "show" || action == "investigate" || action == "rule") {
    if (a.id.empty()) return usage_error(command, "complaints " + action + " needs the complaint's ID, e.g. TS-2026-000123");
    request["id"] = a.id;
  }
  if (action == "lodge") {
    put("household_id", a.household);
    put("quarter", a.quarter);
    put("channel", a.channel);
    put("received_on", a.received);
    put("summary", a.summary);
    put("lodged_by", a.lodged_by);
    put("handler", a.handler);
  } else if (action == "investigate") {
    put("handler", a.handler);
  } else if (action == "rule") {
    put("outcome", a.outcome);
    put("ruling", a.ruling);
    put("ruled_on", a.ruled_on);
    if (!a.corrected_status.empty() || !a.corrected_effective_date.empty() || !a.corrected_designations.empty()) {
      json correction = json::object();
      if (!a.corrected_status.empty()) correction["status"] = a.corrected_status;
      if (!a.corrected_effective_date.empty()) correction["effective_date"] = a.corrected_effective_date;
      if (!a.corrected_designations.empty()) correction["designations"] = a.corrected_designations;
      request["correction"] = std::move(correction);
    }
  } else if (action == "list") {
    put("state", a.state);
    put("household_id", a.household);
    put("village", a.village);
    if (a.overdue) request["overdue"] = true;
    for (const auto& [flag, text] : {std::pair{"after", &a.after}, std::pair{"limit", &a.limit}}) {
      if (text->empty()) continue;
      char* end = nullptr;
      const unsigned long long v = std::strtoull(text->c_str(), &end, 10);
      if (*end != '\0' || text->front() == '-') return usage_error(command, std::string("--") + flag + " needs a number");
      request[flag] = v;
    }
  }
  if (action == "lodge" || action == "investigate" || action == "rule") request["by"] = operator_name(a.by);

  const auto reply = client.request(request);
  if (!reply) return unreachable(client);
  if (json_output) std::cout << reply->dump() << "\n";
  if (!reply->value("ok", false)) return rejected(*reply);
  if (json_output) return kOk;
  if (action == "list") {
    Table table({"编号 id", "户 household", "村 village", "季度 quarter", "渠道 channel", "受理 received",
                 "期限 deadline", "状态 state", "承办人 handler", "逾期 overdue"});
    for (const auto& c : (*reply)["complaints"])
      table.add({c["id"], c["household_id"], c["village"], c["quarter"], c["channel_zh"].get<std::string>(),
                 c["received_on"], c["deadline"], c["state_zh"].get<std::string>() + " " + c["state"].get<std::string>(),
                 text_or(c["handler"], "-"), c["overdue"].get<bool>() ? "⚠ 是 yes" : ""});
    table.print(std::cout);
    std::cout << (*reply)["complaints"].size() << " 条 / complaint(s)";
    if ((*reply)["more"].get<bool>()) std::cout << " (more: --after " << (*reply)["next_after"] << ")";
    std::cout << "\n";
    return kOk;
  }
  const json& c = (*reply)["complaint"];
  if (action == "lodge") std::cout << "已登记 lodged " << c["id"].get<std::string>() << "\n";
  if (action == "investigate") std::cout << "调查中 investigating " << c["id"].get<std::string>() << "\n";
  if (action == "rule") std::cout << "已裁定 ruled " << c["id"].get<std::string>() << ": " << c["state_zh"].get<std::string>()
                                  << " " << c["state"].get<std::string>() << "\n";
  print_complaint(c);
  if (const auto it = reply->find("correction"); it != reply->end() && it->is_object()) {
    const json& e = *it;
    std::cout << "更正 correction:        " << e["household_id"].get<std::string>() << " "
              << e["quarter"].get<std::string>() << " → " << e["status"].get<std::string>() << ", "
              << e["event_id"].get<std::string>() << " seq " << e["seq"].dump()
              << (e["duplicate"].get<bool>() ? " (已保存 already stored)" : "") << "\n";
  }
  return kOk;
}

}  // namespace hub::cli

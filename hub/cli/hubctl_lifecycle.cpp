#include "cli/hubctl_lifecycle.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "common/command_line.h"

namespace hub::cli {
namespace {

using nlohmann::json;

constexpr int kOk = kExitOk, kRejected = kExitRejected;

using command_line::usage_error;

int unreachable(const HubClient& client) { return report_unreachable(client.endpoint()); }

int rejected(const json& reply) { return report_rejected(reply); }

std::string local_time(const json& ms) {
  if (!ms.is_number_integer()) return "-";
  const std::time_t t = static_cast<std::time_t>(ms.get<std::int64_t>() / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

std::optional<json> call(HubClient& client, const json& request) { return client.request(request); }

}  // namespace

LifecycleVerbs add_lifecycle_verbs(CLI::App& hubctl, VerbArgs& a, bool* json_output) {
  LifecycleVerbs verbs;
  verbs.parked = add_verb(hubctl, "parked",
                          "暂存事件 / parked events (dead letters, and confirmed notices' events waiting for their "
                          "effective date): list, retry or skip them (parked ACTION --help)",
                          json_output);
  const auto selectors = [&a](CLI::App* action) {
    add_text_options(*action, {{"--department", &a.department, "D", "部门 / one department's"},
                                {"--household", &a.household, "H", "户 / one household's"},
                                {"--seq", &a.seq, "N", "the event with this sequence number"}});
  };
  CLI::App* list = add_verb(*verbs.parked, "list", "暂存事件 / the parked events", json_output);
  selectors(list);
  list->add_option("--limit", a.limit, "at most N events")->type_name("N");
  list->add_flag("--all", a.all, "also the resolved ones, with who retried or skipped them");
  for (const char* action : {"retry", "skip"}) {
    CLI::App* verb = add_verb(*verbs.parked, action,
                              std::string(action == std::string("retry") ? "重试 / deliver them again"
                                                                         : "跳过 / give up on them, recorded") +
                                  " (what: --department, --household or --seq)",
                              json_output);
    selectors(verb);
    add_by_option(*verb, a);
  }

  verbs.plugins = add_verb(hubctl, "plugins",
                           "插件管理 / plugin lifecycle without restarting hubd: list, reload, disable, enable "
                           "(plugins ACTION --help)",
                           json_output);
  add_verb(*verbs.plugins, "list",
           "plugins and who disabled a department since when, and whether its library is the config's or a "
           "reload's (by whom, when)",
           json_output);
  const auto department = [&a](CLI::App* action) {
    action->add_option("DEPARTMENT", a.department, "部门 / the department, e.g. police");
  };
  CLI::App* reload = add_verb(*verbs.plugins, "reload",
                              "重新加载 / load the department's library again (recorded in the ledger; kept over a "
                              "restart while the config's library stays the one it replaced)",
                              json_output);
  department(reload);
  reload->add_option("--library", a.library, "another library to load")->type_name("PATH");
  add_by_option(*reload, a);
  CLI::App* disable = add_verb(*verbs.plugins, "disable", "停用 / stop delivering to the department (recorded)",
                               json_output);
  department(disable);
  disable->add_option("--reason", a.reason, "why, shown by plugins list")->type_name("TEXT");
  add_by_option(*disable, a);
  CLI::App* enable = add_verb(*verbs.plugins, "enable", "启用 / deliver to the department again (recorded)",
                              json_output);
  department(enable);
  add_by_option(*enable, a);
  return verbs;
}

int run_parked(const CLI::App& command, const VerbArgs& a, bool json_output, HubClient& client) {
  const std::string action = command.get_name();
  json request{{"cmd", "parked"}, {"action", action}};
  if (!a.department.empty()) request["department"] = a.department;
  if (!a.household.empty()) request["household_id"] = a.household;
  for (const auto& [flag, text] : {std::pair{"--seq", &a.seq}, std::pair{"--limit", &a.limit}}) {
    if (text->empty()) continue;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text->c_str(), &end, 10);
    if (*end != '\0' || v == 0) return usage_error(command, std::string(flag) + " needs a positive number");
    request[std::string(flag).substr(2)] = v;
  }
  if (action == "list") {
    request["all"] = a.all;
  } else {
    if (!request.contains("department") && !request.contains("household_id") && !request.contains("seq"))
      return usage_error(command,
                         "parked " + action + " needs --department, --household or --seq (what to " + action + ")");
    request["by"] = operator_name(a.by);
  }
  const auto reply = call(client, request);
  if (!reply) return unreachable(client);
  if (!reply->value("ok", false)) {
    if (json_output) std::cout << reply->dump() << "\n";
    return rejected(*reply);
  }
  if (json_output) {
    std::cout << reply->dump() << "\n";
  } else if (action == "list") {
    const bool all = request["all"].get<bool>();
    std::vector<std::string> header{"部门 department", "seq", "户 household", "状态 state", "尝试 attempts", "暂存于 parked at",
                                    "原因 reason"};
    if (all) header.insert(header.end(), {"处理人 by", "处理于 at"});
    Table table(header);
    for (const auto& p : (*reply)["parked"]) {
      // A confirmed notice's event that waits for its effective date is not a failure.
      const bool waiting = p["state"] == "parked" && p.value("effective_on", json()).is_string();
      std::vector<std::string> row{p["department"], std::to_string(p["seq"].get<std::uint64_t>()), p["household_id"],
                                   waiting ? "待生效 waiting" : p["state"].get<std::string>(), std::to_string(p["attempts"].get<std::int64_t>()),
                                   local_time(p["parked_at_ms"]), p["reason"]};
      if (all) {
        row.push_back(p["resolved_by"].is_string() ? p["resolved_by"].get<std::string>() : "-");
        row.push_back(local_time(p["resolved_at_ms"]));
      }
      table.add(std::move(row));
    }
    table.print(std::cout);
    if (all)
      for (const auto& p : (*reply)["parked"])
        for (const auto& h : p["history"])
          std::cout << "  " << p["department"].get<std::string>() << " seq " << p["seq"] << ": " << h["action"].get<std::string>()
                    << " by " << h["by"].get<std::string>() << " at " << local_time(h["at_ms"]) << " -> "
                    << h["outcome"].get<std::string>() << "\n";
    std::cout << (*reply)["parked"].size() << " 条 / event(s)" << ((*reply)["truncated"].get<bool>() ? " (more: --limit)" : "")
              << "\n";
  } else if (action == "skip") {
    for (const auto& s : (*reply)["skipped"])
      std::cout << "跳过 skipped " << s["department"].get<std::string>() << " seq " << s["seq"] << " ("
                << s["household_id"].get<std::string>() << ")\n";
    std::cout << "recorded as skipped by " << (*reply)["by"].get<std::string>() << "\n";
  }
  if (action == "retry") {
    bool all_delivered = true;
    for (const auto& d : (*reply)["departments"]) {
      if (!json_output) {
        for (const auto& e : d["delivered"])
          std::cout << "送达 delivered " << d["department"].get<std::string>() << " seq " << e["seq"] << " ("
                    << e["household_id"].get<std::string>() << ")\n";
        for (const auto& e : d["still_parked"])
          std::cout << "仍暂存 still parked " << d["department"].get<std::string>() << " seq " << e["seq"] << " ("
                    << e["household_id"].get<std::string>() << "): " << e["reason"].get<std::string>() << "\n";
        if (d.contains("error")) std::cout << d["department"].get<std::string>() << ": " << d["error"].dump() << "\n";
      }
      all_delivered = all_delivered && d.value("ok", true) && d["still_parked"].empty();
    }
    return all_delivered ? kOk : kRejected;
  }
  return kOk;
}

int run_plugins(const CLI::App& command, const VerbArgs& a, bool json_output, HubClient& client) {
  const std::string action = command.get_name();
  json request{{"cmd", "plugins"}, {"action", action}};
  if (action != "list") {
    if (a.department.empty())
      return usage_error(command, "plugins " + action + " needs exactly one department, e.g. police");
    request["department"] = a.department;
    request["by"] = operator_name(a.by);
    if (!a.library.empty()) request["library"] = std::filesystem::absolute(a.library).lexically_normal().string();
    if (!a.reason.empty()) request["reason"] = a.reason;
  }
  const auto reply = call(client, request);
  if (!reply) return unreachable(client);
  if (json_output) std::cout << reply->dump() << "\n";
  if (!reply->value("ok", false)) return rejected(*reply);
  if (json_output) return kOk;
  if (action == "list") {
    Table table({"部门 department", "运行 placement", "状态 state", "版本 version", "ABI", "暂存 parked", "库 library",
                 "来源 source"});
    for (const auto& p : (*reply)["plugins"]) {
      // Where the library comes from: the configuration, or an operator's reload (recorded).
      std::string source = p.value("library_source", "config");
      if (source == "reload" && p["reloaded_by"].is_string())
        source = "reload by " + p["reloaded_by"].get<std::string>() + " at " + local_time(p["reloaded_at_ms"]);
      table.add({p["id"], p["placement"].get<std::string>() + (p["host"].get<std::string>().empty() ? "" : " @" + p["host"].get<std::string>()),
                 p["state"], p["plugin_version"], std::to_string(p["abi_version"].get<std::uint32_t>()),
                 std::to_string(p["parked"].get<std::size_t>()), p["library"], source});
    }
    table.print(std::cout);
    for (const auto& p : (*reply)["plugins"]) {
      const std::string id = p["id"].get<std::string>();
      if (p.value("disabled", false) && p["disabled_by"].is_string())
        std::cout << "  " << id << ": 已停用 disabled by " << p["disabled_by"].get<std::string>() << " since "
                  << local_time(p["disabled_at_ms"])
                  << (p["disabled_reason"].is_string() ? ": " + p["disabled_reason"].get<std::string>() : "")
                  << " (hubctl plugins enable " << id << ")\n";
      if (!p.value("library_error", "").empty())
        std::cout << "  " << id << ": reloaded library " << p["reloaded_library"].get<std::string>()
                  << " not loaded, using the configuration's: " << p["library_error"].get<std::string>() << "\n";
      if (!p["last_error"].get<std::string>().empty())
        std::cout << "  " << id << ": " << p["last_error"].get<std::string>() << "\n";
    }
  } else if (action == "reload") {
    std::cout << "已重新加载 reloaded " << (*reply)["department"].get<std::string>() << ": "
              << (*reply)["previous_version"].get<std::string>() << " -> " << (*reply)["plugin_version"].get<std::string>()
              << " (" << (*reply)["library"].get<std::string>() << ")\n";
  } else {
    std::cout << (*reply)["department"].get<std::string>() << ": " << (*reply)["state"].get<std::string>()
              << ((*reply)["changed"].get<bool>() ? "" : " (unchanged)") << "\n";
  }
  return kOk;
}

}  // namespace hub::cli

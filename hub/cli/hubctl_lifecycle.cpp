#include "cli/hubctl_lifecycle.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/output.h"

namespace hub::cli {
namespace {

using nlohmann::json;

constexpr int kOk = 0, kRejected = 1, kUsage = 2, kUnreachable = 3;

int usage(const std::string& message) {
  std::cerr << "hubctl: " << message << "\n(run 'hubctl --help' for usage)\n";
  return kUsage;
}

int unreachable(const HubClient& client) {
  std::cerr << "hubctl: 无法连接枢纽 / the hub is unreachable at " << client.endpoint()
            << " (is hubd running? see --ingest/--admin/--data-dir)\n";
  return kUnreachable;
}

int rejected(const json& reply) {
  const json& e = reply.value("error", json::object());
  std::cerr << "hubctl: 被拒绝 / rejected: " << e.value("code", "error") << ": " << e.value("message", "");
  if (e.contains("field")) std::cerr << " [field " << e["field"].get<std::string>() << "]";
  std::cerr << "\n";
  if (e.contains("departments"))
    for (const auto& d : e["departments"])
      std::cerr << "  " << d.value("department", "") << ": " << d.value("state", "") << "\n";
  return kRejected;
}

struct Args {
  std::map<std::string, std::string> values;
  std::set<std::string> switches;
  std::vector<std::string> positional;
  std::string error;
};

Args parse(const std::vector<std::string>& args, const std::set<std::string>& with_value,
           const std::set<std::string>& switches) {
  Args a;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& s = args[i];
    if (s.rfind("--", 0) != 0) {
      a.positional.push_back(s);
    } else if (switches.count(s) != 0) {
      a.switches.insert(s);
    } else if (with_value.count(s) != 0) {
      if (i + 1 >= args.size()) {
        a.error = s + " needs a value";
        return a;
      }
      a.values[s] = args[++i];
    } else {
      a.error = "unknown option " + s;
      return a;
    }
  }
  return a;
}

// --by, else $USER, else the account name.
std::string operator_name(const Args& a) {
  if (auto it = a.values.find("--by"); it != a.values.end()) return it->second;
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') return user;
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_name != nullptr) return pw->pw_name;
  return "uid-" + std::to_string(getuid());
}

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

int run_parked(const std::vector<std::string>& raw, bool json_output, HubClient& client) {
  if (raw.empty()) return usage("parked needs list, retry or skip");
  const std::string action = raw.front();
  if (action != "list" && action != "retry" && action != "skip")
    return usage("parked needs list, retry or skip (got '" + action + "')");
  const std::vector<std::string> rest(raw.begin() + 1, raw.end());
  const Args a = action == "list" ? parse(rest, {"--department", "--household", "--seq", "--limit"}, {"--all"})
                                  : parse(rest, {"--department", "--household", "--seq", "--by"}, {});
  if (!a.error.empty()) return usage(a.error);
  if (!a.positional.empty()) return usage("parked " + action + " takes no positional arguments");
  json request{{"cmd", "parked"}, {"action", action}};
  if (auto it = a.values.find("--department"); it != a.values.end()) request["department"] = it->second;
  if (auto it = a.values.find("--household"); it != a.values.end()) request["household_id"] = it->second;
  for (const char* flag : {"--seq", "--limit"}) {
    auto it = a.values.find(flag);
    if (it == a.values.end()) continue;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v == 0) return usage(std::string(flag) + " needs a positive number");
    request[std::string(flag).substr(2)] = v;
  }
  if (action == "list") {
    request["all"] = a.switches.count("--all") != 0;
  } else {
    if (!request.contains("department") && !request.contains("household_id") && !request.contains("seq"))
      return usage("parked " + action + " needs --department, --household or --seq (what to " + action + ")");
    request["by"] = operator_name(a);
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
      std::vector<std::string> row{p["department"], std::to_string(p["seq"].get<std::uint64_t>()), p["household_id"],
                                   p["state"], std::to_string(p["attempts"].get<std::int64_t>()),
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

int run_plugins(const std::vector<std::string>& raw, bool json_output, HubClient& client) {
  if (raw.empty()) return usage("plugins needs list, reload, disable or enable");
  const std::string action = raw.front();
  if (action != "list" && action != "reload" && action != "disable" && action != "enable")
    return usage("plugins needs list, reload, disable or enable (got '" + action + "')");
  const std::vector<std::string> rest(raw.begin() + 1, raw.end());
  const Args a = parse(rest,
                       action == "reload"    ? std::set<std::string>{"--by", "--library"}
                       : action == "disable" ? std::set<std::string>{"--by", "--reason"}
                                             : std::set<std::string>{"--by"},
                       {});
  if (!a.error.empty()) return usage(a.error);
  json request{{"cmd", "plugins"}, {"action", action}};
  if (action == "list") {
    if (!a.positional.empty() || !a.values.empty()) return usage("plugins list takes no arguments");
  } else {
    if (a.positional.size() != 1) return usage("plugins " + action + " needs exactly one department, e.g. police");
    request["department"] = a.positional.front();
    request["by"] = operator_name(a);
    if (auto it = a.values.find("--library"); it != a.values.end())
      request["library"] = std::filesystem::absolute(it->second).lexically_normal().string();
    if (auto it = a.values.find("--reason"); it != a.values.end()) request["reason"] = it->second;
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

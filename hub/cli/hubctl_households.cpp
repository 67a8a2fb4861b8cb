#include "cli/hubctl_households.h"

#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "common/command_line.h"

namespace hub::cli {
namespace {

using nlohmann::json;

constexpr int kOk = kExitOk, kRejected = kExitRejected;

std::string text_or_dash(const json& value) { return value.is_string() ? value.get<std::string>() : "-"; }

}  // namespace

CLI::App* add_households_verb(CLI::App& hubctl, VerbArgs& v, bool* json_output) {
  CLI::App* verb = add_verb(hubctl, "households",
                            "查找农户 / find households by id, head's name, village, status or designation "
                            "(a page at a time; --format csv: every match)",
                            json_output);
  add_text_options(*verb, {{"--id", &v.search_id, "PREFIX", "户号开头 / the household id starts with it"},
                           {"--head", &v.search_head, "NAME", "户主姓名包含 / the head's name contains it"},
                           {"--village", &v.village, "V", "村 / one village"},
                           {"--status", &v.status, "S", "评议结果 / credit | non_credit | breach | unevaluated"},
                           {"--designation", &v.search_designation, "D", "认定类别 / e.g. assistance"},
                           {"--limit", &v.limit, "N", "每页户数 / rows per page, 1–500 (default 50)"},
                           {"--after", &v.search_after, "ID", "下一页 / the page after this household id"},
                           {"--format", &v.format, "FORMAT", "table | json | csv (default table, json with --json)"}});
  return verb;
}

int run_households(const CLI::App& verb, const VerbArgs& v, bool json_output, HubClient& client) {
  std::string format = v.format.empty() ? (json_output ? "json" : "table") : v.format;
  if (format != "table" && format != "json" && format != "csv")
    return command_line::usage_error(verb, "--format must be table, json or csv (got '" + format + "')");
  json request{{"cmd", "households"}};
  for (const auto& [field, value] : {std::pair{"id", &v.search_id}, std::pair{"head", &v.search_head},
                                     std::pair{"village", &v.village}, std::pair{"status", &v.status},
                                     std::pair{"designation", &v.search_designation},
                                     std::pair{"after", &v.search_after}})
    if (!value->empty()) request[field] = *value;
  if (!v.limit.empty()) {
    const bool digits = v.limit.size() <= 4 && v.limit.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) return command_line::usage_error(verb, "--limit needs a whole number from 1 to 500 (got '" + v.limit + "')");
    request["limit"] = std::stoi(v.limit);
  }
  if (format == "csv") request["format"] = "csv";
  const auto reply = client.request(request);
  if (!reply) return report_unreachable(client.endpoint());
  if (format == "json") {
    std::cout << reply->dump() << "\n";
    return reply->value("ok", false) ? kOk : kRejected;
  }
  if (!reply->value("ok", false)) return report_rejected(*reply);
  if (format == "csv") {
    std::cout << (*reply)["csv"].get<std::string>();
    return kOk;
  }
  const json& r = *reply;
  Table table({"户 household", "村 village", "户主 head", "人口 members", "评议 status", "季度 quarter",
               "认定 designations"});
  for (const auto& h : r["households"]) {
    std::string designations;
    for (const auto& d : h["designations"]) designations += (designations.empty() ? "" : ",") + d.get<std::string>();
    table.add({h["household_id"], h["village"], text_or_dash(h["head"]),
               h["members"].is_number() ? std::to_string(h["members"].get<std::int64_t>()) : "-", h["status"],
               text_or_dash(h["quarter"]), designations.empty() ? "-" : designations});
  }
  table.print(std::cout);
  std::cout << "共 " << group_digits(r["total"]) << " 户 / " << group_digits(r["total"]) << " households match";
  if (r["next_after"].is_string())
    std::cout << "; 下一页 / next page: --after " << r["next_after"].get<std::string>();
  std::cout << "\n";
  return kOk;
}

}  // namespace hub::cli

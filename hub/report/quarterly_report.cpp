#include "report/quarterly_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace hub::report {
namespace {

using nlohmann::json;

const char* const kStatuses[] = {"credit", "non_credit", "breach", "unevaluated"};
const char* const kActions[] = {"apply", "defer", "withhold", "release", "restore", "not_applicable"};

double ratio(std::int64_t part, std::int64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

json zero_statuses() {
  json s = json::object();
  for (const char* st : kStatuses) s[st] = 0;
  return s;
}

struct VillageFigures {
  std::int64_t households = 0;
  std::int64_t signed_commitments = 0;
  std::int64_t corrections = 0;
  json statuses = zero_statuses();
};

// Households and signed commitments per village (all villages: the town's share needs them).
void count_households(const QuarterRecords& records, std::map<std::string, VillageFigures>& villages) {
  for (const auto& h : records.households) {
    auto& v = villages[h.village];
    v.households = h.households;
    v.signed_commitments = h.signed_commitments;
    v.statuses["unevaluated"] = v.households;
  }
}

// Effective statuses per village, and per department the evaluations it subscribes to.
void count_statuses(const QuarterRecords& records, const HubConfig& config, const ReportRequest& r,
                    std::map<std::string, VillageFigures>& villages, std::map<std::string, std::int64_t>& due) {
  for (const auto& [village, status, n] : records.statuses) {
    auto& v = villages[village];
    v.statuses[status] = v.statuses.value(status, 0) + n;
    v.statuses["unevaluated"] = v.statuses["unevaluated"].get<std::int64_t>() - n;
    if (r.village && *r.village != village) continue;
    for (const auto& p : config.plugins)
      if (p.enabled && p.subscribes(village, status)) due[p.id] += n;
  }
  for (const auto& [village, n] : records.corrections) villages[village].corrections = n;
}

json department_section(const PluginConfig& plugin, const QuarterDeliveries& ledger, std::int64_t due) {
  json slowest = json::array();
  for (const auto& s : ledger.slowest)
    slowest.push_back({{"seq", s.seq}, {"household_id", s.household_id}, {"latency_ms", s.latency_ms}});
  json policies = json::array();
  for (const auto& p : plugin.catalogue.policies()) {
    json item{{"policy_id", p.id}, {"name_zh", p.name_zh}, {"name_en", p.name_en}, {"money", p.money}};
    const auto found = ledger.actions.find(p.id);
    for (const char* a : kActions) {
      ActionTotal total;
      if (found != ledger.actions.end())
        if (const auto t = found->second.find(a); t != found->second.end()) total = t->second;
      json figure{{"count", total.count}, {"amount_fen", total.amount_fen}};
      if (!p.money) figure.erase("amount_fen");
      item[a] = figure;
    }
    policies.push_back(std::move(item));
  }
  return {{"id", plugin.id},
          {"name_zh", plugin.catalogue.name_zh()},
          {"name_en", plugin.catalogue.name_en()},
          {"enabled", plugin.enabled},
          {"due", due},
          {"delivered", ledger.delivered},
          {"completeness", due == 0 ? 1.0 : ratio(ledger.delivered, due)},
          {"slowest", std::move(slowest)},
          {"policies", std::move(policies)}};
}

std::int64_t adverse(const json& statuses) {
  return statuses.value("non_credit", std::int64_t{0}) + statuses.value("breach", std::int64_t{0});
}

// Per village, with the supervision flag against the town's share of non_credit + breach.
json village_rows(const std::map<std::string, VillageFigures>& villages, const ReportRequest& r, json& town) {
  std::int64_t town_evaluated = 0, town_adverse = 0, town_corrections = 0;
  for (const auto& [id, v] : villages) {
    town_evaluated += v.households - v.statuses.value("unevaluated", std::int64_t{0});
    town_adverse += adverse(v.statuses);
    town_corrections += v.corrections;
  }
  const double town_share = ratio(town_adverse, town_evaluated);
  town = {{"evaluated", town_evaluated}, {"adverse", town_adverse}, {"adverse_share", town_share},
          {"corrections", town_corrections}};
  json rows = json::array();
  for (const auto& [id, v] : villages) {
    if (r.village && *r.village != id) continue;
    const std::int64_t evaluated = v.households - v.statuses.value("unevaluated", std::int64_t{0});
    const double share = ratio(adverse(v.statuses), evaluated);
    const double standard_error =
        evaluated == 0 ? 0.0 : std::sqrt(town_share * (1.0 - town_share) / static_cast<double>(evaluated));
    const bool flagged =
        evaluated > 0 && std::abs(share - town_share) > 3.0 * standard_error && std::abs(share - town_share) >= 0.05;
    rows.push_back({{"village", id},
                    {"households", v.households},
                    {"signed", v.signed_commitments},
                    {"signing_rate", ratio(v.signed_commitments, v.households)},
                    {"statuses", v.statuses},
                    {"evaluated", evaluated},
                    {"adverse_share", share},
                    {"flagged", flagged},
                    {"corrections", v.corrections}});
  }
  return rows;
}

}  // namespace

json quarterly_report(ReportViews& views, const HubConfig& config, const ReportRequest& request) {
  const QuarterRecords records = views.quarter(request.quarter, request.village);
  std::map<std::string, VillageFigures> villages;
  std::map<std::string, std::int64_t> due;
  count_households(records, villages);
  count_statuses(records, config, request, villages, due);

  json town;
  json village_list = village_rows(villages, request, town);
  std::int64_t households = 0, signed_commitments = 0;
  json statuses = zero_statuses();
  for (const auto& v : village_list) {
    households += v["households"].get<std::int64_t>();
    signed_commitments += v["signed"].get<std::int64_t>();
    for (const char* s : kStatuses) statuses[s] = statuses[s].get<std::int64_t>() + v["statuses"].value(s, std::int64_t{0});
  }

  json departments = json::array();
  for (const auto& p : config.plugins) {
    const auto found = records.deliveries.find(p.id);
    const QuarterDeliveries none;
    departments.push_back(department_section(p, found == records.deliveries.end() ? none : found->second,
                                             due.count(p.id) ? due.at(p.id) : 0));
  }
  return {{"ok", true},
          {"quarter", request.quarter},
          {"village", request.village ? json(*request.village) : json(nullptr)},
          {"households", households},
          {"commitments", {{"due", households}, {"signed", signed_commitments},
                           {"rate", ratio(signed_commitments, households)}}},
          {"statuses", statuses},
          {"departments", std::move(departments)},
          {"villages", std::move(village_list)},
          {"town", town}};
}

json available_quarters(ReportViews& views) {
  return {{"ok", true}, {"quarters", views.quarters()}};
}

namespace {

// RFC 4180 quoting for a CSV field.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(const json& value) { return value.is_number_float() ? std::to_string(value.get<double>()) : value.dump(); }

}  // namespace

std::string report_csv(const json& report) {
  std::ostringstream out;
  out << "section,quarter,village,department,policy,applied,applied_fen,deferred,deferred_fen,withheld,withheld_fen,"
         "released,released_fen,restored,restored_fen,not_applicable,due,delivered,completeness\n";
  const std::string quarter = report["quarter"];
  const std::string village = report["village"].is_null() ? "" : report["village"].get<std::string>();
  for (const auto& d : report["departments"]) {
    for (const auto& p : d["policies"]) {
      out << "policy," << quarter << "," << village << "," << csv_field(d["id"]) << "," << csv_field(p["policy_id"]);
      for (const char* a : {"apply", "defer", "withhold", "release", "restore"})
        out << "," << p[a]["count"] << "," << (p[a].contains("amount_fen") ? p[a]["amount_fen"].dump() : "");
      out << "," << p["not_applicable"]["count"] << "," << d["due"] << "," << d["delivered"] << ","
          << number(d["completeness"]) << "\n";
    }
  }
  out << "\nsection,quarter,village,households,signed,signing_rate,credit,non_credit,breach,unevaluated,"
         "adverse_share,flagged,corrections\n";
  for (const auto& v : report["villages"]) {
    out << "village," << quarter << "," << csv_field(v["village"]) << "," << v["households"] << "," << v["signed"] << ","
        << number(v["signing_rate"]);
    for (const char* s : kStatuses) out << "," << v["statuses"][s];
    out << "," << number(v["adverse_share"]) << "," << (v["flagged"].get<bool>() ? "yes" : "no") << ","
        << v["corrections"] << "\n";
  }
  return out.str();
}

}  // namespace hub::report

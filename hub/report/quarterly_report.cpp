#include "report/quarterly_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "domain/wire_event.h"

namespace hub::report {
namespace {

using nlohmann::json;

const char* const kStatuses[] = {"credit", "non_credit", "breach", "unevaluated"};
const char* const kActions[] = {"apply", "defer", "withhold", "release", "restore", "not_applicable"};

// Each household's effective evaluation for the quarter: its latest status_change for it, with
// the time the hub received it. ?1 quarter, ?2 village or NULL. MATERIALIZED: computed once, not
// once per ledger row (without it SQLite re-runs the grouping inside the join: minutes, not
// milliseconds, on the reference town).
constexpr const char* kEffective =
    "WITH eff AS MATERIALIZED (SELECT MAX(seq) AS seq, received_at_ms FROM ev.event "
    "WHERE type = 'status_change' AND quarter = ?1 AND (?2 IS NULL OR village = ?2) GROUP BY household_id) ";

void bind_scope(store::Statement& s, const ReportRequest& r) {
  s.bind(1, r.quarter);
  if (r.village) s.bind(2, *r.village); else s.bind_null(2);
}

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
void count_households(store::Database& db, const ReportRequest& r, std::map<std::string, VillageFigures>& villages) {
  store::Statement q(db,
                     "SELECT village, COUNT(*), SUM(commitment_signed_on IS NOT NULL AND commitment_signed_on < ?1) "
                     "FROM ev.household GROUP BY village");
  q.bind(1, first_day_after_quarter(r.quarter));
  while (q.step()) {
    auto& v = villages[q.column_text(0)];
    v.households = q.column_int(1);
    v.signed_commitments = q.column_int(2);
    v.statuses["unevaluated"] = v.households;
  }
}

// Effective statuses per village, and per department the evaluations it subscribes to.
void count_statuses(store::Database& db, const HubConfig& config, const ReportRequest& r,
                    std::map<std::string, VillageFigures>& villages, std::map<std::string, std::int64_t>& due) {
  ReportRequest town{r.quarter, std::nullopt};
  store::Statement q(db, (std::string(kEffective) +
                          "SELECT e.village, e.status, COUNT(*) FROM eff CROSS JOIN ev.event e ON e.seq = eff.seq "
                          "GROUP BY e.village, e.status").c_str());
  bind_scope(q, town);
  while (q.step()) {
    const std::string village = q.column_text(0), status = q.column_text(1);
    const std::int64_t n = q.column_int(2);
    auto& v = villages[village];
    v.statuses[status] = v.statuses.value(status, 0) + n;
    v.statuses["unevaluated"] = v.statuses["unevaluated"].get<std::int64_t>() - n;
    if (r.village && *r.village != village) continue;
    for (const auto& p : config.plugins)
      if (p.enabled && p.subscribes(village, status)) due[p.id] += n;
  }
  store::Statement c(db,
                     "SELECT village, COUNT(*) FROM ev.event WHERE type = 'status_change' AND quarter = ? "
                     "AND correction = 1 GROUP BY village");
  c.bind(1, r.quarter);
  while (c.step()) villages[c.column_text(0)].corrections = c.column_int(1);
}

// What the ledger holds for the effective evaluations, per department: the action counts and
// amounts per policy, how many were delivered, and the three slowest deliveries.
struct DepartmentFigures {
  std::map<std::string, json> actions;  // policy → {action: {count, amount_fen}}
  std::int64_t delivered = 0;
  json slowest = json::array();
};

struct Slow {
  std::int64_t latency_ms, seq;
  std::string household_id;
};

// One pass: for each department (the ledger's cursors) and each effective evaluation, the
// delivery row by its key (department, seq). CROSS JOIN fixes that order, so the cost is one
// key look-up per evaluation and department, whatever the ledger's size.
std::map<std::string, DepartmentFigures> scan_deliveries(store::Database& db, const ReportRequest& r) {
  store::Statement q(db, (std::string(kEffective) +
                          "SELECT d.department, d.seq, d.household_id, d.delivered_at_ms - eff.received_at_ms, d.actions "
                          "FROM cursor c CROSS JOIN eff CROSS JOIN delivery d ON d.department = c.department "
                          "AND d.seq = eff.seq").c_str());
  bind_scope(q, r);
  std::map<std::string, DepartmentFigures> out;
  std::map<std::string, std::vector<Slow>> slow;
  while (q.step()) {
    const std::string department = q.column_text(0);
    auto& figures = out[department];
    ++figures.delivered;
    auto& s = slow[department];
    s.push_back({q.column_int(3), q.column_int(1), q.column_text(2)});
    // Keep the three slowest so far (latency descending, then seq).
    std::sort(s.begin(), s.end(), [](const Slow& a, const Slow& b) {
      return a.latency_ms != b.latency_ms ? a.latency_ms > b.latency_ms : a.seq < b.seq;
    });
    if (s.size() > 3) s.pop_back();
    // actions: [[policy_id, action, amount_fen or null, reason id], ...] (delivery/ledger.cpp)
    for (const auto& a : json::parse(q.column_text(4))) {
      json& figure = figures.actions[a.at(0).get<std::string>()][a.at(1).get<std::string>()];
      if (figure.is_null()) figure = {{"count", 0}, {"amount_fen", 0}};
      figure["count"] = figure["count"].get<std::int64_t>() + 1;
      if (a.at(2).is_number_integer())
        figure["amount_fen"] = figure["amount_fen"].get<std::int64_t>() + a.at(2).get<std::int64_t>();
    }
  }
  for (auto& [department, list] : slow)
    for (const auto& s : list)
      out[department].slowest.push_back({{"seq", s.seq}, {"household_id", s.household_id}, {"latency_ms", s.latency_ms}});
  return out;
}

json department_section(const PluginConfig& plugin, const std::map<std::string, json>& actions, std::int64_t due,
                        std::int64_t delivered, const json& slowest) {
  json policies = json::array();
  for (const auto& p : plugin.catalogue.policies()) {
    json item{{"policy_id", p.id}, {"name_zh", p.name_zh}, {"name_en", p.name_en}, {"money", p.money}};
    const auto found = actions.find(p.id);
    for (const char* a : kActions) {
      json figure{{"count", 0}, {"amount_fen", 0}};
      if (found != actions.end() && found->second.contains(a)) figure = found->second.at(a);
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
          {"delivered", delivered},
          {"completeness", due == 0 ? 1.0 : ratio(delivered, due)},
          {"slowest", slowest.is_null() ? json::array() : slowest},
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

json quarterly_report(store::Database& views, const HubConfig& config, const ReportRequest& request) {
  std::map<std::string, VillageFigures> villages;
  std::map<std::string, std::int64_t> due;
  count_households(views, request, villages);
  count_statuses(views, config, request, villages, due);
  const auto ledger = scan_deliveries(views, request);

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
    const auto found = ledger.find(p.id);
    const DepartmentFigures figures = found == ledger.end() ? DepartmentFigures{} : found->second;
    departments.push_back(department_section(p, figures.actions, due.count(p.id) ? due.at(p.id) : 0,
                                             figures.delivered, figures.slowest));
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

json available_quarters(store::Database& views) {
  json quarters = json::array();
  store::Statement q(views, "SELECT DISTINCT quarter FROM ev.event WHERE type = 'status_change' ORDER BY quarter");
  while (q.step()) quarters.push_back(q.column_text(0));
  return {{"ok", true}, {"quarters", std::move(quarters)}};
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

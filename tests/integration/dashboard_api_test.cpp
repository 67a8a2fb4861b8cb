// The administrators' views against a real hubd loaded with a generated town: the quarterly
// report equals counts computed here straight from the generator's files; reconciliation
// finds each disagreement injected into ledger.db and nothing else; /metrics equals the
// ledger; the live feed announces changes without personal data; admin actions need the token.
#include <algorithm>
#include <cctype>
#include <functional>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "hub/sdk/csv.h"
#include "integration/town_hub.h"

namespace {

using hub::test::TownHub;
using nlohmann::json;

std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
  std::string error;
  auto table = hub::sdk::read_csv_file(path, &error);
  if (!table) throw std::runtime_error(path + ": " + error);
  std::vector<std::map<std::string, std::string>> rows;
  for (const auto& row : table->rows) {
    std::map<std::string, std::string> r;
    for (std::size_t i = 0; i < table->header.size(); ++i) r[table->header[i]] = row.fields[i];
    rows.push_back(std::move(r));
  }
  return rows;
}

// The town as the generator wrote it.
struct Town {
  std::map<std::string, std::string> village;  // household → village
  std::map<std::string, std::string> head;     // household → head of household
  std::map<std::string, std::string> signed_on;
  std::map<std::string, std::string> q3, q4;   // household → status (the last row wins)
  std::map<std::string, std::string> q4_designations;  // household → "a;b" of its last Q4 row
  std::map<std::string, std::string> members;
  std::vector<std::map<std::string, std::string>> finance_roster;

  explicit Town(const std::string& dir) {
    for (auto& r : read_csv(dir + "/households.csv")) {
      village[r["household_id"]] = r["village"];
      head[r["household_id"]] = r["head"];
      members[r["household_id"]] = r["members"];
    }
    for (auto& r : read_csv(dir + "/commitments.csv")) signed_on[r["household_id"]] = r["signed_on"];
    for (auto& r : read_csv(dir + "/evaluations-2020Q3.csv")) q3[r["household_id"]] = r["status"];
    for (auto& r : read_csv(dir + "/evaluations-2020Q4.csv")) {
      q4[r["household_id"]] = r["status"];
      q4_designations[r["household_id"]] = r["designations"];
    }
    finance_roster = read_csv(dir + "/rosters/finance.csv");
  }

  // The standard rule (SPEC §2) for a policy granted to credit households, for Q4.
  std::string q4_action(const std::string& household) const {
    const std::string now = q4.at(household);
    const std::string before = q3.count(household) ? q3.at(household) : "unevaluated";
    if (now == "non_credit") return "defer";
    if (now == "breach") return "withhold";
    if (before == "non_credit") return "release";
    if (before == "breach") return "restore";
    return "apply";
  }
};

const json& department(const json& report, const std::string& id) {
  for (const auto& d : report["departments"])
    if (d["id"] == id) return d;
  throw std::runtime_error("no department " + id);
}

const json& policy(const json& dept, const std::string& id) {
  for (const auto& p : dept["policies"])
    if (p["policy_id"] == id) return p;
  throw std::runtime_error("no policy " + id);
}

TEST(DashboardApi, QuarterlyReportEqualsTheGeneratorsFiles) {
  TownHub town_hub;
  const Town town(town_hub.town_dir());
  const json report = town_hub.get_json("/api/report?quarter=2020Q4");

  EXPECT_EQ(report["households"], town.village.size());
  std::int64_t signed_by_quarter_end = 0;
  for (const auto& [h, date] : town.signed_on) signed_by_quarter_end += date < "2021-01-01";
  EXPECT_EQ(report["commitments"]["due"], town.village.size());
  EXPECT_EQ(report["commitments"]["signed"], signed_by_quarter_end);

  std::map<std::string, std::int64_t> statuses{{"credit", 0}, {"non_credit", 0}, {"breach", 0}};
  std::map<std::string, std::map<std::string, std::int64_t>> per_village;
  for (const auto& [h, s] : town.q4) {
    ++statuses[s];
    ++per_village[town.village.at(h)][s];
  }
  for (const auto& [s, n] : statuses) EXPECT_EQ(report["statuses"][s], n) << s;
  EXPECT_EQ(report["statuses"]["unevaluated"], static_cast<std::int64_t>(town.village.size() - town.q4.size()));
  for (const auto& v : report["villages"])
    for (const auto& [s, n] : per_village[v["village"].get<std::string>()]) EXPECT_EQ(v["statuses"][s], n) << v.dump();

  // Police grants both its policies to every household: its actions follow the standard rule.
  std::map<std::string, std::int64_t> police;
  for (const auto& [h, s] : town.q4) ++police[town.q4_action(h)];
  const json& police_report = department(report, "police");
  for (const auto& p : police_report["policies"])
    for (const auto& [action, n] : police) EXPECT_EQ(p[action]["count"], n) << p["policy_id"] << " " << action;

  // Finance defers the roster amount of each non_credit household.
  std::int64_t deferred = 0, deferred_fen = 0;
  for (const auto& row : town.finance_roster) {
    if (row.at("policy_id") != "finance.only_child_reward") continue;
    const auto s = town.q4.find(row.at("household_id"));
    if (s == town.q4.end() || s->second != "non_credit") continue;
    ++deferred;
    deferred_fen += std::stoll(row.at("amount_fen_per_quarter"));
  }
  const json& reward = policy(department(report, "finance"), "finance.only_child_reward");
  EXPECT_EQ(reward["defer"]["count"], deferred);
  EXPECT_EQ(reward["defer"]["amount_fen"], deferred_fen);
  EXPECT_GT(deferred, 0) << "the generated town should have a deferred reward to check";

  // Every department received every evaluation.
  for (const auto& d : report["departments"]) {
    EXPECT_EQ(d["due"], town.q4.size()) << d["id"];
    EXPECT_EQ(d["delivered"], d["due"]) << d["id"];
    EXPECT_EQ(d["completeness"], 1.0) << d["id"];
    EXPECT_FALSE(d["slowest"].empty()) << d["id"];
  }

  // One village: the same figures, for it only.
  const json v02 = town_hub.get_json("/api/report?quarter=2020Q4&village=V02");
  std::int64_t v02_households = 0;
  for (const auto& [h, v] : town.village) v02_households += v == "V02";
  EXPECT_EQ(v02["households"], v02_households);
  ASSERT_EQ(v02["villages"].size(), 1u);
  EXPECT_EQ(v02["statuses"]["non_credit"], per_village["V02"]["non_credit"]);

  // The same report as CSV, and through hubctl (the same code behind both).
  const auto csv = town_hub.get("/api/report?quarter=2020Q4&format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.content_type.rfind("text/csv", 0), 0u);
  EXPECT_NE(csv.body.find("policy,2020Q4,,police,police.hukou_priority,"), std::string::npos) << csv.body;
  const auto ctl = hub::test::run_command(std::string(HUBCTL_PATH) + " --data-dir " + town_hub.hub().data_dir() +
                                          " --json report --quarter 2020Q4");
  ASSERT_EQ(ctl.exit_code, 0) << ctl.output;
  EXPECT_EQ(json::parse(ctl.output)["statuses"], report["statuses"]);
  EXPECT_EQ(json::parse(ctl.output)["departments"], report["departments"]);
  const std::string ctl_base = std::string(HUBCTL_PATH) + " --data-dir " + town_hub.hub().data_dir() + " report ";
  const auto table = hub::test::run_command(ctl_base + "--quarter 2020Q4 --village V02");
  EXPECT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("police.hukou_priority"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("V02"), std::string::npos) << table.output;
  const auto ctl_csv = hub::test::run_command(ctl_base + "--quarter 2020Q4 --format csv");
  EXPECT_EQ(ctl_csv.output, csv.body) << "hubctl and /api/report?format=csv print the same CSV";
  EXPECT_EQ(hub::test::run_command(ctl_base).exit_code, 2) << "no --quarter is a usage error";
  EXPECT_EQ(hub::test::run_command(ctl_base + "--quarter 2020Q9").exit_code, 1) << "the hub refuses the quarter";

  // Bad input is refused with a stable code naming the field.
  auto bad = town_hub.get("/api/report");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "quarter");
  bad = town_hub.get("/api/report?quarter=2020Q9");
  EXPECT_EQ(json::parse(bad.body)["error"]["code"], "invalid_field");
  bad = town_hub.get("/api/report?quarter=2020Q4&format=xml");
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "format");
  EXPECT_EQ(town_hub.get("/api/household/V99-99999").status, 404);
  EXPECT_EQ(town_hub.get("/api/nothing").status, 404);
}

TEST(DashboardApi, ViewsAndAdminActions) {
  TownHub town_hub(300);
  const json plugins = town_hub.get_json("/api/plugins");
  const std::size_t departments = hub::test::HubOptions{}.departments.size();
  ASSERT_EQ(plugins["plugins"].size(), departments);
  for (const auto& p : plugins["plugins"]) {
    EXPECT_EQ(p["state"], "running") << p.dump();
    EXPECT_EQ(p["version"], "1.0.0") << p.dump();
    EXPECT_GT(p["abi_version"].get<int>(), 0) << p.dump();
  }
  const json parked = town_hub.get_json("/api/parked");
  EXPECT_TRUE(parked["parked"].empty()) << parked.dump();  // nothing failed in this town
  EXPECT_EQ(parked["truncated"], false) << parked.dump();
  EXPECT_EQ(town_hub.get_json("/api/quarters")["quarters"], json::array({"2020Q3", "2020Q4"}));
  const json status = town_hub.get_json("/api/status");
  EXPECT_EQ(status["departments"].size(), departments);

  // The overview's history: the whole town was delivered within the last hour, so the
  // per-minute deliveries add up to each department's total and every lag ends at 0.
  const json timeline = town_hub.get_json("/api/timeline?minutes=60");
  ASSERT_EQ(timeline["minutes"].size(), 60u);
  std::int64_t received = 0;
  for (const auto& n : timeline["received"]) received += n.get<std::int64_t>();
  EXPECT_EQ(received, town_hub.hub().query_int("events.db", "SELECT COUNT(*) FROM event WHERE type = 'status_change'"));
  for (const auto& d : timeline["departments"]) {
    std::int64_t deliveries = 0;
    for (const auto& n : d["deliveries"]) deliveries += n.get<std::int64_t>();
    EXPECT_EQ(deliveries, received) << d["id"];
    EXPECT_EQ(d["lag"].back(), 0) << d["id"];
  }
  EXPECT_EQ(town_hub.get("/api/timeline?minutes=0").status, 400);
  EXPECT_EQ(town_hub.get("/api/timeline?minutes=abc").status, 400);

  // Admin-only actions: refused without the token and with a wrong one; with it, they are
  // the admin commands (here: disable and enable a department, skip an event not parked).
  EXPECT_EQ(town_hub.post("/api/parked/retry").status, 401);
  EXPECT_EQ(town_hub.post("/api/parked/retry", "Bearer wrong-token-wrong-token").status, 401);
  const std::string admin = std::string("Bearer ") + hub::test::kTestAdminToken;
  auto disabled = town_hub.post("/api/plugins/disable", admin, R"({"department":"land","by":"wang"})");
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  EXPECT_EQ(json::parse(disabled.body)["state"], "disabled") << disabled.body;
  auto state_of = [&](const std::string& id) {
    const json plugins = town_hub.get_json("/api/plugins");
    for (const auto& p : plugins["plugins"])
      if (p["id"] == id) return p["state"].get<std::string>();
    return std::string("absent");
  };
  EXPECT_EQ(state_of("land"), "disabled");
  ASSERT_EQ(town_hub.post("/api/plugins/enable", admin, R"({"department":"land"})").status, 200);
  EXPECT_NE(state_of("land"), "disabled");
  const auto not_parked = town_hub.post("/api/parked/skip", admin, R"({"department":"police","seq":1})");
  EXPECT_NE(not_parked.status, 200) << not_parked.body;
  EXPECT_FALSE(json::parse(not_parked.body)["ok"].get<bool>());
  EXPECT_EQ(town_hub.post("/api/parked/skip", admin, "not json").status, 400);
  EXPECT_EQ(town_hub.post("/api/plugins/retry", admin).status, 404);

  // The dashboard itself is served, with its chart library and the library's licence.
  const auto index = town_hub.get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("诚信枢纽"), std::string::npos);
  EXPECT_EQ(town_hub.get("/vendor/chart.umd.min.js").status, 200);
  EXPECT_NE(town_hub.get("/vendor/chart.js-LICENSE.md").body.find("MIT"), std::string::npos);
  EXPECT_EQ(town_hub.get("/no-such-page.html").status, 404);
}

std::string percent_encoded(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::vector<std::string> ids_of(const json& page) {
  std::vector<std::string> ids;
  for (const auto& h : page["households"]) ids.push_back(h["household_id"]);
  return ids;
}

// Finding households: every answer is what the generator's files say, a page at a time or as
// CSV, and every bad criterion is refused naming its field.
TEST(DashboardApi, HouseholdSearchFindsWhatTheGeneratorsFilesSay) {
  TownHub town_hub(300);
  const Town town(town_hub.town_dir());
  auto status_of = [&](const std::string& h) {
    if (town.q4.count(h)) return town.q4.at(h);
    return town.q3.count(h) ? town.q3.at(h) : std::string("unevaluated");
  };
  // The households (in id order, as the map keeps them) for which `pred` holds.
  auto expected = [&](const std::function<bool(const std::string&)>& pred) {
    std::vector<std::string> ids;
    for (const auto& [h, v] : town.village)
      if (pred(h)) ids.push_back(h);
    return ids;
  };
  auto check = [&](const std::string& query, const std::vector<std::string>& want) {
    SCOPED_TRACE(query);
    EXPECT_FALSE(want.empty()) << "the town should have such households";
    const json page = town_hub.get_json("/api/households?limit=500&" + query);
    EXPECT_EQ(ids_of(page), want);
    EXPECT_EQ(page["total"], want.size());
    EXPECT_TRUE(page["next_after"].is_null());
  };
  check("village=V03&status=credit",
        expected([&](const std::string& h) { return town.village.at(h) == "V03" && status_of(h) == "credit"; }));
  check("status=non_credit", expected([&](const std::string& h) { return status_of(h) == "non_credit"; }));
  check("designation=assistance", expected([&](const std::string& h) {
          return town.q4_designations.count(h) && (";" + town.q4_designations.at(h) + ";").find(";assistance;") != std::string::npos;
        }));
  check("id=V02-000", expected([](const std::string& h) { return h.rfind("V02-000", 0) == 0; }));
  const std::string some_head = town.head.begin()->second;
  const std::string surname = some_head.substr(0, 3);  // one Chinese character in UTF-8
  check("head=" + percent_encoded(surname),
        expected([&](const std::string& h) { return town.head.at(h).find(surname) != std::string::npos; }));

  // One row in full.
  const std::string one = town.village.begin()->first;
  const json row = town_hub.get_json("/api/households?id=" + one)["households"].at(0);
  EXPECT_EQ(row["household_id"], one);
  EXPECT_EQ(row["head"], town.head.at(one));
  EXPECT_EQ(std::to_string(row["members"].get<int>()), town.members.at(one));
  EXPECT_EQ(row["status"], status_of(one));
  EXPECT_EQ(row["quarter"], "2020Q4");

  // Paging through the whole town, 7 at a time: every household once, in id order.
  std::vector<std::string> walked;
  std::string after;
  for (int pages = 0; pages < 100; ++pages) {
    const json page = town_hub.get_json("/api/households?limit=7" + (after.empty() ? "" : "&after=" + after));
    EXPECT_EQ(page["total"], 300);
    for (const auto& id : ids_of(page)) walked.push_back(id);
    if (page["next_after"].is_null()) break;
    after = page["next_after"];
  }
  EXPECT_EQ(walked, expected([](const std::string&) { return true; }));

  // Every match of a village as CSV, with a byte-order mark for Excel.
  const auto csv = town_hub.get("/api/households?village=V01&format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_NE(csv.content_type.find("text/csv"), std::string::npos);
  EXPECT_EQ(csv.body.rfind("\xEF\xBB\xBFhousehold_id,village,head,members,status,quarter,designations\r\n", 0), 0u)
      << csv.body.substr(0, 200);
  const auto v01 = expected([&](const std::string& h) { return town.village.at(h) == "V01"; });
  EXPECT_EQ(static_cast<std::size_t>(std::count(csv.body.begin(), csv.body.end(), '\n')), v01.size() + 1);
  EXPECT_NE(csv.body.find(v01.front() + ",V01," + town.head.at(v01.front()) + ","), std::string::npos);

  // A name a spreadsheet would run as a formula is written as text; commas and quotes quoted.
  ASSERT_EQ(town_hub.hub().ingest({{"type", "household"}, {"event_id", "reg-V99-00001"}, {"household_id", "V99-00001"},
                                   {"village", "V99"}, {"head", "=1+2,\"x\""}, {"members", 1}})["ok"], true);
  const auto formula = town_hub.get("/api/households?village=V99&format=csv");
  EXPECT_NE(formula.body.find("\r\nV99-00001,V99,\"'=1+2,\"\"x\"\"\",1,unevaluated,,\r\n"), std::string::npos)
      << formula.body;

  // Bad criteria: 400, the field named, nothing else read.
  for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"status=gold", "status"}, {"limit=0", "limit"}, {"limit=501", "limit"}, {"limit=ten", "limit"},
           {"designation=nope", "designation"}, {"id=-V01", "id"}, {"village=V%2001", "village"},
           {"head=" + std::string(65, 'x'), "head"}, {"head=%FF%FE", "head"}, {"after=%20", "after"},
           {"format=xml", "format"}}) {
    SCOPED_TRACE(query);
    const auto refused = town_hub.get("/api/households?" + query);
    EXPECT_EQ(refused.status, 400) << refused.body;
    const json body = json::parse(refused.body);
    EXPECT_EQ(body["error"]["code"], "invalid_field") << refused.body;
    EXPECT_EQ(body["error"]["field"], field) << refused.body;
  }

  // hubctl asks the same question and gets the same answer.
  const std::string hubctl = std::string(HUBCTL_PATH) + " --data-dir " + town_hub.hub().data_dir() + " households";
  const auto same = hub::test::run_command(hubctl + " --village V03 --status non_credit --limit 500 --json");
  ASSERT_EQ(same.exit_code, 0) << same.output;
  EXPECT_EQ(json::parse(same.output), town_hub.get_json("/api/households?village=V03&status=non_credit&limit=500"));
  const auto table = hub::test::run_command(hubctl + " --village V01 --limit 3");
  EXPECT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find(town.head.at(v01.front())), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("--after " + v01.at(2)), std::string::npos) << table.output;
  const auto refused = hub::test::run_command(hubctl + " --status gold");
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("field status"), std::string::npos) << refused.output;
  EXPECT_EQ(hub::test::run_command(hubctl + " --limit many").exit_code, 2);
}

std::int64_t seq_of(hub::test::HubProcess& hub, const std::string& household, const std::string& quarter) {
  return hub.query_int("events.db", "SELECT MAX(seq) FROM event WHERE type = 'status_change' AND household_id = '" +
                                        household + "' AND quarter = '" + quarter + "'");
}

TEST(DashboardApi, ReconciliationFindsEachInjectedDisagreementAndNothingElse) {
  TownHub town_hub;
  const Town town(town_hub.town_dir());
  json clean = town_hub.get_json("/api/reconcile");
  EXPECT_EQ(clean["count"], 0) << clean["disagreements"].dump(2);
  EXPECT_GT(clean["checked"].get<std::int64_t>(), static_cast<std::int64_t>(town.q4.size()));
  EXPECT_EQ(clean["pending"], 0);

  // Households to damage: a non_credit one on the finance roster, one evaluated in both
  // quarters with the same status (an old action still says the right thing), any other.
  std::string deferred, unchanged, other;
  for (const auto& row : town.finance_roster)
    if (row.at("policy_id") == "finance.only_child_reward" && town.q4.count(row.at("household_id")) &&
        town.q4.at(row.at("household_id")) == "non_credit")
      deferred = row.at("household_id");
  for (const auto& [h, s] : town.q4) {
    if (h == deferred) continue;
    if (unchanged.empty() && town.q3.count(h) && town.q3.at(h) == s && s == "credit") unchanged = h;
    else if (other.empty()) other = h;
  }
  ASSERT_FALSE(deferred.empty() || unchanged.empty() || other.empty());

  auto& hub = town_hub.hub();
  const auto deferred_seq = seq_of(hub, deferred, "2020Q4");
  const auto unchanged_seq = seq_of(hub, unchanged, "2020Q4");
  hub.stop();
  // The ledger packs each delivery's actions as [[policy_id, action, amount_fen, reason_id], ...]
  // (store/sqlite/sqlite_ledger.cpp); rewrite that array in place, as a damaged or tampered file would be.
  auto rewrite_actions = [&](const std::string& department, const std::string& where, const std::string& element,
                             const std::string& keep = "1") {
    hub.exec_sql("ledger.db", "UPDATE delivery SET actions = (SELECT json_group_array(" + element + ") FILTER (WHERE " +
                                  keep + ") FROM json_each(delivery.actions) j) WHERE department = '" + department +
                                  "' AND " + where);
  };
  // A department reversed its decision: the reward was paid although the household is non_credit.
  rewrite_actions("finance", "seq = " + std::to_string(deferred_seq),
                  "CASE WHEN j.value ->> 0 = 'finance.only_child_reward' THEN json_set(j.value, '$[1]', 'apply') "
                  "ELSE json(j.value) END");
  // The Q4 action was lost; the Q3 one (same state) is still there.
  rewrite_actions("police", "seq = " + std::to_string(unchanged_seq),
                  "json(j.value)", "j.value ->> 0 != 'police.hukou_priority'");
  // Every action of one policy for one household was lost.
  rewrite_actions("civil_affairs", "household_id = '" + other + "'",
                  "json(j.value)", "j.value ->> 0 != 'civil_affairs.dibao_priority'");
  hub.start();

  const json found = town_hub.get_json("/api/reconcile");
  ASSERT_EQ(found["count"], 3) << found["disagreements"].dump(2);
  std::set<std::tuple<std::string, std::string, std::string, std::string>> seen;
  for (const auto& d : found["disagreements"])
    seen.emplace(d["household_id"], d["department"], d["policy_id"], d["kind"]);
  EXPECT_TRUE(seen.count({deferred, "finance", "finance.only_child_reward", "mismatch"}));
  EXPECT_TRUE(seen.count({unchanged, "police", "police.hukou_priority", "stale"}));
  EXPECT_TRUE(seen.count({other, "civil_affairs", "civil_affairs.dibao_priority", "missing"}));
  for (const auto& d : found["disagreements"]) {
    if (d["household_id"] != deferred) continue;
    EXPECT_EQ(d["expected"], "deferred");
    EXPECT_EQ(d["recorded"], "applied");
    EXPECT_EQ(d["event_seq"], deferred_seq);
    EXPECT_EQ(d["event_id"], hub.query_rows("events.db", "SELECT event_id FROM event WHERE seq = " +
                                                             std::to_string(deferred_seq)).at(0).at(0));
  }
  // hubctl asks the same question.
  const auto ctl = hub::test::run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " reconcile");
  EXPECT_EQ(ctl.exit_code, 1) << "disagreements found → exit 1\n" << ctl.output;
  EXPECT_NE(ctl.output.find(deferred), std::string::npos) << ctl.output;
}

// "name{labels}" → value, from the Prometheus text.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

TEST(DashboardApi, MetricsEqualTheLedger) {
  TownHub town_hub(300);
  auto& hub = town_hub.hub();
  const auto response = town_hub.get("/metrics");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type.rfind("text/plain; version=0.0.4", 0), 0u) << response.content_type;
  const auto m = samples(response.body);

  for (const auto& row : hub.query_rows("events.db", "SELECT type, COUNT(*) FROM event GROUP BY type"))
    EXPECT_EQ(m.at("hub_events_total{type=\"" + row[0] + "\"}"), std::stod(row[1])) << row[0];
  for (const auto& row : hub.query_rows("ledger.db", "SELECT department, COUNT(*) FROM delivery GROUP BY department")) {
    EXPECT_EQ(m.at("hub_deliveries_total{department=\"" + row[0] + "\"}"), std::stod(row[1])) << row[0];
    EXPECT_EQ(m.at("hub_delivery_latency_seconds_count{department=\"" + row[0] + "\"}"), std::stod(row[1]));
    EXPECT_EQ(m.at("hub_delivery_latency_seconds_bucket{department=\"" + row[0] + "\",le=\"+Inf\"}"), std::stod(row[1]));
    EXPECT_EQ(m.at("hub_delivery_lag_events{department=\"" + row[0] + "\"}"), 0);
    EXPECT_EQ(m.at("hub_delivery_failures_total{department=\"" + row[0] + "\"}"), 0);
  }
  std::size_t action_families = 0;
  for (const auto& row : hub.query_rows("ledger.db", "SELECT department, j.value ->> 1, COUNT(*) FROM delivery, "
                                                 "json_each(delivery.actions) j GROUP BY 1, 2")) {
    EXPECT_EQ(m.at("hub_policy_actions_total{department=\"" + row[0] + "\",action=\"" + row[1] + "\"}"),
              std::stod(row[2]));
    ++action_families;
  }
  EXPECT_GT(action_families, 10u);

  // The data directory's file system, as statvfs sees it here (free space moves as other
  // tests write: only its bounds are checked); and each department's state, with placement.
  const auto space = std::filesystem::space(hub.data_dir());
  EXPECT_EQ(m.at("hub_data_dir_size_bytes"), static_cast<double>(space.capacity));
  EXPECT_GT(m.at("hub_data_dir_free_bytes"), 0);
  EXPECT_LE(m.at("hub_data_dir_free_bytes"), m.at("hub_data_dir_size_bytes"));
  for (const auto& d : hub::test::HubOptions{}.departments)
    EXPECT_EQ(m.at("hub_department_state{department=\"" + d + "\",placement=\"in_process\",state=\"running\"}"), 1)
        << d;
}

TEST(DashboardApi, LiveFeedAnnouncesChangesWithoutPersonalData) {
  TownHub town_hub(300);
  const Town town(town_hub.town_dir());
  auto& hub = town_hub.hub();
  zmq::context_t context;
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "");
  sub.set(zmq::sockopt::rcvtimeo, 1000);
  sub.connect(hub.live_feed_endpoint());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // PUB/SUB: join before the news

  const std::string household = town.q4.begin()->first;
  const std::string village = town.village.at(household);
  json event = hub::test::status_event(household, "breach", "2021Q1", "ev-2021Q1-" + household);
  event["basis"] = "机密会议纪要 confidential minutes 42";
  const json accepted = hub.ingest(event);
  ASSERT_TRUE(accepted["ok"].get<bool>()) << accepted.dump();
  const std::int64_t seq = accepted["seq"].get<std::int64_t>();

  // Every message is checked for personal data; only those about this event for the rest (the
  // feed may still be announcing the town's deliveries on a slow machine).
  std::set<std::string> topics;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const auto departments = hub::test::HubOptions{}.departments;
  auto all_seen = [&] {
    if (!topics.count("status/" + village + "/breach")) return false;
    for (const auto& d : departments)
      if (!topics.count("delivery/" + d + "/" + village + "/breach")) return false;
    return true;
  };
  while (!all_seen() && std::chrono::steady_clock::now() < deadline) {
    zmq::message_t topic, body;
    if (!sub.recv(topic)) continue;
    ASSERT_TRUE(topic.more());
    (void)sub.recv(body);
    const std::string text = body.to_string();
    for (const std::string& secret : {household, town.head.at(household), std::string("confidential"), std::string("ev-")})
      EXPECT_EQ(text.find(secret), std::string::npos) << "personal data '" << secret << "' in " << text;
    const json message = json::parse(text);
    if (message.value("seq", std::int64_t{0}) != seq) continue;
    EXPECT_EQ(message["village"], village);
    EXPECT_EQ(message["status"], "breach");
    topics.insert(topic.to_string());
  }
  EXPECT_TRUE(topics.count("status/" + village + "/breach"));
  for (const auto& d : departments) EXPECT_TRUE(topics.count("delivery/" + d + "/" + village + "/breach")) << d;
}

}  // namespace

namespace {

// The feed's XPUB builds only what someone subscribed to: a subscriber of one department's
// deliveries gets those, and nothing of the other departments or the status changes; once a
// second subscriber asks for the status changes, they come too. (With nobody subscribed the
// feed builds nothing: docs/benchmarks.md, "Make it fast".)
TEST(DashboardApi, LiveFeedSubscribersGetTheirPrefixesOnly) {
  TownHub town_hub(300);
  const Town town(town_hub.town_dir());
  auto& hub = town_hub.hub();
  zmq::context_t context;
  auto subscriber = [&](const std::string& prefix) {
    zmq::socket_t sub(context, zmq::socket_type::sub);
    sub.set(zmq::sockopt::subscribe, prefix);
    sub.set(zmq::sockopt::rcvtimeo, 1000);
    sub.connect(hub.live_feed_endpoint());
    return sub;
  };
  zmq::socket_t police = subscriber("delivery/police/");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // PUB/SUB: join before the news

  // Reads until a message about `seq` has come on `sub` (or 60 s), returning every topic seen.
  auto topics_until = [](zmq::socket_t& sub, std::int64_t seq) {
    std::vector<std::string> topics;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::message_t topic, body;
      if (!sub.recv(topic)) continue;
      (void)sub.recv(body);
      topics.push_back(topic.to_string());
      if (json::parse(body.to_string()).value("seq", std::int64_t{0}) == seq) break;
    }
    return topics;
  };

  auto household = town.q4.begin();
  const json first = hub.ingest(hub::test::status_event(household->first, "breach", "2021Q1", "ev-2021Q1-first"));
  ASSERT_TRUE(first["ok"].get<bool>()) << first.dump();
  const std::vector<std::string> seen = topics_until(police, first["seq"].get<std::int64_t>());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), "delivery/police/" + town.village.at(household->first) + "/breach");
  for (const std::string& topic : seen) EXPECT_EQ(topic.rfind("delivery/police/", 0), 0u) << topic;

  zmq::socket_t statuses = subscriber("status/");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ++household;
  const json second = hub.ingest(hub::test::status_event(household->first, "credit", "2021Q1", "ev-2021Q1-second"));
  ASSERT_TRUE(second["ok"].get<bool>()) << second.dump();
  const std::vector<std::string> status_topics = topics_until(statuses, second["seq"].get<std::int64_t>());
  ASSERT_FALSE(status_topics.empty());
  EXPECT_EQ(status_topics.back(), "status/" + town.village.at(household->first) + "/credit");
  for (const std::string& topic : status_topics) EXPECT_EQ(topic.rfind("status/", 0), 0u) << topic;
  const std::vector<std::string> police_topics = topics_until(police, second["seq"].get<std::int64_t>());
  ASSERT_FALSE(police_topics.empty());
  EXPECT_EQ(police_topics.back(), "delivery/police/" + town.village.at(household->first) + "/credit");
}

}  // namespace

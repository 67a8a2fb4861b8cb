// A province gathers its counties (issue 16 item 7; docs/deployment.md, "A province"): each
// county's database publishes each hub's rows with config/examples/province/publish-hub.sql, run
// with psql as the docs say; the province's database gets its tables from a county with
// pg_dump --schema-only and subscribes with PostgreSQL's logical replication.
//
// Two counties are two databases of one server started with wal_level = logical (the test's
// own: the binary's shared server keeps its settings); the province is a second server. Each
// county holds two hubs, written through the stores as hubd writes them (events, ledger, audit
// log); one hub of the second county is not published.
//
// Oracle, on the province: each published hub's three chains verify, with the county's head
// hashes; every published table holds exactly the county's rows of that hub; the hub not
// published has no row anywhere; rows written after the subscription arrive too. And the
// publication lists every table of the county with a hub_id column, so a table added later
// without the script fails here.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "eventlog/event_log.h"
#include "store/postgresql/pg_audit_log.h"
#include "store/postgresql/pg_complaint_store.h"
#include "store/postgresql/pg_event_store.h"
#include "store/postgresql/pg_ledger.h"
#include "testing/ledger_batches.h"
#include "testing/postgres_server.h"
#include "testing/run_command.h"
#include "testing/wire_events.h"

namespace hub::store::pg {
namespace {

using hub::testing::make_event;
using hub::testing::PostgresServer;
using hub::testing::run_command;
using nlohmann::json;

constexpr std::int64_t kNow = 1'600'000'000'000;

// The event log, ledger, audit log and complaints register of one hub, as hubd writes them: ten
// households registered and evaluated, a scripted run of the dispatcher, audit records, a
// complaint.
void write_hub(const std::string& dsn, const std::string& hub_id) {
  {
    EventLog log(std::make_unique<PgEventStore>(dsn, hub_id));
    std::vector<WireEvent> registrations, evaluations;
    for (int n = 1; n <= 10; ++n) {
      const std::string household = "V01-" + std::to_string(10000 + n);
      registrations.push_back(make_event({{"type", "household"}, {"event_id", "reg-" + household},
                                          {"household_id", household}, {"village", "V01"}, {"members", 3}}));
      evaluations.push_back(make_event({{"type", "status_change"}, {"event_id", "ev-" + household},
                                        {"household_id", household}, {"status", n % 3 ? "credit" : "breach"},
                                        {"quarter", "2020Q3"}}));
    }
    for (const auto& [events, at] : {std::pair{registrations, kNow}, std::pair{evaluations, kNow + 70'000}}) {
      const StageResult r = log.stage(events, false, "fp-office");
      ASSERT_TRUE(r.ok()) << r.errors.front().error.message;
      log.commit_group(at);
    }
  }
  PgLedger ledger(dsn, hub_id);
  hub::testing::scripted_ledger_run(ledger, kNow + 80'000);
  PgAuditLog audit(dsn, hub_id);
  audit.append(std::vector<audit::AuditEntry>{{"event_accepted", "fp-office", "ev-V01-10001", "seq 11"},
                                              {"admin_retry", "ann", "finance:6", "delivered"}},
               kNow + 90'000);
  PgComplaintStore complaints(dsn, hub_id);
  NewComplaint complaint;
  complaint.household_id = "V01-10003";
  complaint.quarter = "2020Q3";
  complaint.received_on = "2020-10-12";
  complaint.summary = "评议有误 / the evaluation is wrong";
  complaints.add(complaint, "V01", "2020-10-27", kNow + 95'000);
}

std::vector<std::string> column(const PostgresServer& server, const std::string& database, const std::string& sql) {
  std::vector<std::string> out;
  std::istringstream in(server.psql(sql, database));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The tables of `database` with a hub_id column (hub_schema has none).
std::vector<std::string> hub_tables(const PostgresServer& server, const std::string& database) {
  return column(server, database,
                "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
                "USING (table_schema, table_name) WHERE c.table_schema = 'public' AND c.column_name = 'hub_id' "
                "AND t.table_type = 'BASE TABLE' ORDER BY 1");
}

// One line per table: the table and a digest of the hub's rows in it, in a fixed order.
std::vector<std::string> rows_of(const PostgresServer& server, const std::string& database,
                                 const std::vector<std::string>& tables, const std::string& hub_id) {
  std::vector<std::string> out;
  for (const auto& table : tables) {
    std::string line = table + " " +
                  server.psql("SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
                              "FROM " + table + " t WHERE hub_id = '" + hub_id + "'",
                              database);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(line);
  }
  return out;
}

// Waits until `done` holds (the subscriptions apply asynchronously); false after 60 s.
template <typename Done>
bool eventually(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

TEST(PgProvince, ACountysHubsArriveInTheProvinceByLogicalReplicationAndVerify) {
  PostgresServer county(PostgresServer::Durability::kTestsOnly, "wal_level = logical\n");
  PostgresServer province;
  const std::string east = county.fresh_database("county_east"), west = county.fresh_database("county_west");
  for (const auto& [database, hub_id] : {std::pair{east, "town-a"}, std::pair{east, "town-b"},
                                         std::pair{west, "town-c"}, std::pair{west, "town-d"}}) {
    SCOPED_TRACE(hub_id);
    write_hub(county.dsn(database), hub_id);
  }
  const std::vector<std::string> tables = hub_tables(county, east);
  ASSERT_GE(tables.size(), 17u);

  // On the counties: a publication per hub, as the docs say (town-d is not published).
  for (const auto& [database, hub_id] : {std::pair{east, "town-a"}, std::pair{east, "town-b"}, std::pair{west, "town-c"}})
    county.psql_file(HUB_PROVINCE_PUBLISH_SQL, database, {{"hub_id", hub_id}});
  EXPECT_EQ(column(county, east,
                   "SELECT tablename FROM pg_publication_tables WHERE pubname = 'hub_town-a' ORDER BY 1"),
            tables)
      << "publish-hub.sql must list every table with a hub_id column";

  // On the province: the tables from a county (with the versions), then a subscription per county.
  const std::string gathered = province.fresh_database("province");
  const std::string bin = county.bindir();
  const auto copied = run_command(bin + "/pg_dump --schema-only --no-owner --no-publications --no-subscriptions \"" +
                                  county.dsn(east) + "\" | " + bin + "/psql -X -q -v ON_ERROR_STOP=1 \"" +
                                  province.dsn(gathered) + "\" && " + bin + "/pg_dump --data-only --table=hub_schema \"" +
                                  county.dsn(east) + "\" | " + bin + "/psql -X -q -v ON_ERROR_STOP=1 \"" +
                                  province.dsn(gathered) + "\"");
  ASSERT_EQ(copied.exit_code, 0) << copied.output;
  province.psql("CREATE SUBSCRIPTION county_east CONNECTION '" + county.tcp_dsn(east, county.port()) +
                    "' PUBLICATION \"hub_town-a\", \"hub_town-b\"",
                gathered);
  province.psql("CREATE SUBSCRIPTION county_west CONNECTION '" + county.tcp_dsn(west, county.port()) +
                    "' PUBLICATION \"hub_town-c\"",
                gathered);
  const auto same_rows = [&](const std::string& database, const std::string& hub_id) {
    return rows_of(province, gathered, tables, hub_id) == rows_of(county, database, tables, hub_id);
  };
  const auto all_arrived = [&] {
    return same_rows(east, "town-a") && same_rows(east, "town-b") && same_rows(west, "town-c");
  };
  ASSERT_TRUE(eventually(all_arrived)) << province.log();

  // Written after the subscription: more events and deliveries of town-a arrive too.
  {
    EventLog log(std::make_unique<PgEventStore>(county.dsn(east), "town-a"));
    const StageResult r = log.stage({make_event({{"type", "status_change"}, {"event_id", "ev-late"},
                                                 {"household_id", "V01-10001"}, {"status", "breach"},
                                                 {"quarter", "2020Q4"}})},
                                    false, "fp-office");
    ASSERT_TRUE(r.ok());
    log.commit_group(kNow + 600'000);
    PgLedger ledger(county.dsn(east), "town-a");
    std::vector<delivery::LedgerBatch> later{hub::testing::ledger_batch("land", 18, 3)};
    ledger.commit(later, kNow + 610'000);
  }
  ASSERT_TRUE(eventually(all_arrived)) << province.log();
  EXPECT_EQ(column(province, gathered, "SELECT count(*) FROM event WHERE event_id = 'ev-late'"),
            std::vector<std::string>{"1"});

  // Each hub's chains verify on the province with the county's heads; town-d is nowhere.
  for (const auto& [database, hub_id] : {std::pair{east, "town-a"}, std::pair{east, "town-b"}, std::pair{west, "town-c"}}) {
    SCOPED_TRACE(hub_id);
    const auto events = verify_pg_event_chain(province.dsn(gathered), hub_id);
    const auto ledger = verify_pg_ledger_chain(province.dsn(gathered), hub_id);
    const auto audit = verify_pg_audit_log(province.dsn(gathered), hub_id);
    ASSERT_TRUE(events.ok) << events.message;
    ASSERT_TRUE(ledger.ok) << ledger.message;
    ASSERT_TRUE(audit.ok) << audit.message;
    EXPECT_EQ(events.head_hash_hex, verify_pg_event_chain(county.dsn(database), hub_id).head_hash_hex);
    EXPECT_EQ(ledger.head_hash_hex, verify_pg_ledger_chain(county.dsn(database), hub_id).head_hash_hex);
    EXPECT_EQ(audit.head_hash_hex, verify_pg_audit_log(county.dsn(database), hub_id).head_hash_hex);
  }
  for (const auto& line : rows_of(province, gathered, tables, "town-d")) EXPECT_EQ(line.substr(line.find(' ')), " 0 ") << line;
  EXPECT_EQ(column(province, gathered, "SELECT DISTINCT hub_id FROM event ORDER BY 1"),
            (std::vector<std::string>{"town-a", "town-b", "town-c"}));
  EXPECT_EQ(column(province, gathered, "SELECT component || ' ' || version FROM hub_schema ORDER BY 1"),
            column(county, east, "SELECT component || ' ' || version FROM hub_schema ORDER BY 1"));
}

}  // namespace
}  // namespace hub::store::pg

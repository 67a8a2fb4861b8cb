// The complaints register's store on PostgreSQL against a real server (testing/postgres_server.h):
// the contract shared with SQLite (testing/complaint_store_contract_tests.h), then what only
// PostgreSQL has: the schema version in hub_schema, and two hubs on one database numbering their
// complaints apart.
#include "store/postgresql/pg_complaint_store.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/complaint_store_contract_tests.h"
#include "testing/postgres_server.h"

namespace hub::store::pg {
namespace {

using hub::testing::ComplaintBackendParam;
using hub::testing::ComplaintStoreContract;
using hub::testing::PostgresServer;

std::string fresh_dsn(const std::string& prefix) {
  auto& server = PostgresServer::shared();
  return server.dsn(server.fresh_database(prefix));
}

INSTANTIATE_TEST_SUITE_P(PostgreSQL, ComplaintStoreContract,
                         ::testing::Values(ComplaintBackendParam{
                             "postgresql",
                             [] { return pg_complaint_store_opener(fresh_dsn("pg_complaints_contract"), "town-a"); }}),
                         hub::testing::complaint_backend_name);

TEST(PgComplaintStore, VersionsItsSchemaAndKeepsHubsApart) {
  const std::string dsn = fresh_dsn("pg_complaints_hubs");
  PgComplaintStore a(dsn, "town-a");
  PgComplaintStore b(dsn, "town-b");
  NewComplaint n = hub::testing::complaint_contract::complaint("V03-00417");
  EXPECT_EQ(a.add(n, "V03", "2026-03-17", 1).number, 1);
  EXPECT_EQ(a.add(n, "V03", "2026-03-17", 2).number, 2);
  EXPECT_EQ(b.add(n, "V03", "2026-03-17", 3).number, 1);  // its own numbers
  EXPECT_EQ(b.list({}).complaints.size(), 1u);
  EXPECT_EQ(a.counts("2026-03-20", std::nullopt).overdue, 2);
  Connection c(dsn);
  const Rows version = c.exec("SELECT version FROM hub_schema WHERE component = 'complaints'");
  ASSERT_EQ(version.size(), 1);
  EXPECT_EQ(version.integer(0, 0), 2);
}

}  // namespace
}  // namespace hub::store::pg

// The audit log on PostgreSQL against a real server: records are hashed, chained and signed as
// in audit.db (the same entries give the same head as SqliteAuditLog), the chain continues
// across reopening, the verifier names a changed record, a deleted last record and a bad
// signature, hubs sharing a database keep separate chains, and a failed append fails closed.
#include "store/postgresql/pg_audit_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/sqlite/chain_keeper.h"
#include "store/sqlite/sqlite_audit_log.h"
#include "testing/postgres_server.h"
#include "testing/temp_dir.h"

namespace hub::store::pg {
namespace {

using hub::testing::PostgresServer;

constexpr std::int64_t kNow = 1'600'000'000'000;

std::vector<audit::AuditEntry> entries(int from, int count) {
  std::vector<audit::AuditEntry> out;
  for (int i = from; i < from + count; ++i)
    out.push_back({i % 2 ? "admin_retry" : "refused", "admin-" + std::to_string(i % 3), "schools:" + std::to_string(i),
                   R"({"why":"审计 \"记录\" \\ )" + std::to_string(i) + "\"}"});
  return out;
}

class PgAuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PostgresServer& server = PostgresServer::shared();
    dsn_ = server.dsn(server.fresh_database("pg_audit"));
  }
  std::string dsn_;
  audit::SigningKey key_ = audit::SigningKey::generate();
};

TEST_F(PgAuditLogTest, RecordsAreChainedAndSignedLikeAuditDbAndTheChainGoesOnAfterReopening) {
  hub::testing::TempDir dir;
  SqliteAuditLog sqlite(dir.file("audit.db"), key_);
  {
    auto log = pg_audit_log_opener(dsn_, "town-a", key_)();
    EXPECT_EQ(log->last_seq(), 0);
    EXPECT_EQ(log->append(entries(1, 3), kNow), 3);
    EXPECT_EQ(log->append(entries(4, 1).front(), kNow + 1), 4);
    EXPECT_EQ(log->append(std::vector<audit::AuditEntry>{}, kNow + 1), 4);
  }
  sqlite.append(entries(1, 3), kNow);
  sqlite.append(entries(4, 1).front(), kNow + 1);
  PgAuditLog reopened(dsn_, "town-a", key_);
  EXPECT_EQ(reopened.last_seq(), 4);
  EXPECT_EQ(reopened.append(entries(5, 2), kNow + 2), 6);
  sqlite.append(entries(5, 2), kNow + 2);

  const auto on_pg = verify_pg_audit_log(dsn_, "town-a", key_.public_key);
  ASSERT_TRUE(on_pg.ok) << on_pg.message;
  EXPECT_EQ(on_pg.records, 6);
  EXPECT_EQ(on_pg.signatures_checked, 6);
  const auto on_sqlite = verify_audit_log(dir.file("audit.db"), key_.public_key);
  ASSERT_TRUE(on_sqlite.ok) << on_sqlite.message;
  EXPECT_EQ(on_pg.head_hash_hex, on_sqlite.head_hash_hex) << "the same record bytes on both backends";
}

TEST_F(PgAuditLogTest, TheVerifierNamesAChangedRecordADeletedLastOneAndABadSignature) {
  {
    PgAuditLog log(dsn_, "town-a", key_);
    log.append(entries(1, 8), kNow);
  }
  ASSERT_TRUE(verify_pg_audit_log(dsn_, "town-a", key_.public_key).ok);
  Connection c(dsn_);
  c.exec("UPDATE audit_record SET detail = detail || ' ' WHERE seq = 5");
  auto result = verify_pg_audit_log(dsn_, "town-a");
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.first_bad_seq, 5) << result.message;
  EXPECT_EQ(result.first_bad_subject, "schools:5");
  c.exec("UPDATE audit_record SET detail = substr(detail, 1, length(detail) - 1) WHERE seq = 5");
  ASSERT_TRUE(verify_pg_audit_log(dsn_, "town-a").ok);

  c.exec("UPDATE audit_record SET signature = NULL WHERE seq = 3");
  EXPECT_TRUE(verify_pg_audit_log(dsn_, "town-a").ok) << "without the key only the chain is checked";
  result = verify_pg_audit_log(dsn_, "town-a", key_.public_key);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.first_bad_seq, 3) << result.message;

  c.exec("DELETE FROM audit_record WHERE seq = 8");
  result = verify_pg_audit_log(dsn_, "town-a");
  EXPECT_FALSE(result.ok) << "the head still says 8";
  EXPECT_EQ(result.first_bad_seq, 8) << result.message;
  EXPECT_EQ(result.problem, "deleted");
}

TEST_F(PgAuditLogTest, HubsOnOneDatabaseKeepSeparateChains) {
  PgAuditLog a(dsn_, "town-a"), b(dsn_, "town-b");
  a.append(entries(1, 3), kNow);
  b.append(entries(1, 1), kNow);
  a.append(entries(4, 1), kNow);
  EXPECT_EQ(a.last_seq(), 4);
  EXPECT_EQ(b.last_seq(), 1);
  EXPECT_EQ(verify_pg_audit_log(dsn_, "town-a").records, 4);
  EXPECT_EQ(verify_pg_audit_log(dsn_, "town-b").records, 1);
  EXPECT_TRUE(verify_pg_audit_log(dsn_, "town-b").ok);
  EXPECT_EQ(PgAuditLog(dsn_, "town-c").last_seq(), 0);
}

TEST_F(PgAuditLogTest, AFailedAppendFailsClosedAndTheChainGoesOnAfterIt) {
  PgAuditLog log(dsn_, "town-a");
  log.append(entries(1, 2), kNow);
  Connection c(dsn_);
  c.exec("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
         "RAISE EXCEPTION 'injected failure'; END $$");
  c.exec("CREATE TRIGGER refuse BEFORE INSERT ON audit_record FOR EACH ROW EXECUTE FUNCTION refuse()");
  try {
    log.append(entries(3, 2), kNow + 1);
    FAIL() << "the append was accepted";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("injected failure"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("audit log not written"), std::string::npos) << e.what();
    EXPECT_FALSE(e.outcome_unknown());
  }
  EXPECT_EQ(log.last_seq(), 2);
  c.exec("DROP TRIGGER refuse ON audit_record");
  EXPECT_EQ(log.append(entries(3, 2), kNow + 2), 4);
  const auto result = verify_pg_audit_log(dsn_, "town-a");
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, 4);

  try {
    PgAuditLog nowhere("host=127.0.0.1 port=1 user=hubtest dbname=x connect_timeout=2", "town-a");
    FAIL() << "opened an audit log on port 1";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open the audit log"), std::string::npos) << e.what();
    EXPECT_EQ(e.status().storage, StorageKind::kUnavailable);
  }
}

}  // namespace
}  // namespace hub::store::pg

// A chain's head on PostgreSQL: linked in memory, written in the writer's pipeline, read back;
// a rolled-back transaction leaves the committed head; hubs sharing a database keep apart.
#include "store/postgresql/pg_chain.h"

#include <gtest/gtest.h>

#include "testing/postgres_server.h"

namespace hub::store::pg {
namespace {

using hub::testing::PostgresServer;

TEST(PgChain, TheHeadMovesWithItsTransactionAndHubsKeepApart) {
  Connection c(PostgresServer::shared().dsn(PostgresServer::shared().fresh_database("pg_chain")));
  ensure_chain_schema(c);
  ensure_chain_schema(c);  // every store calls it: idempotent

  PgChain town_a("town-a", "events");
  town_a.load(c);
  EXPECT_EQ(town_a.seq(), 0);
  EXPECT_EQ(town_a.hash(), Hash{});

  const audit::AuditEntry entry{"event_accepted", "office", "E1", "detail"};
  const Hash first = town_a.link(1, 1000, entry);
  EXPECT_EQ(first, audit::record_hash(Hash{}, 1, 1000, entry)) << "the same bytes as every other backend";
  {
    Pipeline p(c);
    p.send("BEGIN");
    town_a.send_head(p);
    p.send("COMMIT");
    p.finish();
  }
  town_a.committed();

  // A transaction that does not commit leaves the stored head, and rolled_back() the one in memory.
  town_a.link_next(2000, entry);
  {
    Connection::Transaction tx(c);
    town_a.write_head(c);
    tx.rollback();
  }
  town_a.rolled_back();
  EXPECT_EQ(town_a.seq(), 1);
  EXPECT_EQ(town_a.hash(), first);

  PgChain reread("town-a", "events");
  reread.load(c);
  EXPECT_EQ(reread.seq(), 1);
  EXPECT_EQ(reread.hash(), first);

  PgChain town_b("town-b", "events");
  town_b.load(c);
  EXPECT_EQ(town_b.seq(), 0) << "another hub's chain on the same database starts empty";
  EXPECT_FALSE(read_chain_head(c, "town-b", "events").has_value());
  const auto head = read_chain_head(c, "town-a", "events");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->seq, 1);
  EXPECT_EQ(head->hash, audit::to_hex(first.data(), first.size()));
}

}  // namespace
}  // namespace hub::store::pg

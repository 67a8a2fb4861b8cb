// Tests of the ledger's hand-off record: new ledgers have it, and a ledger written before
// connectors existed is migrated in place, its old deliveries reading as handoff "none".
#include "delivery/ledger.h"

#include <gtest/gtest.h>

#include "store/sqlite.h"
#include "testing/temp_dir.h"

namespace hub::delivery {
namespace {

LedgerBatch batch_with_handoff(std::uint64_t seq) {
  LedgerBatch batch;
  batch.department = "police";
  batch.plugin_version = "1.0.0";
  batch.new_cursor = seq;
  DeliveredEvent event;
  event.seq = seq;
  event.household_id = "V01-00001";
  event.event_id = "ev-" + std::to_string(seq);
  event.actions.push_back({"police.hukou_priority", "V01-00001", hub::sdk::ActionKind::kApply, std::nullopt, "ok"});
  event.handoff = "spool";
  event.handoff_detail = "police-00000000000000000002.jsonl";
  batch.delivered.push_back(event);
  return batch;
}

std::vector<std::string> handoffs(const std::string& path) {
  store::Database db(path, store::Database::Mode::kReadOnly);
  store::Statement q(db, "SELECT handoff || '|' || handoff_detail FROM delivery ORDER BY seq");
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.column_text(0));
  return out;
}

TEST(Ledger, RecordsTheHandoffOfEachDelivery) {
  hub::testing::TempDir dir;
  Ledger ledger(dir.file("ledger.db"));
  std::vector<LedgerBatch> batches{batch_with_handoff(2)};
  ledger.commit(batches, 1000);
  EXPECT_EQ(handoffs(dir.file("ledger.db")), std::vector<std::string>{"spool|police-00000000000000000002.jsonl"});
}

TEST(Ledger, OldLedgerWithoutHandoffColumnsIsMigrated) {
  hub::testing::TempDir dir;
  {
    store::Database old(dir.file("ledger.db"), store::Database::Mode::kReadWrite);
    old.exec(
        "CREATE TABLE delivery (department TEXT NOT NULL, seq INTEGER NOT NULL, household_id TEXT NOT NULL, "
        "event_id TEXT NOT NULL, delivered_at_ms INTEGER NOT NULL, plugin_version TEXT NOT NULL, "
        "PRIMARY KEY (department, seq)) WITHOUT ROWID;"
        "INSERT INTO delivery VALUES ('police', 1, 'V01-00001', 'ev-1', 500, '1.0.0');");
  }
  {
    Ledger ledger(dir.file("ledger.db"));
    std::vector<LedgerBatch> batches{batch_with_handoff(2)};
    ledger.commit(batches, 1000);
  }
  Ledger reopened(dir.file("ledger.db"));  // a second open finds the columns and changes nothing
  EXPECT_EQ(handoffs(dir.file("ledger.db")),
            (std::vector<std::string>{"none|", "spool|police-00000000000000000002.jsonl"}));
}

}  // namespace
}  // namespace hub::delivery

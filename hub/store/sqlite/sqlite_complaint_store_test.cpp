// The complaints register's store on SQLite (complaints.db): the contract shared with PostgreSQL
// (testing/complaint_store_contract_tests.h), then what only the file shows: its schema version,
// a file newer than this hubd refused, and a version-1 file upgraded in place.
#include "store/sqlite/sqlite_complaint_store.h"

#include <gtest/gtest.h>

#include <memory>

#include "store/sqlite/database.h"
#include "testing/complaint_store_contract_tests.h"
#include "testing/temp_dir.h"

namespace hub::store {
namespace {

using hub::testing::ComplaintBackendParam;
using hub::testing::ComplaintStoreContract;
using hub::testing::TempDir;

INSTANTIATE_TEST_SUITE_P(Sqlite, ComplaintStoreContract,
                         ::testing::Values(ComplaintBackendParam{
                             "sqlite",
                             [] {
                               // The folder lives as long as the opener (and every store it opened).
                               auto dir = std::make_shared<TempDir>();
                               complaints::ComplaintStoreOpener inner = sqlite_complaint_store_opener(dir->file("complaints.db"));
                               return complaints::ComplaintStoreOpener([dir, inner] { return inner(); });
                             }}),
                         hub::testing::complaint_backend_name);

TEST(SqliteComplaintStore, VersionsItsSchemaAndRefusesANewerFile) {
  TempDir dir;
  const std::string path = dir.file("complaints.db");
  { SqliteComplaintStore store(path); }
  {
    Database db(path, Database::Mode::kReadWrite);
    EXPECT_EQ(user_version(db), 2);
    db.exec("PRAGMA user_version=3");
  }
  try {
    SqliteComplaintStore store(path);
    FAIL() << "a newer file was opened";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this hubd"), std::string::npos) << e.what();
  }
}

TEST(SqliteComplaintStore, UpgradesAVersion1FileInPlace) {
  TempDir dir;
  const std::string path = dir.file("complaints.db");
  {
    // complaints.db as a version-1 hubd left it: the complaints only, one of them lodged.
    Database db(path, Database::Mode::kReadWrite);
    db.exec(R"sql(
CREATE TABLE complaint (
  number        INTEGER PRIMARY KEY,
  id            TEXT NOT NULL UNIQUE,
  household_id  TEXT NOT NULL,
  village       TEXT NOT NULL,
  quarter       TEXT NOT NULL,
  channel       TEXT NOT NULL,
  received_on   TEXT NOT NULL,
  summary       TEXT NOT NULL,
  lodged_by     TEXT,
  handler       TEXT,
  deadline      TEXT NOT NULL,
  state         TEXT NOT NULL,
  ruling        TEXT,
  ruled_on      TEXT,
  lodged_at_ms  INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX complaint_household ON complaint (household_id, number);
CREATE INDEX complaint_open ON complaint (state, deadline);
INSERT INTO complaint VALUES (1, 'TS-2026-000001', 'V03-00417', 'V03', '2026Q1', 'village_box', '2026-03-02',
  '评议结果与事实不符', '张三', NULL, '2026-03-17', 'received', NULL, NULL, 1000, 1000);
PRAGMA user_version=1;
)sql");
  }
  {
    SqliteComplaintStore store(path);
    const auto kept = store.find(1);
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->id, "TS-2026-000001");
    EXPECT_EQ(kept->household_id, "V03-00417");
    EXPECT_EQ(kept->channel, ComplaintChannel::kVillageBox);
    EXPECT_EQ(kept->summary, "评议结果与事实不符");
    EXPECT_EQ(kept->lodged_by, std::optional<std::string>("张三"));
    EXPECT_EQ(kept->state, ComplaintState::kReceived);
    EXPECT_TRUE(store.notices(std::nullopt).empty());
    store.save_proposals({hub::testing::complaint_contract::proposal("V03-00417")});
    EXPECT_EQ(store.add(hub::testing::complaint_contract::complaint("V03-00418"), "V03", "2026-03-17", 2000).number,
              2);
  }
  {
    Database db(path, Database::Mode::kReadWrite);
    EXPECT_EQ(user_version(db), 2);
  }
  // Opened again: nothing to upgrade, everything kept.
  SqliteComplaintStore store(path);
  EXPECT_TRUE(store.find(1));
  const auto proposal = store.find_proposal("V03-00417", "2026Q1");
  ASSERT_TRUE(proposal);
  hub::testing::complaint_contract::expect_same_proposal(*proposal,
                                                         hub::testing::complaint_contract::proposal("V03-00417"));
  ASSERT_EQ(store.notices(std::nullopt).size(), 1u);
}

}  // namespace
}  // namespace hub::store

// The complaints register's store on SQLite (complaints.db): the contract shared with PostgreSQL
// (testing/complaint_store_contract_tests.h), then what only the file shows: its schema version,
// and a file newer than this hubd refused.
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
    EXPECT_EQ(user_version(db), 1);
    db.exec("PRAGMA user_version=2");
  }
  try {
    SqliteComplaintStore store(path);
    FAIL() << "a newer file was opened";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this hubd"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hub::store

// The Checkpointer must really copy the WAL into the database file. Its connections are fresh:
// sqlite3_wal_checkpoint_v2 on a connection that has not yet read the database does not know
// the file is in WAL mode and returns SQLITE_OK having done nothing (log and checkpointed
// frames -1). hubd's WALs then grew for as long as it ran (found by scripts/soak.sh: events.db
// stayed one page while events.db-wal passed 100 MB).
#include "store/sqlite/checkpointer.h"

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "store/sqlite/database.h"
#include "testing/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using hub::store::Database;

TEST(CheckpointerTest, CopiesTheWalIntoTheDatabaseFileAndTheWalRestarts) {
  hub::testing::TempDir dir;
  const std::string path = (dir.path() / "events.db").string();
  Database writer(path, Database::Mode::kReadWrite);
  writer.exec("PRAGMA journal_mode=WAL");
  hub::store::disable_auto_checkpoint(writer);  // as hubd's writers do
  writer.exec("CREATE TABLE t(x BLOB)");
  const auto write = [&writer](int rows) {
    writer.exec("BEGIN");
    for (int i = 0; i < rows; ++i) writer.exec("INSERT INTO t VALUES (randomblob(1000))");
    writer.exec("COMMIT");
  };
  write(2000);  // about 2 MB of WAL
  const auto before = fs::file_size(path);

  hub::store::Checkpointer checkpointer({path}, std::chrono::milliseconds(20));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (fs::file_size(path) < before + 1'000'000 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(fs::file_size(path), before + 1'000'000) << "the WAL was not copied into " << path;

  // Once all of it is copied, the next writes start the WAL from its beginning again: it does
  // not keep growing with every batch.
  const auto wal_size = fs::file_size(path + "-wal");
  for (int round = 0; round < 10; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    write(200);
  }
  EXPECT_LE(fs::file_size(path + "-wal"), wal_size) << "the WAL kept growing";
}

}  // namespace

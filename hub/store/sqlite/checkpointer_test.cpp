// The Checkpointer must really copy the WAL into the database file. Its connections are fresh:
// sqlite3_wal_checkpoint_v2 on a connection that has not yet read the database does not know
// the file is in WAL mode and returns SQLITE_OK having done nothing (log and checkpointed
// frames -1). hubd's WALs then grew for as long as it ran (found by scripts/soak.sh: events.db
// stayed one page while events.db-wal passed 100 MB).
#include "store/sqlite/checkpointer.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
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

// A writer that never pauses: no PASSIVE checkpoint ever ends with the whole WAL copied at the
// moment a new write begins, so without RESTART the WAL grew for as long as the writes went on
// (635 MB in the county bench). With a restart above 256 frames (1 MiB) it stays far below.
TEST(CheckpointerTest, AWalUnderASteadyStreamOfCommitsStaysBounded) {
  hub::testing::TempDir dir;
  const std::string path = (dir.path() / "ledger.db").string();
  Database writer(path, Database::Mode::kReadWrite);
  writer.exec("PRAGMA journal_mode=WAL");
  writer.exec("PRAGMA synchronous=OFF");  // the test is about checkpoints, not the disk
  hub::store::disable_auto_checkpoint(writer);
  writer.exec("CREATE TABLE t(x BLOB)");
  Database reader(path, Database::Mode::kReadOnly);  // short reads, as the views and delivery make

  constexpr int kRestartFrames = 256;
  hub::store::Checkpointer checkpointer({path}, std::chrono::milliseconds(10), kRestartFrames);
  std::uintmax_t largest_wal = 0;
  std::uintmax_t written = 0;
  constexpr std::uintmax_t kToWrite = 96u << 20;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (written < kToWrite && std::chrono::steady_clock::now() < until) {
    writer.exec("BEGIN");
    for (int i = 0; i < 50; ++i) writer.exec("INSERT INTO t VALUES (randomblob(1000))");
    writer.exec("COMMIT");
    written += 50 * 1000;
    reader.exec("SELECT count(*) FROM t WHERE rowid = 1");
    // hubd's writers pause between commits (a ledger round, an ingest group), if only briefly.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    largest_wal = std::max(largest_wal, fs::file_size(path + "-wal"));
  }
  ASSERT_GE(written, 64u << 20) << "the writer wrote too little in 30 s to tell (a very slow machine?)";
  // Each restart lets the WAL start again; between two of them a few MB more may come.
  EXPECT_LT(largest_wal, 32u << 20) << "the WAL grew with the writes: " << largest_wal << " bytes for " << written
                                    << " written";
}

}  // namespace


// The SQLite read views' contract beyond what the reports compute (those are checked end to end
// by tests/integration/dashboard_api_test.cpp): one object is one snapshot, and a SQLite error
// leaves as StorageError, never as store::SqliteError.
#include "store/sqlite/sqlite_report_views.h"

#include <gtest/gtest.h>

#include "store/sqlite/database.h"
#include "testing/temp_dir.h"

namespace {

using hub::StorageError;
using hub::store::Database;
using hub::store::open_sqlite_report_views;

// The columns of events.db's event table that quarters() reads, in WAL mode as hubd keeps it
// (so that a writer can commit while a reader holds its snapshot).
void make_event_log(const std::string& path) {
  Database db(path, Database::Mode::kReadWrite);
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("CREATE TABLE event (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, quarter TEXT)");
  db.exec("INSERT INTO event (type, quarter) VALUES ('status_change', '2020Q3')");
}

TEST(SqliteReportViews, OneObjectReadsOneSnapshot) {
  hub::testing::TempDir dir;
  make_event_log(dir.file("events.db"));
  auto views = open_sqlite_report_views(dir.str());
  EXPECT_EQ(views->quarters(), std::vector<std::string>{"2020Q3"});

  Database writer(dir.file("events.db"), Database::Mode::kReadWrite);
  writer.exec("INSERT INTO event (type, quarter) VALUES ('status_change', '2020Q4')");

  EXPECT_EQ(views->quarters(), std::vector<std::string>{"2020Q3"}) << "the same snapshot as the first read";
  EXPECT_EQ(open_sqlite_report_views(dir.str())->quarters(), (std::vector<std::string>{"2020Q3", "2020Q4"}));
}

TEST(SqliteReportViews, SqliteErrorsLeaveAsTheHubsStorageError) {
  hub::testing::TempDir dir;
  // No such folder: the connection cannot be opened.
  EXPECT_THROW(open_sqlite_report_views(dir.file("missing/folder")), StorageError);
  // Empty files: the connection opens, the read fails (no such table).
  auto views = open_sqlite_report_views(dir.str());
  EXPECT_THROW(views->quarters(), StorageError);
  EXPECT_THROW(views->metrics(), StorageError);
}

}  // namespace

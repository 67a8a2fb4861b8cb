// The SQLite implementation of the report part's read views (report/report_views.h): ledger.db
// opened with events.db attached as schema `ev`, in query_only mode, inside one read
// transaction so that every operation of one object sees the same snapshot. Every SQL string
// of the reports, the household look-up, reconciliation, /metrics and the timeline lives in
// the .cpp; SqliteError never leaves it (it becomes StorageError (domain/status.h)).
//
// Owned by the storage backend; the daemon turns open_sqlite_report_views into the
// report::ReportViewsOpener it hands to the admin and HTTP servers. Any thread may open views;
// the object then belongs to that thread (one connection, see database.h).
#pragma once

#include <memory>
#include <string>

#include "report/report_views.h"

namespace hub::store {

// Opens <data_dir>/ledger.db with <data_dir>/events.db attached. Throws
// StorageError (domain/status.h) when a file cannot be opened.
std::unique_ptr<report::ReportViews> open_sqlite_report_views(const std::string& data_dir);

}  // namespace hub::store

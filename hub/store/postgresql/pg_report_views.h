// The read views (report/report_views.h) on PostgreSQL: the same questions as the SQLite views
// (store/sqlite/sqlite_report_views.h), over the event store's and the ledger's tables of one
// hub (pg_event_store.h, pg_ledger.h), in one snapshot: each object opens its own connection and
// a REPEATABLE READ, READ ONLY transaction, held until it goes. What is computed from the rows
// (recorded rows, delivery figures, the tallies) is shared with SQLite (store/view_records.h), so
// both backends give the same report for the same data.
//
// Each operation is a few statements, never one per row; reconciliation's pass reads through a
// server-side cursor, a chunk of rows at a time, so memory stays flat at a county's size.
#pragma once

#include <memory>
#include <string>

#include "report/report_views.h"

namespace hub::store::pg {

// Opens one snapshot of hub `hub_id`'s data at `dsn`; throws StorageError when it cannot.
std::unique_ptr<report::ReportViews> open_pg_report_views(const std::string& dsn, const std::string& hub_id);

}  // namespace hub::store::pg

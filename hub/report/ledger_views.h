// Read-only views over a hub's two SQLite files, for the administrators' reports: ledger.db
// opened with events.db attached as schema `ev`, in query_only mode.
//
// Every reader of both files (admin household, report, reconcile, metrics) opens its views
// here, so the attach and the read-only guarantee live in one place. A Views object belongs
// to the thread that opened it (see store/sqlite/database.h).
#pragma once

#include <memory>
#include <string>

#include "store/sqlite/database.h"

namespace hub::report {

// Opens <data_dir>/ledger.db with <data_dir>/events.db attached as `ev`. Throws
// store::SqliteError when a file cannot be opened.
std::unique_ptr<store::Database> open_views(const std::string& data_dir);

// The four action kinds an administrator reads as a policy's state: apply, release and
// restore all leave the policy granted ("applied").
std::string policy_state_of_action(const std::string& action);

}  // namespace hub::report

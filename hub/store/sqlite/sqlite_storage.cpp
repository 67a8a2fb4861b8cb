#include "store/sqlite/sqlite_storage.h"

#include <filesystem>

#include "store/sqlite/checkpointer.h"
#include "store/sqlite/sqlite_audit_log.h"
#include "store/sqlite/sqlite_complaint_store.h"
#include "store/sqlite/sqlite_event_store.h"
#include "store/sqlite/sqlite_ledger.h"
#include "store/sqlite/sqlite_report_views.h"

namespace hub::store {

namespace fs = std::filesystem;

SqliteStorage::SqliteStorage(std::string data_dir) : data_dir_(std::move(data_dir)) {}

std::string SqliteStorage::describe() const { return "SQLite in " + data_dir_; }

std::string SqliteStorage::events_path() const { return (fs::path(data_dir_) / "events.db").string(); }
std::string SqliteStorage::ledger_path() const { return (fs::path(data_dir_) / "ledger.db").string(); }
std::string SqliteStorage::audit_path() const { return (fs::path(data_dir_) / "audit.db").string(); }
std::string SqliteStorage::complaints_path() const { return (fs::path(data_dir_) / "complaints.db").string(); }

std::vector<std::string> SqliteStorage::checkpointed_files() const { return {events_path(), ledger_path()}; }

std::unique_ptr<EventStore> SqliteStorage::open_event_store() const {
  return std::make_unique<SqliteEventStore>(events_path());
}

EventReaderOpener SqliteStorage::event_readers() const { return sqlite_event_reader_opener(events_path()); }

std::unique_ptr<delivery::Ledger> SqliteStorage::open_ledger() const {
  return std::make_unique<SqliteLedger>(ledger_path(), events_path());
}

audit::AuditLogOpener SqliteStorage::audit_logs(std::optional<audit::SigningKey> signing_key) const {
  return sqlite_audit_log_opener(audit_path(), std::move(signing_key));
}

std::unique_ptr<Upkeep> SqliteStorage::start_upkeep() const {
  return std::make_unique<Checkpointer>(checkpointed_files(), std::chrono::milliseconds(100));
}

report::ReportViewsOpener SqliteStorage::report_views() const {
  return [data_dir = data_dir_] { return open_sqlite_report_views(data_dir); };
}

complaints::ComplaintStoreOpener SqliteStorage::complaint_stores() const {
  return sqlite_complaint_store_opener(complaints_path());
}

}  // namespace hub::store

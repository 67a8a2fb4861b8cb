// The SQLite backend as a whole: which file of the data folder holds what, and the stores opened
// on them, in the form their users own (eventlog/event_store.h, eventlog/event_reader.h,
// delivery/ledger.h, audit/audit_log.h, report/report_views.h). hubd makes one and hands each
// part what it needs; nothing outside hub/store/ names a file of the backend.
//
//   events.db  the event log (sqlite_event_store.h)
//   ledger.db  the delivery ledger (sqlite_ledger.h)
//   audit.db   the audit log (sqlite_audit_log.h)
//
// A second backend (issue 16) is a second class with the same members.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "delivery/ledger.h"
#include "eventlog/event_reader.h"
#include "eventlog/event_store.h"
#include "report/report_views.h"

namespace hub::store {

class SqliteStorage {
 public:
  explicit SqliteStorage(std::string data_dir);

  std::string events_path() const;
  std::string ledger_path() const;
  std::string audit_path() const;
  // The files whose WAL hubd's Checkpointer keeps short (the writers turn auto-checkpoints off).
  std::vector<std::string> checkpointed_files() const;

  // Each throws StorageError when the file cannot be opened (or is newer than this hubd).
  std::unique_ptr<EventStore> open_event_store() const;
  EventReaderOpener event_readers() const;
  std::unique_ptr<delivery::Ledger> open_ledger() const;
  audit::AuditLogOpener audit_logs(std::optional<audit::SigningKey> signing_key) const;
  report::ReportViewsOpener report_views() const;

 private:
  std::string data_dir_;
};

}  // namespace hub::store

// The SQLite backend as a whole: which file of the data folder holds what, and the stores opened
// on them, in the form their users own (eventlog/event_store.h, eventlog/event_reader.h,
// delivery/ledger.h, audit/audit_log.h, report/report_views.h). hubd makes one and hands each
// part what it needs; nothing outside hub/store/ names a file of the backend.
//
//   events.db  the event log (sqlite_event_store.h)
//   ledger.db  the delivery ledger (sqlite_ledger.h)
//   audit.db   the audit log (sqlite_audit_log.h)
//   complaints.db  the complaints register (sqlite_complaint_store.h)
//
// The other backend is store/postgresql/pg_storage.h; store/storage.h chooses.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/storage.h"

namespace hub::store {

class SqliteStorage : public Storage {
 public:
  explicit SqliteStorage(std::string data_dir);

  std::string describe() const override;

  std::string events_path() const;
  std::string ledger_path() const;
  std::string audit_path() const;
  std::string complaints_path() const;
  // The files whose WAL the Checkpointer keeps short (the writers turn auto-checkpoints off).
  std::vector<std::string> checkpointed_files() const;

  std::unique_ptr<EventStore> open_event_store() const override;
  EventReaderOpener event_readers() const override;
  std::unique_ptr<delivery::Ledger> open_ledger() const override;
  audit::AuditLogOpener audit_logs(std::optional<audit::SigningKey> signing_key) const override;
  std::string audit_location() const override { return audit_path(); }
  report::ReportViewsOpener report_views() const override;
  complaints::ComplaintStoreOpener complaint_stores() const override;
  // The Checkpointer of events.db and ledger.db, every 100 ms.
  std::unique_ptr<Upkeep> start_upkeep() const override;

 private:
  std::string data_dir_;
};

}  // namespace hub::store

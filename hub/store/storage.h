// The storage backend hubd runs on, as one interface: it opens every store, and hubd hands each
// part the ones it uses, in the form that part owns (eventlog/event_store.h,
// eventlog/event_reader.h, delivery/ledger.h, audit/audit_log.h, report/report_views.h,
// complaints/complaint_store.h). Nothing
// outside hub/store/ names a backend's file, table or driver.
//
// Two backends implement it (issue 16), chosen by the configuration's "storage" section
// (config/hub_config.h, docs/deployment.md):
//   sqlite      the embedded default: events.db, ledger.db and audit.db in data_dir
//               (store/sqlite/sqlite_storage.h);
//   postgresql  one database, possibly shared by several hubs and replicated by the cluster,
//               every key led by the hub's hub_id (store/postgresql/pg_storage.h).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "complaints/complaint_store.h"
#include "config/hub_config.h"
#include "delivery/ledger.h"
#include "eventlog/event_reader.h"
#include "eventlog/event_store.h"
#include "report/report_views.h"

namespace hub::store {

// Work a backend does in the background while hubd runs (SQLite: WAL checkpoints); it stops
// when the object goes. hubd keeps it until every writer has stopped.
class Upkeep {
 public:
  virtual ~Upkeep() = default;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // For logs and messages: where the data lives ("SQLite in /var/lib/chengxin-hub",
  // "PostgreSQL host=pg1,pg2 …, hub town-a").
  virtual std::string describe() const = 0;

  // Each throws StorageError when the store cannot be opened (or is newer than this hubd).
  virtual std::unique_ptr<EventStore> open_event_store() const = 0;
  virtual EventReaderOpener event_readers() const = 0;
  virtual std::unique_ptr<delivery::Ledger> open_ledger() const = 0;
  virtual audit::AuditLogOpener audit_logs(std::optional<audit::SigningKey> signing_key) const = 0;
  // What AuditTrail names in its messages (the audit file, or the database).
  virtual std::string audit_location() const = 0;
  virtual report::ReportViewsOpener report_views() const = 0;
  // The complaints register's store (complaints/complaint_store.h), opened by the admin thread.
  virtual complaints::ComplaintStoreOpener complaint_stores() const = 0;

  // Starts the backend's background work; nullptr when it has none.
  virtual std::unique_ptr<Upkeep> start_upkeep() const = 0;
};

// The backend the configuration names. Throws StorageError when it cannot be opened.
std::unique_ptr<Storage> open_storage(const HubConfig& config);

}  // namespace hub::store

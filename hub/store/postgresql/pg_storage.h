// The PostgreSQL backend as a whole (issue 16, docs/deployment.md): one database, reached with a
// libpq connection string (several hosts and target_session_attrs=read-write find the primary
// after a failover), holding the event log (pg_event_store.h), the ledger (pg_ledger.h), the audit
// log (pg_audit_log.h), the complaints register (pg_complaint_store.h) and the read views (pg_report_views.h) of hub `hub_id` — beside any other
// hubs that share the database. Each store owns its connections; nothing here is shared between
// threads.
#pragma once

#include <string>

#include "store/storage.h"

namespace hub::store::pg {

class PgStorage : public Storage {
 public:
  PgStorage(std::string dsn, std::string hub_id);

  std::string describe() const override;
  std::unique_ptr<EventStore> open_event_store() const override;
  EventReaderOpener event_readers() const override;
  std::unique_ptr<delivery::Ledger> open_ledger() const override;
  audit::AuditLogOpener audit_logs(std::optional<audit::SigningKey> signing_key) const override;
  std::string audit_location() const override;
  report::ReportViewsOpener report_views() const override;
  complaints::ComplaintStoreOpener complaint_stores() const override;
  // None: the server does its own upkeep (autovacuum, checkpoints).
  std::unique_ptr<Upkeep> start_upkeep() const override { return nullptr; }

 private:
  std::string dsn_;
  std::string hub_id_;
};

}  // namespace hub::store::pg

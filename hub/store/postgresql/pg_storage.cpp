#include "store/postgresql/pg_storage.h"

#include "store/postgresql/pg_audit_log.h"
#include "store/postgresql/pg_complaint_store.h"
#include "store/postgresql/pg_event_store.h"
#include "store/postgresql/pg_ledger.h"
#include "store/postgresql/pg_report_views.h"

namespace hub::store::pg {

PgStorage::PgStorage(std::string dsn, std::string hub_id) : dsn_(std::move(dsn)), hub_id_(std::move(hub_id)) {}

std::string PgStorage::describe() const { return "PostgreSQL (" + dsn_ + "), hub " + hub_id_; }

std::unique_ptr<EventStore> PgStorage::open_event_store() const {
  return std::make_unique<PgEventStore>(dsn_, hub_id_);
}

EventReaderOpener PgStorage::event_readers() const { return pg_event_reader_opener(dsn_, hub_id_); }

std::unique_ptr<delivery::Ledger> PgStorage::open_ledger() const { return std::make_unique<PgLedger>(dsn_, hub_id_); }

audit::AuditLogOpener PgStorage::audit_logs(std::optional<audit::SigningKey> signing_key) const {
  return pg_audit_log_opener(dsn_, hub_id_, std::move(signing_key));
}

std::string PgStorage::audit_location() const { return "PostgreSQL audit_record, hub " + hub_id_; }

report::ReportViewsOpener PgStorage::report_views() const {
  return [dsn = dsn_, hub_id = hub_id_] { return open_pg_report_views(dsn, hub_id); };
}

complaints::ComplaintStoreOpener PgStorage::complaint_stores() const {
  return pg_complaint_store_opener(dsn_, hub_id_);
}

}  // namespace hub::store::pg

// The event log's rows as every storage backend stores them (eventlog/event_store.h gives the
// contract and the chain record): the values of one `event` row for a staged event, the chain
// record those values make, and the way back from stored text to a LoggedEvent's fields. No SQL
// here: the SQLite and PostgreSQL backends bind and read these values with their own
// statements, and so chain the same bytes (a verifier gives the same head on both).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "domain/logged_event.h"
#include "domain/wire_event.h"
#include "eventlog/event_store.h"

namespace hub::store {

// One stored event: the columns of table `event` the chain covers, plus seq and publisher. The
// six status columns are set only for status changes (NULL otherwise).
struct EventRow {
  std::int64_t seq = 0;
  std::string event_id;
  std::string type;
  std::string household_id;
  std::string village;
  std::optional<std::string> status, previous_status, quarter, previous_quarter, effective_date, designations;
  std::int64_t correction = 0;  // a CorrectionKind
  std::string digest;
  std::string body;
  std::string publisher;
};

// Column `correction` says which kind a status change is. Chained as written; files from before
// kPastQuarter hold only 0 and 1.
enum CorrectionKind : std::int64_t {
  kNotACorrection = 0,
  kSameQuarter = 1,  // the household's current quarter evaluated again
  kPastQuarter = 2,  // a past quarter put right by a complaint's ruling: the household row keeps its evaluation
};

// The row append() writes for `staged` (the values SqliteEventStore binds, in its order).
EventRow event_row(const StagedEvent& staged);

// The chain record of a stored event (event_store.h): kind "event_accepted", actor the
// publisher, subject the event_id, detail the RowDetail of type … body in the documented order.
audit::AuditEntry event_chain_entry(const EventRow& row);

// A stored `type` and `designations` back to what LoggedEvent holds.
EventType event_type_from(std::string_view stored);
std::vector<std::string> designations_from(const std::string& stored);
// A stored `correction` and its `body` into the LoggedEvent's correction, past_quarter and
// complaint_id. The readers select the body only for a correction or a ruling's event (publisher
// "complaint:…", which may be the first evaluation of its quarter: a complaint about a notice's
// proposal) and "" otherwise: a ruling is rare, so the column the delivery reads for every
// event is not widened for it.
void read_correction(std::int64_t kind, const std::string& body, LoggedEvent& into);
// The complaint a stored body names ("" for none).
std::string complaint_id_in(const std::string& body);

}  // namespace hub::store

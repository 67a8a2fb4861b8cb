// The event log's storage contract: what EventLog (event_log.h) needs from a store, and what a
// storage backend implements (hub/store/sqlite/sqlite_event_store.h: events.db).
//
// A store keeps every accepted event with its seq, and each household's current registration,
// commitment and status (derived from the events, written in the same transaction). append()
// writes a whole group durably, in one transaction, before it returns; only then may ingest
// acknowledge it.
//
// Threads: a store belongs to the ingest thread, with one exception that pipelined ingest needs
// (event_log.h): while append() runs on another thread (ingest's commit thread), the ingest
// thread may call lookups() and use them, so a store's look-ups must not share the writer's
// connection. They see what is committed; what is being written is answered from memory.
//
// Errors: every method throws StorageError (domain/status.h) when the store cannot do it. A
// failed append() wrote nothing, unless the error says outcome_unknown (the commit failed and
// may have happened): EventLog then reads the last seq and the households again before it
// stages anything, and the store reads its chain head again before its next append.
//
// The audit chain (issue 5, docs/security.md). Every event row is also a record of a hash
// chain, linked by the store in append() and written in the same transaction as the event, with
// the chain's head: no extra fsync.
//   seq     = the event's seq            at_ms   = received_at_ms
//   kind    = "event_accepted"           actor   = `publisher` (the publisher's key name; "" when
//                                                   unknown: ingest without keys, upgraded rows)
//   subject = event_id
//   detail  = audit::RowDetail of the event's stored values type, household_id, village,
//             status, previous_status, quarter, previous_quarter, effective_date,
//             designations, correction, digest, body (in this order; the six status fields
//             NULL for other events)
// and the record's previous hash and hash are stored with the event. Changing any stored value
// of an event (its status, its body, who published it, when) breaks the chain at that event.
// The households' state is derived and not chained. A store written before the chain is
// chained once when it is opened (all events, in seq order, publisher ""). The backend's
// verifier walks it (hubctl audit verify; for SQLite store::verify_event_chain()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <optional>
#include <string>
#include <vector>

#include "domain/status.h"
#include "domain/wire_event.h"

namespace hub {

// An event the log has accepted and not yet stored: what append() writes.
struct StagedEvent {
  std::uint64_t seq = 0;
  WireEvent event;
  std::string publisher;  // the key's name, the chain record's actor
  std::string canonical;  // the event's canonical JSON (the stored body)
  std::string digest;     // of `canonical`: a republished event_id is compared by it
  std::string village;
  hub::sdk::HouseholdStatus previous_status = hub::sdk::HouseholdStatus::kUnevaluated;
  std::string previous_quarter;
  bool correction = false;
  // A past quarter corrected by a complaint's ruling (EventLog): stored with correction kind
  // 2, and the household's current evaluation is not changed by it.
  bool past_quarter = false;
};

// A household's current state as stored.
struct StoredHousehold {
  std::string household_id;
  std::string village;
  hub::sdk::HouseholdStatus status = hub::sdk::HouseholdStatus::kUnevaluated;
  std::string quarter;  // empty before the first evaluation
};

// An event_id already stored: its seq and content digest.
struct KnownEvent {
  std::uint64_t seq = 0;
  std::string digest;
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // What the store holds, read from it (at open, and after an outcome unknown).
  virtual std::vector<StoredHousehold> load_households() = 0;
  virtual std::uint64_t last_seq() = 0;
  // How many events the open chained (0 unless the store predates the chain).
  virtual std::uint64_t chained_at_open() const = 0;

  // Event-id look-ups, several in one read (one snapshot) for as long as the object lives.
  class Lookups {
   public:
    virtual ~Lookups() = default;
    // The ids about to be looked up (a whole request's), so that a store across a network
    // (PostgreSQL) brings them in one read instead of one per find(). A hint: find() answers
    // any id either way, and a store on a local file need not override it.
    virtual void prefetch(const std::vector<std::string>& event_ids) { (void)event_ids; }
    virtual std::optional<KnownEvent> find(const std::string& event_id) = 0;
    // The status of the household's last stored status change for `quarter`, or nothing when
    // it has none. Read only for a complaint's ruling on a past quarter (rare): an index probe.
    virtual std::optional<hub::sdk::HouseholdStatus> status_in_quarter(const std::string& household_id,
                                                                       const std::string& quarter) = 0;
  };
  virtual std::unique_ptr<Lookups> lookups() = 0;
  // Calls `visit` with every stored event id, in seq order, reading in chunks (bounded memory
  // for a county's millions). May run while append() runs, like lookups(); what a concurrent
  // append writes may or may not be visited.
  virtual void each_event_id(const std::function<void(std::string_view)>& visit) = 0;

  // Stores the group (in seq order, following last_seq()) and the households it changes, chained,
  // in one durable transaction, all received at `received_at_ms`.
  virtual void append(const std::vector<StagedEvent>& group, std::int64_t received_at_ms) = 0;
};

}  // namespace hub

// The event log on PostgreSQL (issue 16): eventlog's EventStore (eventlog/event_store.h, which
// gives the contract and the chain record) and EventReader (eventlog/event_reader.h), the
// counterpart of store/sqlite/sqlite_event_store.h with the same semantics and the same chain
// bytes (store/event_row.h builds both backends' rows and records).
//
// Tables (schema component "events", created and upgraded by ensure_schema): `event`,
// `household` (derived state, not chained), `event_tally` (the events by type, for /metrics) and
// `status_minute` (version 2: the status changes per minute, village and status, for the
// timeline), with the SQLite columns and `hub_id` leading every key, so several hubs share one database and
// never see each other's rows. The chain's head is the row (hub_id, "events") of chain_head
// (pg_chain.h), written in each group's transaction.
//
// Round trips. append() is one pipeline (pg_connection.h): BEGIN, one INSERT … SELECT FROM
// unnest(…) for all the group's events, at most three upserts for the households (the last
// registration, commitment and evaluation of each household in the group, as arrays), one for
// the tally, one for the minute's status counts, the chain head, COMMIT — never a statement per row, and every row found by its key
// (an index probe), so a commit's cost follows the group's size, not the town's. Event-id look-ups (Lookups) read
// in one REPEATABLE READ READ ONLY transaction on a connection of their own (so that they can
// run while append() writes on ingest's commit thread), begun with the first read in one round
// trip; prefetch() (event_store.h) brings a whole request's ids in that read.
//
// Failures. A failed append() rolls the chain head in memory back; after any failure (an
// outcome unknown included: the commit may have happened) the head is read again from the
// database before the next append, and a lost connection is opened again on the next call.
//
// Threads. The writer (PgEventStore) and its Lookups belong to the ingest thread, except that
// append() may run on ingest's commit thread while Lookups are used (event_store.h); each reader
// (PgEventReader) to the thread that opened it, on its own connection. Each object owns its
// Connection. Errors leave as StorageError (guarded(), pg_connection.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "eventlog/event_reader.h"
#include "eventlog/event_store.h"
#include "store/postgresql/pg_chain.h"
#include "store/postgresql/pg_connection.h"

namespace hub::store::pg {

class PgEventStore final : public EventStore {
 public:
  // Connects to `dsn`, creates or upgrades the schema, and reads the chain head of `hub_id`.
  // Throws StorageError when it cannot.
  PgEventStore(std::string dsn, std::string hub_id);
  ~PgEventStore() override;

  std::vector<StoredHousehold> load_households() override;
  std::uint64_t last_seq() override;
  std::uint64_t chained_at_open() const override { return 0; }  // chained from its first event
  std::unique_ptr<Lookups> lookups() override;
  void each_event_id(const std::function<void(std::string_view)>& visit) override;
  void append(const std::vector<StagedEvent>& group, std::int64_t received_at_ms) override;

 private:
  void ready();  // reconnects a lost connection; reads the head again after a failed append
  void append_group(const std::vector<StagedEvent>& group, std::int64_t received_at_ms);
  std::uint64_t read_last_seq();

  std::string hub_id_;
  Connection conn_;
  Connection lookup_conn_;  // the Lookups' (see Threads above)
  PgChain chain_;
  bool stale_ = false;  // an append failed: the chain's head is read again before the next
};

class PgEventReader final : public EventReader {
 public:
  PgEventReader(std::string dsn, std::string hub_id);
  std::vector<LoggedEvent> read(std::uint64_t from, std::uint64_t to) override;
  std::int64_t received_at(std::uint64_t seq) override;

 private:
  std::string hub_id_;
  Connection conn_;
};

// An opener for the readers of hub `hub_id`'s events at `dsn` (delivery's chunk cache, the live
// feed): each reader gets its own connection.
EventReaderOpener pg_event_reader_opener(std::string dsn, std::string hub_id);

// Walks hub `hub_id`'s event chain (read-only, in one snapshot, in seq order, a chunk at a time)
// against its head in chain_head and names the first event modified, deleted, inserted or
// reordered (audit::verify_chain); "unreadable" when the database cannot be read.
audit::VerifyResult verify_pg_event_chain(const std::string& dsn, const std::string& hub_id);

}  // namespace hub::store::pg

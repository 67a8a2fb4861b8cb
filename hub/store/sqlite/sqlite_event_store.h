// The event log in SQLite (events.db): eventlog's EventStore (eventlog/event_store.h, which
// gives the contract and the chain record) and EventReader (eventlog/event_reader.h).
//
// One WAL file, synchronous=FULL, auto-checkpoints off (hubd's Checkpointer does them off the
// commit path). Tables: `event` (one row per accepted event, with `publisher`, `prev_hash` and
// `hash`, 32-byte BLOBs), `household` (derived state, not chained), `chain_head`, and
// `event_tally` (the events by type, for /metrics) and `status_minute` (the status changes per
// minute of receipt, village and status, for the timeline), both added to in each group's
// transaction. Schema version (PRAGMA user_version) 3; a version 0 file (before the chain) is
// chained once when it is opened (all rows in seq order, publisher ""), in one transaction, and
// hubd logs how many; an older file has what its version lacks counted from its events once.
//
// The writer (SqliteEventStore) belongs to the ingest thread, except that append() may run on
// ingest's commit thread while lookups() are used on the ingest thread (event_store.h): the
// look-ups have their own read-only connection for that. Each reader (SqliteEventReader)
// belongs to the thread that opened it, on its own read-only connection (WAL: readers never
// block the writer). Errors leave as StorageError (guarded(), database.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eventlog/event_reader.h"
#include "eventlog/event_store.h"
#include "store/sqlite/chain_keeper.h"
#include "store/sqlite/database.h"

namespace hub::store {

class SqliteEventStore final : public EventStore {
 public:
  // Opens (creating or upgrading) the event log at `path`.
  explicit SqliteEventStore(const std::string& path);
  ~SqliteEventStore() override;

  std::vector<StoredHousehold> load_households() override;
  std::uint64_t last_seq() override;
  std::uint64_t chained_at_open() const override { return chained_at_open_; }
  std::unique_ptr<Lookups> lookups() override;
  void each_event_id(const std::function<void(std::string_view)>& visit) override;
  void append(const std::vector<StagedEvent>& group, std::int64_t received_at_ms) override;

 private:
  void upgrade_to_chain(bool had_events);
  // Versions 1 and 2 -> 3: event_tally (from 1) and status_minute from the stored events.
  void count_stored_events(std::int64_t version);
  void append_group(const std::vector<StagedEvent>& group, std::int64_t received_at_ms);
  std::uint64_t read_last_seq();

  Database db_;
  std::unique_ptr<Database> lookup_db_;  // read-only: look-ups while an append runs
  std::unique_ptr<Statement> find_id_;   // on lookup_db_
  std::unique_ptr<Statement> find_status_in_quarter_;  // on lookup_db_
  std::unique_ptr<Statement> insert_event_;
  std::unique_ptr<Statement> upsert_household_;
  std::unique_ptr<Statement> update_commitment_;
  std::unique_ptr<Statement> update_status_;
  std::unique_ptr<Statement> add_tally_;
  std::unique_ptr<Statement> add_minute_;
  std::unique_ptr<ChainKeeper> chain_;  // made once the schema is there
  std::uint64_t chained_at_open_ = 0;
  bool stale_ = false;  // an append failed: the chain's head is read again before the next
};

class SqliteEventReader final : public EventReader {
 public:
  explicit SqliteEventReader(const std::string& path);
  std::vector<LoggedEvent> read(std::uint64_t from, std::uint64_t to) override;
  std::int64_t received_at(std::uint64_t seq) override;

 private:
  std::vector<LoggedEvent> read_range(std::uint64_t from, std::uint64_t to);

  Database db_;
  Statement range_;
  Statement received_;
};

// An opener for the readers of the events.db at `path` (delivery's chunk cache, the live feed).
EventReaderOpener sqlite_event_reader_opener(std::string path);

// The schema of events.db, for tests and tools.
const char* event_log_schema();

}  // namespace hub::store

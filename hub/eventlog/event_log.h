// The durable event log (events.db): every accepted event with its sequence number, and each
// household's current registration, commitment and status.
//
// Owned by the ingest thread, which is the only writer. Ingest uses it in groups, for group
// commit: stage() validates one request (a single event or an atomic batch) against the
// committed state plus everything staged earlier in the same group, and either stages all of
// the request's events or none; commit_group() then writes the whole group in one SQLite
// transaction (WAL, synchronous=FULL) and only after it returns may the requests be
// acknowledged. If the commit fails (disk full, I/O error) the group is dropped and the
// in-memory state is left exactly as it was.
//
// The status rules of §2 live here: an unknown household is rejected for commitments and
// status changes; an evaluation for a quarter older than the household's current one is
// rejected (stale_quarter); one for the same quarter is a correction and supersedes it.
// Republishing an event_id with the same content is a duplicate (original seq); with other
// content it is a conflict.
//
// The audit chain (issue 5, docs/security.md). Every event row is also a record of a hash
// chain, linked by the event log's audit::ChainKeeper (chain_keeper.h) in commit_group() and
// written in the same transaction as the event, with the chain's head (table `chain_head`): no
// extra fsync.
//   seq     = the event's seq            at_ms   = received_at_ms
//   kind    = "event_accepted"           actor   = `publisher` (the publisher's key name; "" when
//                                                   unknown: ingest without keys, upgraded rows)
//   subject = event_id
//   detail  = audit::RowDetail of the row's columns type, household_id, village, status,
//             previous_status, quarter, previous_quarter, effective_date, designations,
//             correction, digest, body (in this order; NULLs as NULL)
// stored as `prev_hash` and `hash` (32-byte BLOBs) in the row. Changing any stored column of
// an event (its status, its body, who published it, when) breaks the chain at that event.
// The `household` table is derived state and is not chained. An events.db from before the
// chain (user_version 0) is chained once when EventLog opens it (all rows, in seq order,
// publisher ""), in one transaction; hubd logs how many. audit::verify_event_chain() verifies
// the chain (hubctl audit verify).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/chain_keeper.h"
#include "domain/wire_event.h"
#include "store/sqlite/database.h"

namespace hub {

struct StageItemError {
  std::size_t index = 0;  // position of the event in the request
  FieldError error;
};

struct StageItemResult {
  std::uint64_t seq = 0;
  bool duplicate = false;
};

struct StageResult {
  bool ok() const noexcept { return errors.empty(); }
  std::vector<StageItemResult> results;  // one per event when ok()
  std::vector<StageItemError> errors;    // every invalid event otherwise
};

class EventLog {
 public:
  // Opens (creating if needed) the event log at `path` and loads the households' state.
  explicit EventLog(const std::string& path);
  ~EventLog();

  // Validates a request; stages its events unless dry_run or any is invalid. `publisher`
  // (who sent them: the name of the publisher's key) is stored with each event and chained.
  StageResult stage(const std::vector<WireEvent>& events, bool dry_run, const std::string& publisher = "");

  bool group_empty() const noexcept;
  std::size_t group_size() const noexcept;
  // Writes the staged group durably. Throws store::SqliteError; then the group is dropped.
  void commit_group(std::int64_t received_at_ms);

  std::uint64_t last_seq() const noexcept { return committed_last_seq_; }
  std::size_t household_count() const noexcept { return households_.size(); }
  // How many events the open upgraded to the chain (0 unless the file predates it).
  std::uint64_t chained_at_open() const noexcept { return chained_at_open_; }

 private:
  struct HouseholdState {
    std::string village;
    hub::sdk::HouseholdStatus status = hub::sdk::HouseholdStatus::kUnevaluated;
    std::string quarter;  // empty before the first evaluation
    int quarter_index = -1;
  };
  struct StagedEvent {
    std::uint64_t seq = 0;
    WireEvent event;
    std::string publisher;
    std::string canonical;
    std::string digest;
    std::string village;
    hub::sdk::HouseholdStatus previous_status = hub::sdk::HouseholdStatus::kUnevaluated;
    std::string previous_quarter;
    bool correction = false;
  };
  struct KnownId {
    std::uint64_t seq;
    std::string digest;
  };
  using StateMap = std::unordered_map<std::string, HouseholdState>;

  const HouseholdState* find_household(const StateMap& request_overlay, const std::string& id) const;
  bool find_event_id(const std::unordered_map<std::string, KnownId>& request_ids, const std::string& id,
                     KnownId* out);
  void drop_group() noexcept;
  void upgrade_to_chain(bool had_events);

  store::Database db_;
  std::unique_ptr<store::Statement> find_id_;
  std::unique_ptr<store::Statement> insert_event_;
  std::unique_ptr<store::Statement> upsert_household_;
  std::unique_ptr<store::Statement> update_commitment_;
  std::unique_ptr<store::Statement> update_status_;

  StateMap households_;  // committed state
  std::uint64_t committed_last_seq_ = 0;
  std::unique_ptr<audit::ChainKeeper> chain_;  // made once the schema is there
  std::uint64_t chained_at_open_ = 0;

  // The group being built (staged, not yet committed).
  StateMap group_households_;
  std::unordered_map<std::string, KnownId> group_ids_;
  std::vector<StagedEvent> group_events_;
};

// Schema of events.db, shared with the readers (delivery, admin).
const char* event_log_schema();

}  // namespace hub

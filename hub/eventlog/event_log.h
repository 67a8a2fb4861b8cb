// The durable event log: every accepted event with its sequence number, and each household's
// current registration, commitment and status, in an EventStore (event_store.h: the contract,
// with the chain each event is a record of; the daemon hands in the backend's).
//
// Owned by the ingest thread, which is the only writer. Ingest uses it in groups, for group
// commit: stage() validates one request (a single event or an atomic batch) against the
// committed state plus everything staged earlier in the same group, and either stages all of
// the request's events or none; commit_group() then writes the whole group in one transaction
// of the store and only after it returns may the requests be acknowledged. If the commit fails
// (disk full, I/O error) the group is dropped and the in-memory state is left as it was; if its
// outcome is unknown, the state is read again from the store before the next stage(), so an
// event that was stored after all is answered as a duplicate with its seq when it comes again.
//
// The status rules of §2 live here: an unknown household is rejected for commitments and
// status changes; an evaluation for a quarter older than the household's current one is
// rejected (stale_quarter); one for the same quarter is a correction and supersedes it.
// Republishing an event_id with the same content is a duplicate (original seq); with other
// content it is a conflict.
//
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/wire_event.h"
#include "eventlog/event_store.h"

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
  // Loads the households' state from `store`. Throws StorageError when it cannot.
  explicit EventLog(std::unique_ptr<EventStore> store);
  ~EventLog();

  // Validates a request; stages its events unless dry_run or any is invalid. `publisher`
  // (who sent them: the name of the publisher's key) is stored with each event and chained.
  // Throws StorageError when the store cannot be read (nothing is staged then).
  StageResult stage(const std::vector<WireEvent>& events, bool dry_run, const std::string& publisher = "");

  bool group_empty() const noexcept;
  std::size_t group_size() const noexcept;
  // Writes the staged group durably. Throws StorageError; then the group is dropped.
  void commit_group(std::int64_t received_at_ms);

  std::uint64_t last_seq() const noexcept { return committed_last_seq_; }
  std::size_t household_count() const noexcept { return households_.size(); }
  // How many events the open upgraded to the chain (0 unless the file predates it).
  std::uint64_t chained_at_open() const noexcept { return store_->chained_at_open(); }

 private:
  struct HouseholdState {
    std::string village;
    hub::sdk::HouseholdStatus status = hub::sdk::HouseholdStatus::kUnevaluated;
    std::string quarter;  // empty before the first evaluation
    int quarter_index = -1;
  };
  using KnownId = KnownEvent;
  using StateMap = std::unordered_map<std::string, HouseholdState>;

  const HouseholdState* find_household(const StateMap& request_overlay, const std::string& id) const;
  bool find_event_id(EventStore::Lookups& stored, const std::unordered_map<std::string, KnownId>& request_ids,
                     const std::string& id, KnownId* out);
  void drop_group() noexcept;
  void load();  // households_ and committed_last_seq_ from the store

  std::unique_ptr<EventStore> store_;
  StateMap households_;  // committed state
  std::uint64_t committed_last_seq_ = 0;
  bool stale_ = false;  // a commit's outcome is unknown: load() before the next stage()

  // The group being built (staged, not yet committed).
  StateMap group_households_;
  std::unordered_map<std::string, KnownId> group_ids_;
  std::vector<StagedEvent> group_events_;
};

}  // namespace hub

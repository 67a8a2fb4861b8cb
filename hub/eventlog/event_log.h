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
// Pipelined commit (ingest/ingest_server.h). begin_commit() hands the staged group over to be
// written: it becomes the group *in flight*, and stage() goes on building the next group on top
// of it (its households and event ids count as staged). write_in_flight() writes it and is the
// one call allowed on another thread (ingest's commit thread), between begin_commit() and
// end_commit(), while the ingest thread stages; the store allows its look-ups meanwhile
// (event_store.h). end_commit(), back on the ingest thread, makes the group committed; if the
// write failed it drops that group *and the group staged on top of it* (its seqs and states
// followed the lost one), and the caller refuses both groups' requests. commit_group() is the
// three in one, on one thread. At most one group is in flight.
//
// Event ids. Every id held (stored, in flight or staged) is in an EventIdFilter, built from the
// store when the log is loaded and rebuilt twice as large when it fills: a new id the filter
// has never seen is not looked up in the store at all, which is most of them.
//
// The status rules of §2 live here: an unknown household is rejected for commitments and
// status changes; an evaluation for a quarter older than the household's current one is
// rejected (stale_quarter); one for the same quarter is a correction and supersedes it.
// Except a ruling's: a status change naming an upheld complaint (complaint_id), which only the
// hub itself publishes (its publisher is ruling_publisher(id); anyone else's is refused with
// complaint_correction_reserved), may correct a past quarter. It is stored as a past-quarter
// correction (StagedEvent::past_quarter) whose previous status is that quarter's last
// evaluation, and leaves the household's current evaluation as it was.
// Where the configuration requires a notice before effect (公示, notice.required), a status
// change is accepted only from the hub's own publishers of final evaluations — a confirmed
// notice's or a ruling's (is_notice_or_ruling_publisher, domain/notice.h) — and refused with
// notice_required from a publisher's key or the web console.
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

#include "domain/complaint.h"
#include "domain/notice.h"
#include "domain/wire_event.h"
#include "eventlog/event_id_filter.h"
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
  // `min_filter_capacity`: the id filter's smallest size (its default holds a town's ten years
  // of events without a rebuild; tests make it small to exercise rebuilds and false positives).
  explicit EventLog(std::unique_ptr<EventStore> store, std::size_t min_filter_capacity = kMinFilterCapacity);
  static constexpr std::size_t kMinFilterCapacity = 1u << 20;  // 1.25 MB
  ~EventLog();

  // Validates a request; stages its events unless dry_run or any is invalid. `publisher`
  // (who sent them: the name of the publisher's key) is stored with each event and chained.
  // Throws StorageError when the store cannot be read (nothing is staged then).
  StageResult stage(const std::vector<WireEvent>& events, bool dry_run, const std::string& publisher = "");

  bool group_empty() const noexcept;
  std::size_t group_size() const noexcept;
  // Writes the staged group durably. Throws StorageError; then the group is dropped. Not while
  // a group is in flight.
  void commit_group(std::int64_t received_at_ms);

  // The pipelined commit (see above). begin_commit() returns false, and changes nothing, when
  // nothing is staged or a group is already in flight.
  bool begin_commit();
  bool in_flight() const noexcept { return !flight_events_.empty(); }
  std::size_t in_flight_size() const noexcept { return flight_events_.size(); }
  // Writes the group in flight at `received_at_ms`. Throws StorageError (nothing changes here;
  // end_commit() is told).
  void write_in_flight(std::int64_t received_at_ms);
  // After write_in_flight() returned (`failure` null) or threw `failure`. On a failure the
  // staged group is dropped too; an outcome unknown makes the next stage() read the store again.
  void end_commit(const StorageError* failure);

  // notice.required: status changes only from a confirmed notice or a ruling (see above).
  void require_notice(bool required) noexcept { notice_required_ = required; }

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
  bool known_in_memory(const std::string& id) const;
  // The status of the household's last evaluation for `quarter`, staged or stored (unevaluated
  // when it has none): what a ruling on a past quarter corrects.
  hub::sdk::HouseholdStatus status_in_quarter(EventStore::Lookups& stored, const std::vector<StagedEvent>& request,
                                              const std::string& household_id, const std::string& quarter) const;
  void drop_group() noexcept;
  void drop_flight() noexcept;
  void load();  // households_, committed_last_seq_ and the id filter from the store
  void rebuild_filter(std::size_t capacity);

  std::unique_ptr<EventStore> store_;
  StateMap households_;  // committed state
  std::uint64_t committed_last_seq_ = 0;
  bool notice_required_ = false;
  bool stale_ = false;  // a commit's outcome is unknown: load() before the next stage()
  std::size_t min_filter_capacity_;
  EventIdFilter id_filter_;

  // The group being built (staged, not yet handed over).
  StateMap group_households_;
  std::unordered_map<std::string, KnownId> group_ids_;
  std::vector<StagedEvent> group_events_;
  // The group in flight (being written; empty when none). Only write_in_flight() touches it off
  // the ingest thread, reading flight_events_; the maps are read by stage() meanwhile.
  StateMap flight_households_;
  std::unordered_map<std::string, KnownId> flight_ids_;
  std::vector<StagedEvent> flight_events_;
};

}  // namespace hub

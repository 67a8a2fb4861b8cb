// Where the complaints register (投诉举报, domain/complaint.h) and the notices it holds (公示,
// domain/notice.h: proposed evaluations, which a complaint about them holds) are kept: the
// interface the register owns and each storage backend implements (store/sqlite/sqlite_complaint_store.h: complaints.db;
// store/postgresql/pg_complaint_store.h: table `complaint`, every key led by hub_id). Plain values
// only; no storage type crosses it.
//
// Used by one thread at a time: hubd's admin thread opens one store (the register's only
// writer) through the opener that the storage backend hands in (store/storage.h). Every call
// throws StorageError (domain/status.h) when the store cannot be read or written; a write that
// throws was not made, unless the error says outcome_unknown.
//
// The store keeps values; it checks no rule of the register (validation and transitions are the
// register's, complaints/complaint_register.h). The contract both backends keep is the test
// suite testing/complaint_store_contract_tests.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/complaint.h"
#include "domain/notice.h"

namespace hub::complaints {

// Which complaints to list, oldest first (by number). Every filter given must hold.
struct ComplaintQuery {
  std::optional<ComplaintState> state;
  std::optional<std::string> household_id;
  std::optional<std::string> village;
  // Only complaints overdue on this date: not ruled, deadline before it.
  std::optional<std::string> overdue_on;
  std::int64_t after_number = 0;  // paging: complaints numbered after this one
  std::size_t limit = 100;
};

struct ComplaintPage {
  std::vector<Complaint> complaints;
  bool more = false;  // more match after the last one returned (ask again with after_number)
};

// Complaints by state, and how many are open (not ruled) and overdue on a date.
struct ComplaintCounts {
  std::int64_t received = 0, investigating = 0, upheld = 0, dismissed = 0;
  std::int64_t open = 0, overdue = 0;
};

// One village's notice for one quarter: its proposals by state, and the latest day one was
// proposed (the notice period runs from it).
struct NoticeCounts {
  std::string village;
  std::string quarter;
  std::int64_t proposed = 0, confirmed = 0, superseded = 0;
  std::string last_proposed_on;
};

class ComplaintStore {
 public:
  virtual ~ComplaintStore() = default;

  // Stores a new complaint (state received) with the next number, its id
  // (complaint_id(received_on, number)), `village`, `deadline` and lodged_at_ms = updated_at_ms =
  // `at_ms`; returns it as stored. Committed before it returns.
  virtual Complaint add(const NewComplaint& complaint, const std::string& village, const std::string& deadline,
                        std::int64_t at_ms) = 0;

  virtual std::optional<Complaint> find(std::int64_t number) = 0;

  // Writes `changed` (state, handler, ruling, ruled_on, updated_at_ms; the other fields never
  // change) over complaint changed.number if its stored state is still `expected`; false (and
  // nothing written) when it is not, or when there is no such complaint.
  virtual bool update(const Complaint& changed, ComplaintState expected) = 0;

  virtual ComplaintPage list(const ComplaintQuery& query) = 0;

  // Over every complaint, or one village's; overdue as on `today`.
  virtual ComplaintCounts counts(const std::string& today, const std::optional<std::string>& village) = 0;

  // 公示: proposals, one per household and quarter.
  virtual std::optional<Proposal> find_proposal(const std::string& household_id, const std::string& quarter) = 0;
  // Writes every proposal in one transaction, all or none: a new household and quarter is added,
  // one already kept is replaced whole (the register replaces only a proposed one). Committed
  // before it returns.
  virtual void save_proposals(const std::vector<Proposal>& proposals) = 0;
  // A village's proposals for a quarter, by household_id.
  virtual std::vector<Proposal> proposals(const std::string& village, const std::string& quarter) = 0;
  // Writes `changed` (state, confirmed_on, superseded_by, updated_at_ms; nothing else changes)
  // over the proposal for changed.household_id and changed.quarter if its stored state is still
  // `expected`; false (and nothing written) when it is not, or when there is none.
  virtual bool update_proposal(const Proposal& changed, ProposalState expected) = 0;
  // Every village's notice, or one quarter's: by quarter (latest first), then village.
  virtual std::vector<NoticeCounts> notices(const std::optional<std::string>& quarter) = 0;
};

// Opens a store (a connection of its own) on the backend's data.
using ComplaintStoreOpener = std::function<std::unique_ptr<ComplaintStore>()>;

}  // namespace hub::complaints

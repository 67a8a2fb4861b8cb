// Where the complaints register (投诉举报, domain/complaint.h) is kept: the interface the register
// owns and each storage backend implements (store/sqlite/sqlite_complaint_store.h: complaints.db;
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
};

// Opens a store (a connection of its own) on the backend's data.
using ComplaintStoreOpener = std::function<std::unique_ptr<ComplaintStore>()>;

}  // namespace hub::complaints

// The complaints register on SQLite (issue 17): complaints/complaint_store.h as complaints.db in
// the data folder, a file of its own so that the admin thread, the register's only writer, never
// waits on the delivery thread's ledger commits. Schema version in PRAGMA user_version (2), as
// the ledger's; a newer file is refused, an older one upgraded in place (1 -> 2 adds `proposal`).
// The counterpart of store/postgresql/pg_complaint_store.h; both pass
// testing/complaint_store_contract_tests.h.
//
//   complaint(number INTEGER PRIMARY KEY, id, household_id, village, quarter, channel,
//             received_on, summary, lodged_by, handler, deadline, state, ruling, ruled_on,
//             lodged_at_ms, updated_at_ms)
//   proposal(household_id, village, quarter, status, designations (JSON array text),
//            effective_date, event_id, event (JSON text), proposed_on, state, confirmed_on,
//            superseded_by, proposed_at_ms, updated_at_ms, PRIMARY KEY (household_id, quarter))
//            -- version 2: 公示 proposals (domain/notice.h); index on (village, quarter, household_id)
//
// One connection per object, used by one thread at a time; every write is one transaction with
// synchronous=FULL (a complaint once acknowledged survives a power cut).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "complaints/complaint_store.h"

namespace hub::store {

class Database;

class SqliteComplaintStore final : public complaints::ComplaintStore {
 public:
  // Opens (creates) the file at `path`; throws StorageError naming it when it cannot, or when its
  // schema is newer than this hubd understands.
  explicit SqliteComplaintStore(const std::string& path);
  ~SqliteComplaintStore() override;

  Complaint add(const NewComplaint& complaint, const std::string& village, const std::string& deadline,
                std::int64_t at_ms) override;
  std::optional<Complaint> find(std::int64_t number) override;
  bool update(const Complaint& changed, ComplaintState expected) override;
  complaints::ComplaintPage list(const complaints::ComplaintQuery& query) override;
  complaints::ComplaintCounts counts(const std::string& today, const std::optional<std::string>& village) override;
  std::optional<Proposal> find_proposal(const std::string& household_id, const std::string& quarter) override;
  void save_proposals(const std::vector<Proposal>& proposals) override;
  std::vector<Proposal> proposals(const std::string& village, const std::string& quarter) override;
  bool update_proposal(const Proposal& changed, ProposalState expected) override;
  std::vector<complaints::NoticeCounts> notices(const std::optional<std::string>& quarter) override;

 private:
  std::unique_ptr<Database> db_;
};

complaints::ComplaintStoreOpener sqlite_complaint_store_opener(std::string path);

}  // namespace hub::store

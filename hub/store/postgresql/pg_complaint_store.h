// The complaints register on PostgreSQL (issue 17): complaints/complaint_store.h as tables
// `complaint` and `proposal` (schema component "complaints" in hub_schema, pg_schema.h: version
// 1 the complaints, 2 adds the 公示 proposals), the counterpart of
// store/sqlite/sqlite_complaint_store.h (complaints.db); both pass
// testing/complaint_store_contract_tests.h. Every key starts with hub_id, so the hubs sharing a
// database number their complaints apart.
//
//   complaint(hub_id, number, id, household_id, village, quarter, channel, received_on,
//             summary, lodged_by, handler, deadline, state, ruling, ruled_on, lodged_at_ms,
//             updated_at_ms, PRIMARY KEY (hub_id, number))
//   proposal(hub_id, household_id, village, quarter, status, designations (JSON array text),
//            effective_date, event_id, event (JSON text), proposed_on, state, confirmed_on,
//            superseded_by, proposed_at_ms, updated_at_ms, PRIMARY KEY (hub_id, household_id,
//            quarter)); index on (hub_id, village, quarter, household_id)
//
// Each object owns its Connection, used by one thread at a time; a lost connection is made again
// on the next call (the failed call threw StorageError).
#pragma once

#include <string>
#include <vector>

#include "complaints/complaint_store.h"
#include "store/postgresql/pg_connection.h"

namespace hub::store::pg {

class PgComplaintStore final : public complaints::ComplaintStore {
 public:
  // Connects and creates or upgrades the schema; throws StorageError when it cannot.
  PgComplaintStore(std::string dsn, std::string hub_id);
  ~PgComplaintStore() override;

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
  std::string hub_id_;
  Connection conn_;
};

complaints::ComplaintStoreOpener pg_complaint_store_opener(std::string dsn, std::string hub_id);

}  // namespace hub::store::pg

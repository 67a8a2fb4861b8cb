// The complaints register's operations (投诉举报, issue 17): lodge a complaint, start its
// investigation, rule on it, read it back. Each write checks the request against the register's
// rules (domain/complaint.h) and the complaint's current state before anything is stored, so a
// refused request leaves the store as it was; the Status names the field and gives a stable code
// (docs/protocol.md, 投诉举报 / Complaints).
//
// Who did it is not kept here: the admin endpoint audits every change with the operator's name
// before it calls the register (admin/complaint_requests.h).
//
// Used by one thread (hubd's admin thread). The store is opened on first use through the opener
// the daemon hands in, and opened again after a StorageError (which is passed on to the caller).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "complaints/complaint_store.h"
#include "domain/complaint.h"
#include "domain/status.h"

namespace hub::complaints {

class ComplaintRegister {
 public:
  // `deadline_days`: a complaint's deadline is its received date plus this (hub.json
  // complaints.deadline_days, default 15).
  ComplaintRegister(ComplaintStoreOpener open, int deadline_days);
  ~ComplaintRegister();

  // `village` is the household's, looked up by the caller (an unknown household is refused
  // there). `today` is the hub's date, `at_ms` the time recorded.
  Result<Complaint> lodge(const NewComplaint& complaint, const std::string& village, const std::string& today,
                          std::int64_t at_ms);
  // received → investigating; `handler` names who investigates (required unless the complaint
  // already has one; given, it replaces it).
  Result<Complaint> investigate(std::int64_t number, const std::optional<std::string>& handler, std::int64_t at_ms);
  // received | investigating → upheld | dismissed, with the ruling's text and date. An upheld
  // complaint about a proposal still on the notice board (公示, complaints/notice_board.h)
  // supersedes that proposal: the ruling's correction is the quarter's evaluation now.
  Result<Complaint> rule(std::int64_t number, ComplaintState outcome, const std::string& ruling,
                         const std::string& ruled_on, const std::string& today, std::int64_t at_ms);

  // "unknown_complaint" (field "id") when there is none.
  Result<Complaint> find(std::int64_t number);
  // The proposal (公示) of the household's quarter, if any (throws StorageError).
  std::optional<Proposal> proposal(const std::string& household_id, const std::string& quarter);
  ComplaintPage list(const ComplaintQuery& query);
  ComplaintCounts counts(const std::string& today, const std::optional<std::string>& village = std::nullopt);

  int deadline_days() const { return deadline_days_; }

 private:
  // The store, opened when needed; `f` runs on it, and a StorageError drops it for the next call.
  template <class F>
  decltype(auto) with_store(F&& f);

  ComplaintStoreOpener open_;
  int deadline_days_;
  std::unique_ptr<ComplaintStore> store_;
};

}  // namespace hub::complaints

#include "complaints/complaint_register.h"

#include <utility>

namespace hub::complaints {

namespace {

Status unknown_complaint(std::int64_t number) {
  return Status::error("unknown_complaint", "no complaint number " + std::to_string(number) + " / 没有这条投诉", "id");
}

}  // namespace

ComplaintRegister::ComplaintRegister(ComplaintStoreOpener open, int deadline_days)
    : open_(std::move(open)), deadline_days_(deadline_days) {}

ComplaintRegister::~ComplaintRegister() = default;

template <class F>
decltype(auto) ComplaintRegister::with_store(F&& f) {
  if (!store_) store_ = open_();
  try {
    return std::forward<F>(f)(*store_);
  } catch (const StorageError&) {
    store_.reset();  // opened again, and read again, for the next call
    throw;
  }
}

Result<Complaint> ComplaintRegister::lodge(const NewComplaint& complaint, const std::string& village,
                                           const std::string& today, std::int64_t at_ms) {
  if (Status s = validate_new_complaint(complaint, today); !s.ok()) return s;
  const std::string deadline = add_days(complaint.received_on, deadline_days_);
  return with_store([&](ComplaintStore& store) { return store.add(complaint, village, deadline, at_ms); });
}

std::optional<Proposal> ComplaintRegister::proposal(const std::string& household_id, const std::string& quarter) {
  return with_store([&](ComplaintStore& store) { return store.find_proposal(household_id, quarter); });
}

Result<Complaint> ComplaintRegister::investigate(std::int64_t number, const std::optional<std::string>& handler,
                                                 std::int64_t at_ms) {
  return with_store([&](ComplaintStore& store) -> Result<Complaint> {
    std::optional<Complaint> found = store.find(number);
    if (!found) return unknown_complaint(number);
    Complaint c = *found;
    if (Status s = check_transition(c.state, ComplaintState::kInvestigating); !s.ok()) return s;
    if (handler) {
      if (Status s = check_text("handler", *handler, kComplaintPersonMaxChars); !s.ok()) return s;
      c.handler = handler;
    }
    if (!c.handler)
      return Status::error("missing_field", "investigate needs 'handler': who investigates / 需要承办人", "handler");
    c.state = ComplaintState::kInvestigating;
    c.updated_at_ms = at_ms;
    if (!store.update(c, found->state))
      return Status::error("conflict", "the complaint changed meanwhile; look at it again / 投诉已被他人变更", "id");
    return c;
  });
}

Result<Complaint> ComplaintRegister::rule(std::int64_t number, ComplaintState outcome, const std::string& ruling,
                                          const std::string& ruled_on, const std::string& today, std::int64_t at_ms) {
  return with_store([&](ComplaintStore& store) -> Result<Complaint> {
    std::optional<Complaint> found = store.find(number);
    if (!found) return unknown_complaint(number);
    if (Status s = validate_ruling(*found, outcome, ruling, ruled_on, today); !s.ok()) return s;
    Complaint c = *found;
    c.state = outcome;
    c.ruling = ruling;
    c.ruled_on = ruled_on;
    c.updated_at_ms = at_ms;
    if (!store.update(c, found->state))
      return Status::error("conflict", "the complaint changed meanwhile; look at it again / 投诉已被他人变更", "id");
    // An upheld complaint about a proposal on the notice board (公示, complaints/notice_board.h):
    // the ruling's correction is the quarter's evaluation now, so the proposal is never confirmed.
    if (outcome == ComplaintState::kUpheld) {
      if (std::optional<Proposal> proposal = store.find_proposal(c.household_id, c.quarter);
          proposal && proposal->state == ProposalState::kProposed) {
        Proposal superseded = *proposal;
        superseded.state = ProposalState::kSuperseded;
        superseded.superseded_by = c.id;
        superseded.updated_at_ms = at_ms;
        store.update_proposal(superseded, ProposalState::kProposed);
      }
    }
    return c;
  });
}

Result<Complaint> ComplaintRegister::find(std::int64_t number) {
  return with_store([&](ComplaintStore& store) -> Result<Complaint> {
    std::optional<Complaint> found = store.find(number);
    if (!found) return unknown_complaint(number);
    return *found;
  });
}

ComplaintPage ComplaintRegister::list(const ComplaintQuery& query) {
  return with_store([&](ComplaintStore& store) { return store.list(query); });
}

ComplaintCounts ComplaintRegister::counts(const std::string& today, const std::optional<std::string>& village) {
  return with_store([&](ComplaintStore& store) { return store.counts(today, village); });
}

}  // namespace hub::complaints

// The notice board (公示, issue 17 item 1): the office's proposed evaluations, posted per village
// and quarter and not delivered until the village's quarter is confirmed (domain/notice.h has
// the states). Kept in the complaints register's store, because a complaint about a proposal is
// what holds it: a proposal whose household and quarter have an open complaint is disputed
// (有异议) and is not confirmed; an upheld complaint's ruling supersedes it
// (ComplaintRegister::rule); a dismissed one frees it for the next confirmation.
//
// The board decides; it does not publish. Confirming is two steps that the admin endpoint runs
// (admin/notice_requests.h): plan_confirmation() says which proposals may become final, the
// endpoint publishes each one's status change, and mark_confirmed() records each that was stored
// — so a proposal is never marked final without its event in the log, and confirming again after
// a failure publishes the rest (the events already stored are answered as duplicates).
//
// Used by one thread (hubd's admin thread), with a store connection of its own, opened on first
// use and again after a StorageError (which is passed on).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "complaints/complaint_store.h"
#include "domain/notice.h"
#include "domain/status.h"

namespace hub::complaints {

// One line of a village's notice list, as on `today`.
struct NoticeLine {
  Proposal proposal;
  NoticeStanding standing = NoticeStanding::kProposed;
  std::vector<std::string> open_complaints;  // the ids of the complaints that hold it
};

struct NoticeList {
  std::string village, quarter;
  std::string last_proposed_on;  // the notice period runs from here
  std::string ends_on;           // the first day it may be confirmed without a reason
  std::vector<NoticeLine> lines;  // by household_id
};

struct ProposeOutcome {
  std::size_t added = 0, replaced = 0, unchanged = 0;
};

struct ConfirmationPlan {
  bool early = false;                    // confirmed before ends_on, with a reason
  std::string ends_on;
  std::vector<Proposal> to_publish;      // undisputed and still proposed, by household_id
  std::vector<NoticeLine> held;          // disputed: stay proposed until their ruling
  std::size_t already_final = 0;         // confirmed or superseded before
};

class NoticeBoard {
 public:
  // `period_days`: hub.json notice.period_days (default 7).
  NoticeBoard(ComplaintStoreOpener open, int period_days);
  ~NoticeBoard();

  // Posts `proposals` (each already checked as a status change, with its village) in one write,
  // all or none. A household and quarter already proposed is replaced when its event differs
  // (the notice period of its village's quarter starts again), and left as it is when the same;
  // one already confirmed or superseded is refused with "proposal_final" and field
  // "proposals[i]" (the index in `proposals`), since only a complaint's ruling changes it now.
  // proposed_on is `today` for the proposals written.
  Result<ProposeOutcome> propose(std::vector<Proposal> proposals, const std::string& today, std::int64_t at_ms);

  // A village's notice list for a quarter; "unknown_notice" (field "village") when nothing was
  // proposed for it.
  Result<NoticeList> notice(const std::string& village, const std::string& quarter, const std::string& today);
  std::vector<NoticeCounts> notices(const std::optional<std::string>& quarter);

  // What confirming a village's quarter on `today` would make final. Before the notice period is
  // over it needs a reason ("notice_period_running", field "reason"); with nothing still proposed
  // it answers "nothing_to_confirm".
  Result<ConfirmationPlan> plan_confirmation(const std::string& village, const std::string& quarter,
                                             const std::string& today, bool has_reason);
  // Records that `proposal`'s status change is stored: proposed → confirmed on `today`. False
  // when it is no longer proposed (nothing written).
  bool mark_confirmed(const Proposal& proposal, const std::string& today, std::int64_t at_ms);

  int period_days() const { return period_days_; }

 private:
  template <class F>
  decltype(auto) with_store(F&& f);

  ComplaintStoreOpener open_;
  int period_days_;
  std::unique_ptr<ComplaintStore> store_;
};

}  // namespace hub::complaints

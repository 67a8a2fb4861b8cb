#include "complaints/notice_board.h"

#include <algorithm>
#include <map>
#include <utility>

namespace hub::complaints {
namespace {

// The complaints about a village's quarter that decide its proposals, by household: the open ones
// (which hold a proposal) and the upheld ones (whose ruling supersedes it).
struct ComplaintsAbout {
  std::map<std::string, std::vector<std::string>> open;
  std::map<std::string, std::string> upheld;
};

ComplaintsAbout complaints_about(ComplaintStore& store, const std::string& village, const std::string& quarter) {
  ComplaintsAbout about;
  for (const ComplaintState state :
       {ComplaintState::kReceived, ComplaintState::kInvestigating, ComplaintState::kUpheld}) {
    ComplaintQuery query;
    query.state = state;
    query.village = village;
    query.limit = 500;
    for (;;) {
      const ComplaintPage page = store.list(query);
      for (const Complaint& c : page.complaints) {
        if (c.quarter != quarter) continue;
        if (state == ComplaintState::kUpheld)
          about.upheld.emplace(c.household_id, c.id);
        else
          about.open[c.household_id].push_back(c.id);
      }
      if (!page.more || page.complaints.empty()) break;
      query.after_number = page.complaints.back().number;
    }
  }
  return about;
}

// An upheld complaint's ruling supersedes a proposal that is still proposed. The ruling marks it
// (ComplaintRegister::rule) in a write of its own; should hubd have stopped between the two, it
// is marked here, before anything could confirm it over the ruling's correction.
void supersede_upheld(ComplaintStore& store, std::vector<Proposal>& proposals, const ComplaintsAbout& about) {
  for (Proposal& p : proposals) {
    const auto it = about.upheld.find(p.household_id);
    if (p.state != ProposalState::kProposed || it == about.upheld.end()) continue;
    Proposal superseded = p;
    superseded.state = ProposalState::kSuperseded;
    superseded.superseded_by = it->second;
    if (store.update_proposal(superseded, ProposalState::kProposed)) p = superseded;
  }
}

Status unknown_notice(const std::string& village, const std::string& quarter) {
  return Status::error("unknown_notice",
                       "nothing was proposed for village " + village + " in " + quarter + " / 该村本季度没有公示",
                       "village");
}

}  // namespace

NoticeBoard::NoticeBoard(ComplaintStoreOpener open, int period_days)
    : open_(std::move(open)), period_days_(period_days) {}

NoticeBoard::~NoticeBoard() = default;

template <class F>
decltype(auto) NoticeBoard::with_store(F&& f) {
  if (!store_) store_ = open_();
  try {
    return std::forward<F>(f)(*store_);
  } catch (const StorageError&) {
    store_.reset();
    throw;
  }
}

Result<ProposeOutcome> NoticeBoard::propose(std::vector<Proposal> proposals, const std::string& today,
                                            std::int64_t at_ms) {
  return with_store([&](ComplaintStore& store) -> Result<ProposeOutcome> {
    ProposeOutcome outcome;
    std::vector<Proposal> writes;
    for (std::size_t i = 0; i < proposals.size(); ++i) {
      Proposal& p = proposals[i];
      const std::optional<Proposal> kept = store.find_proposal(p.household_id, p.quarter);
      if (kept && kept->state != ProposalState::kProposed)
        return Status::error("proposal_final",
                             p.household_id + " " + p.quarter + " is already " + std::string(to_string(kept->state)) +
                                 "; only a complaint's ruling changes it now / 该户本季度评议已确定，更改须经投诉裁定",
                             "proposals[" + std::to_string(i) + "]");
      if (kept && kept->event == p.event) {
        ++outcome.unchanged;
        continue;
      }
      kept ? ++outcome.replaced : ++outcome.added;
      p.state = ProposalState::kProposed;
      p.proposed_on = today;
      p.confirmed_on.reset();
      p.superseded_by.reset();
      p.proposed_at_ms = p.updated_at_ms = at_ms;
      writes.push_back(std::move(p));
    }
    if (!writes.empty()) store.save_proposals(writes);
    return outcome;
  });
}

Result<NoticeList> NoticeBoard::notice(const std::string& village, const std::string& quarter,
                                       const std::string& today) {
  return with_store([&](ComplaintStore& store) -> Result<NoticeList> {
    std::vector<Proposal> proposals = store.proposals(village, quarter);
    if (proposals.empty()) return unknown_notice(village, quarter);
    const ComplaintsAbout about = complaints_about(store, village, quarter);
    supersede_upheld(store, proposals, about);
    const auto& open = about.open;
    NoticeList list{village, quarter, "", "", {}};
    for (Proposal& p : proposals) {
      list.last_proposed_on = std::max(list.last_proposed_on, p.proposed_on);
      NoticeLine line;
      if (const auto it = open.find(p.household_id); it != open.end() && p.state == ProposalState::kProposed)
        line.open_complaints = it->second;
      line.standing = notice_standing(p, !line.open_complaints.empty(), today);
      line.proposal = std::move(p);
      list.lines.push_back(std::move(line));
    }
    list.ends_on = notice_ends_on(list.last_proposed_on, period_days_);
    return list;
  });
}

std::vector<NoticeCounts> NoticeBoard::notices(const std::optional<std::string>& quarter) {
  return with_store([&](ComplaintStore& store) { return store.notices(quarter); });
}

Result<ConfirmationPlan> NoticeBoard::plan_confirmation(const std::string& village, const std::string& quarter,
                                                        const std::string& today, bool has_reason) {
  Result<NoticeList> list = notice(village, quarter, today);
  if (!list.ok()) return list.status();
  ConfirmationPlan plan;
  plan.ends_on = list.value().ends_on;
  plan.early = today < plan.ends_on;
  if (plan.early && !has_reason)
    return Status::error("notice_period_running",
                         "the notice period of " + village + " " + quarter + " runs until " + plan.ends_on +
                             "; confirm then, or now with a reason / 公示期未满（" + plan.ends_on +
                             " 起可确认），提前确认须说明理由",
                         "reason");
  for (NoticeLine& line : list.value().lines) {
    if (line.proposal.state != ProposalState::kProposed)
      ++plan.already_final;
    else if (!line.open_complaints.empty())
      plan.held.push_back(std::move(line));
    else
      plan.to_publish.push_back(std::move(line.proposal));
  }
  if (plan.to_publish.empty() && plan.held.empty())
    return Status::error("nothing_to_confirm",
                         village + " " + quarter + " has nothing left to confirm / 该村本季度公示已全部确认", "village");
  return plan;
}

bool NoticeBoard::mark_confirmed(const Proposal& proposal, const std::string& today, std::int64_t at_ms) {
  return with_store([&](ComplaintStore& store) {
    Proposal changed = proposal;
    changed.state = ProposalState::kConfirmed;
    changed.confirmed_on = today;
    changed.updated_at_ms = at_ms;
    return store.update_proposal(changed, ProposalState::kProposed);
  });
}

}  // namespace hub::complaints

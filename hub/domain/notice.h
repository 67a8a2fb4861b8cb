// Notice before effect (公示, issue 17 item 1): what one proposed evaluation is, the states it
// goes through, and what the notice list shows for it. Plain values and pure functions, like the
// complaints register's (domain/complaint.h); the store keeps proposals beside the complaints
// (complaints/complaint_store.h), because a complaint about a proposal is what holds it.
//
//   proposed ──confirm (notice period over, or early with a reason)──▶ confirmed
//      └──────an upheld complaint's ruling corrected its quarter──────▶ superseded
//
// A proposal is the office's evaluation of one household for one quarter, sent as proposed:
// posted on the village's notice list (公示名单) and **not** delivered. Confirming a village's
// quarter publishes each undisputed proposal as the final status change it carries (stable event
// id, so confirming again after a failure stores nothing twice); a proposal with an open complaint
// about its household and quarter stays on the list, disputed (有异议), until the ruling.
//
// What the list shows per household (NoticeStanding):
//   proposed   公示中  on the list, no open complaint
//   disputed   有异议  an open complaint about this household's quarter holds it
//   final      已确认  confirmed; its effective date is still ahead
//   in_effect  已生效  confirmed, and its effective date (or, without one, the confirmation) has come
//   superseded 已更正  an upheld complaint's ruling published the quarter's evaluation instead
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hub {

enum class ProposalState { kProposed, kConfirmed, kSuperseded };
enum class NoticeStanding { kProposed, kDisputed, kFinal, kInEffect, kSuperseded };

// The wire's names ("proposed", …) and the clerk's (公示中, …).
std::string_view to_string(ProposalState state) noexcept;
std::optional<ProposalState> proposal_state(std::string_view name) noexcept;
std::string_view to_string(NoticeStanding standing) noexcept;
std::string_view chinese_name(NoticeStanding standing) noexcept;

constexpr int kNoticePeriodDaysDefault = 7;
constexpr int kNoticePeriodDaysMax = 90;
// The notice period from the configuration (notice.period_days): 0 (confirm at once) to the max.
bool valid_notice_period_days(std::int64_t days) noexcept;

// One household's proposed evaluation for one quarter, as the register keeps it.
struct Proposal {
  std::string household_id;
  std::string village;   // the household's village when it was proposed
  std::string quarter;   // "2026Q4"
  std::string status;    // the wire's status name: credit | non_credit | breach
  std::vector<std::string> designations;
  std::optional<std::string> effective_date;  // YYYY-MM-DD, as the status change carries it
  std::string event_id;  // the status change it becomes when confirmed
  std::string event;     // that status change, exactly as the wire has it (JSON text)
  std::string proposed_on;  // YYYY-MM-DD: the notice period runs from the latest of a village's quarter
  ProposalState state = ProposalState::kProposed;
  std::optional<std::string> confirmed_on;   // confirmed only
  std::optional<std::string> superseded_by;  // superseded only: the upheld complaint's id
  std::int64_t proposed_at_ms = 0;  // when the hub stored it (again, when it was replaced)
  std::int64_t updated_at_ms = 0;   // the last change
};

// What the notice list shows for `proposal` on `today`; `disputed`: an open complaint is about
// its household and quarter (only a proposed one can be disputed).
NoticeStanding notice_standing(const Proposal& proposal, bool disputed, std::string_view today);

// The first day a village's quarter may be confirmed without a reason: the latest proposed_on of
// its proposals plus the notice period.
std::string notice_ends_on(std::string_view last_proposed_on, int period_days);

// The publisher recorded with the status changes a confirmation publishes: "notice:<village>".
std::string notice_publisher(std::string_view village);
// Whether `publisher` is one the hub publishes final evaluations as: a confirmed notice's
// ("notice:…") or an upheld complaint's ruling ("complaint:…"). Where the configuration requires
// a notice (notice.required), these are the only publishers of status changes the event log
// accepts (eventlog/event_log.h); a publisher's key name never holds a ':'.
bool is_notice_or_ruling_publisher(std::string_view publisher) noexcept;

// Whether a confirmed notice's status change still waits for its effective date on `today`
// (both YYYY-MM-DD): such an event is held for each department until that day
// (delivery/dispatcher.h). An event without an effective date does not wait.
bool waits_for_effective_date(std::string_view effective_date, std::string_view today) noexcept;

// The hub's local date, YYYY-MM-DD: the day notice periods, complaint deadlines and effective
// dates are counted in.
std::string local_today();

}  // namespace hub

#include "domain/notice.h"

#include <ctime>

#include "domain/complaint.h"

namespace hub {

std::string_view to_string(ProposalState state) noexcept {
  switch (state) {
    case ProposalState::kProposed: return "proposed";
    case ProposalState::kConfirmed: return "confirmed";
    case ProposalState::kSuperseded: return "superseded";
  }
  return "proposed";
}

std::optional<ProposalState> proposal_state(std::string_view name) noexcept {
  for (const auto state : {ProposalState::kProposed, ProposalState::kConfirmed, ProposalState::kSuperseded})
    if (to_string(state) == name) return state;
  return std::nullopt;
}

std::string_view to_string(NoticeStanding standing) noexcept {
  switch (standing) {
    case NoticeStanding::kProposed: return "proposed";
    case NoticeStanding::kDisputed: return "disputed";
    case NoticeStanding::kFinal: return "final";
    case NoticeStanding::kInEffect: return "in_effect";
    case NoticeStanding::kSuperseded: return "superseded";
  }
  return "proposed";
}

std::string_view chinese_name(NoticeStanding standing) noexcept {
  switch (standing) {
    case NoticeStanding::kProposed: return "公示中";
    case NoticeStanding::kDisputed: return "有异议";
    case NoticeStanding::kFinal: return "已确认";
    case NoticeStanding::kInEffect: return "已生效";
    case NoticeStanding::kSuperseded: return "已更正";
  }
  return "公示中";
}

bool valid_notice_period_days(std::int64_t days) noexcept { return days >= 0 && days <= kNoticePeriodDaysMax; }

NoticeStanding notice_standing(const Proposal& proposal, bool disputed, std::string_view today) {
  switch (proposal.state) {
    case ProposalState::kProposed: return disputed ? NoticeStanding::kDisputed : NoticeStanding::kProposed;
    case ProposalState::kSuperseded: return NoticeStanding::kSuperseded;
    case ProposalState::kConfirmed: break;
  }
  // Dates written YYYY-MM-DD compare as text.
  const std::string& from = proposal.effective_date ? *proposal.effective_date : proposal.confirmed_on.value_or("");
  return from <= today ? NoticeStanding::kInEffect : NoticeStanding::kFinal;
}

std::string notice_ends_on(std::string_view last_proposed_on, int period_days) {
  return add_days(last_proposed_on, period_days);
}

std::string notice_publisher(std::string_view village) { return "notice:" + std::string(village); }

bool is_notice_or_ruling_publisher(std::string_view publisher) noexcept {
  return publisher.rfind("notice:", 0) == 0 || publisher.rfind("complaint:", 0) == 0;
}

bool waits_for_effective_date(std::string_view effective_date, std::string_view today) noexcept {
  return !effective_date.empty() && effective_date > today;  // ISO dates compare as text
}

std::string local_today() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
  return text;
}

}  // namespace hub

// Helpers for the decisions and reasons most department plugins share: the catalogue's
// standard rule applied to one policy (including designation scope), and the bilingual reason
// text administrators read in `hubctl household`, e.g.
//   "不诚信户，暂缓兑现 / non_credit: deferred (2020Q3)".
//
// These run inside the plugin (they are part of the SDK's static library, not of the ABI);
// a plugin is free to write its own reasons instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/types.h"

namespace hub::sdk {

// 诚信户, 不诚信户, 违约户, 未评议.
std::string_view status_name_zh(HouseholdStatus status) noexcept;

// The Chinese words a department uses for each action (the English ones are fixed:
// applied, deferred, withheld, released, restored). Defaults fit policies that are paid or
// granted (兑现); a service department may say 优先办理 instead.
struct ActionWording {
  std::string_view apply = "兑现";
  std::string_view defer = "暂缓兑现";
  std::string_view withhold = "不兑现";
  std::string_view release = "恢复兑现";
  std::string_view restore = "恢复兑现";
};

// "<状态>，<处理> / <status>: <action> (<quarter>)", plus correction_suffix(event).
std::string standard_reason(const Event& event, ActionKind kind, const ActionWording& wording = {});

// What a reason says about a correction: "" for none, " [更正 / correction]" for a quarter
// re-evaluated, the complaint's id for a ruling's correction, and for a past quarter
// (Event::past_quarter) that quarter and the status it had:
//   " [依投诉 TS-2026-000123 裁定更正往季 2020Q4，原为违约户 / past quarter 2020Q4 corrected by the
//    ruling on complaint TS-2026-000123, was breach]".
// The standard rule decides a past quarter as any correction: that quarter re-decided by the
// catalogue (release when it had deferred, restore when it had withheld).
std::string correction_suffix(const Event& event);

// "不适用 …" reason for a household without the designation a policy requires.
std::string missing_designation_reason(std::string_view designation);

// The standard decision for one policy of the catalogue: not_applicable when the policy needs
// a designation the household lacks, otherwise standard_action() with standard_reason().
// Policies with Scope::kRoster depend on the department's own data and are not decided here.
PolicyAction standard_policy_action(const PolicyDefinition& policy, const Event& event,
                                    const ActionWording& wording = {});

// "¥1234.50" from fen.
std::string format_yuan(std::int64_t fen);

}  // namespace hub::sdk

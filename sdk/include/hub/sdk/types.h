// The values that cross the plugin boundary: the event a plugin receives and the policy
// actions it returns.
//
// Everything here is a plain value type built from the standard library only, so a plugin
// needs no JSON, logging or ZeroMQ headers. The host owns every Event it passes; a plugin
// reads it only for the duration of the call. Actions are appended by the plugin to a vector
// the host owns. Both sides must be built with the same C++ standard library (the ABI version
// in version.h stands for that layout).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hub::sdk {

// A household's evaluation result (评议结果). `unevaluated` is the status of a registered
// household before its first evaluation; evaluations themselves carry one of the other three.
enum class HouseholdStatus : std::uint8_t {
  kUnevaluated = 0,  // 未评议
  kCredit = 1,       // 诚信户: preferential policies apply
  kNonCredit = 2,    // 不诚信户: policies deferred (暂缓兑现), entitlements accrue
  kBreach = 3,       // 违约户: policies withheld (不兑现), entitlements forfeited
};

// What a department does with one of its policies for one household.
enum class ActionKind : std::uint8_t {
  kApply = 0,          // grant the policy for this period
  kDefer = 1,          // 暂缓兑现: hold it back; the entitlement accrues
  kWithhold = 2,       // 不兑现: refuse it for this period; the entitlement is forfeited
  kRelease = 3,        // pay out / resume what was deferred (non_credit -> credit)
  kRestore = 4,        // grant again after a breach (breach -> credit); nothing to release
  kNotApplicable = 5,  // the policy does not concern this household (e.g. not on the roster)
};

// Wire and catalogue spellings: "credit", "non_credit", "breach", "unevaluated".
std::string_view to_string(HouseholdStatus status) noexcept;
std::optional<HouseholdStatus> parse_household_status(std::string_view text) noexcept;

// Wire and catalogue spellings: "apply", "defer", "withhold", "release", "restore",
// "not_applicable".
std::string_view to_string(ActionKind kind) noexcept;
std::optional<ActionKind> parse_action_kind(std::string_view text) noexcept;

// One household status change, as delivered to a department's plugin.
struct Event {
  std::uint64_t sequence = 0;        // the hub's sequence number; increases in publication order
  std::string event_id;              // the publisher's id for the event (e.g. ev-2020Q3-V03-00417)
  std::string idempotency_key;       // stable across redeliveries: "<department>:<sequence>";
                                     // use it to make side effects in your own system idempotent
  std::string household_id;          // e.g. V03-00417
  std::string village;               // e.g. V03
  HouseholdStatus previous_status = HouseholdStatus::kUnevaluated;
  HouseholdStatus new_status = HouseholdStatus::kUnevaluated;
  std::string previous_quarter;      // empty when there was no earlier evaluation
  std::string quarter;               // e.g. 2020Q3
  std::string effective_date;        // YYYY-MM-DD
  std::vector<std::string> designations;  // e.g. {"assistance"} (帮扶对象)
  bool correction = false;           // same quarter as the previous evaluation: supersedes it
  // A past quarter put right by the ruling on an upheld complaint (投诉裁定更正): `quarter` is
  // older than the household's current evaluation, which stays as it was. previous_status is what
  // that quarter said before the ruling (unevaluated if it had no evaluation), previous_quarter
  // is `quarter` (empty then), and correction is true. A plugin decides its remedy for that
  // quarter and must not take new_status as the household's status now. Always delivered.
  bool past_quarter = false;
  std::string complaint_id;          // the upheld complaint ("TS-2026-000123") on a ruling's
                                     // correction, current or past quarter; empty otherwise

  bool has_designation(std::string_view name) const noexcept {
    for (const auto& d : designations)
      if (d == name) return true;
    return false;
  }
};

// One policy action a plugin decided on. Money is in fen (分, 1/100 yuan) so that sums are
// exact; leave amount_fen empty for policies that carry no money.
struct PolicyAction {
  std::string policy_id;      // must be in the department's catalogue
  std::string household_id;   // must be the event's household
  ActionKind action = ActionKind::kNotApplicable;
  std::optional<std::int64_t> amount_fen;  // >= 0 when present
  std::string reason;         // short, human-readable; shown to administrators
};

}  // namespace hub::sdk

// Reconciliation (§4 `hubctl reconcile`, `/api/reconcile`): every policy whose state in the
// ledger disagrees with what the household's current status means for it.
//
// Expected state, per household with a current evaluation, per enabled department that
// subscribes to that evaluation, per policy of the department's catalogue (the standard rule,
// sdk/catalogue.h): the catalogue's effect for the status — applied, deferred or withheld —
// or not_applicable for a designation policy the household lacks. Recorded state: the
// ledger's latest action for the household and policy (apply, release and restore all read
// "applied"). A policy scoped to the department's own roster may be recorded not_applicable
// (the household is not on the roster, which only the department knows).
//
// Disagreements:
//   missing   — the evaluation was delivered (the department's cursor is past it) but the
//               ledger holds no action of it for this policy: the action was lost
//   mismatch  — the latest action is of the current evaluation but says something else
//   stale     — the latest action is of an older event, and the current evaluation's is missing
// Households whose current evaluation the department has not reached yet are counted as
// pending, not listed. A clean hub reconciles to zero.
//
// One pass over the households (ReportViews::each_current_evaluation): memory for one
// household and the list, which names the first kMaxListedDisagreements disagreements (by
// household, then department and policy in the configuration's order); "count" and
// "by_department" count them all, and "truncated" says the list stopped short.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "config/hub_config.h"
#include "report/report_views.h"

namespace hub::report {

inline constexpr std::size_t kMaxListedDisagreements = 10000;

// {"ok":true,"checked":N,"pending":N,"count":N,"truncated":bool,"disagreements":[{household_id,
//  village, department, policy_id, kind, expected, recorded, recorded_action, recorded_seq,
//  since_ms, event_seq, event_id, effective_date, quarter, status}], "by_department":{id: n}}
nlohmann::json reconcile(ReportViews& views, const HubConfig& config);

// The four action kinds an administrator reads as a policy's state: apply, release and
// restore all leave the policy granted ("applied").
std::string policy_state_of_action(const std::string& action);

}  // namespace hub::report

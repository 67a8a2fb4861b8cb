// The quarterly report (§4 `hubctl report`, `/api/report`, the dashboard's village page):
// for one quarter and optionally one village, what the town's administrators and the
// supervision group (监督小组) review every quarter.
//
// Figures, all computed from one snapshot of the event log and the ledger (report_views.h):
// - households registered, commitments due (every household) and signed by the quarter's
//   end, with the signing rate;
// - households per status in the quarter: each household's effective evaluation for the
//   quarter is its latest status_change for it (a correction supersedes the first decision);
//   households without one count as `unevaluated`;
// - per department and policy, the actions recorded for those effective evaluations (apply,
//   defer, withhold, release, restore, not_applicable), with amounts in fen where money is
//   involved; delivery completeness (effective evaluations the department subscribes to, and
//   how many of them it has recorded); its slowest deliveries;
// - per village (supervision): statuses, signing rate, corrections, and whether the village's
//   share of non_credit + breach stands far outside the town's (more than three standard
//   errors of a binomial share, and at least 5 percentage points).
//
// Runs on the caller's thread with the caller's views (one snapshot).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/hub_config.h"
#include "report/report_views.h"

namespace hub::report {

struct ReportRequest {
  std::string quarter;                 // "2020Q4"; validated by the caller
  std::optional<std::string> village;  // "V03", or the whole town
};

// {"ok":true,"quarter":…,"village":…,"households":…,"commitments":{…},"statuses":{…},
//  "departments":[…],"villages":[…],"town":{…}} — documented in docs/protocol.md.
nlohmann::json quarterly_report(ReportViews& views, const HubConfig& config, const ReportRequest& request);

// The quarters that have evaluations, oldest first: {"ok":true,"quarters":["2020Q3","2020Q4"]}.
nlohmann::json available_quarters(ReportViews& views);

// The report as CSV (one row per department and policy, then one per village), UTF-8 with a
// header line; for spreadsheets.
std::string report_csv(const nlohmann::json& report);

}  // namespace hub::report

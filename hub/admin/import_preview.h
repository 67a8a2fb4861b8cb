// The import preview (issue 19, item 3): for the events of an import file, what each department
// would do — per household the policy actions (apply, defer, withhold, release, restore,
// not_applicable) and money where its plugin says so, and per department the totals — with
// nothing stored and nothing delivered. Asked by `hubctl import --dry-run` (admin command
// "import_preview") and by the web console's upload (POST /api/import/preview).
//
// How each department is asked (the reply's "mode" per department):
//   "plugin"    — its own in-process plugin, a private instance on a copy of its data
//                 directory (runtime/dry_evaluation.h): the real decisions, money included
//                 (finance's accruals, schools' per-child amounts, fp_association's grants);
//   "catalogue" — a department on a plugin host, or whose plugin could not be asked (the reason
//                 in "note"): the catalogue's standard rule (sdk/reasons.h), without money and
//                 without roster policies (which only the department's data decides).
// Each file row is seen after the household's current state in the hub and after the file's
// earlier rows for the same household (previous status, correction), as delivery would see it;
// rows already stored (their event_id is in the household's history) would not be delivered
// again and are counted in "already_stored" only. Only the departments whose subscription takes
// an event are asked about it.
//
// Request: {"cmd":"import_preview","events":[wire event, …],"lines":[line, …],"detail":N}
// ("lines" gives each event's line in the file; "detail": how many rows of per-household detail
// to list per department, default all). Reply: docs/protocol.md §10.14.
// Runs on the caller's thread (the admin thread); each in-process plugin asked runs on a thread
// of its own meanwhile (dry_evaluation.h).
#pragma once

#include <nlohmann/json.hpp>

#include "config/hub_config.h"
#include "report/report_views.h"

namespace hub::admin {

nlohmann::json import_preview(const HubConfig& config, report::ReportViews& views, const nlohmann::json& request);

}  // namespace hub::admin

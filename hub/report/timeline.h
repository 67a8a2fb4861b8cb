// Deliveries and lag over time, per department, for the dashboard's overview charts — counted
// from the ledger and the event log, so the history is there even for a page opened late.
//
// Per minute over the last `window_minutes` before `now_ms` (at most one day): status changes
// received, and per department the actions sets recorded (deliveries) and the lag at the end
// of that minute — status changes received so far that the department subscribes to minus
// those it has recorded. (A department's subscription filter is applied per village and
// status; events before the window count towards the lag.)
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "config/hub_config.h"
#include "report/report_views.h"

namespace hub::report {

// {"ok":true,"minute_ms":60000,"start_ms":…,"minutes":[start of each minute…],
//  "received":[n…],"departments":[{"id","name_zh","name_en","deliveries":[n…],"lag":[n…]}]}
nlohmann::json delivery_timeline(ReportViews& views, const HubConfig& config, std::int64_t now_ms,
                                 int window_minutes = 60);

}  // namespace hub::report

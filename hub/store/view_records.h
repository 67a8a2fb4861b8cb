// What every backend's read views (store/sqlite/sqlite_report_views.h,
// store/postgresql/pg_report_views.h) compute the same way from the rows they read, so that the
// reports, reconciliation and /metrics are the same on both: a delivery's packed actions as a
// recorded row, a quarter's delivery figures, the running counts. No SQL here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/report_views.h"

namespace hub::store {

// A delivery row's actions ([[policy_id, action, amount_fen or null, reason id], ...]) as
// (policy_id, action) pairs in the plugin's order.
report::RecordedRow recorded_row(std::int64_t seq, std::int64_t delivered_at_ms, std::string_view packed_actions);

// Takes a department's row for an earlier event of the household into the latest action per
// policy (rows in seq order: a later row replaces an earlier one).
void keep_latest(std::map<std::string, report::LatestAction>& latest, const report::RecordedRow& row);

// Adds one delivery of an effective evaluation to its department's figures: the count, the
// action totals, and the three slowest (latency descending, then seq). `household_id` is asked
// only for a delivery that is among the three slowest so far.
void add_delivery(report::QuarterDeliveries& figures, std::int64_t seq, std::int64_t latency_ms,
                  std::string_view packed_actions, const std::function<std::string()>& household_id);

// Adds one row of a ledger tally (store/ledger_records.h: namespace tally) to the counts.
void add_tally(report::MetricsCounts& counts, const std::string& department, const std::string& counter,
               std::int64_t n);

// Designations as stored: a JSON array of ids, or none (NULL).
std::vector<std::string> stored_designations(const std::optional<std::string_view>& json_array);

}  // namespace hub::store

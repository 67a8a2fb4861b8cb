// /metrics (Prometheus text exposition format 0.0.4): the hub's counters, read from the running
// counts that the ledger and the event log keep in the transactions that store what they count
// (so they equal what an administrator can count there, and a scrape costs the same at any
// size), plus the dispatcher's live gauges (lag, parked, plugin state).
//
// metrics_snapshot() gathers the figures as JSON on the admin thread (admin command
// "metrics"); prometheus_text() renders a snapshot — a pure function, tested against a golden
// file. Families:
//   hub_events_total{type}                          events in the event log
//   hub_last_seq                                     the last sequence number
//   hub_deliveries_total{department}                 action sets recorded (ledger rows)
//   hub_delivery_failures_total{department}          failed attempts recorded
//   hub_policy_actions_total{department,action}      policy actions recorded
//   hub_parked_events{department}                    events parked now (dispatcher status)
//   hub_delivery_lag_events{department}              events not yet delivered
//   hub_oldest_undelivered_seconds{department}       age of the oldest undelivered event
//   hub_plugin_up{department,version}                1 when the plugin is running
//   hub_department_state{department,placement,state} 1 for the department's current state
//   hub_data_dir_size_bytes, hub_data_dir_free_bytes the data directory's file system (statvfs;
//                                                    snapshot["data_dir"], set by the HTTP server)
//   hub_handshakes_total{result}, hub_handshakes_refused_total{reason},
//   hub_requests_unauthorized_total                  with CURVE on (snapshot["security"])
//   hub_complaints{state}, hub_complaints_open,      the complaints register (snapshot["complaints"],
//   hub_complaints_overdue                           set by the admin thread and the HTTP server)
//   hub_delivery_latency_seconds{department}         histogram: received by the hub → recorded
//                                                    (buckets: domain/delivery_latency.h)
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "report/report_views.h"

namespace hub::report {

// {"events":{type:n},"last_seq":n,"departments":{id:{"deliveries","failures","actions":{kind:n},
//  "latency":{"buckets":[n…],"count","sum_ms"}}}} from the ledger and the event log; `status`
// (the dispatcher's status reply) is stored under "status". The caller may add "data_dir"
// ({"size_bytes","free_bytes"}) and "security" before rendering.
nlohmann::json metrics_snapshot(ReportViews& views, const nlohmann::json& status);

std::string prometheus_text(const nlohmann::json& snapshot);

}  // namespace hub::report

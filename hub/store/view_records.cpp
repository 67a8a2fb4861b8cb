#include "store/view_records.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "domain/delivery_latency.h"
#include "store/ledger_records.h"

namespace hub::store {

using nlohmann::json;
using namespace hub::report;

report::RecordedRow recorded_row(std::int64_t seq, std::int64_t delivered_at_ms, std::string_view packed_actions) {
  RecordedRow row{seq, delivered_at_ms, {}};
  for_each_packed_action(packed_actions,
                         [&](const PackedAction& a) { row.actions.emplace_back(a.policy_id, a.action); });
  return row;
}

void keep_latest(std::map<std::string, report::LatestAction>& latest, const report::RecordedRow& row) {
  for (const auto& [policy, action] : row.actions) latest[policy] = LatestAction{action, row.seq, row.delivered_at_ms};
}

void add_delivery(report::QuarterDeliveries& figures, std::int64_t seq, std::int64_t latency_ms,
                  std::string_view packed_actions, const std::function<std::string()>& household_id) {
  ++figures.delivered;
  auto& slowest = figures.slowest;
  const auto slower = [](const SlowDelivery& a, const SlowDelivery& b) {
    return a.latency_ms != b.latency_ms ? a.latency_ms > b.latency_ms : a.seq < b.seq;
  };
  if (const SlowDelivery candidate{seq, {}, latency_ms}; slowest.size() < 3 || slower(candidate, slowest.back())) {
    slowest.push_back({seq, household_id(), latency_ms});
    std::sort(slowest.begin(), slowest.end(), slower);
    if (slowest.size() > 3) slowest.pop_back();
  }
  for_each_packed_action(packed_actions, [&](const PackedAction& a) {
    auto policy = figures.actions.find(a.policy_id);
    if (policy == figures.actions.end()) policy = figures.actions.emplace(a.policy_id, ActionTotals{}).first;
    auto action = policy->second.find(a.action);
    if (action == policy->second.end()) action = policy->second.emplace(a.action, ActionTotal{}).first;
    ++action->second.count;
    if (a.amount_fen) action->second.amount_fen += *a.amount_fen;
  });
}

void add_tally(report::MetricsCounts& counts, const std::string& department, const std::string& counter,
               std::int64_t n) {
  DepartmentCounts& d = counts.departments[department];
  auto latency = [&d]() -> LatencyHistogram& {
    if (!d.latency) d.latency = LatencyHistogram{std::vector<std::int64_t>(kDeliveryLatencyBoundsMs.size(), 0), 0, 0};
    return *d.latency;
  };
  const std::string_view action_prefix = tally::kActionPrefix;
  if (counter == tally::kDeliveries) {
    d.deliveries = n;
  } else if (counter == tally::kFailures) {
    d.failures = n;
  } else if (counter.rfind(action_prefix, 0) == 0) {
    d.actions[counter.substr(action_prefix.size())] = n;
  } else if (counter == tally::kLatencySumMs) {
    latency().sum_ms = n;
  } else {
    for (std::size_t b = 0; b <= kDeliveryLatencyBoundsMs.size(); ++b) {
      if (counter != tally::latency_bucket(b)) continue;
      LatencyHistogram& h = latency();
      h.count += n;
      for (std::size_t i = b; i < kDeliveryLatencyBoundsMs.size(); ++i) h.buckets[i] += n;  // cumulative
      break;
    }
  }
}

std::vector<std::string> stored_designations(const std::optional<std::string_view>& json_array) {
  if (!json_array) return {};
  return json::parse(*json_array).get<std::vector<std::string>>();
}

}  // namespace hub::store

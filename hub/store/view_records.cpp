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
  for (const auto& a : json::parse(packed_actions))
    row.actions.emplace_back(a.at(0).get<std::string>(), a.at(1).get<std::string>());
  return row;
}

void keep_latest(std::map<std::string, report::LatestAction>& latest, const report::RecordedRow& row) {
  for (const auto& [policy, action] : row.actions) latest[policy] = LatestAction{action, row.seq, row.delivered_at_ms};
}

void add_delivery(report::QuarterDeliveries& figures, std::int64_t seq, const std::string& household_id,
                  std::int64_t latency_ms, std::string_view packed_actions) {
  ++figures.delivered;
  auto& slowest = figures.slowest;
  slowest.push_back({seq, household_id, latency_ms});
  std::sort(slowest.begin(), slowest.end(), [](const SlowDelivery& a, const SlowDelivery& b) {
    return a.latency_ms != b.latency_ms ? a.latency_ms > b.latency_ms : a.seq < b.seq;
  });
  if (slowest.size() > 3) slowest.pop_back();
  for (const auto& a : json::parse(packed_actions)) {
    ActionTotal& total = figures.actions[a.at(0).get<std::string>()][a.at(1).get<std::string>()];
    ++total.count;
    if (a.at(2).is_number_integer()) total.amount_fen += a.at(2).get<std::int64_t>();
  }
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

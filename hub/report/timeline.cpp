#include "report/timeline.h"

#include <algorithm>
#include <map>
#include <vector>

#include "domain/activity_minute.h"

namespace hub::report {

using nlohmann::json;

json delivery_timeline(ReportViews& views, const HubConfig& config, std::int64_t now_ms, int window_minutes) {
  constexpr std::int64_t kMinute = kActivityMinuteMs;
  window_minutes = std::clamp(window_minutes, 1, 24 * 60);
  const std::int64_t end = activity_minute(now_ms) + kMinute;
  const std::int64_t start = end - window_minutes * kMinute;
  auto slot = [&](std::int64_t at_ms) { return at_ms < start ? -1 : static_cast<int>((at_ms - start) / kMinute); };

  // Status changes per village, status and minute, and deliveries per department and minute
  // (slot -1: before the window).
  const TimelineCounts counts = views.timeline(start, end);
  std::map<std::string, std::map<int, std::int64_t>> delivered;  // department → slot → n
  for (const auto& d : counts.delivered) delivered[d.department][slot(d.minute_ms)] += d.n;

  json minutes = json::array(), received_per_minute = json::array();
  std::vector<std::int64_t> all(window_minutes, 0);
  for (const auto& r : counts.received)
    if (slot(r.minute_ms) >= 0) all[slot(r.minute_ms)] += r.n;
  for (int i = 0; i < window_minutes; ++i) {
    minutes.push_back(start + i * kMinute);
    received_per_minute.push_back(all[i]);
  }

  json departments = json::array();
  for (const auto& plugin : config.plugins) {
    std::vector<std::int64_t> due(window_minutes + 1, 0);  // index 0: before the window
    for (const auto& r : counts.received)
      if (plugin.subscribes(r.village, r.status)) due[slot(r.minute_ms) + 1] += r.n;
    const auto& done = delivered[plugin.id];
    std::int64_t owed = due[0] - (done.count(-1) ? done.at(-1) : 0);
    json deliveries = json::array(), lag = json::array();
    for (int i = 0; i < window_minutes; ++i) {
      const std::int64_t n = done.count(i) ? done.at(i) : 0;
      owed += due[i + 1] - n;
      deliveries.push_back(n);
      lag.push_back(std::max<std::int64_t>(0, owed));
    }
    departments.push_back({{"id", plugin.id}, {"name_zh", plugin.catalogue.name_zh()},
                           {"name_en", plugin.catalogue.name_en()}, {"deliveries", deliveries}, {"lag", lag}});
  }
  return {{"ok", true}, {"minute_ms", kMinute}, {"start_ms", start}, {"minutes", minutes},
          {"received", received_per_minute}, {"departments", departments}};
}

}  // namespace hub::report

// /metrics rendering: a fixed snapshot renders to exactly the golden text, and every line of it
// is valid Prometheus text exposition (comment, or `name{labels} value`).
#include "report/metrics.h"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

namespace {

using nlohmann::json;

json snapshot() {
  return json::parse(R"({
    "events": {"household": 3, "commitment": 3, "status_change": 4},
    "last_seq": 10,
    "data_dir": {"size_bytes": 105089261568, "free_bytes": 52544630784},
    "security": {"accepted": 17, "refused": 9, "refused_messages": 8,
                 "refused_by_reason": {"unknown_key": 4, "role": 2, "not_curve": 2, "wrong_hub_key": 1, "malformed": 0,
                                       "incomplete": 0}},
    "departments": {
      "police": {"deliveries": 4, "failures": 1, "actions": {"apply": 2, "defer": 1, "withhold": 1},
                 "latency": {"buckets": [1, 2, 3, 3, 4, 4, 4, 4, 4, 4], "count": 4, "sum_ms": 1234}},
      "sch\"ools": {"deliveries": 0, "failures": 0, "actions": {},
                    "latency": {"buckets": [], "count": 0, "sum_ms": 0}}
    },
    "status": {"departments": [
      {"id": "police", "placement": "in_process", "state": "running", "plugin_version": "1.0.0", "lag": 0, "parked": 0, "oldest_undelivered_ms": 0},
      {"id": "sch\"ools", "placement": "host", "state": "waiting_for_host", "plugin_version": "1.0.0", "lag": 4, "parked": 0, "oldest_undelivered_ms": 2500}
    ]}
  })");
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Metrics, RendersTheGoldenText) {
  const std::string text = hub::report::prometheus_text(snapshot());
  const std::string golden_path = std::string(HUB_REPORT_TESTDATA) + "/metrics.golden.txt";
  if (std::getenv("HUB_UPDATE_GOLDEN")) std::ofstream(golden_path) << text;
  EXPECT_EQ(text, read(golden_path)) << "re-run with HUB_UPDATE_GOLDEN=1 after an intended change, and review the diff";
}

TEST(Metrics, EveryLineIsPrometheusText) {
  const std::regex comment(R"(# (HELP|TYPE) [a-z_]+ .+)");
  const std::regex sample(R"re([a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? [0-9]+(\.[0-9]+)?)re");
  std::istringstream lines(hub::report::prometheus_text(snapshot()));
  std::set<std::string> typed;
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) == 0) typed.insert(line.substr(7, line.find(' ', 7) - 7));
    if (line[0] == '#') {
      EXPECT_TRUE(std::regex_match(line, comment)) << line;
      continue;
    }
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
    ++samples;
    // Each sample belongs to a family declared before it (histogram suffixes included).
    std::string name = line.substr(0, line.find_first_of("{ "));
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (!typed.count(name) && name.size() > std::strlen(suffix) &&
          name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
        name.resize(name.size() - std::strlen(suffix));
    EXPECT_TRUE(typed.count(name)) << "no # TYPE before " << line;
  }
  EXPECT_GT(samples, 20);
}

TEST(Metrics, HistogramBucketsAreCumulativeAndEndAtCount) {
  const std::string text = hub::report::prometheus_text(snapshot());
  EXPECT_NE(text.find("hub_delivery_latency_seconds_bucket{department=\"police\",le=\"0.010\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("hub_delivery_latency_seconds_bucket{department=\"police\",le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("hub_delivery_latency_seconds_sum{department=\"police\"} 1.234\n"), std::string::npos);
  EXPECT_NE(text.find("hub_policy_actions_total{department=\"police\",action=\"defer\"} 1\n"), std::string::npos);
  // A label value with a quote is escaped.
  EXPECT_NE(text.find("department=\"sch\\\"ools\""), std::string::npos);
}

}  // namespace

// The shipped alert rules (config/prometheus/chengxin-hub-alerts.yml) against a real hubd's
// /metrics: every metric and label the rules use is in the scrape (and a rule naming a metric
// or label hubd does not export is caught); and the scrape itself, held for an hour as
// promtool's input series, fires exactly the alert its state calls for — a hosted department
// whose plugin host never connected — and no other. promtool's metrics lint passes on it.
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "integration/hub_process.h"

namespace {

using hub::test::HubOptions;
using hub::test::HubProcess;
using hub::test::run_command;

std::string scrape(HubProcess& hub) {
  const std::string url = hub.http_url();  // "http://127.0.0.1:PORT/"
  const auto colon = url.rfind(':');
  httplib::Client client("127.0.0.1", std::stoi(url.substr(colon + 1)));
  client.set_read_timeout(60, 0);
  auto result = client.Get("/metrics");
  if (!result || result->status != 200) throw std::runtime_error("GET /metrics failed");
  return result->body;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("no " + from + " to replace");
  return text.replace(at, from.size(), to);
}

// The exposition with hub_data_dir_free_bytes set to half of hub_data_dir_size_bytes.
std::string with_half_free(const std::string& body) {
  const auto value_of = [&](const std::string& name) {
    const auto at = body.find("\n" + name + " ");
    if (at == std::string::npos) throw std::runtime_error("no " + name + " in the scrape");
    const auto start = at + name.size() + 2;
    return body.substr(start, body.find('\n', start) - start);
  };
  const std::string free = value_of("hub_data_dir_free_bytes");
  const double size = std::stod(value_of("hub_data_dir_size_bytes"));
  return replaced(body, "hub_data_dir_free_bytes " + free + "\n",
                  "hub_data_dir_free_bytes " + std::to_string(static_cast<std::int64_t>(size / 2)) + "\n");
}

const std::string kTool = std::string(PYTHON3_PATH) + " " + HUB_ALERT_RULES_TOOL;

TEST(AlertRules, EveryMetricAndLabelTheRulesUseIsInARealHubdsMetrics) {
  HubOptions options;
  options.curve = true;          // the handshake counters are exported with CURVE on
  options.hosted = {"police"};   // a plugin host that never connects
  HubProcess hub(options);
  hub.start();
  // The hosted department is "starting" for a moment after hubd is ready, then waits for its
  // host: scrape until it does (on a slow machine that takes a while).
  const std::string waiting = "hub_department_state{department=\"police\",placement=\"host\",state=\"waiting_for_host\"} 1";
  std::string body = scrape(hub);
  for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       body.find(waiting) == std::string::npos && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    body = scrape(hub);
  }
  for (const char* name : {"hub_department_state{department=\"police\",placement=\"host\",state=\"waiting_for_host\"} 1",
                           "hub_data_dir_free_bytes ", "hub_handshakes_refused_total{reason=\"unknown_key\"}"})
    EXPECT_NE(body.find(name), std::string::npos) << name << "\n" << body;
  const std::string scrape_file = hub.dir() + "/metrics.txt";
  write(scrape_file, body);

  // promtool's own lint of the exposition (names, types, HELP) passes too.
  const auto linted = run_command(std::string(PROMTOOL_PATH) + " check metrics < " + scrape_file);
  EXPECT_EQ(linted.exit_code, 0) << linted.output;

  const auto checked = run_command(kTool + " check " + HUB_ALERT_RULES + " " + scrape_file);
  EXPECT_EQ(checked.exit_code, 0) << checked.output;

  // Teeth: a copy of the rules naming a metric hubd does not export, and one naming a label
  // that the metric does not carry, both fail, naming the rule and what is missing.
  const std::string rules = read(HUB_ALERT_RULES);
  write(hub.dir() + "/wrong-metric.yml", replaced(rules, "expr: hub_parked_events > 0", "expr: hub_parked_event > 0"));
  const auto wrong_metric = run_command(kTool + " check " + hub.dir() + "/wrong-metric.yml " + scrape_file);
  EXPECT_NE(wrong_metric.exit_code, 0) << wrong_metric.output;
  EXPECT_NE(wrong_metric.output.find("ChengxinHubEventsParked: hubd's /metrics has no hub_parked_event"),
            std::string::npos)
      << wrong_metric.output;
  write(hub.dir() + "/wrong-label.yml",
        replaced(rules, "hub_department_state{placement=\"host\",", "hub_department_state{placed=\"host\","));
  const auto wrong_label = run_command(kTool + " check " + hub.dir() + "/wrong-label.yml " + scrape_file);
  EXPECT_NE(wrong_label.exit_code, 0) << wrong_label.output;
  EXPECT_NE(wrong_label.output.find("ChengxinHubPluginHostGone: no metric it uses (hub_department_state) has the "
                                    "label placed"),
            std::string::npos)
      << wrong_label.output;

  // The real series through promtool: after an hour of these figures only the plugin host
  // that never came fires (no events: no lag, nothing parked, no failures). The free space is
  // set to half the file system first, so that a test machine whose disk happens to be nearly
  // full does not change the answer (the disk alerts have their own cases in rules_test.yml).
  const std::string series_file = hub.dir() + "/metrics-disk-half-free.txt";
  write(series_file, with_half_free(body));
  const std::string test_file = hub.dir() + "/scrape_test.yml";
  const auto made = run_command(kTool + " series " + series_file + " " + HUB_ALERT_RULES + " " + test_file +
                                " ChengxinHubPluginHostGone:department=police");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const auto tested = run_command(std::string(PROMTOOL_PATH) + " test rules " + test_file);
  EXPECT_EQ(tested.exit_code, 0) << tested.output;

  // And the same series without the alert expected must fail: the test can tell.
  const auto made_wrong = run_command(kTool + " series " + series_file + " " + HUB_ALERT_RULES + " " + test_file);
  ASSERT_EQ(made_wrong.exit_code, 0) << made_wrong.output;
  const auto tested_wrong = run_command(std::string(PROMTOOL_PATH) + " test rules " + test_file);
  EXPECT_NE(tested_wrong.exit_code, 0) << tested_wrong.output;
  EXPECT_NE(tested_wrong.output.find("ChengxinHubPluginHostGone"), std::string::npos) << tested_wrong.output;
}

}  // namespace

// Delivery through the real department plugins into the ledger, the admin views, the ABI
// check, and hubctl as a clerk uses it.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "hub/sdk/version.h"
#include "integration/hub_process.h"

namespace hub::test {
namespace {

using nlohmann::json;

CommandResult run(const std::string& command) { return run_command(command); }

// Three households through two quarters: credit, non_credit -> credit, breach -> credit.
void publish_two_quarters(HubProcess& hub) {
  json events = json::array();
  for (const char* id : {"V01-00001", "V01-00002", "V01-00003"}) {
    events.push_back(household_event(id));
    events.push_back(commitment_event(id));
  }
  events.push_back(status_event("V01-00001", "credit", "2020Q3"));
  events.push_back(status_event("V01-00002", "non_credit", "2020Q3"));
  events.push_back(status_event("V01-00003", "breach", "2020Q3"));
  ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", events}})["ok"], true);
  for (const char* id : {"V01-00001", "V01-00002", "V01-00003"})
    ASSERT_EQ(hub.ingest(status_event(id, "credit", "2020Q4"))["ok"], true);
}

std::vector<std::vector<std::string>> actions_of(HubProcess& hub, const std::string& department,
                                                 const std::string& household) {
  return hub.query_rows("ledger.db", "SELECT policy_id, action, COALESCE(amount_fen, '') FROM action WHERE department='" +
                                         department + "' AND household_id='" + household + "' ORDER BY seq, idx");
}

TEST(DeliveryTest, EveryDepartmentRecordsOneActionSetPerStatusChangeFollowingItsRules) {
  HubProcess hub;
  hub.start();
  publish_two_quarters(hub);
  const json status = hub.wait_for_delivery();
  ASSERT_EQ(status["departments"].size(), 9u);
  for (const auto& d : status["departments"]) {
    EXPECT_EQ(d["state"], "running") << d.dump();
    EXPECT_EQ(d["delivered"], 6) << d.dump();
    EXPECT_EQ(d["cursor"], 12);
    const std::string id = d["id"];
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='" + id + "'"), 6);
  }

  // Finance: rural reward deferred in 2020Q3, released with the accrued sum and applied on return to credit.
  EXPECT_EQ(actions_of(hub, "finance", "V01-00002"),
            (std::vector<std::vector<std::string>>{{"finance.only_child_reward", "not_applicable", ""},
                                                   {"finance.rural_reward", "defer", "24000"},
                                                   {"finance.only_child_reward", "not_applicable", ""},
                                                   {"finance.rural_reward", "release", "24000"},
                                                   {"finance.rural_reward", "apply", "24000"}}));
  // Land: the pending application is put on hold, then resumed.
  auto land = actions_of(hub, "land", "V01-00002");
  ASSERT_EQ(land.size(), 2u);
  EXPECT_EQ(land[0][1], "defer");
  EXPECT_EQ(land[1][1], "release");
  // Police: breach withholds, the return to credit restores.
  auto police = actions_of(hub, "police", "V01-00003");
  ASSERT_GE(police.size(), 2u);
  EXPECT_EQ(police.front()[1], "withhold");
  EXPECT_EQ(police.back()[1], "restore");
  // Judicial (standard rule on every policy): breach withholds, the return to credit restores.
  auto judicial = actions_of(hub, "judicial", "V01-00003");
  ASSERT_EQ(judicial.size(), 4u);
  EXPECT_EQ(judicial.front()[1], "withhold");
  EXPECT_EQ(judicial.back()[1], "restore");
  // The family-planning association serves designated households only; these have none.
  for (const auto& row : actions_of(hub, "fp_association", "V01-00002")) EXPECT_EQ(row[1], "not_applicable");
  // Schools: a household off the roster gets not_applicable only.
  for (const auto& row : actions_of(hub, "schools", "V01-00002")) EXPECT_EQ(row[1], "not_applicable");
  EXPECT_EQ(actions_of(hub, "schools", "V01-00001")[0], (std::vector<std::string>{"schools.fee_reduction", "apply", "30000"}));

  // The household view, as hubctl shows it.
  const json view = hub.admin({{"cmd", "household"}, {"household_id", "V01-00002"}});
  ASSERT_EQ(view["ok"], true) << view.dump();
  EXPECT_EQ(view["status"], "credit");
  EXPECT_EQ(view["history"].size(), 4u);
  bool saw_finance = false;
  for (const auto& d : view["departments"]) {
    EXPECT_EQ(d["up_to_date"], true);
    if (d["id"] != "finance") continue;
    for (const auto& p : d["policies"])
      if (p["policy_id"] == "finance.rural_reward") {
        saw_finance = true;
        EXPECT_EQ(p["state"]["action"], "apply");
        EXPECT_EQ(p["state"]["amount_fen"], 24000);
      }
  }
  EXPECT_TRUE(saw_finance);
  const json bad_id = hub.admin({{"cmd", "household"}, {"household_id", "V01 00002; --"}});
  EXPECT_EQ(bad_id["ok"], false);
  EXPECT_EQ(bad_id["error"]["code"], "invalid_field");
  EXPECT_EQ(bad_id["error"]["field"], "household_id");
  const json no_id = hub.admin({{"cmd", "household"}});
  EXPECT_EQ(no_id["error"]["code"], "missing_field");
  hub.stop();
}

TEST(DeliveryTest, APluginBuiltForAnotherAbiIsRefusedWithBothVersionsAndTheHubKeepsRunning) {
  HubOptions options;
  options.departments = {"schools", "police"};
  options.police_library = HUB_BAD_ABI_PLUGIN;
  HubProcess hub(options);
  hub.start();
  publish_two_quarters(hub);
  const json status = hub.wait_for_delivery();
  for (const auto& d : status["departments"]) {
    if (d["id"] == "police") {
      EXPECT_EQ(d["state"], "refused");
      const std::string error = d["last_error"];
      EXPECT_NE(error.find("abi_mismatch"), std::string::npos) << error;
      EXPECT_NE(error.find("ABI version 999"), std::string::npos) << error;
      EXPECT_NE(error.find("ABI version " + std::to_string(HUB_SDK_ABI_VERSION)), std::string::npos) << error;
      EXPECT_EQ(d["delivered"], 0);
    } else {
      EXPECT_EQ(d["state"], "running");
      EXPECT_EQ(d["delivered"], 6);
    }
  }
  EXPECT_NE(hub.log().find("ABI version 999"), std::string::npos);
  EXPECT_TRUE(hub.running());
  EXPECT_EQ(hub.ingest(status_event("V01-00001", "breach", "2021Q1"))["ok"], true);
  hub.stop();
}

TEST(DeliveryTest, ABatchThePluginCannotCommitIsRecordedNotAtAllThenRetriedWhole) {
  HubOptions options;
  options.departments = {"police"};
  options.police_library = HUB_BATCH_END_FAILS_ONCE_PLUGIN;
  HubProcess hub(options);
  hub.start();
  publish_two_quarters(hub);
  const json status = hub.wait_for_delivery();
  EXPECT_EQ(status["departments"][0]["delivered"], 6);  // the six status changes, once each
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police'"), 6);
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(DISTINCT seq) FROM delivery WHERE department='police'"), 6);
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM failure WHERE department='police' AND reason LIKE "
                                       "'plugin asked to retry the batch: the department''s database is busy'"),
            1);
  hub.stop();
}

TEST(DeliveryTest, HubctlPublishesImportsAndReportsWithTheDocumentedExitCodes) {
  HubOptions options;
  options.departments = {"police", "finance"};
  HubProcess hub(options);
  hub.start();
  const std::string ctl = std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " ";
  const std::string dir = hub.dir();
  std::ofstream(dir + "/households.csv") << "household_id,village,head,members\nV01-00001,V01,王五,3\nV01-00002,V01,\"李, 四\",5\n";
  std::ofstream(dir + "/bad.csv") << "household_id,status,quarter\nV01-00001,credit,2020Q3\nV01-00002,greatest,2020Q3\n"
                                     "V01-00009,credit,2020Q3\nV01-00001,credit,2020Q9\n";
  std::ofstream(dir + "/good.csv") << "household_id,status,quarter,designations\nV01-00001,credit,2020Q3,\n"
                                      "V01-00002,non_credit,2020Q3,assistance\n";

  auto r = run(ctl + "import " + dir + "/households.csv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // A bad file: every bad row with its line, nothing stored — not even the good first row.
  r = run(ctl + "import " + dir + "/bad.csv");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("line 3: invalid_status"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("line 5: invalid_quarter"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("line 4: unknown_household"), std::string::npos) << r.output;
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE type='status_change'"), 0);

  // A file over the size limit: refused with its own code before anything is read or sent.
  {
    std::ofstream big(dir + "/big.csv");
    big << "household_id,status,quarter\n";
    for (int i = 0; i < 60000; ++i) big << "V01-00001,credit,2020Q3\n";  // about 1.4 MB
  }
  r = run(ctl + "import --max-file-mb 1 " + dir + "/big.csv");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("file_too_large"), std::string::npos) << r.output;
  EXPECT_EQ(run(ctl + "import --max-file-mb x " + dir + "/big.csv").exit_code, 2);
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE type='status_change'"), 0);

  r = run(ctl + "import --dry-run " + dir + "/good.csv");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE type='status_change'"), 0);
  r = run(ctl + "import " + dir + "/good.csv");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run(ctl + "import " + dir + "/good.csv");  // again: all duplicates, nothing new
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE type='status_change'"), 2);

  r = run(ctl + "publish --household V01-00002 --status credit --quarter 2020Q4 --basis 复议");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run(ctl + "publish --household V01-00002 --status credit --quarter 2020Q2");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("stale_quarter"), std::string::npos);
  r = run(ctl + "publish --household V01-00002 --quarter 2020Q4");
  EXPECT_EQ(r.exit_code, 2) << r.output;

  hub.wait_for_delivery();
  r = run(ctl + "status --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json status = json::parse(r.output);
  for (const auto& d : status["departments"]) {
    EXPECT_EQ(d["lag"], 0);
    EXPECT_EQ(d["delivered"], 3);
  }
  r = run(ctl + "household V01-00002 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(json::parse(r.output)["designations"], json::array({}));
  r = run(ctl + "household V01-00002");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("派出所"), std::string::npos) << r.output;
  r = run(ctl + "household V09-00000");
  EXPECT_EQ(r.exit_code, 1);
  hub.stop();
  r = run(std::string(HUBCTL_PATH) + " --admin tcp://127.0.0.1:1 --timeout 300 status");
  EXPECT_EQ(r.exit_code, 3) << r.output;
}

// A clerk's spreadsheet saved by Excel or WPS on a Chinese Windows: GB18030, Chinese headers and
// values. hubctl reads it as such, stores what the English file would, and refuses a bad value
// with its line, storing nothing.
TEST(DeliveryTest, HubctlImportsAClerksChineseSpreadsheetSavedAsGb18030) {
  HubOptions options;
  options.departments = {"police"};
  HubProcess hub(options);
  hub.start();
  const std::string ctl = std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " ";
  const std::string dir = hub.dir();
  auto gb18030 = [&](const std::string& name, const std::string& utf8) {
    std::ofstream(dir + "/" + name + ".utf8") << utf8;
    const auto converted = run("iconv -f UTF-8 -t GB18030 " + dir + "/" + name + ".utf8 > " + dir + "/" + name);
    EXPECT_EQ(converted.exit_code, 0) << converted.output;
    return dir + "/" + name;
  };
  auto r = run(ctl + "import " + gb18030("户籍.csv", "户号,村,户主,人口\r\nV01-00001,V01,王五,3\r\nV01-00002,V01,李四,5\r\n"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("GB18030"), std::string::npos) << r.output;

  const std::string bad = gb18030("评议-错.csv", "户号,评议结果,季度\r\nV01-00001,很诚信,2020年第4季度\r\nV01-00002,诚信户,2020年第4季度\r\n");
  r = run(ctl + "import " + bad);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("line 2: invalid_status"), std::string::npos) << r.output;
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE type='status_change'"), 0);

  r = run(ctl + "import " + gb18030("评议.csv", "户号,评议结果,季度,认定\r\nV01-00001,不诚信户,2020年第4季度,帮扶对象\r\n"
                                                 "V01-00002,诚信户,2020年第4季度,\r\n"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  hub.wait_for_delivery();
  r = run(ctl + "household V01-00001 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json household = json::parse(r.output);
  EXPECT_EQ(household["head"], "王五");
  EXPECT_EQ(household["status"], "non_credit");
  EXPECT_EQ(household["quarter"], "2020Q4");
  EXPECT_EQ(household["designations"], json::array({"assistance"}));
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE type='status_change'"), 2);
  hub.stop();
}

}  // namespace
}  // namespace hub::test

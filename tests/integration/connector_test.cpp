// A plugin whose actions go to its department's system through a spool connector, in a real
// hubd: the drop folder and the ledger must agree, and a hand-off that fails makes the event
// fail for that department until the folder is usable again — then nothing is lost.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "integration/hub_process.h"

namespace hub::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Every spool file of a folder: name → its parsed lines.
std::map<std::string, std::vector<json>> spool_files(const fs::path& dir) {
  std::map<std::string, std::vector<json>> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    auto& lines = files[entry.path().filename().string()];
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  }
  return files;
}

void publish_statuses(HubProcess& hub, const std::vector<std::pair<std::string, std::string>>& changes,
                      const std::string& quarter) {
  json events = json::array();
  for (const auto& [household, status] : changes) events.push_back(status_event(household, status, quarter));
  ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", events}})["ok"], true);
}

void register_households(HubProcess& hub, const std::vector<std::string>& households) {
  json events = json::array();
  for (const auto& id : households) {
    events.push_back(household_event(id));
    events.push_back(commitment_event(id));
  }
  ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", events}})["ok"], true);
}

HubOptions spool_options() {
  HubOptions options;
  options.departments = {"police", "civil_affairs"};
  options.connectors["police"] = {{"type", "spool"}, {"dir", "drop/police"}};
  return options;
}

TEST(ConnectorTest, SpoolFilesAndTheLedgerAgree) {
  HubProcess hub(spool_options());
  hub.start();
  register_households(hub, {"V01-00001", "V01-00002", "V01-00003"});
  publish_statuses(hub, {{"V01-00001", "credit"}, {"V01-00002", "non_credit"}, {"V01-00003", "breach"}}, "2020Q3");
  publish_statuses(hub, {{"V01-00002", "credit"}, {"V01-00003", "credit"}}, "2020Q4");
  const json status = hub.wait_for_delivery();
  for (const auto& d : status["departments"]) {
    EXPECT_EQ(d["delivered"], 5) << d.dump();
    EXPECT_EQ(d["connector"], d["id"] == "police" ? "spool" : "none") << d.dump();
  }

  const fs::path drop = fs::path(hub.dir()) / "drop/police";
  const auto files = spool_files(drop);
  const auto deliveries = hub.query_rows(
      "ledger.db", "SELECT seq, handoff, handoff_detail FROM delivery WHERE department='police' ORDER BY seq");
  ASSERT_EQ(deliveries.size(), 5u);
  ASSERT_EQ(files.size(), 5u);
  for (const auto& row : deliveries) {
    SCOPED_TRACE("seq " + row[0]);
    EXPECT_EQ(row[1], "spool");
    ASSERT_EQ(files.count(row[2]), 1u) << row[2];
    const auto& lines = files.at(row[2]);
    const auto actions = hub.query_rows("ledger.db",
                                        "SELECT household_id, policy_id, action, reason FROM action WHERE "
                                        "department='police' AND seq=" + row[0] + " ORDER BY idx");
    ASSERT_EQ(lines.size(), actions.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i]["idempotency_key"], "police:" + row[0]);
      EXPECT_EQ(std::to_string(lines[i]["seq"].get<std::uint64_t>()), row[0]);
      EXPECT_EQ(lines[i]["household_id"], actions[i][0]);
      EXPECT_EQ(lines[i]["policy_id"], actions[i][1]);
      EXPECT_EQ(lines[i]["action"], actions[i][2]);
      EXPECT_EQ(lines[i]["reason"], actions[i][3]);
    }
  }
  // The household view says how each state reached the department.
  const json view = hub.admin({{"cmd", "household"}, {"household_id", "V01-00002"}});
  for (const auto& d : view["departments"])
    for (const auto& p : d["policies"]) EXPECT_EQ(p["state"]["handoff"], d["id"] == "police" ? "spool" : "none") << d.dump();
  // Departments without a connector record "none".
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='civil_affairs' AND "
                                       "handoff='none'"),
            5);
  hub.stop();
}

// A batch the plugin cannot commit (on_batch_end asks to retry once): the hub records none of
// it and syncs none of its hand-offs; the whole batch goes through the plugin and the
// connector again, and each event is recorded once, with its hand-off. (The stand-in plugin
// decides nothing, so the spool has nothing to write: the hand-off says so.)
TEST(ConnectorTest, ABatchThePluginCannotCommitIsHandedOffAgainUnderTheSameKeys) {
  HubOptions options = spool_options();
  options.police_library = HUB_BATCH_END_FAILS_ONCE_PLUGIN;
  HubProcess hub(options);
  hub.start();
  register_households(hub, {"V01-00001", "V01-00002", "V01-00003"});
  publish_statuses(hub, {{"V01-00001", "credit"}, {"V01-00002", "non_credit"}, {"V01-00003", "breach"}}, "2020Q3");
  const json status = hub.wait_for_delivery();
  for (const auto& d : status["departments"]) EXPECT_EQ(d["delivered"], 3) << d.dump();
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM failure WHERE department='police' AND reason LIKE "
                                       "'plugin asked to retry the batch:%'"),
            1);
  const auto deliveries =
      hub.query_rows("ledger.db", "SELECT handoff, handoff_detail FROM delivery WHERE department='police' ORDER BY seq");
  ASSERT_EQ(deliveries.size(), 3u);
  for (const auto& row : deliveries) EXPECT_EQ(row, (std::vector<std::string>{"spool", "no actions to hand over"}));
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(DISTINCT seq) FROM delivery WHERE department='police'"), 3);
  hub.stop();
}

TEST(ConnectorTest, FailedHandoffFailsTheEventForThatDepartmentOnlyAndIsRetried) {
  HubProcess hub(spool_options());
  hub.start();
  register_households(hub, {"V01-00001", "V01-00002"});
  publish_statuses(hub, {{"V01-00001", "credit"}}, "2020Q3");
  hub.wait_for_delivery();

  // The drop folder becomes unusable (a file where the folder was).
  const fs::path drop = fs::path(hub.dir()) / "drop/police";
  const auto kept = spool_files(drop);
  fs::remove_all(drop);
  std::ofstream(drop) << "not a folder";
  publish_statuses(hub, {{"V01-00002", "non_credit"}}, "2020Q3");

  json police;
  for (int i = 0; i < 200; ++i) {
    const json status = hub.admin({{"cmd", "status"}});
    for (const auto& d : status["departments"])
      if (d["id"] == "police") police = d;
    if (police["failed"].get<int>() >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(police["state"], "retrying") << police.dump();
  // Meanwhile civil affairs (no connector) delivers the same event.
  bool civil_affairs_done = false;
  for (int i = 0; i < 200 && !civil_affairs_done; ++i) {
    const json now = hub.admin({{"cmd", "status"}});
    for (const auto& d : now["departments"])
      civil_affairs_done = civil_affairs_done || (d["id"] == "civil_affairs" && d["lag"].get<int>() == 0 && d["delivered"].get<int>() == 2);
    if (!civil_affairs_done) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(civil_affairs_done);
  EXPECT_EQ(police["lag"], 1) << police.dump();
  EXPECT_NE(police["last_error"].get<std::string>().find("handoff_failed: spool"), std::string::npos) << police.dump();
  EXPECT_GE(hub.query_int("ledger.db", "SELECT COUNT(*) FROM failure WHERE department='police' AND reason LIKE "
                                       "'handoff_failed: spool:%'"),
            1);
  EXPECT_NE(hub.log().find("handoff_failed: spool"), std::string::npos);
  // No delivery or action was recorded for the failed event.
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police'"), 1);

  // The department fixes its folder: the event goes through; civil affairs never waited.
  fs::remove(drop);
  fs::create_directories(drop);
  const json status = hub.wait_for_delivery();
  for (const auto& d : status["departments"]) EXPECT_EQ(d["delivered"], 2) << d.dump();
  const auto files = spool_files(drop);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.begin()->second.at(0)["household_id"], "V01-00002");
  EXPECT_EQ(files.begin()->second.at(0)["action"], "defer");
  EXPECT_EQ(kept.size(), 1u);
  hub.stop();
}

}  // namespace
}  // namespace hub::test

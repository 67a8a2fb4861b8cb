// Retries, parking and plugin lifecycle (docs/reliability.md "Retries, parking and plugin
// lifecycle"), with real hubd processes and real faulty plugin builds standing in for police
// (tests/plugins/faulty_plugin.cpp): each fails only for household V01-00666.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "integration/hub_process.h"

namespace hub::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kBad = "V01-00666";

void register_households(HubProcess& hub, const std::vector<std::string>& households) {
  json events = json::array();
  for (const auto& id : households) {
    events.push_back(household_event(id));
    events.push_back(commitment_event(id));
  }
  ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", events}})["ok"], true);
}

// Publishes one status change; returns its seq.
std::uint64_t publish(HubProcess& hub, const std::string& household, const std::string& status,
                      const std::string& quarter) {
  const json reply = hub.ingest({{"type", "batch"}, {"events", json::array({status_event(household, status, quarter)})}});
  EXPECT_EQ(reply["ok"], true) << reply.dump();
  return reply.at("results").at(0).at("seq").get<std::uint64_t>();
}

HubOptions faulty(const std::string& library) {
  HubOptions options;
  options.departments = {"police", "civil_affairs"};
  options.police_library = library;
  options.max_attempts = 3;
  return options;
}

std::vector<std::vector<std::string>> parked_rows(HubProcess& hub) {
  return hub.query_rows("ledger.db",
                        "SELECT seq, household_id, attempts, behind_seq, state, reason FROM parked "
                        "WHERE department='police' ORDER BY seq");
}

json parked_cmd(HubProcess& hub, json request) {
  request["cmd"] = "parked";
  return hub.admin(request);
}

TEST(ParkingTest, ParksAfterMaxAttemptsKeepsOrderBehindItAndEveryoneElseFlows) {
  HubProcess hub(faulty(HUB_THROWS_PLUGIN));
  hub.start();
  register_households(hub, {"V01-00001", kBad, "V01-00002"});
  const std::uint64_t bad1 = publish(hub, kBad, "credit", "2020Q3");
  const std::uint64_t ok1 = publish(hub, "V01-00001", "credit", "2020Q3");
  const std::uint64_t bad2 = publish(hub, kBad, "non_credit", "2020Q4");
  const std::uint64_t ok2 = publish(hub, "V01-00002", "breach", "2020Q3");
  ASSERT_GT(bad1, 0u);
  hub.wait_for_delivery();  // police's cursor passes the parked events

  const json police = hub.department_status("police");
  EXPECT_EQ(police["state"], "running") << police.dump();
  EXPECT_EQ(police["parked"], 2) << police.dump();
  EXPECT_EQ(police["lag"], 0) << police.dump();
  EXPECT_NE(police["last_error"].get<std::string>().find("parked seq " + std::to_string(bad1)), std::string::npos);
  // The failing event: parked after 3 attempts, with its reason; the household's later event
  // waits behind it.
  const auto rows = parked_rows(hub);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], std::to_string(bad1));
  EXPECT_EQ(rows[0][1], kBad);
  EXPECT_EQ(rows[0][2], "3");
  EXPECT_EQ(rows[0][3], "0");
  EXPECT_EQ(rows[0][4], "parked");
  EXPECT_NE(rows[0][5].find("breaks this plugin"), std::string::npos) << rows[0][5];
  EXPECT_EQ(rows[1][0], std::to_string(bad2));
  EXPECT_EQ(rows[1][3], std::to_string(bad1));
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM failure WHERE department='police' AND seq=" + std::to_string(bad1)), 3);
  // Other households were delivered to police; the other department got everything.
  const auto delivered = hub.query_rows("ledger.db", "SELECT seq FROM delivery WHERE department='police' ORDER BY seq");
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_EQ(delivered[0][0], std::to_string(ok1));
  EXPECT_EQ(delivered[1][0], std::to_string(ok2));
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='civil_affairs' AND seq IN (" +
                                           std::to_string(bad1) + "," + std::to_string(bad2) + ")"),
            2);

  // Parked state survives a restart; a new event of that household is parked behind too,
  // one of another household flows.
  hub.stop();
  hub.start();
  EXPECT_EQ(hub.department_status("police")["parked"], 2);
  const std::uint64_t bad3 = publish(hub, kBad, "credit", "2021Q1");
  const std::uint64_t ok3 = publish(hub, "V01-00001", "non_credit", "2021Q1");
  hub.wait_for_delivery();
  EXPECT_EQ(hub.department_status("police")["parked"], 3);
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND seq=" + std::to_string(ok3)), 1);
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT behind_seq FROM parked WHERE department='police' AND seq=" + std::to_string(bad3)),
            static_cast<std::int64_t>(bad1));

  // hubctl parked list, as a table and as JSON.
  const std::string ctl = std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " ";
  auto r = run_command(ctl + "parked list --department police");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(kBad), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("3 条"), std::string::npos) << r.output;
  r = run_command(ctl + "parked list --household V01-00666 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(json::parse(r.output)["parked"].size(), 3u) << r.output;
  r = run_command(ctl + "parked retry");
  EXPECT_EQ(r.exit_code, 2) << r.output;  // says what to retry

  // A retry with the plugin still broken: still parked, one more attempt, recorded with who.
  r = run_command(ctl + "parked retry --department police --household V01-00666 --by bob");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("still parked"), std::string::npos) << r.output;
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT attempts FROM parked WHERE department='police' AND seq=" + std::to_string(bad1)), 4);
  EXPECT_EQ(hub.department_status("police")["parked"], 3);

  // Skip the later one (not the head) by seq: recorded with who did it.
  json reply = parked_cmd(hub, {{"action", "skip"}, {"department", "police"}, {"seq", bad2}, {"by", "alice"}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  EXPECT_EQ(hub.department_status("police")["parked"], 2);

  // The department fixes its plugin (reload to a good build), then the household is retried:
  // each remaining event is delivered exactly once, in order.
  reply = hub.admin({{"cmd", "plugins"}, {"action", "reload"}, {"department", "police"}, {"library", HUB_RELOAD_V1_PLUGIN}, {"by", "carol"}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  r = run_command(ctl + "parked retry --household V01-00666 --by bob");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(hub.department_status("police")["parked"], 0);
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND household_id='V01-00666'"), 2);
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND seq=" + std::to_string(bad2)), 0);
  const std::string handled = read_text(hub.data_dir() + "/plugins/police/handled.log");
  EXPECT_EQ(handled, "1.0.0-v1 " + std::to_string(bad1) + "\n1.0.0-v1 " + std::to_string(bad3) + "\n");

  // The history: who retried and skipped what, and when.
  reply = parked_cmd(hub, {{"action", "list"}, {"all", true}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  std::map<std::uint64_t, json> by_seq;
  for (const auto& p : reply["parked"]) by_seq[p["seq"].get<std::uint64_t>()] = p;
  ASSERT_EQ(by_seq.size(), 3u) << reply.dump();
  EXPECT_EQ(by_seq[bad1]["state"], "delivered");
  EXPECT_EQ(by_seq[bad1]["resolved_by"], "bob");
  ASSERT_EQ(by_seq[bad1]["history"].size(), 2u);
  EXPECT_EQ(by_seq[bad1]["history"][0]["outcome"].get<std::string>().rfind("parked: ", 0), 0u);
  EXPECT_EQ(by_seq[bad1]["history"][1]["outcome"], "delivered");
  EXPECT_EQ(by_seq[bad2]["state"], "skipped");
  EXPECT_EQ(by_seq[bad2]["resolved_by"], "alice");
  EXPECT_EQ(by_seq[bad2]["history"][0]["by"], "alice");
  EXPECT_GT(by_seq[bad2]["resolved_at_ms"].get<std::int64_t>(), 0);
  r = run_command(ctl + "parked list --all");
  EXPECT_NE(r.output.find("skip by alice"), std::string::npos) << r.output;

  // New events of the household flow again.
  const std::uint64_t bad4 = publish(hub, kBad, "non_credit", "2021Q2");
  hub.wait_for_delivery();
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND seq=" + std::to_string(bad4)), 1);
  hub.stop();
}

TEST(ParkingTest, AdminRequestsAreValidated) {
  HubProcess hub(faulty(HUB_THROWS_PLUGIN));
  hub.start();
  auto code = [&](const json& request) { return hub.admin(request)["error"].value("code", ""); };
  EXPECT_EQ(code({{"cmd", "parked"}, {"action", 7}}), "invalid_field");
  EXPECT_EQ(hub.admin({{"cmd", "parked"}})["ok"], true);  // no action: a list, as the dashboard asks
  EXPECT_EQ(code({{"cmd", "parked"}, {"action", "purge"}}), "unknown_action");
  EXPECT_EQ(code({{"cmd", "parked"}, {"action", "list"}, {"department", "nobody"}}), "unknown_department");
  EXPECT_EQ(code({{"cmd", "parked"}, {"action", "list"}, {"household_id", "x y"}}), "invalid_field");
  EXPECT_EQ(code({{"cmd", "parked"}, {"action", "skip"}, {"department", "police"}}), "missing_field");
  EXPECT_EQ(code({{"cmd", "parked"}, {"action", "skip"}, {"department", "police"}, {"by", "a"}}), "not_parked");
  EXPECT_EQ(code({{"cmd", "parked"}, {"action", "retry"}, {"seq", -1}, {"by", "a"}}), "invalid_field");
  EXPECT_EQ(code({{"cmd", "plugins"}, {"action", "reload"}, {"by", "a"}}), "missing_field");
  EXPECT_EQ(code({{"cmd", "plugins"}, {"action", "reload"}, {"department", "police"}, {"by", "a"}, {"library", "rel.so"}}),
            "invalid_field");
  EXPECT_EQ(code({{"cmd", "plugins"}, {"action", "enable"}, {"department", "police"}, {"by", ""}}), "invalid_field");
  EXPECT_EQ(hub.admin({{"cmd", "parked"}, {"action", "list"}})["ok"], true);
  hub.stop();
}

TEST(ParkingTest, GarbageOutputIsRejectedRetriedAndParked) {
  HubProcess hub(faulty(HUB_GARBAGE_PLUGIN));
  hub.start();
  register_households(hub, {"V01-00001", kBad});
  const std::uint64_t bad = publish(hub, kBad, "credit", "2020Q3");
  const std::uint64_t ok = publish(hub, "V01-00001", "credit", "2020Q3");
  hub.wait_for_delivery();
  const auto rows = parked_rows(hub);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], std::to_string(bad));
  EXPECT_EQ(rows[0][2], "3");
  EXPECT_NE(rows[0][5].find("police.no_such_policy"), std::string::npos) << rows[0][5];
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND seq=" + std::to_string(ok)), 1);
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND seq=" + std::to_string(bad)), 0);
  hub.stop();
}

TEST(ParkingTest, AHangingPluginCallTimesOutIsParkedAndHubdStillStops) {
  HubOptions options = faulty(HUB_HANGS_PLUGIN);
  options.max_attempts = 2;
  options.plugin_delivery["police"] = {{"call_timeout_ms", 300}};
  HubProcess hub(options);
  hub.start();
  register_households(hub, {"V01-00001", kBad, "V01-00002"});
  const std::uint64_t ok1 = publish(hub, "V01-00001", "credit", "2020Q3");
  const std::uint64_t bad = publish(hub, kBad, "credit", "2020Q3");
  const std::uint64_t ok2 = publish(hub, "V01-00002", "credit", "2020Q3");
  hub.wait_for_delivery(std::chrono::seconds(90));
  const auto rows = parked_rows(hub);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], std::to_string(bad));
  EXPECT_EQ(rows[0][2], "2");
  EXPECT_NE(rows[0][5].find("timeout"), std::string::npos) << rows[0][5];
  EXPECT_NE(rows[0][5].find("300 ms"), std::string::npos) << rows[0][5];
  for (const std::uint64_t seq : {ok1, ok2})
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND seq=" + std::to_string(seq)), 1);
  EXPECT_EQ(hub.department_status("police")["state"], "running");
  // Two calls are stuck in abandoned threads: hubd still stops cleanly (exit code 0).
  hub.stop();
}

TEST(ParkingTest, APluginThatKeepsHangingIsMarkedHungUntilReloaded) {
  HubOptions options = faulty(HUB_HANGS_PLUGIN);
  options.max_attempts = 50;  // it would hang 8 times before being parked
  options.plugin_delivery["police"] = {{"call_timeout_ms", 100}, {"retry_max_ms", 200}};
  HubProcess hub(options);
  hub.start();
  register_households(hub, {"V01-00001", kBad});
  const std::uint64_t bad = publish(hub, kBad, "credit", "2020Q3");
  const std::uint64_t ok = publish(hub, "V01-00001", "credit", "2020Q3");
  json police;
  for (int i = 0; i < 1200; ++i) {  // up to 60 s
    police = hub.department_status("police");
    if (police["state"] == "refused") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(police["state"], "refused") << police.dump();
  EXPECT_NE(police["last_error"].get<std::string>().find("plugin_hung"), std::string::npos) << police.dump();
  EXPECT_EQ(police["delivered"], 0) << police.dump();
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM failure WHERE department='police' AND seq=" + std::to_string(bad)), 8);
  // Nothing more goes to it, and nothing was parked: the plugin is at fault, not the event.
  EXPECT_EQ(police["parked"], 0);
  // A reload to a good build revives it; both events are delivered once.
  const json reply = hub.admin({{"cmd", "plugins"}, {"action", "reload"}, {"department", "police"},
                                {"library", HUB_RELOAD_V1_PLUGIN}, {"by", "gina"}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  hub.wait_for_delivery();
  for (const std::uint64_t seq : {bad, ok})
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND seq=" + std::to_string(seq)), 1);
  hub.stop();
}

// The host runs `library` in place of police.
void use_police_library(PluginHostProcess& host, const std::string& library) {
  const std::string path = host.dir() + "/host.json";
  json config = json::parse(read_text(path));
  config["plugins"] = json::array({{{"id", "police"}, {"library", library}}});
  std::ofstream(path) << config.dump(2);
}

TEST(ParkingTest, ADepartmentOnAPluginHostIsParkedRetriedAndReloadedTheSameWay) {
  HubOptions options = faulty("");
  options.hosted = {"police"};
  HubProcess hub(options);
  hub.start();
  PluginHostProcess host(hub.plugin_host_endpoint(), {"police"}, "police-server-1");
  // The host's configuration names police.so in its own directory: the throwing build first.
  const std::string library = host.dir() + "/police.so";
  fs::copy_file(HUB_THROWS_PLUGIN, library);
  use_police_library(host, library);
  host.start();
  register_households(hub, {"V01-00001", kBad});
  const std::uint64_t bad1 = publish(hub, kBad, "credit", "2020Q3");
  const std::uint64_t ok = publish(hub, "V01-00001", "credit", "2020Q3");
  const std::uint64_t bad2 = publish(hub, kBad, "breach", "2020Q4");
  hub.wait_for_delivery(std::chrono::seconds(90));
  const auto rows = parked_rows(hub);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], std::to_string(bad1));
  EXPECT_EQ(rows[0][2], "3");
  EXPECT_NE(rows[0][5].find("breaks this plugin"), std::string::npos) << rows[0][5];
  EXPECT_EQ(rows[1][0], std::to_string(bad2));
  EXPECT_EQ(rows[1][3], std::to_string(bad1));
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND seq=" + std::to_string(ok)), 1);
  EXPECT_EQ(hub.department_status("police")["parked"], 2);

  // A retry goes through the host (still failing: stays parked, attempts 4).
  json reply = parked_cmd(hub, {{"action", "retry"}, {"department", "police"}, {"household_id", kBad}, {"by", "hana"}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  ASSERT_EQ(reply["departments"][0]["still_parked"].size(), 1u) << reply.dump();
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT attempts FROM parked WHERE department='police' AND seq=" + std::to_string(bad1)), 4);

  // The hub may not choose a file for the department's server to load ...
  reply = hub.admin({{"cmd", "plugins"}, {"action", "reload"}, {"department", "police"}, {"by", "hana"},
                     {"library", HUB_RELOAD_V1_PLUGIN}});
  EXPECT_EQ(reply["error"]["code"], "not_supported") << reply.dump();
  // ... but once the department's IT staff have replaced police.so, a reload loads it anew.
  fs::copy_file(HUB_RELOAD_V1_PLUGIN, library + ".new");
  fs::rename(library + ".new", library);
  reply = hub.admin({{"cmd", "plugins"}, {"action", "reload"}, {"department", "police"}, {"by", "hana"}});
  ASSERT_EQ(reply["ok"], true) << reply.dump() << host.log();
  EXPECT_EQ(reply["plugin_version"], "1.0.0-v1") << reply.dump();
  EXPECT_EQ(reply["previous_version"], "0.0.1-throws") << reply.dump();
  EXPECT_EQ(hub.department_status("police")["plugin_version"], "1.0.0-v1");

  // Now the household's parked events go through, each once.
  reply = parked_cmd(hub, {{"action", "retry"}, {"department", "police"}, {"household_id", kBad}, {"by", "hana"}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  EXPECT_EQ(hub.department_status("police")["parked"], 0);
  for (const std::uint64_t seq : {bad1, bad2})
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND seq=" +
                                             std::to_string(seq)),
              1);
  hub.stop();
  EXPECT_EQ(host.stop(), 0);
}

TEST(ParkingTest, APluginThatCrashesItsHostIsRestartedShownFailingAndItsEventParked) {
  HubOptions options = faulty("");
  options.hosted = {"police"};
  HubProcess hub(options);
  hub.start();
  PluginHostProcess host(hub.plugin_host_endpoint(), {"police"}, "police-server-1");
  use_police_library(host, HUB_CRASHES_PLUGIN);  // abort() for V01-00666
  host.start();
  register_households(hub, {"V01-00001", kBad});
  const std::uint64_t ok1 = publish(hub, "V01-00001", "credit", "2020Q3");
  const std::uint64_t bad1 = publish(hub, kBad, "credit", "2020Q3");
  const std::uint64_t ok2 = publish(hub, "V01-00001", "breach", "2020Q4");
  const std::uint64_t bad2 = publish(hub, kBad, "breach", "2020Q4");

  // While its supervisor restarts the host, police shows as failing and says why.
  json seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    const json d = hub.department_status("police");
    if (d["state"] == "failing") {
      seen = d;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(seen["state"], "failing") << hub.log() << host.log();
  const std::string reason = seen["last_error"];
  EXPECT_NE(reason.find("police-server-1"), std::string::npos) << reason;
  EXPECT_NE(reason.find("SIGABRT"), std::string::npos) << reason;
  EXPECT_NE(reason.find("handling seq " + std::to_string(bad1)), std::string::npos) << reason;

  // Each crash was a failed attempt of the event that caused it: parked after 3, its
  // household's next event behind it, the other household delivered exactly once.
  const json status = hub.wait_for_delivery(std::chrono::seconds(120));
  const auto rows = parked_rows(hub);
  ASSERT_EQ(rows.size(), 2u) << hub.log();
  EXPECT_EQ(rows[0][0], std::to_string(bad1));
  EXPECT_EQ(rows[0][2], "3");
  EXPECT_NE(rows[0][5].find("SIGABRT"), std::string::npos) << rows[0][5];
  EXPECT_EQ(rows[1][0], std::to_string(bad2));
  EXPECT_EQ(rows[1][3], std::to_string(bad1));
  for (const std::uint64_t seq : {ok1, ok2})
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND seq=" +
                                             std::to_string(seq)),
              1);
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM failure WHERE department='police' AND seq=" +
                                           std::to_string(bad1)),
            3);
  EXPECT_EQ(hub.department_status("police")["state"], "running");
  // The host was restarted, not replaced: the same supervisor still runs and stops cleanly.
  EXPECT_EQ(host.wait_exit(std::chrono::seconds(0)), -1) << host.log();
  EXPECT_NE(host.log().find("restarted by its supervisor (crash 3 in a row"), std::string::npos) << host.log();
  EXPECT_EQ(host.stop(), 0) << host.log();
  hub.stop();
}

TEST(ParkingTest, AHangingPluginOnAHostTimesOutWithTheHubsCallTimeout) {
  HubOptions options = faulty("");
  options.hosted = {"police"};
  options.call_timeout_ms = 300;  // the hub's setting, sent to the host in its welcome
  HubProcess hub(options);
  hub.start();
  PluginHostProcess host(hub.plugin_host_endpoint(), {"police"}, "police-server-1");
  use_police_library(host, HUB_HANGS_PLUGIN);
  host.start();
  register_households(hub, {"V01-00001", kBad});
  const std::uint64_t bad = publish(hub, kBad, "credit", "2020Q3");
  const std::uint64_t ok = publish(hub, "V01-00001", "credit", "2020Q3");
  hub.wait_for_delivery(std::chrono::seconds(90));
  const auto rows = parked_rows(hub);
  ASSERT_EQ(rows.size(), 1u) << hub.log();
  EXPECT_EQ(rows[0][0], std::to_string(bad));
  EXPECT_NE(rows[0][5].find("longer than 300 ms"), std::string::npos) << rows[0][5];
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND seq=" +
                                           std::to_string(ok)),
            1);
  hub.stop();
  EXPECT_EQ(host.stop(), 0) << host.log();
}

// Every status change in the event log, in order.
std::vector<std::uint64_t> status_seqs(HubProcess& hub) {
  std::vector<std::uint64_t> out;
  for (const auto& row : hub.query_rows("events.db", "SELECT seq FROM event WHERE type='status_change' ORDER BY seq"))
    out.push_back(std::stoull(row[0]));
  return out;
}

TEST(PluginLifecycleTest, ReloadMidStreamLosesAndRepeatsNothingAndAWrongAbiIsRefused) {
  HubOptions options = faulty(HUB_RELOAD_V1_PLUGIN);
  options.delivery_batch_events = 4;  // many batch boundaries
  HubProcess hub(options);
  hub.start();
  std::vector<std::string> households;
  for (int i = 1; i <= 200; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "V01-%05d", i);
    households.push_back(id);
  }
  register_households(hub, households);

  // A publisher keeps publishing while police is reloaded to v2 and back to v1's file.
  std::atomic<bool> published{false};
  std::thread publisher([&] {
    HubProcess* h = &hub;
    for (int round = 0; round < 2; ++round)
      for (std::size_t i = 0; i < households.size(); i += 10) {
        json events = json::array();
        for (std::size_t j = i; j < i + 10; ++j)
          events.push_back(status_event(households[j], round == 0 ? "credit" : "non_credit", round == 0 ? "2020Q3" : "2020Q4"));
        h->ingest({{"type", "batch"}, {"events", events}});
      }
    published = true;
  });
  // Wait until police has delivered something, then reload while the stream goes on.
  for (int i = 0; i < 600 && hub.department_status("police")["delivered"].get<int>() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  json reply = hub.admin({{"cmd", "plugins"}, {"action", "reload"}, {"department", "police"},
                          {"library", HUB_RELOAD_V2_PLUGIN}, {"by", "dave"}});
  EXPECT_EQ(reply["ok"], true) << reply.dump();
  EXPECT_EQ(reply["previous_version"], "1.0.0-v1") << reply.dump();
  EXPECT_EQ(reply["plugin_version"], "2.0.0-v2") << reply.dump();
  publisher.join();
  ASSERT_TRUE(published);
  hub.wait_for_delivery();
  EXPECT_EQ(hub.department_status("police")["plugin_version"], "2.0.0-v2");

  // The ledger holds every status change exactly once; the plugin saw each exactly once, the
  // old build before the new one.
  const auto expected = status_seqs(hub);
  ASSERT_EQ(expected.size(), 400u);
  std::vector<std::uint64_t> in_ledger;
  for (const auto& row : hub.query_rows("ledger.db", "SELECT seq FROM delivery WHERE department='police' ORDER BY seq"))
    in_ledger.push_back(std::stoull(row[0]));
  EXPECT_EQ(in_ledger, expected);
  std::ifstream handled(hub.data_dir() + "/plugins/police/handled.log");
  std::map<std::uint64_t, int> seen;
  std::uint64_t last_v1 = 0, first_v2 = 0;
  std::string version;
  std::uint64_t seq = 0;
  while (handled >> version >> seq) {
    ++seen[seq];
    if (version == "1.0.0-v1") last_v1 = std::max(last_v1, seq);
    if (version == "2.0.0-v2" && first_v2 == 0) first_v2 = seq;
  }
  EXPECT_EQ(seen.size(), expected.size());
  for (const auto& [s, n] : seen) EXPECT_EQ(n, 1) << "seq " << s << " reached the plugin " << n << " times";
  EXPECT_GT(last_v1, 0u);
  EXPECT_GT(first_v2, last_v1);
  EXPECT_GT(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND plugin_version='1.0.0-v1'"), 0);
  EXPECT_GT(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police' AND plugin_version='2.0.0-v2'"), 0);

  // A build for another ABI is refused with both versions named; v2 keeps running.
  const std::string ctl = std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " ";
  auto r = run_command(ctl + "plugins reload police --library " + HUB_BAD_ABI_PLUGIN + " --by erin");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("abi_mismatch"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("999"), std::string::npos) << r.output;
  const json police = hub.department_status("police");
  EXPECT_EQ(police["state"], "running");
  EXPECT_EQ(police["plugin_version"], "2.0.0-v2");
  const std::uint64_t after = publish(hub, "V01-00001", "breach", "2021Q1");
  hub.wait_for_delivery();
  EXPECT_EQ(hub.query_rows("ledger.db", "SELECT plugin_version FROM delivery WHERE department='police' AND seq=" +
                                            std::to_string(after)),
            (std::vector<std::vector<std::string>>{{"2.0.0-v2"}}));
  r = run_command(ctl + "plugins list");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2.0.0-v2"), std::string::npos) << r.output;
  hub.stop();
}

TEST(PluginLifecycleTest, DisableStopsDeliveryWithLagVisibleAndEnableResumes) {
  HubProcess hub(faulty(HUB_RELOAD_V1_PLUGIN));
  hub.start();
  register_households(hub, {"V01-00001", "V01-00002"});
  publish(hub, "V01-00001", "credit", "2020Q3");
  hub.wait_for_delivery();
  const std::string ctl = std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " ";
  auto r = run_command(ctl + "plugins disable police --by frank");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(hub.department_state("police"), "disabled");
  publish(hub, "V01-00002", "credit", "2020Q3");
  publish(hub, "V01-00001", "non_credit", "2020Q4");
  hub.wait_for_delivery();  // civil affairs; police is disabled
  json police = hub.department_status("police");
  EXPECT_EQ(police["lag"], 2) << police.dump();
  EXPECT_EQ(police["delivered"], 1) << police.dump();
  r = run_command(ctl + "plugins enable police --by frank");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  hub.wait_for_delivery();
  police = hub.department_status("police");
  EXPECT_EQ(police["lag"], 0) << police.dump();
  EXPECT_EQ(police["delivered"], 3) << police.dump();
  hub.stop();
}

// Operators' lifecycle decisions survive a restart of hubd (ledger table plugin_state).

// How many times each seq reached the plugin (its handled.log: "VERSION SEQ" lines).
std::map<std::uint64_t, int> handled_counts(const std::string& plugin_data_dir) {
  std::ifstream handled(plugin_data_dir + "/handled.log");
  std::map<std::uint64_t, int> seen;
  std::string version;
  std::uint64_t seq = 0;
  while (handled >> version >> seq) ++seen[seq];
  return seen;
}

json police_in_list(const std::string& ctl) {
  const auto r = run_command(ctl + "plugins list --json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const json reply = json::parse(r.output);
  for (const auto& p : reply["plugins"])
    if (p["id"] == "police") return p;
  ADD_FAILURE() << "police not in " << r.output;
  return json::object();
}

// Rewrites police's "library" in the hub's configuration file (hubd stopped).
void set_police_library(HubProcess& hub, const std::string& library) {
  const std::string path = hub.dir() + "/hub.json";
  json config = json::parse(read_text(path));
  for (auto& p : config["plugins"])
    if (p["id"] == "police") p["library"] = library;
  std::ofstream(path) << config.dump(2);
}

TEST(PluginLifecycleTest, ADisableSurvivesARestartAndEnableDeliversEverythingOnce) {
  HubProcess hub(faulty(HUB_RELOAD_V1_PLUGIN));
  hub.start();
  register_households(hub, {"V01-00001", "V01-00002"});
  const std::uint64_t first = publish(hub, "V01-00001", "credit", "2020Q3");
  hub.wait_for_delivery();
  const std::string ctl = std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " ";
  auto r = run_command(ctl + "plugins disable police --by frank --reason 'roster audit'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Recorded before the reply said ok.
  EXPECT_EQ(hub.query_rows("ledger.db", "SELECT disabled, disabled_by, disabled_reason FROM plugin_state WHERE department='police'"),
            (std::vector<std::vector<std::string>>{{"1", "frank", "roster audit"}}));

  hub.stop();
  hub.start();
  EXPECT_EQ(hub.department_state("police"), "disabled");
  EXPECT_NE(hub.log().find("police stays disabled (by frank"), std::string::npos) << hub.log();
  const std::uint64_t second = publish(hub, "V01-00002", "credit", "2020Q3");
  const std::uint64_t third = publish(hub, "V01-00001", "non_credit", "2020Q4");
  hub.wait_for_delivery();  // civil affairs; police is disabled
  json police = hub.department_status("police");
  EXPECT_EQ(police["state"], "disabled") << police.dump();
  EXPECT_EQ(police["lag"], 2) << police.dump();
  EXPECT_EQ(police["delivered"], 1) << police.dump();
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='civil_affairs' AND seq IN (" +
                                           std::to_string(second) + "," + std::to_string(third) + ")"),
            2);
  const std::string police_dir = hub.data_dir() + "/plugins/police";
  EXPECT_EQ(handled_counts(police_dir), (std::map<std::uint64_t, int>{{first, 1}}));
  // Who disabled it and since when, in the list (JSON and table).
  const json listed = police_in_list(ctl);
  EXPECT_EQ(listed["disabled"], true) << listed.dump();
  EXPECT_EQ(listed["state"], "disabled") << listed.dump();
  EXPECT_EQ(listed["disabled_by"], "frank") << listed.dump();
  EXPECT_EQ(listed["disabled_reason"], "roster audit") << listed.dump();
  EXPECT_TRUE(listed["disabled_at_ms"].is_number_integer()) << listed.dump();
  EXPECT_EQ(listed["library_source"], "config") << listed.dump();
  r = run_command(ctl + "plugins list");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("police: 已停用 disabled by frank since"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("roster audit"), std::string::npos) << r.output;
  // The reason goes only with disable.
  json reply = hub.admin({{"cmd", "plugins"}, {"action", "enable"}, {"department", "police"}, {"by", "g"}, {"reason", "x"}});
  EXPECT_EQ(reply["error"]["field"], "reason") << reply.dump();

  r = run_command(ctl + "plugins enable police --by gina");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  hub.wait_for_delivery();
  police = hub.department_status("police");
  EXPECT_EQ(police["lag"], 0) << police.dump();
  EXPECT_EQ(police["delivered"], 3) << police.dump();
  EXPECT_EQ(handled_counts(police_dir), (std::map<std::uint64_t, int>{{first, 1}, {second, 1}, {third, 1}}));
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police'"), 3);
  EXPECT_EQ(hub.query_rows("ledger.db", "SELECT action, by_operator, detail FROM plugin_action WHERE department='police' ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"disable", "frank", "roster audit"}, {"enable", "gina", ""}}));

  // Enabled stays enabled across the next restart.
  hub.stop();
  hub.start();
  const std::uint64_t fourth = publish(hub, "V01-00002", "breach", "2021Q1");
  hub.wait_for_delivery();
  EXPECT_EQ(hub.department_status("police")["delivered"], 4);
  EXPECT_EQ(police_in_list(ctl)["disabled"], false);
  EXPECT_EQ(handled_counts(police_dir)[fourth], 1);
  hub.stop();
}

TEST(PluginLifecycleTest, AReloadSurvivesARestartUntilTheConfigsLibraryIsEdited) {
  HubProcess hub(faulty(HUB_RELOAD_V1_PLUGIN));
  hub.start();
  register_households(hub, {"V01-00001"});
  publish(hub, "V01-00001", "credit", "2020Q3");
  hub.wait_for_delivery();
  const std::string ctl = std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " ";
  auto r = run_command(ctl + "plugins reload police --library " + HUB_RELOAD_V2_PLUGIN + " --by dave");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // A refused reload records nothing.
  r = run_command(ctl + "plugins reload police --library " + HUB_BAD_ABI_PLUGIN + " --by erin");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(hub.query_rows("ledger.db", "SELECT library, library_version, config_library, reloaded_by FROM plugin_state "
                                        "WHERE department='police'"),
            (std::vector<std::vector<std::string>>{{HUB_RELOAD_V2_PLUGIN, "2.0.0-v2", HUB_RELOAD_V1_PLUGIN, "dave"}}));

  hub.stop();
  hub.start();
  hub.wait_for_delivery();
  EXPECT_EQ(hub.department_status("police")["plugin_version"], "2.0.0-v2");
  json listed = police_in_list(ctl);
  EXPECT_EQ(listed["plugin_version"], "2.0.0-v2") << listed.dump();
  EXPECT_EQ(listed["library"], HUB_RELOAD_V2_PLUGIN) << listed.dump();
  EXPECT_EQ(listed["library_source"], "reload") << listed.dump();
  EXPECT_EQ(listed["reloaded_by"], "dave") << listed.dump();
  EXPECT_TRUE(listed["reloaded_at_ms"].is_number_integer()) << listed.dump();
  EXPECT_EQ(listed["config_library"], HUB_RELOAD_V1_PLUGIN) << listed.dump();
  EXPECT_EQ(listed["disabled"], false) << listed.dump();
  r = run_command(ctl + "plugins list");
  EXPECT_NE(r.output.find("reload by dave at "), std::string::npos) << r.output;
  const std::uint64_t after = publish(hub, "V01-00001", "non_credit", "2020Q4");
  hub.wait_for_delivery();
  EXPECT_EQ(hub.query_rows("ledger.db", "SELECT plugin_version FROM delivery WHERE department='police' AND seq=" +
                                            std::to_string(after)),
            (std::vector<std::vector<std::string>>{{"2.0.0-v2"}}));

  // The operator edits the configuration's library afterwards (here: v1 under another name):
  // the configuration wins, with a warning naming both files, and the reload is forgotten.
  hub.stop();
  const std::string edited = hub.dir() + "/police-edited.so";
  fs::copy_file(HUB_RELOAD_V1_PLUGIN, edited);
  set_police_library(hub, edited);
  hub.start();
  hub.wait_for_delivery();
  EXPECT_EQ(hub.department_status("police")["plugin_version"], "1.0.0-v1");
  listed = police_in_list(ctl);
  EXPECT_EQ(listed["library"], edited) << listed.dump();
  EXPECT_EQ(listed["library_source"], "config") << listed.dump();
  EXPECT_TRUE(listed["reloaded_by"].is_null()) << listed.dump();
  const std::string log = hub.log();
  const auto warning = log.find("the configuration's library is now " + edited);
  ASSERT_NE(warning, std::string::npos) << log;
  const std::string line = log.substr(warning, log.find('\n', warning) - warning);
  EXPECT_NE(line.find(std::string("not the reloaded ") + HUB_RELOAD_V2_PLUGIN), std::string::npos) << line;
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM plugin_action WHERE department='police' AND action='config_wins'"), 1);
  const std::uint64_t later = publish(hub, "V01-00001", "breach", "2021Q1");
  hub.wait_for_delivery();
  EXPECT_EQ(hub.query_rows("ledger.db", "SELECT plugin_version FROM delivery WHERE department='police' AND seq=" +
                                            std::to_string(later)),
            (std::vector<std::vector<std::string>>{{"1.0.0-v1"}}));
  hub.stop();
}

TEST(PluginLifecycleTest, AReloadedLibraryMissingAtStartFallsBackToTheConfigsWithAnError) {
  HubProcess hub(faulty(HUB_RELOAD_V1_PLUGIN));
  hub.start();
  const std::string v2_copy = hub.dir() + "/police-v2.so";
  fs::copy_file(HUB_RELOAD_V2_PLUGIN, v2_copy);
  json reply = hub.admin({{"cmd", "plugins"}, {"action", "reload"}, {"department", "police"}, {"library", v2_copy}, {"by", "kim"}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  hub.stop();
  fs::remove(v2_copy);
  hub.start();
  register_households(hub, {"V01-00001"});
  const std::uint64_t seq = publish(hub, "V01-00001", "credit", "2020Q3");
  hub.wait_for_delivery();  // never silently without a plugin: the config's build delivers
  const json police = hub.department_status("police");
  EXPECT_EQ(police["state"], "running") << police.dump();
  EXPECT_EQ(police["plugin_version"], "1.0.0-v1") << police.dump();
  const std::string ctl = std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " ";
  const json listed = police_in_list(ctl);
  EXPECT_EQ(listed["library"], HUB_RELOAD_V1_PLUGIN) << listed.dump();
  EXPECT_EQ(listed["library_source"], "config") << listed.dump();
  EXPECT_EQ(listed["reloaded_library"], v2_copy) << listed.dump();
  EXPECT_NE(listed["library_error"].get<std::string>().find("plugin_not_found"), std::string::npos) << listed.dump();
  EXPECT_NE(hub.log().find("falling back to the configuration's " + std::string(HUB_RELOAD_V1_PLUGIN)), std::string::npos)
      << hub.log();
  EXPECT_EQ(hub.query_rows("ledger.db", "SELECT plugin_version FROM delivery WHERE department='police' AND seq=" +
                                            std::to_string(seq)),
            (std::vector<std::vector<std::string>>{{"1.0.0-v1"}}));
  const auto r = run_command(ctl + "plugins list");
  EXPECT_NE(r.output.find("police: reloaded library " + v2_copy + " not loaded"), std::string::npos) << r.output;
  hub.stop();
}

TEST(PluginLifecycleTest, ADisabledDepartmentOnAPluginHostStaysDisabledAcrossARestart) {
  HubOptions options = faulty("");
  options.hosted = {"police"};
  HubProcess hub(options);
  hub.start();
  PluginHostProcess host(hub.plugin_host_endpoint(), {"police"}, "police-server-1");
  {
    const std::string path = host.dir() + "/host.json";
    json config = json::parse(read_text(path));
    config["plugins"] = json::array({{{"id", "police"}, {"library", HUB_RELOAD_V1_PLUGIN}}});
    std::ofstream(path) << config.dump(2);
  }
  host.start();
  register_households(hub, {"V01-00001"});
  const std::uint64_t first = publish(hub, "V01-00001", "credit", "2020Q3");
  hub.wait_for_delivery(std::chrono::seconds(90));
  json reply = hub.admin({{"cmd", "plugins"}, {"action", "disable"}, {"department", "police"}, {"by", "lee"}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  hub.stop();
  hub.start();  // the host connects again by itself
  const std::uint64_t second = publish(hub, "V01-00001", "non_credit", "2020Q4");
  hub.wait_for_delivery(std::chrono::seconds(90));  // civil affairs
  json police = hub.department_status("police");
  EXPECT_EQ(police["state"], "disabled") << police.dump();
  EXPECT_EQ(police["lag"], 1) << police.dump();
  const std::string ctl = std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " ";
  json listed = police_in_list(ctl);
  EXPECT_EQ(listed["disabled_by"], "lee") << listed.dump();
  EXPECT_EQ(listed["library_source"], "host") << listed.dump();
  reply = hub.admin({{"cmd", "plugins"}, {"action", "enable"}, {"department", "police"}, {"by", "lee"}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  hub.wait_for_delivery(std::chrono::seconds(90));
  EXPECT_EQ(hub.department_status("police")["delivered"], 2);
  EXPECT_EQ(handled_counts(host.data_dir() + "/plugins/police"), (std::map<std::uint64_t, int>{{first, 1}, {second, 1}}));
  hub.stop();
  EXPECT_EQ(host.stop(), 0);
}

}  // namespace
}  // namespace hub::test

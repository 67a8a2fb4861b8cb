// Notice before effect (公示) end to end: a real hubd with CURVE on, driven by hubctl as the
// office's clerk would. A quarter's evaluations are proposed from a CSV and delivered to no one;
// the village's notice list shows them; a complaint holds its household's proposal; confirming
// before the notice period is over is refused without a reason; confirming with one publishes the
// undisputed proposals, which the departments then receive; a dismissed complaint frees its
// proposal for the next confirmation, an upheld one's correction takes its place; bad files and a
// change to a confirmed household are refused naming the line, with nothing stored; every change
// is audited with the operator's key and name.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <thread>
#include <string>

#include <nlohmann/json.hpp>

#include "integration/hub_process.h"
#include "integration/ruling_scenario.h"

namespace hub::test {
namespace {

using nlohmann::json;

constexpr const char* kQuarter = "2025Q4";

class NoticeTest : public ::testing::Test {
 protected:
  static HubOptions options() {
    HubOptions o;
    o.curve = true;  // so that the audit names the operator's key
    o.departments = {"police"};
    return o;
  }
  NoticeTest() : hub(options()) {}
  void SetUp() override {
    hub.start();
    json registry = json::array();
    for (int i = 1; i <= 4; ++i) registry.push_back(household_event("V01-0000" + std::to_string(i), "V01"));
    ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", registry}})["ok"], true);
    hub.wait_for_delivery();
  }
  CommandResult hubctl(const std::string& args) {
    return run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " " + args);
  }
  std::string write_csv(const std::string& name, const std::string& text) {
    const std::string path = hub.data_dir() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  json notice() { return hubctl_json_of(hub, std::string("notice show --village V01 --quarter ") + kQuarter)["notice"]; }
  std::vector<std::string> standings() {
    std::vector<std::string> out;
    const json n = notice();
    for (const json& h : n["households"]) out.push_back(h["standing"]);
    return out;
  }
  std::int64_t police_actions(const std::string& household) {
    return hub.query_int("ledger.db", "SELECT COUNT(*) FROM action WHERE department = 'police' AND household_id = '" +
                                          household + "'");
  }
  json household(const std::string& id) { return hubctl_json_of(hub, "household " + id); }
  void expect_refused(const std::string& args, const std::string& code, const std::string& field) {
    const CommandResult r = hubctl(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(code), std::string::npos) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(field), std::string::npos) << args << "\n" << r.output;
  }

  HubProcess hub;
};

TEST_F(NoticeTest, ProposeHoldConfirmAndDeliverWithHubctl) {
  const std::string file = write_csv("2025q4.csv",
                                     "户号,评议结果,季度,认定\n"
                                     "V01-00001,诚信户,2025年第4季度,\n"
                                     "V01-00002,违约户,2025年第4季度,\n"
                                     "V01-00003,不诚信户,2025年第4季度,帮扶对象\n"
                                     "V01-00004,违约户,2025年第4季度,\n");
  const json proposed = hubctl_json_of(hub, "notice propose " + file + " --by clerk-li");
  ASSERT_EQ(proposed["added"], 4) << proposed.dump();
  EXPECT_EQ(proposed["notices"][0]["village"], "V01");

  // Proposed is not delivered: no status change in the log, nothing for the departments.
  EXPECT_EQ(household("V01-00001")["history"].size(), 1u);
  EXPECT_EQ(police_actions("V01-00001"), 0);
  json n = notice();
  EXPECT_EQ(n["period_over"], false);
  ASSERT_EQ(n["households"].size(), 4u);
  EXPECT_EQ(n["households"][0]["head"], "张三");
  EXPECT_EQ(n["households"][2]["designations"], json::array({"assistance"}));
  EXPECT_EQ(standings(), (std::vector<std::string>{"proposed", "proposed", "proposed", "proposed"}));
  const CommandResult shown = hubctl(std::string("notice show --village V01 --quarter ") + kQuarter);
  EXPECT_EQ(shown.exit_code, 0);
  EXPECT_NE(shown.output.find("公示中"), std::string::npos) << shown.output;

  // Complaints about two of them hold those two.
  const auto lodge = [&](const std::string& h) {
    return hubctl_json_of(hub, "complaints add --channel village_box --household " + h + " --quarter " + kQuarter +
                                   " --summary '对公示结果有异议' --by clerk-li")["complaint"]["id"]
        .get<std::string>();
  };
  const std::string dismissed_id = lodge("V01-00002"), upheld_id = lodge("V01-00004");
  EXPECT_EQ(standings(), (std::vector<std::string>{"proposed", "disputed", "proposed", "disputed"}));

  // Early: refused without a reason, nothing published.
  const std::string confirm = std::string("notice confirm --village V01 --quarter ") + kQuarter + " --by clerk-li";
  expect_refused(confirm, "notice_period_running", "[field reason]");
  EXPECT_EQ(household("V01-00001")["history"].size(), 1u);

  const json first = hubctl_json_of(hub, confirm + " --reason '村民代表会议审议无异议'");
  EXPECT_EQ(first["early"], true);
  EXPECT_EQ(first["confirmed"].size(), 2u) << first.dump();
  EXPECT_EQ(first["held"].size(), 2u);
  hub.wait_for_delivery();
  EXPECT_EQ(household("V01-00001")["status"], "credit");
  EXPECT_EQ(household("V01-00003")["status"], "non_credit");
  EXPECT_GT(police_actions("V01-00001"), 0);
  EXPECT_EQ(household("V01-00002")["history"].size(), 1u);  // held
  EXPECT_EQ(police_actions("V01-00002"), 0);
  EXPECT_EQ(standings(), (std::vector<std::string>{"in_effect", "disputed", "in_effect", "disputed"}));

  // The rulings: dismissed frees V01-00002's proposal; upheld puts V01-00004's quarter right instead.
  const std::string today = local_date(0);
  ASSERT_EQ(hubctl("complaints rule " + dismissed_id + " --outcome dismissed --ruling '经核查不属实' --ruled-on " + today)
                .exit_code,
            0);
  ASSERT_EQ(hubctl("complaints rule " + upheld_id +
                   " --outcome upheld --status non_credit --ruling '经核查属实，应为不诚信户' --ruled-on " + today)
                .exit_code,
            0);
  hub.wait_for_delivery();
  EXPECT_EQ(standings(), (std::vector<std::string>{"in_effect", "proposed", "in_effect", "superseded"}));
  EXPECT_EQ(notice()["households"][3]["superseded_by"], upheld_id);

  const json second = hubctl_json_of(hub, confirm + " --reason '投诉已裁定'");
  ASSERT_EQ(second["confirmed"].size(), 1u) << second.dump();
  EXPECT_EQ(second["confirmed"][0]["household_id"], "V01-00002");
  hub.wait_for_delivery();
  EXPECT_EQ(household("V01-00002")["status"], "breach");
  EXPECT_GT(police_actions("V01-00002"), 0);
  // V01-00004 has the ruling's evaluation only, never the superseded proposal's.
  const json four = household("V01-00004");
  EXPECT_EQ(four["status"], "non_credit");
  ASSERT_EQ(four["history"].size(), 2u) << four.dump();
  EXPECT_EQ(four["history"][1]["event_id"], "ruling-" + upheld_id);
  EXPECT_EQ(four["history"][1]["complaint_id"], upheld_id);  // its first evaluation of the quarter, by a ruling
  // and the police's record of it names the complaint (the plugin was given the complaint's id)
  std::size_t naming = 0;
  for (const json& d : four["departments"])
    for (const json& p : d["policies"])
      if (p["state"].is_object() && p["state"].value("reason", "").find(upheld_id) != std::string::npos) ++naming;
  EXPECT_GT(naming, 0u) << four.dump();
  expect_refused(confirm + " --reason again", "nothing_to_confirm", "[field village]");

  // A confirmed household's quarter changes only through a complaint's ruling; a bad row is named
  // by its line. Nothing is stored either time.
  expect_refused("notice propose " + write_csv("changed.csv", "household_id,status,quarter\n"
                                                              "V01-00001,breach,2025Q4\n") + " --by clerk-li",
                 "proposal_final", "line 2");
  expect_refused("notice propose " + write_csv("bad.csv", "household_id,status,quarter\n"
                                                          "V01-00001,credit,2026Q1\n"
                                                          "V01-00002,excellent,2026Q1\n"),
                 "invalid_status", "line 3");
  expect_refused("notice propose " + write_csv("unknown.csv", "household_id,status,quarter\n"
                                                              "V09-00001,credit,2026Q1\n") + " --by clerk-li",
                 "unknown_household", "line 2");
  const json all = hubctl_json_of(hub, "notice list");
  ASSERT_EQ(all["notices"].size(), 1u) << all.dump();
  EXPECT_EQ(all["notices"][0]["confirmed"], 3);
  EXPECT_EQ(all["notices"][0]["superseded"], 1);

  hub.stop();
  // Audited: who proposed and confirmed, with the outcome.
  // (the early confirmation refused, the two that confirmed, the one with nothing left, and the two
  // proposals the hub refused; the file with a bad row never left hubctl)
  const std::vector<std::string> propose{"admin_notice_propose", "admin (by clerk-li)", ""};
  const std::vector<std::string> confirmed{"admin_notice_confirm", "admin (by clerk-li)", "V01 2025Q4"};
  EXPECT_EQ(hub.query_rows("audit.db",
                           "SELECT kind, actor, subject FROM audit WHERE kind IN ('admin_notice_propose', "
                           "'admin_notice_confirm') ORDER BY seq"),
            (std::vector<std::vector<std::string>>{propose, confirmed, confirmed, confirmed, confirmed, propose,
                                                   propose}));
  EXPECT_EQ(hub.query_int("audit.db", "SELECT COUNT(*) FROM audit WHERE kind = 'admin_notice_confirm_result' AND "
                                      "detail LIKE '%\"confirmed\":2%'"),
            1);
  // The proposal's events are named in the audit, not copied into it.
  EXPECT_EQ(hub.query_int("audit.db", "SELECT COUNT(*) FROM audit WHERE kind = 'admin_notice_propose' AND "
                                      "detail LIKE '%V01-00003 2025Q4%' AND detail NOT LIKE '%status_change%'"),
            1);
}

TEST_F(NoticeTest, AProposalIngestRefusesStaysProposedWhileTheOthersAreConfirmed) {
  const std::string file = write_csv("2025q4.csv",
                                     "household_id,status,quarter\n"
                                     "V01-00001,credit,2025Q4\n"
                                     "V01-00002,breach,2025Q4\n"
                                     "V01-00003,credit,2025Q4\n");
  ASSERT_EQ(hubctl_json_of(hub, "notice propose " + file)["added"], 3);
  // Meanwhile V01-00002 was evaluated for a later quarter, published straight to final: its
  // 2025Q4 proposal is now stale, and ingest refuses it (the batch of three as a whole, then it alone).
  ASSERT_EQ(hub.ingest(status_event("V01-00002", "credit", "2026Q1"))["ok"], true);

  const json reply = hubctl_json_of(hub, std::string("notice confirm --village V01 --quarter ") + kQuarter +
                                             " --reason '村民代表会议审议无异议'",
                                    1);
  EXPECT_EQ(reply["error"]["code"], "not_all_stored") << reply.dump();
  ASSERT_EQ(reply["confirmed"].size(), 2u) << reply.dump();
  ASSERT_EQ(reply["not_stored"].size(), 1u);
  EXPECT_EQ(reply["not_stored"][0]["household_id"], "V01-00002");
  EXPECT_EQ(reply["not_stored"][0]["error"]["code"], "stale_quarter");
  EXPECT_EQ(standings(), (std::vector<std::string>{"in_effect", "proposed", "in_effect"}));
  hub.wait_for_delivery();
  EXPECT_EQ(household("V01-00001")["status"], "credit");
  EXPECT_EQ(household("V01-00002")["quarter"], "2026Q1");
  EXPECT_GT(police_actions("V01-00003"), 0);
}

// A town that requires 公示 (notice.required) with no notice period: the office's key cannot
// publish an evaluation straight to final, registrations still go through, and a proposal
// confirmed the day it is posted (no reason needed) is delivered.
TEST(NoticeRequired, EvaluationsTakeEffectOnlyThroughAConfirmedNotice) {
  HubOptions o;
  o.departments = {"police"};
  o.notice = {{"period_days", 0}, {"required", true}};
  HubProcess hub(o);
  hub.start();
  ASSERT_EQ(hub.ingest(household_event("V01-00001", "V01"))["ok"], true);
  const json direct = hub.ingest(status_event("V01-00001", "credit", kQuarter));
  EXPECT_EQ(direct["ok"], false);
  EXPECT_EQ(direct["error"]["code"], "notice_required") << direct.dump();
  EXPECT_EQ(direct["error"]["field"], "type");

  const std::string file = hub.data_dir() + "/q.csv";
  std::ofstream(file) << "household_id,status,quarter\nV01-00001,credit," << kQuarter << "\n";
  ASSERT_EQ(hubctl_json_of(hub, "notice propose " + file)["added"], 1);
  const json confirmed =
      hubctl_json_of(hub, std::string("notice confirm --village V01 --quarter ") + kQuarter);
  EXPECT_EQ(confirmed["early"], false) << confirmed.dump();
  ASSERT_EQ(confirmed["confirmed"].size(), 1u);
  hub.wait_for_delivery();
  EXPECT_EQ(hubctl_json_of(hub, "household V01-00001")["status"], "credit");
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM action WHERE household_id = 'V01-00001'") > 0, true);
}

// The local date where the clock reads UTC + `hours` (time zones, not a fake clock).
std::string date_at_utc_offset(int hours) {
  const std::time_t t = std::time(nullptr) + static_cast<std::time_t>(hours) * 3600;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
  return text;
}

// A confirmed notice reaches the departments on its effective date and not before. The day
// turns without waiting for it: the same hub is first run where the local date is the earliest
// on Earth (UTC-12), then restarted where it is the latest (UTC+14), 26 hours later on the
// calendar, which is the effective date. Meanwhile the household's next quarter, published
// straight to final, waits behind its notice's event, another household's evaluation is
// delivered at once, and operators cannot retry or skip an event that waits for its date.
TEST(NoticeEffectiveDate, AConfirmedNoticeReachesTheDepartmentsOnItsEffectiveDateAndNotBefore) {
  HubOptions o;
  o.departments = {"police"};
  HubProcess hub(o);
  hub.run_under({"/usr/bin/env", "TZ=Etc/GMT+12"});  // POSIX sign: UTC-12
  hub.start();
  const std::string today = date_at_utc_offset(-12), effective = date_at_utc_offset(14);
  ASSERT_LT(today, effective);
  const std::string quarter =
      today.substr(0, 4) + "Q" + std::to_string((std::stoi(today.substr(5, 2)) + 2) / 3);
  json registry = json::array();
  for (int i = 1; i <= 3; ++i) registry.push_back(household_event("V01-0000" + std::to_string(i), "V01"));
  ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", registry}})["ok"], true);
  hub.wait_for_delivery();
  const auto police_deliveries = [&](const std::string& household) {
    return hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department = 'police' AND household_id = '" +
                                          household + "'");
  };
  const int q = std::stoi(quarter.substr(5));
  const std::string next_quarter =
      q == 4 ? std::to_string(std::stoi(quarter.substr(0, 4)) + 1) + "Q1" : quarter.substr(0, 5) + std::to_string(q + 1);

  const std::string file = hub.data_dir() + "/q.csv";
  std::ofstream(file) << "household_id,status,quarter,effective_date\n"
                      << "V01-00001,breach," << quarter << "," << effective << "\n"
                      << "V01-00002,credit," << quarter << "," << effective << "\n";
  ASSERT_EQ(hubctl_json_of(hub, "notice propose " + file)["added"], 2);
  const json confirmed = hubctl_json_of(hub, "notice confirm --village V01 --quarter " + quarter +
                                                 " --reason '村民代表会议审议无异议' --by clerk-li");
  ASSERT_EQ(confirmed["confirmed"].size(), 2u) << confirmed.dump();
  // Later evaluations, published straight to final by the office: V01-00001's next quarter
  // waits behind its notice's event; V01-00003's is delivered at once.
  ASSERT_EQ(hub.ingest(status_event("V01-00001", "credit", next_quarter))["ok"], true);
  ASSERT_EQ(hub.ingest(status_event("V01-00003", "credit", quarter))["ok"], true);
  hub.wait_for_delivery();
  EXPECT_EQ(police_deliveries("V01-00003"), 1);
  EXPECT_EQ(police_deliveries("V01-00001"), 0) << "nothing of V01-00001 before its effective date";
  EXPECT_EQ(police_deliveries("V01-00002"), 0);
  json police = hub.department_status("police");
  EXPECT_EQ(police["waiting_effective"], 3) << police.dump();
  EXPECT_EQ(police["parked"], 0) << "waiting is not failing";
  json parked = hubctl_json_of(hub, "parked list")["parked"];
  ASSERT_EQ(parked.size(), 3u) << parked.dump();
  EXPECT_EQ(parked[0]["household_id"], "V01-00001");
  EXPECT_EQ(parked[0]["effective_on"], effective);
  EXPECT_EQ(parked[0]["attempts"], 0);
  EXPECT_EQ(parked[2]["behind_seq"], parked[0]["seq"]) << "the new head waits behind the notice's event";
  const CommandResult retry = run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() +
                                          " parked retry --household V01-00001");
  EXPECT_EQ(retry.exit_code, 1) << retry.output;
  EXPECT_NE(retry.output.find("waiting_for_effective_date"), std::string::npos) << retry.output;
  EXPECT_EQ(hubctl_json_of(hub, "notice show --village V01 --quarter " + quarter)["notice"]["households"][0]["standing"],
            "final");

  // The effective date has come: hubd delivers what waited, in order, as soon as it runs.
  hub.stop();
  hub.run_under({"/usr/bin/env", "TZ=Etc/GMT-14"});  // UTC+14
  hub.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (police_deliveries("V01-00001") < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(police_deliveries("V01-00001"), 2);
  EXPECT_EQ(police_deliveries("V01-00002"), 1);
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department = 'police' AND seq = " +
                                           std::to_string(parked[0]["seq"].get<std::int64_t>()) +
                                           " AND delivered_at_ms <= (SELECT delivered_at_ms FROM delivery WHERE "
                                           "department = 'police' AND seq = " +
                                           std::to_string(parked[2]["seq"].get<std::int64_t>()) + ")"),
            1)
      << "the notice's event before the household's later one";
  police = hub.department_status("police");
  EXPECT_EQ(police["waiting_effective"], 0) << police.dump();
  EXPECT_TRUE(hubctl_json_of(hub, "parked list")["parked"].empty());
  parked = hubctl_json_of(hub, "parked list --all")["parked"];
  ASSERT_EQ(parked.size(), 3u);
  for (const json& p : parked) {
    EXPECT_EQ(p["state"], "delivered") << p.dump();
    EXPECT_EQ(p["resolved_by"], "hubd");
    EXPECT_EQ(p["history"][0]["action"], "release");
  }
  EXPECT_EQ(hubctl_json_of(hub, "notice show --village V01 --quarter " + quarter)["notice"]["households"][0]["standing"],
            "in_effect");
  const json one = hubctl_json_of(hub, "household V01-00001");
  EXPECT_EQ(one["quarter"], next_quarter) << one.dump();
}

}  // namespace
}  // namespace hub::test

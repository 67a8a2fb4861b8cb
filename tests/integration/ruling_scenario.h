// A complaint's ruling on a past quarter, as a clerk runs it with hubctl, for the tests of both
// storage backends (complaints_test.cpp on SQLite, postgresql_hub_test.cpp on PostgreSQL): the
// same household history, the same ruling, the same things a user can see afterwards.
//
// V01-00001 is on finance's roster (test rosters: the only-child reward, 60 yuan a quarter) and
// is evaluated credit, breach, non_credit, credit, credit over 2020Q1…2021Q1; a complaint about
// 2020Q2 is ruled upheld, corrected to credit.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/hub_process.h"

namespace hub::test {

inline constexpr const char* kRuledHousehold = "V01-00001";

// `hubctl … --json` against `hub`: the reply (an empty object, and a failure, when it is not JSON).
inline nlohmann::json hubctl_json_of(HubProcess& hub, const std::string& args, int expected_exit = 0) {
  const CommandResult r = run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " " + args + " --json");
  EXPECT_EQ(r.exit_code, expected_exit) << args << "\n" << r.output;
  nlohmann::json reply = nlohmann::json::parse(r.output.substr(0, r.output.find('\n')), nullptr, false);
  if (!reply.is_object()) ADD_FAILURE() << args << "\n" << r.output;
  return reply.is_object() ? reply : nlohmann::json::object();
}

// Publishes the household's five quarters and waits until every department has them.
inline void publish_the_ruled_households_quarters(HubProcess& hub) {
  nlohmann::json events = nlohmann::json::array({household_event(kRuledHousehold)});
  for (const auto& [quarter, status] : std::vector<std::pair<std::string, std::string>>{
           {"2020Q1", "credit"}, {"2020Q2", "breach"}, {"2020Q3", "non_credit"}, {"2020Q4", "credit"},
           {"2021Q1", "credit"}})
    events.push_back(status_event(kRuledHousehold, status, quarter));
  ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", events}})["ok"], true);
  hub.wait_for_delivery();
}

// Lodges the complaint about 2020Q2; returns its id.
inline std::string lodge_the_complaint(HubProcess& hub) {
  const nlohmann::json lodged = hubctl_json_of(
      hub, std::string("complaints add --channel town_box --household ") + kRuledHousehold +
               " --quarter 2020Q2 --summary '2020年第二季度评为违约户与事实不符' --by clerk-wang");
  EXPECT_TRUE(lodged.value("ok", false)) << lodged.dump();
  return lodged.value("complaint", nlohmann::json::object()).value("id", std::string());
}

// What anyone can see once the ruling is delivered, on either backend: the household's
// evaluation now unchanged; its history showing the past quarter's correction and complaint;
// finance's remedy of exactly 2020Q2's 60 yuan and the police's restore listed as remedies for
// 2020Q2, not as the policies' state now; reconcile finding nothing.
inline void expect_the_ruling_seen(HubProcess& hub, const std::string& complaint_id, std::int64_t seq) {
  const nlohmann::json h = hubctl_json_of(hub, std::string("household ") + kRuledHousehold);
  EXPECT_EQ(h["status"], "credit") << h.dump();
  EXPECT_EQ(h["quarter"], "2021Q1");
  ASSERT_EQ(h["history"].size(), 7u) << h.dump();
  const nlohmann::json& ruling = h["history"][6];
  EXPECT_EQ(ruling["seq"], seq);
  EXPECT_EQ(ruling["quarter"], "2020Q2");
  EXPECT_EQ(ruling["previous_status"], "breach");
  EXPECT_EQ(ruling["past_quarter"], true);
  EXPECT_EQ(ruling["complaint_id"], complaint_id);
  EXPECT_EQ(h["history"][5]["past_quarter"], false);

  std::int64_t remedies = 0;
  for (const auto& d : h["departments"]) {
    for (const auto& p : d["policies"]) {
      // The state is that of the evaluation now (2021Q1) or earlier, never the ruling's.
      if (p["state"].is_object()) {
        EXPECT_NE(p["state"]["seq"], seq) << d["id"] << " " << p.dump();
      }
      for (const auto& r : p.value("remedies", nlohmann::json::array())) {
        ++remedies;
        EXPECT_EQ(r["quarter"], "2020Q2") << r.dump();
        EXPECT_EQ(r["complaint_id"], complaint_id) << r.dump();
        EXPECT_NE(r["reason"].get<std::string>().find(complaint_id), std::string::npos) << r.dump();
        if (d["id"] == "finance" && p["policy_id"] == "finance.only_child_reward") {
          EXPECT_EQ(r["action"], "release") << r.dump();
          EXPECT_EQ(r["amount_fen"], 6000) << r.dump();
        }
        if (d["id"] == "police") {
          EXPECT_EQ(r["action"], "restore") << r.dump();
        }
      }
    }
  }
  EXPECT_GE(remedies, 2) << h.dump();
  EXPECT_EQ(hubctl_json_of(hub, "reconcile")["count"], 0);
}

}  // namespace hub::test

// The audit chains of a real hubd's data directory (docs/security.md): the accepted events in
// events.db, the departments' policy actions in ledger.db and the operator actions in audit.db
// are chained as hubd writes them, across a restart, and `hubctl audit verify --data-dir`
// passes; then one event's status is changed in the file and verify names that event.
#include <gtest/gtest.h>

#include "integration/hub_process.h"

namespace hub::test {
namespace {

using nlohmann::json;

void publish_quarter(HubProcess& hub, const std::vector<std::string>& households, const std::string& quarter) {
  json events = json::array();
  for (std::size_t i = 0; i < households.size(); ++i)
    events.push_back(status_event(households[i], i % 3 == 2 ? "breach" : "credit", quarter));
  const json reply = hub.ingest({{"type", "batch"}, {"events", events}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
}

json verify(HubProcess& hub, int expected_exit) {
  const auto r = run_command(std::string(HUBCTL_PATH) + " --json --data-dir " + hub.data_dir() + " audit verify");
  EXPECT_EQ(r.exit_code, expected_exit) << r.output;
  return json::parse(r.output.substr(r.output.find('{')));
}

TEST(AuditChain, HubdChainsEventsPolicyActionsAndOperatorActionsAndVerifyNamesATamperedEvent) {
  HubOptions options;
  options.departments = {"schools", "land", "finance"};
  HubProcess hub(options);
  hub.start();
  std::vector<std::string> households;
  json registrations = json::array();
  for (int n = 1; n <= 12; ++n) {
    households.push_back("V01-000" + std::string(n < 10 ? "0" : "") + std::to_string(n));
    registrations.push_back(household_event(households.back()));
    registrations.push_back(commitment_event(households.back()));
  }
  ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", registrations}})["ok"], true);
  publish_quarter(hub, households, "2020Q3");
  for (int n = 0; n < 3; ++n)  // single events too (each its own request, group commit)
    ASSERT_EQ(hub.ingest(status_event(households[static_cast<std::size_t>(n)], "non_credit", "2020Q3",
                                      "fix-" + std::to_string(n)))["ok"], true);
  hub.wait_for_delivery();
  // Two operator actions (audit.db).
  ASSERT_EQ(hub.admin({{"cmd", "plugins"}, {"action", "disable"}, {"department", "land"}, {"by", "ann"}})["ok"], true);
  ASSERT_EQ(hub.admin({{"cmd", "plugins"}, {"action", "enable"}, {"department", "land"}, {"by", "ann"}})["ok"], true);
  hub.wait_for_delivery();
  hub.stop();

  // hubd continues every chain after a restart.
  hub.start();
  publish_quarter(hub, households, "2020Q4");
  hub.wait_for_delivery();
  hub.stop();

  const std::int64_t events = hub.query_int("events.db", "SELECT COUNT(*) FROM event");
  const std::int64_t deliveries = hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery");
  ASSERT_EQ(events, 24 + 12 + 3 + 12);
  ASSERT_GT(deliveries, 3 * 12);
  json ok = verify(hub, 0);
  ASSERT_TRUE(ok["ok"].get<bool>()) << ok.dump(2);
  ASSERT_EQ(ok["chains"].size(), 3u);
  EXPECT_EQ(ok["chains"][0]["chain"], "audit");
  EXPECT_EQ(ok["chains"][0]["records"], 4) << "disable and enable, each with its outcome";
  EXPECT_EQ(ok["chains"][1]["chain"], "events");
  EXPECT_EQ(ok["chains"][1]["records"], events);
  EXPECT_EQ(ok["chains"][2]["chain"], "ledger");
  EXPECT_EQ(ok["chains"][2]["records"], deliveries);
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE chain_seq IS NULL OR hash IS NULL"), 0);

  // A 2020Q4 breach turned into credit in the file: named, with its event id.
  const std::int64_t seq = hub.query_int(
      "events.db", "SELECT MIN(seq) FROM event WHERE status = 'breach' AND quarter = '2020Q4'");
  const auto event_id = hub.query_rows("events.db", "SELECT event_id FROM event WHERE seq = " + std::to_string(seq));
  hub.exec_sql("events.db", "UPDATE event SET status = 'credit' WHERE seq = " + std::to_string(seq));
  json bad = verify(hub, 1);
  EXPECT_FALSE(bad["ok"].get<bool>());
  EXPECT_TRUE(bad["chains"][0]["ok"].get<bool>());
  EXPECT_FALSE(bad["chains"][1]["ok"].get<bool>());
  EXPECT_EQ(bad["chains"][1]["file"], hub.data_dir() + "/events.db");
  EXPECT_EQ(bad["chains"][1]["first_bad_seq"], seq);
  EXPECT_EQ(bad["chains"][1]["first_bad_subject"], event_id.at(0).at(0));
  EXPECT_EQ(bad["chains"][1]["problem"], "modified");
  EXPECT_TRUE(bad["chains"][2]["ok"].get<bool>());
  const auto text = run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " audit verify");
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.output.find("events.db: "), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("record " + std::to_string(seq) + " (" + event_id.at(0).at(0) + ") was modified"),
            std::string::npos)
      << text.output;
}

}  // namespace
}  // namespace hub::test

// kill -9 of hubd, at moments chosen to hurt: right after acknowledgments and in the middle
// of delivery. Afterwards every acknowledged event is in the log, and every department has
// exactly one action set per status change — none lost, none twice.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <thread>

#include "integration/hub_process.h"

namespace hub::test {
namespace {

using nlohmann::json;

TEST(CrashTest, KillNineLosesNoAcknowledgedEventAndRecordsEachActionSetOnce) {
  HubProcess hub;
  hub.start();
  std::mt19937 random(20201001);
  std::set<std::string> acknowledged;
  const int kHouseholds = 400;

  const json registry = household_registry(kHouseholds);
  json reply = hub.ingest({{"type", "batch"}, {"events", registry}});
  ASSERT_EQ(reply["ok"], true);
  for (const auto& e : registry) acknowledged.insert(e["event_id"]);

  const char* statuses[] = {"credit", "non_credit", "breach"};
  const char* quarters[] = {"2020Q3", "2020Q4", "2021Q1", "2021Q2"};
  for (int cycle = 0; cycle < 4; ++cycle) {
    // One quarter: half in a batch, half one by one; kill at a random point after an ack.
    const int kill_after = 50 + static_cast<int>(random() % 300);
    json batch = json::array();
    int sent = 0;
    for (const auto& r : registry) {
      const std::string id = r["household_id"];
      json e = status_event(id, statuses[random() % 3], quarters[cycle]);
      if (sent % 2 == 0) {
        batch.push_back(e);
      } else {
        json single = hub.ingest(e);
        ASSERT_EQ(single["ok"], true) << single.dump();
        acknowledged.insert(e["event_id"]);
      }
      ++sent;
      if (sent == kill_after) break;
    }
    json batch_reply = hub.ingest({{"type", "batch"}, {"events", batch}});
    ASSERT_EQ(batch_reply["ok"], true) << batch_reply.dump();
    for (const auto& e : batch) acknowledged.insert(e["event_id"]);
    // Let delivery get going, then kill in the middle of it.
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 40));
    hub.kill9();
    hub.start();
  }
  hub.wait_for_delivery(std::chrono::seconds(120));

  // Nothing acknowledged was lost.
  std::set<std::string> stored;
  for (const auto& row : hub.query_rows("events.db", "SELECT event_id FROM event")) stored.insert(row[0]);
  for (const auto& id : acknowledged) EXPECT_TRUE(stored.count(id)) << "lost acknowledged event " << id;

  // Exactly one action set per status change per department, in the same seq order.
  const std::int64_t status_events = hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE type='status_change'");
  ASSERT_GT(status_events, 0);
  for (const std::string department : {"schools", "police", "land", "finance", "civil_affairs"}) {
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='" + department + "'"),
              status_events)
        << department;
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(DISTINCT seq) FROM delivery WHERE department='" + department + "'"),
              status_events)
        << department;
    // Every action set is complete: at least one action for each of the department's policies.
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery d WHERE department='" + department +
                                             "' AND NOT EXISTS (SELECT 1 FROM action a WHERE a.department=d.department "
                                             "AND a.seq=d.seq)"),
              0)
        << department;
  }
  // Finance never pays twice: per household the released amount never exceeds what was deferred.
  EXPECT_EQ(finance_overpayments(hub), 0);
  hub.stop();
}

}  // namespace
}  // namespace hub::test

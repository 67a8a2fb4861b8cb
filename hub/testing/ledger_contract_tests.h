// The delivery ledger's contract (delivery/ledger.h) as tests that every backend must pass: the
// same test bodies run against SqliteLedger (hub_unit_tests, delivery/ledger_test.cpp) and
// PgLedger (hub_postgresql_tests, store/postgresql/pg_ledger_test.cpp). A test binary includes
// this header in ONE file and instantiates the suite with its backends:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, LedgerContract, ::testing::Values(LedgerBackendParam{"sqlite", factory}),
//                            hub::testing::ledger_backend_name);
//
// A backend under test opens its ledger again as hubd would after a restart and reads back what
// the interface does not show (the tallies, the lifecycle history, the chain's verification).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "delivery/ledger.h"
#include "testing/ledger_batches.h"

namespace hub::testing {

// One backend for one test: a fresh, empty ledger store.
class LedgerBackendUnderTest {
 public:
  virtual ~LedgerBackendUnderTest() = default;
  // The ledger, opened (again) on the same store.
  virtual std::unique_ptr<delivery::Ledger> open() = 0;
  virtual audit::VerifyResult verify() = 0;
  // "department counter n" of every tally, by department then counter (byte order).
  virtual std::vector<std::string> tallies() = 0;
  // "department|action|by|at_ms|detail" of the lifecycle history, oldest first.
  virtual std::vector<std::string> plugin_history() = 0;
};

struct LedgerBackendParam {
  std::string name;
  std::function<std::unique_ptr<LedgerBackendUnderTest>()> make;
};

inline std::string ledger_backend_name(const ::testing::TestParamInfo<LedgerBackendParam>& info) {
  return info.param.name;
}

class LedgerContract : public ::testing::TestWithParam<LedgerBackendParam> {
 protected:
  void SetUp() override { backend_ = GetParam().make(); }
  std::unique_ptr<delivery::Ledger> open() { return backend_->open(); }
  std::unique_ptr<LedgerBackendUnderTest> backend_;
};

namespace ledger_contract {

using delivery::CursorState;
using delivery::LedgerBatch;
using delivery::ParkedQuery;
using delivery::ParkedRecord;
using delivery::ParkedResolution;
using delivery::PluginState;
using hub::sdk::ActionKind;

inline constexpr std::int64_t kNow = 1'600'000'000'000;

TEST_P(LedgerContract, CommitsCursorsAndReloadsThem) {
  {
    auto ledger = open();
    EXPECT_TRUE(ledger->load_cursors().empty());
    std::vector<LedgerBatch> batches{ledger_batch("police", 1, 3), ledger_batch("finance", 1, 2)};
    batches[1].failures.push_back({3, 1, "timeout"});
    ledger->commit(batches, kNow);
    // A cursor moved past a failure only: counted, its last delivery left where it was.
    std::vector<LedgerBatch> more(1);
    more[0].department = "finance";
    more[0].new_cursor = 3;
    more[0].failures.push_back({3, 2, "timeout again"});
    ledger->commit(more, kNow + 500);
  }
  auto reopened = open();
  const auto cursors = reopened->load_cursors();
  ASSERT_EQ(cursors.size(), 2u);
  const CursorState& police = cursors.at("police");
  EXPECT_EQ(police.seq, 3u);
  EXPECT_EQ(police.delivered, 3u);
  EXPECT_EQ(police.failed, 0u);
  EXPECT_EQ(police.last_delivery_at_ms, kNow);
  const CursorState& finance = cursors.at("finance");
  EXPECT_EQ(finance.seq, 3u);
  EXPECT_EQ(finance.delivered, 2u);
  EXPECT_EQ(finance.failed, 2u);
  EXPECT_EQ(finance.last_delivery_at_ms, kNow);
  std::vector<LedgerBatch> next{ledger_batch("police", 4, 2)};
  reopened->commit(next, kNow + 1000);
  EXPECT_EQ(reopened->load_cursors().at("police").delivered, 5u);
  EXPECT_EQ(reopened->load_cursors().at("police").last_delivery_at_ms, kNow + 1000);
  const auto chain = backend_->verify();
  EXPECT_TRUE(chain.ok) << chain.message;
  EXPECT_EQ(chain.records, 7);
}

TEST_P(LedgerContract, CommitsManyDepartmentsInOneTransaction) {
  const std::vector<std::string> departments{"schools", "police", "land", "finance", "civil_affairs",
                                             "agriculture", "judicial", "urban_construction", "fp_association"};
  auto ledger = open();
  for (int round = 0; round < 3; ++round) {
    std::vector<LedgerBatch> batches;
    for (const auto& d : departments) batches.push_back(ledger_batch(d, 1 + round * 50, 50));
    ledger->commit(batches, kNow + round);
  }
  const auto cursors = ledger->load_cursors();
  ASSERT_EQ(cursors.size(), departments.size());
  for (const auto& d : departments) {
    EXPECT_EQ(cursors.at(d).seq, 150u) << d;
    EXPECT_EQ(cursors.at(d).delivered, 150u) << d;
  }
  const auto chain = backend_->verify();
  EXPECT_TRUE(chain.ok) << chain.message;
  EXPECT_EQ(chain.records, 3 * 50 * 9);
}

TEST_P(LedgerContract, ParksEventsAndRecordsRetriesAndSkipsWithWhoDidIt) {
  {
    auto ledger = open();
    std::vector<LedgerBatch> batches(1);
    batches[0].department = "police";
    batches[0].new_cursor = 9;
    batches[0].parked.push_back(ParkedRecord{5, "V01-00005", "ev-5", "plugin error: boom", 3, 0, ""});
    batches[0].parked.push_back(ParkedRecord{8, "V01-00005", "ev-8", "waiting behind parked seq 5", 0, 5, ""});
    batches[0].parked.push_back(ParkedRecord{9, "V01-00009", "ev-9", "plugin error: other", 3, 0, ""});
    ledger->commit(batches, 1000);
  }
  auto ledger = open();  // survives a reopen
  const auto parked = ledger->load_parked();
  ASSERT_EQ(parked.size(), 3u);
  EXPECT_EQ(parked[0].department, "police");
  EXPECT_EQ(parked[0].seq, 5u);
  EXPECT_EQ(parked[0].household_id, "V01-00005");
  EXPECT_EQ(parked[0].attempts, 3u);
  std::vector<LedgerBatch> batches{ledger_batch("police", 5, 1)};
  batches[0].new_cursor = 9;
  batches[0].delivered[0].household_id = "V01-00005";
  batches[0].resolutions.push_back(ParkedResolution{5, "V01-00005", "retry", "delivered", 3, "", "alice"});
  batches[0].resolutions.push_back(ParkedResolution{8, "V01-00005", "retry", "parked", 1, "plugin error: again", "alice"});
  batches[0].resolutions.push_back(ParkedResolution{9, "V01-00009", "skip", "skipped", 3, "", "bob"});
  ledger->commit(batches, 2000);
  const auto still = ledger->load_parked();
  ASSERT_EQ(still.size(), 1u);
  EXPECT_EQ(still[0].seq, 8u);
  EXPECT_EQ(still[0].attempts, 1u);

  const auto open_only = ledger->list_parked(ParkedQuery{});
  ASSERT_EQ(open_only["parked"].size(), 1u);
  EXPECT_EQ(open_only["parked"][0]["reason"], "plugin error: again");
  EXPECT_EQ(open_only["parked"][0]["behind_seq"], 5);
  EXPECT_FALSE(open_only["parked"][0].contains("history"));
  EXPECT_FALSE(open_only["truncated"].get<bool>());

  ParkedQuery all;
  all.all = true;
  const auto every = ledger->list_parked(all);
  ASSERT_EQ(every["parked"].size(), 3u);
  EXPECT_EQ(every["parked"][0]["state"], "delivered");
  EXPECT_EQ(every["parked"][0]["resolved_by"], "alice");
  EXPECT_EQ(every["parked"][0]["resolved_at_ms"], 2000);
  EXPECT_EQ(every["parked"][0]["reason"], "plugin error: boom");  // the reason it was parked for
  EXPECT_EQ(every["parked"][2]["state"], "skipped");
  EXPECT_EQ(every["parked"][2]["history"][0]["by"], "bob");
  EXPECT_EQ(every["parked"][2]["history"][0]["action"], "skip");
  EXPECT_EQ(every["parked"][1]["history"][0]["outcome"], "parked: plugin error: again");

  ParkedQuery one;
  one.all = true;
  one.household_id = "V01-00009";
  EXPECT_EQ(ledger->list_parked(one)["parked"].size(), 1u);
  one.limit = 1;
  one.household_id = "";
  const auto first = ledger->list_parked(one);
  EXPECT_TRUE(first["truncated"].get<bool>());
  ASSERT_EQ(first["parked"].size(), 1u);
  EXPECT_EQ(first["parked"][0]["seq"], 5);
  ParkedQuery other_department;
  other_department.department = "land";
  EXPECT_TRUE(ledger->list_parked(other_department)["parked"].empty());
}

// A confirmed notice's event waits for its effective date: the date is kept with the parked
// record (and with what waits behind it) across a reopen, shown by the list, and cleared by
// the release, whether it delivered or failed (then it is an ordinary failure).
TEST_P(LedgerContract, KeepsTheEffectiveDateAnEventWaitsForUntilItsRelease) {
  {
    auto ledger = open();
    std::vector<LedgerBatch> batches(1);
    batches[0].department = "finance";
    batches[0].new_cursor = 7;
    batches[0].parked.push_back(ParkedRecord{3, "V01-00003", "ev-3", "effective on 2027-01-01", 0, 0, "2027-01-01"});
    batches[0].parked.push_back(ParkedRecord{5, "V01-00003", "ev-5", "waiting behind seq 3", 0, 3, ""});
    batches[0].parked.push_back(ParkedRecord{7, "V01-00007", "ev-7", "effective on 2027-01-01", 0, 0, "2027-01-01"});
    ledger->commit(batches, 1000);
  }
  auto ledger = open();
  const auto parked = ledger->load_parked();
  ASSERT_EQ(parked.size(), 3u);
  EXPECT_EQ(parked[0].effective_on, "2027-01-01");
  EXPECT_EQ(parked[1].effective_on, "");
  EXPECT_EQ(parked[0].attempts, 0u);
  const auto listed = ledger->list_parked(ParkedQuery{});
  EXPECT_EQ(listed["parked"][0]["effective_on"], "2027-01-01");
  EXPECT_TRUE(listed["parked"][1]["effective_on"].is_null());

  std::vector<LedgerBatch> batches{ledger_batch("finance", 3, 1)};
  batches[0].new_cursor = 7;
  batches[0].delivered[0].household_id = "V01-00003";
  batches[0].resolutions.push_back(ParkedResolution{3, "V01-00003", "release", "delivered", 0, "", "hubd"});
  batches[0].resolutions.push_back(ParkedResolution{7, "V01-00007", "release", "parked", 1, "plugin error: x", "hubd"});
  ledger->commit(batches, 2000);
  const auto still = ledger->load_parked();
  ASSERT_EQ(still.size(), 2u);
  EXPECT_EQ(still[0].seq, 5u);
  EXPECT_EQ(still[1].seq, 7u);
  EXPECT_EQ(still[1].effective_on, "") << "a failed release is a failure, no longer a wait";
  ParkedQuery all;
  all.all = true;
  const auto every = ledger->list_parked(all);
  ASSERT_EQ(every["parked"].size(), 3u);
  EXPECT_EQ(every["parked"][0]["state"], "delivered");
  EXPECT_EQ(every["parked"][0]["history"][0]["action"], "release");
  EXPECT_EQ(every["parked"][0]["history"][0]["by"], "hubd");
  EXPECT_TRUE(every["parked"][0]["effective_on"].is_null());
  EXPECT_EQ(every["parked"][2]["history"][0]["outcome"], "parked: plugin error: x");
}

TEST_P(LedgerContract, RecordsPluginLifecycleDecisionsWithWhoAndWhenAndTheirHistory) {
  {
    auto ledger = open();
    EXPECT_TRUE(ledger->load_plugin_states().empty());
    ledger->record_disabled("police", "frank", "new roster being checked", 1000);
    ledger->record_reload("land", "/opt/hub/plugins/land-2.so", "2.0.0", "/opt/hub/plugins/land.so", "gina", 2000);
    ledger->record_disabled("land", "gina", "", 3000);
    ledger->record_enabled("land", "hugo", 4000);
  }
  auto ledger = open();  // reopened: the decisions are stored
  auto states = ledger->load_plugin_states();
  ASSERT_EQ(states.size(), 2u);
  const PluginState& police = states["police"];
  EXPECT_TRUE(police.disabled);
  EXPECT_EQ(police.disabled_by, "frank");
  EXPECT_EQ(police.disabled_at_ms, 1000);
  EXPECT_EQ(police.disabled_reason, "new roster being checked");
  EXPECT_EQ(police.library, "");  // never reloaded: the config's library
  const PluginState& land = states["land"];
  EXPECT_FALSE(land.disabled);
  EXPECT_EQ(land.disabled_by, "");
  EXPECT_EQ(land.disabled_at_ms, 0);
  EXPECT_EQ(land.library, "/opt/hub/plugins/land-2.so");
  EXPECT_EQ(land.library_version, "2.0.0");
  EXPECT_EQ(land.config_library, "/opt/hub/plugins/land.so");
  EXPECT_EQ(land.reloaded_by, "gina");
  EXPECT_EQ(land.reloaded_at_ms, 2000);

  // A later reload replaces the earlier one; a forgotten reload leaves the disable alone.
  ledger->record_reload("police", "/b.so", "3.0.0", "/a.so", "ivy", 5000);
  ledger->forget_reload("police", "config library changed to /c.so", 6000);
  states = ledger->load_plugin_states();
  EXPECT_EQ(states["police"].library, "");
  EXPECT_EQ(states["police"].reloaded_by, "");
  EXPECT_TRUE(states["police"].disabled);

  EXPECT_EQ(backend_->plugin_history(), (std::vector<std::string>{
                                            "police|disable|frank|1000|new roster being checked",
                                            "land|reload|gina|2000|/opt/hub/plugins/land-2.so (2.0.0)",
                                            "land|disable|gina|3000|",
                                            "land|enable|hugo|4000|",
                                            "police|reload|ivy|5000|/b.so (3.0.0)",
                                            "police|config_wins|hubd|6000|config library changed to /c.so",
                                        }));
}

TEST_P(LedgerContract, TalliesCountDeliveriesFailuresActionsAndLatency) {
  auto ledger = open();
  std::vector<LedgerBatch> batches{ledger_batch("police", 1, 3, kNow - 40), ledger_batch("land", 1, 1, kNow - 40)};
  batches[0].delivered[1].received_at_ms = kNow - 700;     // the 1000 ms bucket
  batches[0].delivered[2].received_at_ms = kNow - 400000;  // slower than every bound
  batches[0].delivered[2].actions.push_back(
      policy_action("V01-10003", "police.c", ActionKind::kWithhold, std::nullopt, "违约 / withheld"));
  batches[1].failures.push_back({2, 1, "timeout"});
  batches[1].failures.push_back({3, 1, "timeout"});
  ledger->commit(batches, kNow);
  std::vector<LedgerBatch> again{ledger_batch("police", 4, 1, kNow - 40)};
  ledger->commit(again, kNow);
  EXPECT_EQ(backend_->tallies(), (std::vector<std::string>{
                                     "land action:apply 1",
                                     "land action:defer 1",
                                     "land deliveries 1",
                                     "land failures 2",
                                     "land latency_le_ms:50 1",
                                     "land latency_sum_ms 40",
                                     "police action:apply 4",
                                     "police action:defer 4",
                                     "police action:withhold 1",
                                     "police deliveries 4",
                                     "police latency_le_ms:+Inf 1",
                                     "police latency_le_ms:1000 1",
                                     "police latency_le_ms:50 2",
                                     "police latency_sum_ms " + std::to_string(40 + 700 + 400000 + 40),
                                 }));
}

TEST_P(LedgerContract, AFailedCommitRecordsNothing) {
  auto ledger = open();
  std::vector<LedgerBatch> first{ledger_batch("police", 1, 1)};
  ledger->commit(first, kNow);
  // Seq 1 again: the key refuses it, after this commit's new reasons and chain links were made.
  std::vector<LedgerBatch> again{ledger_batch("police", 2, 1), ledger_batch("schools", 1, 1)};
  again[0].delivered.push_back(ledger_batch("police", 1, 1).delivered.front());
  again[0].new_cursor = 2;
  again[1].parked.push_back(ParkedRecord{2, "V01-10002", "ev-2", "x", 5, 0, ""});
  EXPECT_THROW(ledger->commit(again, kNow + 1), StorageError);
  EXPECT_EQ(ledger->load_cursors().size(), 1u);
  EXPECT_EQ(ledger->load_cursors().at("police").seq, 1u);
  EXPECT_TRUE(ledger->load_parked().empty());
  std::vector<LedgerBatch> next{ledger_batch("police", 2, 1), ledger_batch("schools", 1, 1)};
  ledger->commit(next, kNow + 2);
  EXPECT_EQ(ledger->load_cursors().at("police").delivered, 2u);
  const auto chain = backend_->verify();
  EXPECT_TRUE(chain.ok) << chain.message;
  EXPECT_EQ(chain.records, 3);
}

}  // namespace ledger_contract
}  // namespace hub::testing

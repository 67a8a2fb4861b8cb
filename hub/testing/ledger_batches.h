// Deliveries for the ledger's tests (delivery/ledger_chain_test.cpp, the ledger contract's tests
// in testing/ledger_contract_tests.h, store/postgresql/pg_ledger_test.cpp): a department's
// batch of delivered events with actions, reasons and hand-offs as plugins give them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "delivery/ledger.h"

namespace hub::testing {

inline hub::sdk::PolicyAction policy_action(const std::string& household, const std::string& policy,
                                            hub::sdk::ActionKind kind, std::optional<std::int64_t> amount,
                                            const std::string& reason) {
  hub::sdk::PolicyAction a;
  a.household_id = household;
  a.policy_id = policy;
  a.action = kind;
  a.amount_fen = amount;
  a.reason = reason;
  return a;
}

// `events` deliveries of `department` from `first_seq`; each with a shared reason and one of
// its own (the department and seq in its text), every third handed off to a spool.
inline delivery::LedgerBatch ledger_batch(const std::string& department, std::uint64_t first_seq, std::size_t events,
                                          std::int64_t received_at_ms = 0) {
  using hub::sdk::ActionKind;
  delivery::LedgerBatch b;
  b.department = department;
  b.plugin_version = "1.2.0";
  for (std::size_t i = 0; i < events; ++i) {
    runtime::DeliveredEvent d;
    d.seq = first_seq + i;
    d.household_id = "V01-" + std::to_string(10000 + d.seq);
    d.event_id = "ev-" + std::to_string(d.seq);
    d.received_at_ms = received_at_ms;
    d.actions.push_back(
        policy_action(d.household_id, department + ".a", ActionKind::kDefer, std::nullopt, "暂缓 / deferred"));
    d.actions.push_back(policy_action(d.household_id, department + ".b", ActionKind::kApply,
                                      6000 + static_cast<std::int64_t>(d.seq),
                                      department + " seq " + std::to_string(d.seq) + " \"quoted\""));
    if (d.seq % 3 == 0) {
      d.handoff = "spool";
      d.handoff_detail = department + "-" + std::to_string(d.seq) + ".jsonl";
    }
    b.delivered.push_back(std::move(d));
  }
  b.new_cursor = first_seq + events - 1;
  return b;
}

// A scripted run of the dispatcher: deliveries of three departments, failures, parked events
// resolved later, lifecycle decisions, all within 200 ms from `now` (store/postgresql tests).
inline void scripted_ledger_run(delivery::Ledger& ledger, std::int64_t now) {
  std::vector<delivery::LedgerBatch> first{ledger_batch("land", 1, 10), ledger_batch("finance", 1, 5)};
  // Text that an array literal must quote: backslashes, braces, quotes, commas, NULL, spaces.
  first[0].delivered[0].actions[1].reason = "back\\slash {braces} \"quotes\", commas, NULL 引号";
  first[0].delivered[0].handoff_detail = "{\"status\": 200}";
  first[0].delivered[1].actions[1].reason = "NULL";
  first[0].delivered[1].actions[0].policy_id = "land.\"odd\\id\"";
  first[1].failures.push_back({6, 1, "timeout"});
  first[1].parked.push_back(delivery::ParkedRecord{6, "V01-10006", "ev-6", "plugin error: boom", 5, 0, ""});
  first[1].parked.push_back(delivery::ParkedRecord{9, "V01-10006", "ev-9", "waiting behind parked seq 6", 0, 6, ""});
  first[1].new_cursor = 9;
  ledger.commit(first, now);
  ledger.record_disabled("schools", "frank", "roster", now + 10);
  std::vector<delivery::LedgerBatch> second{ledger_batch("finance", 10, 10), ledger_batch("schools", 1, 8)};
  second[0].resolutions.push_back(delivery::ParkedResolution{6, "V01-10006", "retry", "parked", 6, "plugin error: again", "ann"});
  second[0].resolutions.push_back(delivery::ParkedResolution{9, "V01-10006", "skip", "skipped", 0, "", "bob"});
  ledger.commit(second, now + 100);
  ledger.record_enabled("schools", "gina", now + 150);
  std::vector<delivery::LedgerBatch> third{ledger_batch("land", 11, 7), ledger_batch("finance", 6, 1)};
  third[1].delivered[0].household_id = "V01-10006";
  third[1].resolutions.push_back(delivery::ParkedResolution{6, "V01-10006", "retry", "delivered", 6, "", "ann"});
  third[1].new_cursor = 19;
  ledger.commit(third, now + 200);
}

}  // namespace hub::testing

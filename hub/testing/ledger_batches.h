// Deliveries for the ledger's tests (delivery/ledger_chain_test.cpp, the ledger contract's tests
// in testing/ledger_contract_tests.h, store/postgresql/pg_ledger_test.cpp): a department's
// batch of delivered events with actions, reasons and hand-offs as plugins give them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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

}  // namespace hub::testing

// What every ledger backend (store/sqlite/sqlite_ledger.h, store/postgresql/pg_ledger.h) writes
// the same way, so that the two backends store the same values and chain the same bytes
// (delivery/ledger.h, docs/security.md): the running counts of /metrics (namespace tally and
// LedgerCounts), the packed actions of a delivery with their reason ids, the chain record of a
// delivery, its read-back for verification, and a parked event as the admin protocol shows it.
// No SQL here: each backend keeps its own statements.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "domain/delivery_latency.h"
#include "delivery/ledger.h"

namespace hub::store {

// The counters of the ledger's tally table, per department: the deliveries recorded, the failed
// attempts recorded (an attempt recorded again after a restart counts again), the policy actions
// by kind ("action:defer"), and the latency histogram (domain/delivery_latency.h): one counter
// per bucket, not cumulative ("latency_le_ms:100" counts latencies above 50 ms and at most
// 100 ms; "latency_le_ms:+Inf" those above the last bound), and their sum.
namespace tally {
inline constexpr const char* kDeliveries = "deliveries";
inline constexpr const char* kFailures = "failures";
inline constexpr const char* kLatencySumMs = "latency_sum_ms";
inline constexpr const char* kActionPrefix = "action:";
inline constexpr const char* kLatencyPrefix = "latency_le_ms:";
std::string latency_bucket(std::size_t bucket);  // "latency_le_ms:10" … "latency_le_ms:+Inf"
}  // namespace tally

// One department's tallies for one commit.
struct LedgerCounts {
  std::int64_t deliveries = 0, failures = 0, latency_sum_ms = 0;
  std::array<std::int64_t, kDeliveryLatencyBoundsMs.size() + 1> latency{};
  std::array<std::int64_t, 6> actions{};  // by hub::sdk::ActionKind

  void add(const runtime::DeliveredEvent& d, std::int64_t now_ms);
  // Every counter that is not zero, with its name from namespace tally.
  void for_each(const std::function<void(const std::string& counter, std::int64_t n)>& f) const;
};

// A delivery's actions as stored: [[policy_id, action, amount_fen or null, reason id], ...],
// the reason ids from `reason_id` (which inserts a text the first time it sees it).
std::string encode_actions(const std::vector<hub::sdk::PolicyAction>& actions,
                           const std::function<std::int64_t(const std::string&)>& reason_id);

// One of a delivery's packed actions as read back: the texts are views into the packed actions
// (or into the parser's copy), valid during the visit.
struct PackedAction {
  std::string_view policy_id, action;
  std::optional<std::int64_t> amount_fen;
};

// Visits a delivery's packed actions in order. What encode_actions writes is read directly (a
// county's report reads nine million of them: the JSON parser took most of its time); any other
// text goes through the JSON parser, and what is not an array of [policy_id, action, amount_fen
// or null, …] throws nlohmann::json::exception.
void for_each_packed_action(std::string_view packed_actions, const std::function<void(const PackedAction&)>& visit);

// The chain record of one delivery (kind "policy_action", actor the department, subject
// "<department>:<seq>"), from the values written: household, event, plugin version, packed
// actions, hand-off and its detail, then each action's reason text.
audit::AuditEntry delivery_record(const std::string& department, const std::string& plugin_version,
                                  const runtime::DeliveredEvent& d, const std::string& packed_actions);

// For verification: the reason texts of packed actions as stored, in order, appended to a record
// read back (an unknown id or a malformed action adds a null; unreadable JSON adds nothing: the
// packed actions, also in the detail, already differ from what was chained then).
using ReasonTexts = std::unordered_map<std::int64_t, std::string>;
void append_reasons(audit::RowDetail& detail, const std::string& packed_actions, const ReasonTexts& reasons);

// A verification that found no broken record, but a delivery outside the chain (`subject`):
// someone else put it there.
void name_delivery_outside_chain(audit::VerifyResult& result, const std::string& subject);

// One parked event as list_parked() shows it ({"parked": [these…], "truncated": …}).
struct ParkedListing {
  std::string department;
  std::int64_t seq = 0;
  std::string household_id, event_id, reason;
  std::int64_t attempts = 0, parked_at_ms = 0, behind_seq = 0;
  std::string state;
  std::optional<std::string> resolved_by;
  std::optional<std::int64_t> resolved_at_ms;
  std::optional<std::string> effective_on;  // waits for its effective date (a confirmed notice's event)
};
nlohmann::json parked_json(const ParkedListing& p);
// One entry of a parked event's history (list_parked with all).
nlohmann::json parked_history_json(const std::string& action, const std::string& by, std::int64_t at_ms,
                                   const std::string& outcome);

}  // namespace hub::store

// The delivery ledger: per department a durable cursor, and for every event delivered to it
// the action set its plugin decided and how it reached the department's own system (handoff:
// none, spool or webhook, with a detail such as the spool file; a failed hand-off is a failure,
// never a delivery); the events parked for a department with the history of every operator
// retry and skip; and the operators' plugin lifecycle decisions with their history. Every
// delivery is also a record of the ledger's hash chain (docs/security.md).
//
// This header is the ledger's contract: the values and the interface (Ledger) that delivery
// owns and a storage backend implements (hub/store/sqlite/sqlite_ledger.h: ledger.db, its
// tables, versions and upgrades). The dispatcher gets its Ledger from the daemon.
//
// Owned by the dispatcher thread (the only writer). commit() writes the actions of many events,
// the parked events and resolutions, and the advanced cursors of many departments in ONE
// transaction: a crash leaves either all of it or none, so after a restart the department
// resumes at its cursor and no action is lost or recorded twice, and a parked event is never
// lost or delivered twice. A lifecycle decision is written in its own transaction when the
// operation takes effect, before the admin reply says ok, and applied by the dispatcher when
// hubd starts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/status.h"
#include "runtime/worker_messages.h"

namespace hub::delivery {

struct CursorState {
  std::uint64_t seq = 0;
  std::uint64_t delivered = 0;  // action sets recorded
  std::uint64_t failed = 0;     // failed attempts recorded
  std::int64_t last_delivery_at_ms = 0;
};

struct FailureRecord {
  std::uint64_t seq = 0;
  std::uint32_t attempt = 0;
  std::string reason;
};

// An event parked for a department: its plugin failed on it `attempts` times (behind_seq == 0,
// the head: a dead letter), or it is a confirmed notice's status change that waits for its
// effective date (behind_seq == 0, attempts == 0, effective_on that date: released by hubd on
// that day, never a failure), or an earlier event of the same household is parked
// (behind_seq == that event's seq), so it waits to keep the household's order.
struct ParkedRecord {
  std::uint64_t seq = 0;
  std::string household_id;
  std::string event_id;
  std::string reason;
  std::uint32_t attempts = 0;
  std::uint64_t behind_seq = 0;
  std::string effective_on;  // YYYY-MM-DD while it waits for its effective date; "" otherwise
};

// An operator's retry or skip of a parked event, or hubd's release of one on its effective
// date, and its outcome: `state` is "delivered" (the retry or release succeeded; its actions
// are in `delivered` of the same batch), "skipped", or "parked" (it failed: `attempts` and
// `reason` are updated; an event released on its effective date no longer waits for it, and
// stays parked as a failure until an operator retries or skips it).
struct ParkedResolution {
  std::uint64_t seq = 0;
  std::string household_id;
  std::string action;  // "retry", "skip" or "release"
  std::string state;
  std::uint32_t attempts = 0;
  std::string reason;
  std::string by;
};

// A parked event as loaded at start-up (state "parked").
struct ParkedRow {
  std::string department;
  std::uint64_t seq = 0;
  std::string household_id;
  std::uint32_t attempts = 0;
  std::string effective_on;  // as in ParkedRecord
};

struct LedgerBatch {
  std::string department;
  std::string plugin_version;
  std::uint64_t new_cursor = 0;
  std::vector<runtime::DeliveredEvent> delivered;
  std::vector<FailureRecord> failures;
  std::vector<ParkedRecord> parked;
  std::vector<ParkedResolution> resolutions;  // applied after `parked`
};

// A department's durable lifecycle state (table `plugin_state`).
struct PluginState {
  bool disabled = false;
  std::string disabled_by;
  std::int64_t disabled_at_ms = 0;
  std::string disabled_reason;   // "" when the operator gave none
  std::string library;           // chosen by the last successful reload; "" = the config's
  std::string library_version;   // the plugin version that reload loaded
  std::string config_library;    // the config's library when that reload was done
  std::string reloaded_by;
  std::int64_t reloaded_at_ms = 0;
};

struct ParkedQuery {
  std::string department;  // "" = all
  std::string household_id;  // "" = all
  bool all = false;          // also resolved events, with the history of retries and skips
  std::size_t limit = 1000;
};

// Every method throws StorageError (domain/status.h) when the store cannot do it; then nothing
// was written, unless the error says outcome_unknown (a failed commit that may have happened):
// the caller then reads the cursors again before it trusts its own (the store re-reads its
// chain head itself before its next write).
class Ledger {
 public:
  virtual ~Ledger() = default;

  virtual std::map<std::string, CursorState> load_cursors() = 0;
  // One transaction for all batches (sorted by department here), and the deliveries' audit chain.
  virtual void commit(std::vector<LedgerBatch>& batches, std::int64_t now_ms) = 0;
  virtual std::vector<ParkedRow> load_parked() = 0;
  // Parked events (and with q.all their resolutions and history) as the admin protocol shows
  // them: {"parked": [...], "truncated": bool}.
  virtual nlohmann::json list_parked(const ParkedQuery& q) = 0;

  // Plugin lifecycle (version 5). Each record_* is one transaction that also appends to the
  // history (`plugin_action`).
  virtual std::map<std::string, PluginState> load_plugin_states() = 0;
  virtual void record_disabled(const std::string& department, const std::string& by, const std::string& reason,
                               std::int64_t now_ms) = 0;
  virtual void record_enabled(const std::string& department, const std::string& by, std::int64_t now_ms) = 0;
  virtual void record_reload(const std::string& department, const std::string& library, const std::string& version,
                             const std::string& config_library, const std::string& by, std::int64_t now_ms) = 0;
  // The recorded reload no longer applies (the config's library was changed since): forgotten,
  // with `why` in the history (by "hubd").
  virtual void forget_reload(const std::string& department, const std::string& why, std::int64_t now_ms) = 0;
};

}  // namespace hub::delivery

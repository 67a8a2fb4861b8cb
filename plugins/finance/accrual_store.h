// AccrualStore: the finance office's own record of deferred rewards and of the decisions it
// has already taken, in an SQLite file in the plugin's data directory (finance.db).
//
// Two things live here. The accruals: one row per household, policy and quarter whose reward
// was deferred, open until it is settled — released (paid when the household is credit again),
// forfeited (breach) or superseded (a correction re-evaluated that quarter). And the decision
// journal: the exact actions returned for each Event::idempotency_key, with the quarter and the
// status each decision was taken for. The hub delivers at
// least once; a redelivered event is answered from the journal, so it gets the identical
// actions and changes no accrual twice, however much has happened since.
//
// The file uses WAL with synchronous=FULL: once Transaction::commit returns, the decision
// survives a crash of the process or the machine. One AccrualStore per plugin instance, used
// only on the plugin's delivery thread. Every method throws StoreError when SQLite fails; do
// the work for one event inside one Transaction, which rolls back unless committed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub/sdk/types.h"

struct sqlite3;
struct sqlite3_stmt;

namespace finance {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One quarter's deferred reward for one household and policy.
struct Accrual {
  std::string quarter;  // e.g. 2020Q2
  std::int64_t amount_fen = 0;
};

enum class Settlement { kReleased, kForfeited, kSuperseded };

// The decision recorded for an idempotency key.
struct RecordedDecision {
  std::string household_id;
  std::vector<hub::sdk::PolicyAction> actions;
};

class AccrualStore {
 public:
  // Opens (creating if needed) the database at `path`.
  explicit AccrualStore(const std::string& path);
  ~AccrualStore();
  AccrualStore(const AccrualStore&) = delete;
  AccrualStore& operator=(const AccrualStore&) = delete;

  // Writes are grouped per batch of events (hub::sdk::Plugin::on_batch_end): the first event
  // of a batch opens its transaction (BEGIN IMMEDIATE), each event runs in a savepoint of its
  // own, undone alone if that event fails, and commit_batch() makes the batch durable.
  class EventScope {
   public:
    explicit EventScope(AccrualStore& store);  // opens the batch if needed, then SAVEPOINT
    ~EventScope();                             // undoes the event's writes unless commit()
    EventScope(const EventScope&) = delete;
    EventScope& operator=(const EventScope&) = delete;
    void commit();  // keeps the event's writes in the batch (RELEASE)

   private:
    AccrualStore& store_;
    bool open_ = true;
  };
  void commit_batch();             // COMMIT, if a batch is open
  void rollback_batch() noexcept;  // ROLLBACK, if a batch is open

  // The decision taken earlier for this idempotency key, or nothing if the key is new.
  std::optional<RecordedDecision> find_decision(std::string_view idempotency_key);

  // Journals the actions decided for `event`, with its quarter and new_status.
  void record_decision(const hub::sdk::Event& event, const std::vector<hub::sdk::PolicyAction>& actions,
                       std::int64_t decided_at_ms);

  // The household's history as the journal has it, for one policy: per quarter, the status of
  // its latest decision (highest sequence; a past quarter's ruling is one), and whether the
  // household was on the policy's roster then — some decision of that quarter took a money
  // action (anything but not_applicable) for the policy. Decisions journalled before schema
  // version 2 whose status cannot be told from their actions are left out.
  struct QuarterRecord {
    hub::sdk::HouseholdStatus status = hub::sdk::HouseholdStatus::kUnevaluated;
    bool on_roster = false;
  };
  std::map<std::string, QuarterRecord> quarter_history(std::string_view household_id, std::string_view policy_id);

  // Money actually paid to the household for one policy so far: the sum of the amounts of
  // every journalled apply, restore and release (a past quarter's remedy included).
  std::int64_t paid(std::string_view household_id, std::string_view policy_id);

  // Open (unsettled) accruals of one household and policy, oldest quarter first.
  std::vector<Accrual> pending(std::string_view household_id, std::string_view policy_id);

  // Records a deferred reward; `deferred_by` is the deciding event's idempotency key.
  void add(std::string_view household_id, std::string_view policy_id, std::string_view quarter, std::int64_t amount_fen,
           std::string_view deferred_by);

  // Settles the open accruals of one household and policy — all of them, or only `quarter`'s —
  // and returns what was settled, oldest first. `settled_by` is the deciding event's key.
  std::vector<Accrual> settle(std::string_view household_id, std::string_view policy_id,
                              std::optional<std::string_view> quarter, Settlement settlement,
                              std::string_view settled_by);

 private:
  void execute(const char* sql);
  // Runs a statement kept prepared (BEGIN/COMMIT run once per event). sql must be a literal:
  // statements are cached by the address of their text.
  void execute_cached(const char* sql_literal);
  // The prepared statement for a literal SQL text, prepared on first use and kept until the
  // store closes (preparing costs more than running these small statements).
  sqlite3_stmt* prepared(const char* sql_literal);
  void finalize_statements() noexcept;
  [[noreturn]] void fail(const std::string& what) const;

  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
  bool batch_open_ = false;
  std::string path_;
};

}  // namespace finance

// What the report part needs from storage, declared here by the part that needs it: read-only
// views over ONE snapshot of the event log and the ledger (household look-up, the quarterly
// report's figures, the quarters, what reconciliation compares, the /metrics counts, the
// timeline's counts), in plain domain-level values. No storage type appears here, so report/,
// admin/ and http/ never see a driver; a backend (hub/store/sqlite/sqlite_report_views.h)
// implements ReportViews and the daemon hands its opener to whoever reads (admin, HTTP).
//
// Each operation returns a whole result (one query or a few, never one round trip per row),
// and what is pure computation — grouping per village, the expected state of a policy,
// rendering JSON — stays in report/ on top of these values.
//
// Threads: a ReportViews object is one read snapshot on one connection and belongs to the
// thread that opened it; open one per request. An opener may be called from any thread,
// concurrently (each call opens its own connection). Operations throw StorageError
// (domain/status.h) when the files cannot be read; nothing else of the backend escapes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "domain/status.h"

namespace hub::report {

// --- household look-up (admin "household") ---

struct HouseholdRecord {
  std::string village;
  std::optional<std::string> head;
  std::optional<std::int64_t> members;
  std::optional<std::string> commitment_signed_on;
  std::string status;
  std::optional<std::string> quarter;
  std::vector<std::string> designations;
};

// One event of the household's history; the status fields are set for a status_change only.
struct HouseholdEvent {
  std::int64_t seq = 0;
  std::string event_id, type;
  std::string status, previous_status, quarter, effective_date;
  bool correction = false;
  std::int64_t received_at_ms = 0;
  bool past_quarter = false;  // a past quarter put right by a complaint's ruling
  std::string complaint_id;   // the ruling's complaint, on its correction
};

// One policy action the ledger recorded for the household's events.
struct RecordedPolicyAction {
  std::string policy_id, action;
  std::optional<std::int64_t> amount_fen;
  std::string reason;
  std::int64_t seq = 0, delivered_at_ms = 0;
  std::string event_id, handoff;  // the source event; how it reached the department's system
};

struct HouseholdView {
  HouseholdRecord household;
  std::vector<HouseholdEvent> history;                                  // by seq
  std::map<std::string, std::vector<RecordedPolicyAction>> actions;    // department → by seq, then the plugin's order
  std::map<std::string, std::int64_t> cursors;                          // department → delivered up to seq
  std::optional<std::int64_t> latest_status_seq;                        // the household's last status_change
};

// --- the quarterly report ---

struct VillageHouseholds {
  std::string village;
  std::int64_t households = 0, signed_commitments = 0;  // signed before the quarter's end
};

// Effective evaluations (each household's latest status_change for the quarter) per village and status.
struct StatusCount {
  std::string village, status;
  std::int64_t n = 0;
};

struct ActionTotal {
  std::int64_t count = 0, amount_fen = 0;
};

struct SlowDelivery {
  std::int64_t seq = 0;
  std::string household_id;
  std::int64_t latency_ms = 0;  // received by the hub → recorded
};

// action → total; std::less<> so that a backend can look a stored name up without a copy.
using ActionTotals = std::map<std::string, ActionTotal, std::less<>>;

// What one department's ledger holds for the scope's effective evaluations.
struct QuarterDeliveries {
  std::map<std::string, ActionTotals, std::less<>> actions;  // policy → action → total
  std::int64_t delivered = 0;
  std::vector<SlowDelivery> slowest;  // the three slowest: latency descending, then seq
};

struct QuarterRecords {
  std::vector<VillageHouseholds> households;       // every village (the town's share needs them)
  std::vector<StatusCount> statuses;               // the whole town
  std::map<std::string, std::int64_t> corrections;  // village → corrections in the quarter
  std::map<std::string, QuarterDeliveries> deliveries;  // department → figures, in the requested scope
};

// --- reconciliation ---

// A household's current evaluation (its status_seq), for every evaluated household.
struct CurrentEvaluation {
  std::string household_id, village, status, event_id, effective_date, quarter;
  std::vector<std::string> designations;
  std::int64_t seq = 0;
};

struct LatestAction {
  std::string action;
  std::int64_t seq = 0, delivered_at_ms = 0;
};

// One department's ledger row for one event: its actions as (policy_id, action), in the
// plugin's order (a policy may appear twice, as finance's release-then-apply: the later counts).
struct RecordedRow {
  std::int64_t seq = 0, delivered_at_ms = 0;
  std::vector<std::pair<std::string, std::string>> actions;
};

// A household's current evaluation with, for each department the ledger has a cursor for,
// the row that department recorded for the evaluation's own event (absent when it has none).
struct EvaluationRecords {
  CurrentEvaluation evaluation;
  std::map<std::string, RecordedRow> rows;  // department → its row at evaluation.seq
};

// --- /metrics ---

struct LatencyHistogram {
  std::vector<std::int64_t> buckets;  // cumulative, one per bound of kDeliveryLatencyBoundsMs
  std::int64_t count = 0, sum_ms = 0;
};

struct DepartmentCounts {
  std::int64_t deliveries = 0, failures = 0;
  std::map<std::string, std::int64_t> actions;  // action kind → n
  std::optional<LatencyHistogram> latency;
};

struct MetricsCounts {
  std::map<std::string, std::int64_t> events;  // type → n
  std::int64_t last_seq = 0;
  std::map<std::string, DepartmentCounts> departments;  // every department the ledger names
};

// --- the timeline ---

// Counts per minute (start of the minute in ms); every count before the window is folded into
// the minute starting at window start - 1.
struct ReceivedCount {
  std::string village, status;
  std::int64_t minute_ms = 0, n = 0;
};

struct DeliveredCount {
  std::string department;
  std::int64_t minute_ms = 0, n = 0;
};

struct TimelineCounts {
  std::vector<ReceivedCount> received;  // status changes
  std::vector<DeliveredCount> delivered;
};

// --- household search (admin "households", /api/households) ---

// Every given criterion must hold; none given = every registered household.
struct HouseholdQuery {
  std::optional<std::string> id_prefix;    // household_id starts with it
  std::optional<std::string> head;         // the head's name contains it
  std::optional<std::string> village;      // exactly
  std::optional<std::string> status;       // the current status, exactly ("unevaluated" included)
  std::optional<std::string> designation;  // among the current designations
  std::optional<std::string> after;        // paging: household ids after this one
  std::size_t limit = 50;                  // rows in the page
};

struct HouseholdMatch {
  std::string household_id;
  HouseholdRecord household;
};

struct HouseholdPage {
  std::vector<HouseholdMatch> rows;  // by household_id
  std::int64_t total = 0;            // every match, whatever the page
  bool more = false;                 // matches after the page's last row
};

class ReportViews {
 public:
  virtual ~ReportViews() = default;

  // The household, its events and, for each of `departments`, the actions recorded for them;
  // std::nullopt when it is not registered.
  virtual std::optional<HouseholdView> household(const std::string& household_id,
                                                 const std::vector<std::string>& departments) = 0;
  // The households that match `query`, a page at a time in household_id order.
  virtual HouseholdPage search_households(const HouseholdQuery& query) = 0;
  // Figures of `quarter` ("2020Q4"); deliveries limited to `village` when given.
  virtual QuarterRecords quarter(const std::string& quarter, const std::optional<std::string>& village) = 0;
  // The quarters that have evaluations, oldest first.
  virtual std::vector<std::string> quarters() = 0;
  // Reconciliation's pass: every evaluated household's current evaluation, by household_id,
  // with each department's row for it (one key look-up per household and department), handed
  // to `visit` one at a time — memory for one household, whatever the ledger's size.
  virtual void each_current_evaluation(const std::function<void(const EvaluationRecords&)>& visit) = 0;
  // The latest action per policy that `department` recorded for the household's events before
  // `before_seq`: what reconciliation reads when the current evaluation's row lacks a policy.
  virtual std::map<std::string, LatestAction> earlier_actions(const std::string& department,
                                                              const std::string& household_id,
                                                              std::int64_t before_seq) = 0;
  virtual std::map<std::string, std::int64_t> cursors() = 0;  // department → delivered up to seq
  // The running counts: the same figures as counting the log and the ledger's rows, read in
  // constant time (a scrape must not grow with the ledger). Latencies in the buckets of
  // domain/delivery_latency.h.
  virtual MetricsCounts metrics() = 0;
  // Received and delivered counts per minute in [start_ms, end_ms), plus everything before.
  // Both bounds are minute boundaries (domain/activity_minute.h): the backends keep running
  // counts per minute, so the read costs a few rows per minute of activity.
  virtual TimelineCounts timeline(std::int64_t start_ms, std::int64_t end_ms) = 0;
};

// Opens a snapshot. Throws StorageError when the files cannot be opened.
using ReportViewsOpener = std::function<std::unique_ptr<ReportViews>()>;

}  // namespace hub::report

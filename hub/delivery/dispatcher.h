// The dispatcher: reads committed events from the event log and feeds every department's
// worker in sequence order, with flow control (at most N batches in flight per department),
// then records the results in the ledger — many departments' results per transaction: a round's
// results are written together once no batch is in flight, or after 2 ms under load
// (commit_due(), dispatcher_ledger.cpp).
//
// Runs on its own thread. Inputs, all over ZeroMQ: the control pipe ($TERM), the ingest
// thread's "committed up to seq N" notifications (inproc PULL), status requests from the
// admin thread (inproc REP), and each worker's PAIR. A department whose plugin fails is
// retried from the failed event with exponential backoff; no later event of that department
// is delivered before it (order per household is kept because a department sees all its
// events in sequence order). Other departments keep flowing.
//
// Retries and parking (docs/reliability.md): after `max_attempts` failed attempts of one
// event (error, exception, rejected output, timeout), the event is parked for that department
// (ledger table `parked`) and delivery goes on past it; later events of the same household
// are parked behind it, in order, while every other household flows.
//
// Effective dates (公示, docs/operations.md): a confirmed notice's status change (publisher
// "notice:…", LoggedEvent::from_notice) whose effective_date is after the hub's local date is
// parked for each department it concerns with that date (ParkedRecord::effective_on): not a
// failure, and not for operators to retry or skip. The household's later events wait behind
// it, exactly as behind a failed one. On that day hubd releases it (and what waits behind it,
// up to the next event still waiting for its own date) like an operator's retry, by "hubd",
// in the ledger's history as "release"; the dispatcher looks at the date once a second. Other
// status changes (an office's own, a complaint's ruling) are delivered at once, as before.
//
// Operators list, retry
// and skip parked events, and reload, disable and enable plugins, through typed commands that
// the admin thread parses and hands over on the status socket (delivery/operator_commands.h,
// instead of the word "status"); an
// operation that needs a quiet department (retry, reload, disable) first stops sending it new
// batches, waits until nothing is in flight and everything received is committed, acts, and
// only then answers and resumes from the cursor — so nothing is lost or delivered twice.
//
// The other end of each department's PAIR is served by a transport the daemon hands in
// (runtime/department_transport.h): a worker thread in this process, or, for a department
// placed on a plugin host ("placement": "host"), the host link, which speaks the same messages
// and relays them to the remote host. While no host serves it, the department is
// `waiting_for_host`; when its host goes away, requests sent to it are disowned exactly as
// after a failure (a new generation) and delivery resumes from the last acknowledged event.
// When the host's supervisor restarts it after a crash, the department shows as `failing`
// until it delivers again, and the event its plugin was handling (if any) has a failed attempt
// counted, exactly like an error result: retried with backoff, parked after max_attempts.
//
// Operators' lifecycle decisions are durable (ledger table `plugin_state`): a disable, an
// enable and a successful reload are recorded before the admin reply says ok, and applied at
// start-up — a disabled department starts disabled; a reloaded one starts with the reloaded
// library unless the config's library was changed since (then the config wins, with a warning)
// or that library will not load (then the config's, with an error; the record is kept).
//
// The class's code, by concern: dispatcher.cpp (construction, the actor loop, flow control —
// pump(), around the scheduler (scheduler.h) that cuts each department's next batch — reports
// and failures, status), dispatcher_ledger.cpp (the pending batches, their commit by
// ledger_committer.h, parking), dispatcher_lifecycle.cpp (plugin start, reload, host lost or crashed,
// recorded decisions), dispatcher_commands.cpp (operators' commands and the operations that wait
// for a quiet department). The events come from the scheduler's chunk cache (chunk_cache.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "config/hub_config.h"
#include "delivery/ledger.h"
#include "delivery/ledger_committer.h"
#include "delivery/delivery_observer.h"
#include "delivery/department_state.h"
#include "delivery/operator_commands.h"
#include "delivery/scheduler.h"
#include "runtime/department_transport.h"

namespace hub::delivery {

class Dispatcher {
 public:
  // The transports that serve the departments' PAIRs (runtime/department_transport.h), owned
  // by the caller and outliving the dispatcher. `hosts` may be null when no department is
  // placed on a plugin host.
  struct Transports {
    runtime::DepartmentTransport* in_process = nullptr;
    runtime::DepartmentTransport* hosts = nullptr;
  };
  // The stores it uses, from the daemon's storage backend: the ledger (written by the
  // dispatcher thread only) and an opener of event readers (opened on the dispatcher thread).
  struct Stores {
    std::unique_ptr<Ledger> ledger;
    EventReaderOpener events;
  };
  // Binds every enabled department's PAIR and starts the transports (each in-process worker
  // loads its plugin). `observer` (may be null) is told what was committed and recorded.
  Dispatcher(zmq::context_t& context, const HubConfig& config, const std::string& control_endpoint,
             const std::string& notify_endpoint, const std::string& status_endpoint, std::uint64_t last_seq,
             Stores stores, Transports transports, DeliveryObserver* observer = nullptr);
  ~Dispatcher();
  // Serves until $TERM, then drains in-flight deliveries, stops the workers and joins them.
  void run();

 private:
  using Clock = std::chrono::steady_clock;

  // An admin request being carried out on one or more departments; answered when all are done.
  struct AdminOp {
    std::size_t outstanding = 0;
    nlohmann::json reply;
  };
  enum class OpKind { kNone, kRetry, kReload, kDisable };

  struct ParkedEntry {
    std::string household_id;
    std::uint32_t attempts = 0;
    std::string effective_on;  // waits for this date (YYYY-MM-DD); "" = failed, or behind one that did
  };

  struct Department {
    const PluginConfig* config = nullptr;
    zmq::socket_t pipe;
    DeliveryState state = DeliveryState::kStarting;  // department_state.h: every transition
    std::string plugin_version;
    std::uint32_t abi_version = 0;
    std::string host;               // the plugin host serving it ("" in process or none)
    std::string last_error;
    CursorState cursor;             // durable
    std::uint64_t sent_upto = 0;    // dispatched (>= cursor.seq)
    std::size_t in_flight = 0;
    std::uint64_t generation = 1;
    std::uint64_t failing_seq = 0;
    std::uint32_t attempts = 0;
    Clock::time_point retry_at{};
    std::string host_failure;       // the plugin host crashed; cleared when it delivers again
    std::uint64_t lost_upto = 0;    // the last seq sent to the instance (or host) that was lost
    LedgerBatch pending;            // results waiting for the next ledger commit
    bool has_pending = false;
    // Parked events (committed or pending), by household and by seq.
    std::unordered_map<std::string, std::set<std::uint64_t>> parked;
    std::map<std::uint64_t, ParkedEntry> parked_events;
    bool paused = false;            // disabled by an operator (durable: ledger plugin_state)
    PluginState lifecycle;          // the operators' recorded decisions (disabled, reloaded library)
    std::string start_library;      // the reloaded library to start with ("" = the config's)
    std::string library_error;      // why the reloaded library could not be loaded at start
    std::string library;            // the plugin library now loaded
    // The admin operation waiting for (or running on) this department.
    OpKind op = OpKind::kNone;
    std::shared_ptr<AdminOp> op_owner;
    bool op_started = false;
    std::string op_by;
    std::string op_library;          // reload: the new build
    std::string op_reason;           // disable: the operator's reason ("" = none given)
    std::deque<std::uint64_t> retry_queue;  // retry: parked seqs still to deliver, in order
    bool op_release = false;         // the retry is hubd's release on the effective date
    std::uint64_t retry_in_flight = 0;
    nlohmann::json op_result;
  };

  void pump_all();
  void pump(Department& d);
  void on_worker_message(Department& d);
  void on_host_lost(Department& d);
  void on_host_crashed(Department& d, const runtime::HostCrash& crash);
  // A failed attempt of `culprit`: recorded, then retried with backoff or, after max_attempts,
  // parked. The caller has already disowned what was sent after it.
  void count_failure(Department& d, std::uint64_t culprit, const std::string& reason);
  // The state as status and the plugins list show it.
  static std::string shown_state(const Department& d);
  void stop_workers();
  // False when the ledger could not be written, or, unless an operator asked (`operator_asked`:
  // a skip or a list is tried at once), while the pause after failed commits runs.
  bool commit_pending(bool operator_asked = false);
  // Whether the round's results should be written now (kCommitWait in dispatcher_ledger.cpp):
  // when no batch is in flight any more, or when the oldest result has waited long enough.
  // When not, `wake` is lowered to the moment it will be.
  bool commit_due(Clock::time_point now, std::chrono::milliseconds& wake);
  // The departments' batches that were not written: delivered again from each cursor once the
  // ledger's pause is over; the parked state read again from the ledger.
  void redeliver_after_pause(const std::vector<Department*>& owners);
  bool reread_cursors();  // from the ledger, after a commit whose outcome is unknown
  nlohmann::json status_json();
  // A frame on the status socket: "status", or an operator's command from the admin thread
  // (delivery/operator_commands.h), checked and parsed there (admin/operator_requests.h).
  void on_admin_request(const std::string& text);
  // Each command's answer, or null when it starts an operation answered by finish_op().
  nlohmann::json carry_out(const ParkedList& command);
  nlohmann::json carry_out(const ParkedRetry& command);
  nlohmann::json carry_out(const ParkedSkip& command);
  nlohmann::json carry_out(const PluginsList& command);
  nlohmann::json carry_out(const PluginReload& command);
  nlohmann::json carry_out(const PluginDisable& command);
  nlohmann::json carry_out(const PluginEnable& command);
  // The parked events each department would act on.
  using ParkedTargets = std::vector<std::pair<Department*, std::vector<std::uint64_t>>>;
  // Of each household, the parked events up to the first that still waits for its effective
  // date (none when the first one does: `waiting` counts those households' events).
  ParkedTargets parked_targets(const std::string& department, const std::string& household, std::uint64_t only_seq,
                               std::size_t* waiting = nullptr);
  std::vector<std::uint64_t> due_parked(const Department& d, const std::set<std::uint64_t>& household) const;
  Department& configured_department(const std::string& id);
  void start_plugin_op(Department& d, OpKind kind, const char* action, const std::string& by);
  void start_op(Department& d, OpKind kind, const std::shared_ptr<AdminOp>& owner, const std::string& by);
  void run_ops();
  void finish_op(Department& d, nlohmann::json result);
  void send_retry(Department& d);
  void on_retry_report(Department& d, std::unique_ptr<runtime::Report> report);
  void on_started(Department& d, std::unique_ptr<runtime::Started> started);
  void reply_admin(const nlohmann::json& reply);
  // Parking.
  const LoggedEvent& event_at(std::uint64_t seq);
  // Parked, to be parked behind a parked event, or waiting for its effective date (records it).
  bool held(Department& d, const LoggedEvent& e);
  void park(Department& d, const LoggedEvent& e, const std::string& reason, std::uint32_t attempts,
            std::uint64_t behind_seq, const std::string& effective_on = {});
  // Effective dates: the events whose date has come are released (an operation like a retry,
  // by "hubd"); the date is read at most once a second.
  void release_due();
  // The parked events that wait for an effective date (theirs, or that of the event they wait
  // behind): shown apart from the failed ones.
  std::size_t waiting_count(const Department& d) const;
  void unpark(Department& d, std::uint64_t seq);
  void load_parked();
  void apply_plugin_state(Department& d, const PluginState& state);  // at start-up
  nlohmann::json lifecycle_json(const Department& d) const;
  Department* find_department(const std::string& id);
  std::int64_t now_ms() const;

  const HubConfig& config_;
  zmq::socket_t control_;
  zmq::socket_t notify_;
  zmq::socket_t status_;
  Scheduler scheduler_;  // cuts each department's next batch from the log's chunks
  std::unique_ptr<Ledger> ledger_;
  bool log_unreadable_ = false;  // the last pump could not read the event log: retried at log_retry_at_
  Clock::time_point log_retry_at_{};
  bool cursors_stale_ = false;  // a commit's outcome was unknown and the cursors could not be read again
  // Ledger commits that failed in a row: the pause before the next try doubles with each, from
  // retry_initial_ms up to retry_max_ms, so that a storage outage costs a log line and a try
  // every retry_max_ms, not several lines a second.
  std::uint32_t ledger_failures_ = 0;
  // The end of that pause. Results that arrive before it (batches that were in flight when the
  // commit failed) are not written: they are delivered again after it, and the failures in a
  // row are not counted up by commits tried too early.
  Clock::time_point ledger_paused_until_{};
  std::unique_ptr<LedgerCommitter> committer_;  // writes the rounds' batches, tells the observer
  // When the oldest result not yet written arrived (unset while there is none).
  std::optional<Clock::time_point> pending_since_;
  std::vector<std::unique_ptr<Department>> departments_;
  std::uint64_t last_seq_ = 0;
  std::string today_;                  // the hub's local date (YYYY-MM-DD), for effective dates
  Clock::time_point today_read_at_{};  // when it was read
  bool draining_ = false;
  std::shared_ptr<AdminOp> admin_op_;  // the admin request not yet answered (the REP waits)
  std::optional<nlohmann::json> admin_reply_;  // its answer, sent once the ledger has it
  Transports transports_;
  bool in_process_started_ = false;
  bool hosts_started_ = false;
};

}  // namespace hub::delivery

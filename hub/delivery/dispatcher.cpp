#include "delivery/dispatcher.h"

#include "domain/notice.h"

#include <algorithm>
#include <filesystem>

#include <spdlog/spdlog.h>

namespace hub::delivery {

using namespace hub::runtime;  // the messages this thread exchanges with the transports

namespace {

constexpr auto kDrainTimeout = std::chrono::seconds(10);

// The inproc PAIR between the dispatcher and a department's worker (or the host link).
std::string pipe_endpoint(const PluginConfig& plugin) { return "inproc://worker-" + plugin.id; }

}  // namespace

Dispatcher::Dispatcher(zmq::context_t& context, const HubConfig& config, const std::string& control_endpoint,
                       const std::string& notify_endpoint, const std::string& status_endpoint,
                       std::uint64_t last_seq, Stores stores, Transports transports, DeliveryObserver* observer)
    : config_(config),
      control_(context, zmq::socket_type::pair),
      notify_(context, zmq::socket_type::pull),
      status_(context, zmq::socket_type::rep),
      scheduler_(std::move(stores.events), config.delivery_batch_events),
      last_seq_(last_seq),
      transports_(transports) {
  control_.connect(control_endpoint);
  notify_.bind(notify_endpoint);
  status_.bind(status_endpoint);
  ledger_ = std::move(stores.ledger);
  committer_ = std::make_unique<LedgerCommitter>(*ledger_, observer);
  const auto cursors = ledger_->load_cursors();
  const auto plugin_states = ledger_->load_plugin_states();
  std::vector<runtime::DepartmentPipe> hosted;
  std::vector<runtime::DepartmentPipe> in_process;
  for (const auto& plugin : config.plugins) {
    auto d = std::make_unique<Department>();
    d->config = &plugin;
    d->pipe = zmq::socket_t(context, zmq::socket_type::pair);
    if (auto it = cursors.find(plugin.id); it != cursors.end()) d->cursor = it->second;
    d->sent_upto = d->cursor.seq;
    d->pending.department = plugin.id;
    d->library = plugin.library;
    if (auto it = plugin_states.find(plugin.id); it != plugin_states.end()) apply_plugin_state(*d, it->second);
    if (!plugin.enabled) {
      d->state = next_state(d->state, DeliveryInput::kDisabledByConfig);
    } else {
      d->pipe.bind(pipe_endpoint(plugin));
      auto& served_by = plugin.placement == Placement::kHost ? hosted : in_process;
      served_by.push_back({&plugin, pipe_endpoint(plugin), d->start_library});
    }
    departments_.push_back(std::move(d));
  }
  load_parked();
  today_ = local_today();
  today_read_at_ = Clock::now();
  if (!hosted.empty()) {
    if (transports_.hosts == nullptr) throw std::logic_error("departments placed on a plugin host, and no host transport");
    transports_.hosts->start(std::move(hosted));  // throws when the endpoint is busy: nothing runs yet
    hosts_started_ = true;
  }
  if (!in_process.empty()) {
    if (transports_.in_process == nullptr) throw std::logic_error("departments placed in process, and no transport");
    transports_.in_process->start(std::move(in_process));
    in_process_started_ = true;
  }
}

Dispatcher::~Dispatcher() { stop_workers(); }

void Dispatcher::stop_workers() {
  for (auto& d : departments_) {
    if (d->config->enabled && (in_process_started_ || hosts_started_)) send_terminate(d->pipe);
    d->state = next_state(d->state, DeliveryInput::kStopping);
  }
  // Each transport's threads end once every department it serves was told.
  if (in_process_started_) transports_.in_process->join();
  if (hosts_started_) transports_.hosts->join();
  in_process_started_ = hosts_started_ = false;
  // Whatever a worker or the host link sent after the last read (e.g. a host that connected
  // during shutdown) owns memory: free it.
  for (auto& d : departments_) {
    if (!d->config->enabled) continue;
    while (d->pipe.get(zmq::sockopt::events) & ZMQ_POLLIN) {
      auto [tag, pointer] = receive_owned(d->pipe);
      discard_owned(tag, pointer);
    }
  }
}

std::int64_t Dispatcher::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Every department's pump, unless the event log cannot be read: then delivery pauses (each
// department keeps its cursor and what it has in flight) and tries again after retry_initial_ms,
// while hubd keeps running — a database server that restarts or fails over is not a reason to
// stop delivering for good.
void Dispatcher::pump_all() {
  if (log_unreadable_ && Clock::now() < log_retry_at_) return;
  try {
    for (auto& d : departments_) pump(*d);
    if (log_unreadable_) spdlog::info("delivery: the event log can be read again; delivering");
    log_unreadable_ = false;
  } catch (const StorageError& e) {
    if (!log_unreadable_)
      spdlog::error("delivery: cannot read the event log ({}); delivery waits and tries again every {} ms",
                    e.what(), config_.retry_initial_ms);
    log_unreadable_ = true;
    log_retry_at_ = Clock::now() + std::chrono::milliseconds(config_.retry_initial_ms);
  }
}

void Dispatcher::pump(Department& d) {
  if (draining_) return;
  if (d.state == DeliveryState::kRetrying && Clock::now() >= d.retry_at) {
    d.state = next_state(d.state, DeliveryInput::kBackoffOver);
    spdlog::info("delivery: retrying {} from seq {} (attempt {})", d.config->id, d.sent_upto + 1, d.attempts + 1);
  }
  if (d.state != DeliveryState::kRunning || d.paused || d.op != OpKind::kNone) return;
  const Scheduler::HeldBack held_back = [this, &d](const LoggedEvent& e) { return held(d, e); };
  while (d.in_flight < config_.max_in_flight_batches && d.sent_upto < last_seq_) {
    Scheduler::Cut cut = scheduler_.next(d.sent_upto, last_seq_, held_back, /*ask_each=*/!d.parked.empty());
    d.sent_upto = cut.upto;
    if (!cut.chunk) continue;  // held back: recorded as parked, stepped over
    auto request = std::make_unique<Request>();
    request->begin = cut.begin;
    request->end = cut.end;
    request->generation = d.generation;
    request->chunk = std::move(cut.chunk);
    send_owned(d.pipe, Tag::kRequest, std::move(request));
    ++d.in_flight;
  }
  // With nothing in flight every event up to sent_upto is handled or parked: the cursor may
  // pass parked events at the end of the log too.
  if (d.in_flight == 0 && d.sent_upto > std::max(d.cursor.seq, d.pending.new_cursor)) {
    d.pending.new_cursor = d.sent_upto;
    d.has_pending = true;
  }
}

void Dispatcher::on_worker_message(Department& d) {
  auto [tag, pointer] = receive_owned(d.pipe);
  if (tag == Tag::kStarted) {
    on_started(d, std::unique_ptr<Started>(static_cast<Started*>(pointer)));
    return;
  }
  if (tag == Tag::kHostLost) {
    on_host_lost(d);
    return;
  }
  if (tag == Tag::kHostCrashed) {
    on_host_crashed(d, *std::unique_ptr<HostCrash>(static_cast<HostCrash*>(pointer)));
    return;
  }
  if (tag != Tag::kReport) {
    discard_owned(tag, pointer);
    return;
  }
  std::unique_ptr<Report> report(static_cast<Report*>(pointer));
  --d.in_flight;
  if (d.retry_in_flight != 0) {
    on_retry_report(d, std::move(report));
    return;
  }
  if (report->generation != d.generation) return;  // disowned after a failure
  if (report->skipped) {
    // Not handled: the plugin, or the plugin host, is gone (the host link's notice may still
    // be on its way). Nothing after the last result may pass for done: pump() would otherwise
    // move the cursor over these events once nothing is in flight.
    d.lost_upto = std::max(d.lost_upto, d.sent_upto);
    ++d.generation;
    d.sent_upto = std::max(d.cursor.seq, d.pending.new_cursor);
    return;
  }

  if (!report->delivered.empty() || report->done_upto > d.pending.new_cursor) {
    for (auto& e : report->delivered) d.pending.delivered.push_back(std::move(e));
    d.pending.new_cursor = std::max(d.pending.new_cursor, report->done_upto);
    d.has_pending = true;
  }
  if (report->done_upto >= d.failing_seq && d.failing_seq != 0 && !report->failed) {
    d.failing_seq = 0;
    d.attempts = 0;
    d.last_error.clear();
  }
  if (report->failed) {
    const std::uint64_t culprit = report->culprit_seq != 0 ? report->culprit_seq : report->failed_seq;
    d.pending.new_cursor = std::max(d.pending.new_cursor, report->failed_seq - 1);
    d.has_pending = true;
    ++d.generation;  // disown requests already sent after the failed event
    d.sent_upto = report->failed_seq - 1;
    count_failure(d, culprit, report->failure);
  } else {
    d.host_failure.clear();  // delivering again
  }
}

void Dispatcher::count_failure(Department& d, std::uint64_t culprit, const std::string& reason) {
  if (d.failing_seq != culprit) {
    d.failing_seq = culprit;
    d.attempts = 0;
  }
  ++d.attempts;
  d.pending.failures.push_back(FailureRecord{culprit, d.attempts, reason});
  d.has_pending = true;
  if (d.attempts >= static_cast<std::uint32_t>(d.config->max_attempts)) {
    // Parked: recorded with its reason, stepped over by pump(); its household waits behind it.
    const LoggedEvent& e = event_at(culprit);
    park(d, e, reason, d.attempts, 0);
    spdlog::error("delivery: {} parked seq {} (household {}) after {} attempts: {}", d.config->id, culprit,
                  e.household_id, d.attempts, reason);
    d.last_error = "parked seq " + std::to_string(culprit) + " after " + std::to_string(d.attempts) +
                   " attempts: " + reason;
    d.failing_seq = 0;
    d.attempts = 0;
    d.state = next_state(d.state, DeliveryInput::kParked);
    return;
  }
  d.last_error = reason;
  const std::int64_t backoff = std::min<std::int64_t>(
      d.config->retry_max_ms, d.config->retry_initial_ms << std::min<std::uint32_t>(d.attempts - 1, 20));
  // A department waiting for its plugin host stays so; on_started() honours retry_at.
  d.state = next_state(d.state, DeliveryInput::kFailed);
  d.retry_at = Clock::now() + std::chrono::milliseconds(backoff);
  spdlog::warn("delivery: {} failed on seq {} (attempt {} of {}): {}; retrying in {} ms", d.config->id, culprit,
               d.attempts, d.config->max_attempts, reason, backoff);
}

std::string Dispatcher::shown_state(const Department& d) {
  return std::string(delivery::shown_state(d.state, d.paused, !d.host_failure.empty()));
}

nlohmann::json Dispatcher::status_json() {
  nlohmann::json departments = nlohmann::json::array();
  for (auto& d : departments_) {
    const std::uint64_t lag = last_seq_ > d->cursor.seq ? last_seq_ - d->cursor.seq : 0;
    std::int64_t oldest_ms = 0;
    if (lag > 0) {
      try {
        const std::int64_t at = scheduler_.received_at(d->cursor.seq + 1);
        if (at > 0) oldest_ms = std::max<std::int64_t>(0, now_ms() - at);
      } catch (const StorageError&) {
        // The log cannot be read right now (pump_all() says so in the log): the age is unknown, 0.
      }
    }
    departments.push_back({{"id", d->config->id},
                           {"placement", d->config->placement == Placement::kHost ? "host" : "in_process"},
                           {"host", d->host},
                           {"name_zh", d->config->catalogue.name_zh()},
                           {"name_en", d->config->catalogue.name_en()},
                           {"state", shown_state(*d)},
                           {"connector", hub::sdk::to_string(d->config->connector.type)},
                           {"plugin_version", d->plugin_version},
                           {"abi_version", d->abi_version},
                           {"cursor", d->cursor.seq},
                           {"lag", lag},
                           {"oldest_undelivered_ms", oldest_ms},
                           {"delivered", d->cursor.delivered},
                           {"failed", d->cursor.failed},
                           {"parked", d->parked_events.size() - waiting_count(*d)},
                           {"waiting_effective", waiting_count(*d)},
                           {"attempts", d->attempts},
                           {"last_delivery_at_ms", d->cursor.last_delivery_at_ms},
                           {"last_error", d->last_error}});
  }
  return {{"ok", true}, {"last_seq", last_seq_}, {"departments", std::move(departments)}};
}

void Dispatcher::run() {
  const auto drain_started = std::make_shared<Clock::time_point>();
  for (;;) {
    std::vector<zmq::pollitem_t> items{{control_.handle(), 0, ZMQ_POLLIN, 0},
                                       {notify_.handle(), 0, ZMQ_POLLIN, 0},
                                       {status_.handle(), 0, static_cast<short>(admin_op_ ? 0 : ZMQ_POLLIN), 0}};
    for (auto& d : departments_) items.push_back({d->pipe.handle(), 0, ZMQ_POLLIN, 0});

    // Wake for the earliest retry, and for the results that wait for the rest of their round.
    auto timeout = std::chrono::milliseconds(200);
    const auto now = Clock::now();
    for (auto& d : departments_)
      if (d->state == DeliveryState::kRetrying)
        timeout = std::min(timeout, std::max(std::chrono::milliseconds(0),
                                             std::chrono::duration_cast<std::chrono::milliseconds>(d->retry_at - now)));
    if (commit_due(now, timeout)) timeout = std::chrono::milliseconds(0);
    zmq::poll(items, timeout);
    release_due();  // the events whose effective date has come (at most one check a second)

    if (items[0].revents & ZMQ_POLLIN) {
      zmq::message_t msg;
      (void)control_.recv(msg);
      draining_ = true;
      *drain_started = Clock::now();
      spdlog::info("delivery: stopping; draining in-flight deliveries");
    }
    while (true) {
      zmq::message_t msg;
      if (!notify_.recv(msg, zmq::recv_flags::dontwait)) break;
      std::uint64_t seq = 0;
      if (msg.size() == sizeof seq) std::memcpy(&seq, msg.data(), sizeof seq);
      last_seq_ = std::max(last_seq_, seq);
    }
    committer_->committed_upto(last_seq_);
    if ((items[2].revents & ZMQ_POLLIN) && !admin_op_) {  // the REP answers one request at a time
      zmq::message_t msg;
      (void)status_.recv(msg);
      on_admin_request(msg.to_string());
    }
    for (std::size_t i = 0; i < departments_.size(); ++i) {
      auto& d = *departments_[i];
      while (d.pipe.get(zmq::sockopt::events) & ZMQ_POLLIN) on_worker_message(d);
    }
    if (std::chrono::milliseconds wake{0}; commit_due(Clock::now(), wake)) commit_pending();
    if (admin_reply_) {
      reply_admin(*admin_reply_);
      admin_reply_.reset();
      admin_op_.reset();
    }
    run_ops();
    pump_all();

    if (draining_) {
      std::size_t in_flight = 0;
      for (auto& d : departments_) in_flight += d->in_flight;
      if (in_flight == 0) break;
      if (Clock::now() - *drain_started > kDrainTimeout) {
        // Results that arrive later are not recorded: those events are delivered again after
        // the restart (at least once to the plugin, once in the ledger).
        spdlog::warn("delivery: drain timed out after {} s with {} batches in flight", kDrainTimeout.count(), in_flight);
        break;
      }
    }
  }
  if (admin_op_) {
    admin_op_.reset();
    reply_admin({{"ok", false}, {"error", {{"code", "stopping"}, {"message", "hubd is stopping; try again after it restarts"}}}});
  }
  stop_workers();
  spdlog::info("delivery: stopped");
}

Dispatcher::Department* Dispatcher::find_department(const std::string& id) {
  for (auto& d : departments_)
    if (d->config->id == id) return d.get();
  return nullptr;
}

}  // namespace hub::delivery

#include "delivery/dispatcher.h"

#include <algorithm>
#include <ctime>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "domain/status_json.h"
#include "domain/wire_event.h"
#include "runtime/subscription.h"

namespace hub::delivery {

using namespace hub::runtime;  // the messages this thread exchanges with the transports

namespace {

constexpr std::size_t kMaxCachedChunks = 48;
constexpr auto kDrainTimeout = std::chrono::seconds(10);

// The inproc PAIR between the dispatcher and a department's worker (or the host link).
std::string pipe_endpoint(const PluginConfig& plugin) { return "inproc://worker-" + plugin.id; }

// "2026-11-30T08:00:00Z" for log lines.
std::string utc_time(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace

Dispatcher::Dispatcher(zmq::context_t& context, const HubConfig& config, const std::string& control_endpoint,
                       const std::string& notify_endpoint, const std::string& status_endpoint,
                       std::uint64_t last_seq, Transports transports, DeliveryObserver* observer)
    : config_(config),
      control_(context, zmq::socket_type::pair),
      notify_(context, zmq::socket_type::pull),
      status_(context, zmq::socket_type::rep),
      events_path_((std::filesystem::path(config.data_dir) / "events.db").string()),
      last_seq_(last_seq),
      transports_(transports),
      observer_(observer) {
  control_.connect(control_endpoint);
  notify_.bind(notify_endpoint);
  status_.bind(status_endpoint);
  ledger_ = std::make_unique<Ledger>((std::filesystem::path(config.data_dir) / "ledger.db").string());
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

std::shared_ptr<const EventChunk> Dispatcher::chunk(std::uint64_t index) {
  const std::uint64_t first = index * kChunkEvents + 1;
  const std::uint64_t last = std::min(first + kChunkEvents - 1, last_seq_);
  for (auto it = chunks_.begin(); it != chunks_.end(); ++it) {
    if (it->first != index) continue;
    const auto& c = it->second;
    if (c->first_seq + c->events.size() - 1 >= last) {
      chunks_.splice(chunks_.begin(), chunks_, it);  // most recently used first
      return c;
    }
    chunks_.erase(it);  // a partial chunk that has grown since: read it again
    break;
  }
  if (!reader_) reader_ = std::make_unique<EventReader>(events_path_);
  auto c = std::make_shared<EventChunk>();
  c->first_seq = first;
  c->events = reader_->read(first, last);
  if (c->events.empty() || c->events.front().seq != first || c->events.back().seq != last)
    throw std::runtime_error("event log is missing events " + std::to_string(first) + ".." + std::to_string(last));
  chunks_.emplace_front(index, c);
  if (chunks_.size() > kMaxCachedChunks) chunks_.pop_back();
  return c;
}

void Dispatcher::pump(Department& d) {
  if (draining_) return;
  if (d.state == DeliveryState::kRetrying && Clock::now() >= d.retry_at) {
    d.state = next_state(d.state, DeliveryInput::kBackoffOver);
    spdlog::info("delivery: retrying {} from seq {} (attempt {})", d.config->id, d.sent_upto + 1, d.attempts + 1);
  }
  if (d.state != DeliveryState::kRunning || d.paused || d.op != OpKind::kNone) return;
  while (d.in_flight < config_.max_in_flight_batches && d.sent_upto < last_seq_) {
    const std::uint64_t from = d.sent_upto + 1;
    auto c = chunk((from - 1) / kChunkEvents);
    auto request = std::make_unique<Request>();
    request->begin = from - c->first_seq;
    request->end = std::min<std::size_t>(request->begin + config_.delivery_batch_events, c->events.size());
    if (!d.parked.empty()) {
      // Events of parked households wait behind their parked event: the batch stops before
      // the first one, which is recorded as parked and stepped over.
      std::size_t i = request->begin;
      while (i < request->end && !held(d, c->events[i])) ++i;
      if (i == request->begin) {
        d.sent_upto = c->events[i].seq;
        continue;
      }
      request->end = i;
    }
    request->generation = d.generation;
    d.sent_upto = c->first_seq + request->end - 1;
    request->chunk = std::move(c);
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

void Dispatcher::on_started(Department& d, std::unique_ptr<Started> started) {
  {
    if (!started->reload || !started->host.empty()) d.host = started->host;  // the link's own reload answers name none
    if (started->reload) {
      const std::string old_version = d.plugin_version;
      if (started->ok) {
        d.plugin_version = started->info.version;
        d.abi_version = started->info.abi_version;
        d.pending.plugin_version = d.plugin_version;
        d.library = started->library;
        d.library_error.clear();
        d.last_error.clear();
        d.state = next_state(d.state, DeliveryInput::kReloaded);
        if (d.state == DeliveryState::kRetrying) d.retry_at = Clock::now();  // try the failing event again at once
        spdlog::info("delivery: plugin {} reloaded: {} -> {} ({})", d.config->id, old_version, d.plugin_version,
                     d.library);
        const std::int64_t at = now_ms();
        if (d.config->placement == Placement::kHost) {
          // Nothing to record: a plugin host always starts the library its own configuration names.
          finish_op(d, {{"ok", true}, {"previous_version", old_version}, {"plugin_version", d.plugin_version},
                        {"library", d.library}, {"reloaded_at_ms", at}});
          return;
        }
        // Durable before the reply says ok: after a restart hubd starts with this build.
        try {
          ledger_->record_reload(d.config->id, d.library, d.plugin_version, d.config->library, d.op_by, at);
        } catch (const store::SqliteError& e) {
          spdlog::error("delivery: the reload of {} could not be recorded ({}); {} runs until hubd restarts", d.config->id,
                        e.what(), d.library);
          finish_op(d, {{"ok", false},
                        {"error",
                         {{"code", "storage_unavailable"},
                          {"message", "the new build " + d.plugin_version + " is running, but the ledger could not record "
                                      "the reload: after a restart of hubd the previous choice applies (" + e.what() + ")"}}},
                        {"previous_version", old_version},
                        {"plugin_version", d.plugin_version},
                        {"library", d.library}});
          return;
        }
        d.lifecycle.library = d.library;
        d.lifecycle.library_version = d.plugin_version;
        d.lifecycle.config_library = d.config->library;
        d.lifecycle.reloaded_by = d.op_by;
        d.lifecycle.reloaded_at_ms = at;
        finish_op(d, {{"ok", true}, {"previous_version", old_version}, {"plugin_version", d.plugin_version},
                      {"library", d.library}, {"reloaded_at_ms", at}});
      } else {
        spdlog::error("delivery: reload of plugin {} refused: {}: {}{}", d.config->id, started->error_code,
                      started->error, started->keeps_running ? " (the previous build keeps running)" : "");
        if (!started->keeps_running) {
          d.state = next_state(d.state, DeliveryInput::kReloadRefusedDown);
          d.last_error = started->error_code + ": " + started->error;
        }
        finish_op(d, {{"ok", false},
                      {"error", {{"code", started->error_code}, {"message", started->error}}},
                      {"previous_build_running", started->keeps_running},
                      {"plugin_version", d.plugin_version}});
      }
      return;
    }
    if (!started->fallback_error.empty()) {
      // The library of the recorded reload is missing or refused: the config's runs instead
      // (the record is kept: the next start tries it again; a reload replaces it).
      d.library_error = started->fallback_error;
      spdlog::error("delivery: plugin {}: the library {} chosen by the reload of {} could not be loaded: {}; "
                    "falling back to the configuration's {}",
                    d.config->id, d.start_library, d.lifecycle.reloaded_by, started->fallback_error, d.config->library);
    }
    if (started->ok) {
      d.lost_upto = 0;  // a new instance: nothing sent to it yet
      if (!started->library.empty()) d.library = started->library;
      // A plugin host back after a failure waits out the retry backoff first.
      const bool in_backoff = d.failing_seq != 0 && Clock::now() < d.retry_at;
      d.state = next_state(d.state, in_backoff ? DeliveryInput::kStartedInBackoff : DeliveryInput::kStarted);
      d.plugin_version = started->info.version;
      d.abi_version = started->info.abi_version;
      d.pending.plugin_version = d.plugin_version;
      spdlog::info("delivery: plugin {} {} started (ABI {}){}, cursor {}", d.config->id, d.plugin_version,
                   d.abi_version, d.host.empty() ? "" : " on plugin host '" + d.host + "'", d.cursor.seq);
    } else {
      // Refused at start, or a running plugin that hung too often: nothing more goes to it
      // until it is reloaded. What was sent is disowned; delivery resumes from the cursor.
      const bool was_running = d.state != DeliveryState::kStarting;
      d.state = next_state(d.state, DeliveryInput::kStartRefused);
      d.last_error = started->error_code + ": " + started->error;
      if (!started->fallback_error.empty())
        d.last_error = "reloaded library " + d.start_library + ": " + started->fallback_error +
                       "; configuration's library: " + d.last_error;
      ++d.generation;
      d.sent_upto = std::max(d.cursor.seq, d.pending.new_cursor);
      spdlog::error("delivery: plugin {} {}: {}", d.config->id, was_running ? "stopped" : "refused", d.last_error);
    }
  }
}

void Dispatcher::on_host_lost(Department& d) {
  // Like a failure without a failed event: disown what was sent (the host link answers those
  // requests with skipped reports) and resume after the last event whose result arrived.
  ++d.generation;
  if (d.state != DeliveryState::kWaitingForHost) d.lost_upto = std::max(d.lost_upto, d.sent_upto);
  d.sent_upto = std::max(d.cursor.seq, d.pending.new_cursor);
  if (d.state != DeliveryState::kWaitingForHost)
    spdlog::warn("delivery: {} has no plugin host; waiting for one (resumes after seq {})", d.config->id, d.sent_upto);
  d.state = next_state(d.state, DeliveryInput::kHostLost);
  d.host.clear();
  auto rewound = std::make_unique<Rewound>();
  rewound->generation = d.generation;
  send_owned(d.pipe, Tag::kRewound, std::move(rewound));
}

void Dispatcher::on_host_crashed(Department& d, const HostCrash& crash) {
  d.host_failure = crash.reason;
  d.last_error = crash.reason;
  // Only an event that was sent to the lost host and has no result yet can be blamed.
  const std::uint64_t resume = std::max(d.cursor.seq, d.pending.new_cursor);
  if (crash.seq == 0) return;
  if (crash.seq <= resume || crash.seq > d.lost_upto || crash.seq > last_seq_) {
    spdlog::warn("delivery: {}: the restarted plugin host blames seq {}, which was not in flight ({}..{}); not counted",
                 d.config->id, crash.seq, resume + 1, d.lost_upto);
    return;
  }
  count_failure(d, crash.seq, crash.reason);
}

std::string Dispatcher::shown_state(const Department& d) {
  return std::string(delivery::shown_state(d.state, d.paused, !d.host_failure.empty()));
}

bool Dispatcher::commit_pending() {
  std::vector<LedgerBatch> batches;
  std::vector<Department*> owners;
  for (auto& d : departments_) {
    if (!d->has_pending) continue;
    if (d->pending.new_cursor < d->cursor.seq) d->pending.new_cursor = d->cursor.seq;
    batches.push_back(std::move(d->pending));
    owners.push_back(d.get());
    d->pending = LedgerBatch{};
    d->pending.department = d->config->id;
    d->pending.plugin_version = d->plugin_version;
    d->has_pending = false;
  }
  if (batches.empty()) return true;
  const std::int64_t now = now_ms();
  try {
    ledger_->commit(batches, now);
  } catch (const store::SqliteError& e) {
    // Nothing was recorded: deliver these events again from each cursor after a pause (the
    // plugins see them twice; their idempotency keys are unchanged).
    spdlog::error("delivery: cannot write the ledger ({}); redelivering from the cursors", e.what());
    for (Department* d : owners) {
      ++d->generation;
      d->sent_upto = d->cursor.seq;
      if (d->state == DeliveryState::kRunning || d->state == DeliveryState::kRetrying) {
        d->state = next_state(d->state, DeliveryInput::kLedgerWriteFailed);
        d->retry_at = Clock::now() + std::chrono::milliseconds(config_.retry_initial_ms);
      }
    }
    // Parked events, retries and skips of those batches were not recorded either: the parked
    // state is what the ledger says (events parked again are found again by pump()).
    try {
      load_parked();
    } catch (const store::SqliteError& e2) {
      spdlog::error("delivery: cannot read the parked events ({})", e2.what());
    }
    return false;
  }
  if (observer_ != nullptr) tell_observer(batches, now);
  for (const LedgerBatch& b : batches) {
    for (Department* d : owners) {
      if (d->config->id != b.department) continue;
      d->cursor.seq = b.new_cursor;
      d->cursor.delivered += b.delivered.size();
      d->cursor.failed += b.failures.size();
      if (!b.delivered.empty()) d->cursor.last_delivery_at_ms = now;
    }
  }
  return true;
}

void Dispatcher::tell_observer(const std::vector<LedgerBatch>& batches, std::int64_t at_ms) {
  std::vector<RecordedOutcome> outcomes;
  for (const LedgerBatch& b : batches) {
    if (b.delivered.empty() && b.failures.empty()) continue;
    RecordedOutcome& o = outcomes.emplace_back();
    o.department = b.department;
    o.delivered.reserve(b.delivered.size());
    for (const auto& delivered : b.delivered) {
      auto& out = o.delivered.emplace_back();
      out.seq = delivered.seq;
      for (const auto& a : delivered.actions) ++out.actions[std::string(hub::sdk::to_string(a.action))];
    }
    for (const auto& f : b.failures) o.failures.push_back({f.seq, f.attempt});
  }
  observer_->recorded(outcomes, at_ms);
}

nlohmann::json Dispatcher::status_json() {
  nlohmann::json departments = nlohmann::json::array();
  for (auto& d : departments_) {
    const std::uint64_t lag = last_seq_ > d->cursor.seq ? last_seq_ - d->cursor.seq : 0;
    std::int64_t oldest_ms = 0;
    if (lag > 0) {
      if (!reader_) reader_ = std::make_unique<EventReader>(events_path_);
      const std::int64_t at = reader_->received_at(d->cursor.seq + 1);
      if (at > 0) oldest_ms = std::max<std::int64_t>(0, now_ms() - at);
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
                           {"parked", d->parked_events.size()},
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

    // Wake for the earliest retry.
    auto timeout = std::chrono::milliseconds(200);
    const auto now = Clock::now();
    for (auto& d : departments_)
      if (d->state == DeliveryState::kRetrying)
        timeout = std::min(timeout, std::max(std::chrono::milliseconds(0),
                                             std::chrono::duration_cast<std::chrono::milliseconds>(d->retry_at - now)));
    zmq::poll(items, timeout);

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
    if (observer_ != nullptr) observer_->committed(last_seq_);
    if ((items[2].revents & ZMQ_POLLIN) && !admin_op_) {  // the REP answers one request at a time
      zmq::message_t msg;
      (void)status_.recv(msg);
      on_admin_request(msg.to_string());
    }
    for (std::size_t i = 0; i < departments_.size(); ++i) {
      auto& d = *departments_[i];
      while (d.pipe.get(zmq::sockopt::events) & ZMQ_POLLIN) on_worker_message(d);
    }
    commit_pending();
    if (admin_reply_) {
      reply_admin(*admin_reply_);
      admin_reply_.reset();
      admin_op_.reset();
    }
    run_ops();
    for (auto& d : departments_) pump(*d);

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

// --- parking ----------------------------------------------------------------------------

const LoggedEvent& Dispatcher::event_at(std::uint64_t seq) {
  auto c = chunk((seq - 1) / kChunkEvents);
  const LoggedEvent& e = c->events.at(seq - c->first_seq);
  return e;  // the chunk stays cached (most recently used) while the caller uses it
}

bool Dispatcher::held(Department& d, const LoggedEvent& e) {
  auto it = d.parked.find(e.household_id);
  if (it == d.parked.end() || it->second.empty()) return false;
  if (it->second.count(e.seq) != 0) return true;  // parked already
  const std::uint64_t head = *it->second.begin();
  if (head > e.seq || !subscribed(*d.config, e)) return false;
  park(d, e, "waiting behind parked seq " + std::to_string(head) + " of the same household", 0, head);
  return true;
}

void Dispatcher::park(Department& d, const LoggedEvent& e, const std::string& reason, std::uint32_t attempts,
                      std::uint64_t behind_seq) {
  d.pending.parked.push_back(ParkedRecord{e.seq, e.household_id, e.event_id, reason, attempts, behind_seq});
  d.has_pending = true;
  d.parked[e.household_id].insert(e.seq);
  d.parked_events[e.seq] = ParkedEntry{e.household_id, attempts};
}

void Dispatcher::unpark(Department& d, std::uint64_t seq) {
  auto it = d.parked_events.find(seq);
  if (it == d.parked_events.end()) return;
  auto h = d.parked.find(it->second.household_id);
  if (h != d.parked.end()) {
    h->second.erase(seq);
    if (h->second.empty()) d.parked.erase(h);
  }
  d.parked_events.erase(it);
}

void Dispatcher::load_parked() {
  for (auto& d : departments_) {
    d->parked.clear();
    d->parked_events.clear();
  }
  for (const ParkedRow& row : ledger_->load_parked()) {
    Department* d = find_department(row.department);
    if (d == nullptr) continue;  // a department no longer configured: kept in the file, shown by list
    d->parked[row.household_id].insert(row.seq);
    d->parked_events[row.seq] = ParkedEntry{row.household_id, row.attempts};
  }
}

void Dispatcher::apply_plugin_state(Department& d, const PluginState& state) {
  const PluginConfig& plugin = *d.config;
  d.lifecycle = state;
  if (state.disabled && plugin.enabled) {
    d.paused = true;  // loaded, but nothing is delivered until an operator enables it
    spdlog::warn("delivery: {} stays disabled (by {} since {}{}); its lag grows until: hubctl plugins enable {}",
                 plugin.id, state.disabled_by, utc_time(state.disabled_at_ms),
                 state.disabled_reason.empty() ? "" : ": " + state.disabled_reason, plugin.id);
  }
  if (state.library.empty() || !plugin.enabled) return;
  if (plugin.placement == Placement::kHost) {
    spdlog::warn("delivery: {} runs on a plugin host: the library {} of its reload by {} is not used here (the host "
                 "loads its own)",
                 plugin.id, state.library, state.reloaded_by);
    return;
  }
  if (state.config_library != plugin.library) {
    // The operator edited the configuration after the reload: the configuration wins.
    spdlog::warn("delivery: {}: the configuration's library is now {} (it was {} when {} reloaded {}); loading the "
                 "configuration's {}, not the reloaded {}",
                 plugin.id, plugin.library, state.config_library, state.reloaded_by, state.library, plugin.library,
                 state.library);
    try {
      ledger_->forget_reload(plugin.id,
                             "the configuration's library changed from " + state.config_library + " to " +
                                 plugin.library + " after the reload to " + state.library,
                             now_ms());
    } catch (const store::SqliteError& e) {
      spdlog::error("delivery: cannot record that {}'s reload no longer applies ({}); it is ignored again at the next "
                    "start",
                    plugin.id, e.what());
    }
    d.lifecycle.library.clear();
    d.lifecycle.library_version.clear();
    d.lifecycle.config_library.clear();
    d.lifecycle.reloaded_by.clear();
    d.lifecycle.reloaded_at_ms = 0;
    return;
  }
  if (state.library == plugin.library) return;  // the configuration's file, reloaded (e.g. rebuilt in place)
  d.start_library = state.library;
  spdlog::info("delivery: {} starts with {} (reloaded by {}), not the configuration's {}", plugin.id, state.library,
               state.reloaded_by, plugin.library);
}

Dispatcher::Department* Dispatcher::find_department(const std::string& id) {
  for (auto& d : departments_)
    if (d->config->id == id) return d.get();
  return nullptr;
}

}  // namespace hub::delivery

#include "delivery/dispatcher.h"

#include <algorithm>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "delivery/plugin_worker.h"
#include "pluginhost/host_link.h"

namespace hub::delivery {
namespace {

constexpr std::uint64_t kChunkEvents = 1024;
constexpr std::size_t kMaxCachedChunks = 48;
constexpr auto kDrainTimeout = std::chrono::seconds(10);

// The inproc PAIR between the dispatcher and a department's worker (or the host link).
std::string pipe_endpoint(const PluginConfig& plugin) { return "inproc://worker-" + plugin.id; }

}  // namespace

Dispatcher::Dispatcher(zmq::context_t& context, const HubConfig& config, const std::string& control_endpoint,
                       const std::string& notify_endpoint, const std::string& status_endpoint,
                       std::uint64_t last_seq, const std::string& live_feed_endpoint)
    : context_(context),
      config_(config),
      control_(context, zmq::socket_type::pair),
      notify_(context, zmq::socket_type::pull),
      status_(context, zmq::socket_type::rep),
      events_path_((std::filesystem::path(config.data_dir) / "events.db").string()),
      last_seq_(last_seq) {
  control_.connect(control_endpoint);
  notify_.bind(notify_endpoint);
  status_.bind(status_endpoint);
  if (!live_feed_endpoint.empty()) feed_ = livefeed::FeedNotifier(context, live_feed_endpoint);
  ledger_ = std::make_unique<Ledger>((std::filesystem::path(config.data_dir) / "ledger.db").string());
  const auto cursors = ledger_->load_cursors();
  std::vector<pluginhost::HostedDepartment> hosted;
  for (const auto& plugin : config.plugins) {
    auto d = std::make_unique<Department>();
    d->config = &plugin;
    d->pipe = zmq::socket_t(context, zmq::socket_type::pair);
    if (auto it = cursors.find(plugin.id); it != cursors.end()) d->cursor = it->second;
    d->sent_upto = d->cursor.seq;
    d->pending.department = plugin.id;
    if (!plugin.enabled) {
      d->state = State::kDisabled;
    } else {
      d->pipe.bind(pipe_endpoint(plugin));
      if (plugin.placement == Placement::kHost) hosted.push_back({&plugin, pipe_endpoint(plugin)});
    }
    departments_.push_back(std::move(d));
  }
  if (!hosted.empty()) {
    // Bound before any thread starts, so that a busy endpoint stops hubd's start-up with a
    // clear error (the constructor throws; nothing is left running).
    auto link = std::make_shared<pluginhost::HostLink>(context, config, std::move(hosted));
    plugin_host_endpoint_ = link->bound_endpoint();
    host_link_thread_ = std::thread([link] { link->run(); });
  }
  for (auto& d : departments_) {
    if (!d->config->enabled || d->config->placement == Placement::kHost) continue;
    d->thread = std::thread([&context, pc = d->config, dir = config.data_dir, endpoint = pipe_endpoint(*d->config)] {
      PluginWorker(context, *pc, dir, endpoint).run();
    });
  }
}

Dispatcher::~Dispatcher() { stop_workers(); }

void Dispatcher::stop_workers() {
  const bool host_link_running = host_link_thread_.joinable();
  for (auto& d : departments_) {
    if (d->thread.joinable()) {
      send_terminate(d->pipe);
      d->thread.join();
    } else if (host_link_running && d->config->placement == Placement::kHost && d->config->enabled) {
      send_terminate(d->pipe);  // the host link stops once every hosted department is told
    }
    if (d->state == State::kRunning || d->state == State::kRetrying || d->state == State::kWaitingForHost)
      d->state = State::kStopped;
  }
  if (host_link_running) host_link_thread_.join();
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

std::string Dispatcher::state_name(State s) {
  switch (s) {
    case State::kStarting: return "starting";
    case State::kRunning: return "running";
    case State::kRetrying: return "retrying";
    case State::kRefused: return "refused";
    case State::kDisabled: return "disabled";
    case State::kStopped: return "stopped";
    case State::kWaitingForHost: return "waiting_for_host";
  }
  return "unknown";
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
  if (d.state == State::kRetrying && Clock::now() >= d.retry_at) {
    d.state = State::kRunning;
    spdlog::info("delivery: retrying {} from seq {} (attempt {})", d.config->id, d.sent_upto + 1, d.attempts + 1);
  }
  if (d.state != State::kRunning) return;
  while (d.in_flight < config_.max_in_flight_batches && d.sent_upto < last_seq_) {
    const std::uint64_t from = d.sent_upto + 1;
    auto c = chunk((from - 1) / kChunkEvents);
    auto request = std::make_unique<Request>();
    request->begin = from - c->first_seq;
    request->end = std::min<std::size_t>(request->begin + config_.delivery_batch_events, c->events.size());
    request->generation = d.generation;
    d.sent_upto = c->first_seq + request->end - 1;
    request->chunk = std::move(c);
    send_owned(d.pipe, Tag::kRequest, std::move(request));
    ++d.in_flight;
  }
}

void Dispatcher::on_worker_message(Department& d) {
  auto [tag, pointer] = receive_owned(d.pipe);
  if (tag == Tag::kStarted) {
    std::unique_ptr<Started> started(static_cast<Started*>(pointer));
    d.host = started->host;
    if (started->ok) {
      d.state = State::kRunning;
      d.plugin_version = started->info.version;
      d.abi_version = started->info.abi_version;
      d.pending.plugin_version = d.plugin_version;
      spdlog::info("delivery: plugin {} {} started (ABI {}){}, cursor {}", d.config->id, d.plugin_version,
                   d.abi_version, d.host.empty() ? "" : " on plugin host '" + d.host + "'", d.cursor.seq);
    } else {
      d.state = State::kRefused;
      d.last_error = started->error_code + ": " + started->error;
      spdlog::error("delivery: plugin {} refused: {}", d.config->id, d.last_error);
    }
    return;
  }
  if (tag == Tag::kHostLost) {
    on_host_lost(d);
    return;
  }
  if (tag != Tag::kReport) {
    discard_owned(tag, pointer);
    return;
  }
  std::unique_ptr<Report> report(static_cast<Report*>(pointer));
  --d.in_flight;
  if (report->skipped || report->generation != d.generation) return;  // disowned after a failure

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
    if (d.failing_seq != report->failed_seq) {
      d.failing_seq = report->failed_seq;
      d.attempts = 0;
    }
    ++d.attempts;
    d.pending.failures.push_back(FailureRecord{report->failed_seq, d.attempts, report->failure});
    d.pending.new_cursor = std::max(d.pending.new_cursor, report->failed_seq - 1);
    d.has_pending = true;
    d.last_error = report->failure;
    const std::int64_t backoff = std::min<std::int64_t>(
        config_.retry_max_ms, config_.retry_initial_ms << std::min<std::uint32_t>(d.attempts - 1, 20));
    d.state = State::kRetrying;
    d.retry_at = Clock::now() + std::chrono::milliseconds(backoff);
    ++d.generation;  // disown requests already sent after the failed event
    d.sent_upto = report->failed_seq - 1;
    spdlog::warn("delivery: {} failed on seq {} (attempt {}): {}; retrying in {} ms", d.config->id,
                 report->failed_seq, d.attempts, report->failure, backoff);
  }
}

void Dispatcher::on_host_lost(Department& d) {
  // Like a failure without a failed event: disown what was sent (the host link answers those
  // requests with skipped reports) and resume after the last event whose result arrived.
  ++d.generation;
  d.sent_upto = std::max(d.cursor.seq, d.pending.new_cursor);
  if (d.state != State::kWaitingForHost)
    spdlog::warn("delivery: {} has no plugin host; waiting for one (resumes after seq {})", d.config->id, d.sent_upto);
  d.state = State::kWaitingForHost;
  d.host.clear();
  auto rewound = std::make_unique<Rewound>();
  rewound->generation = d.generation;
  send_owned(d.pipe, Tag::kRewound, std::move(rewound));
}

void Dispatcher::commit_pending() {
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
  if (batches.empty()) return;
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
      if (d->state == State::kRunning || d->state == State::kRetrying) {
        d->state = State::kRetrying;
        d->retry_at = Clock::now() + std::chrono::milliseconds(config_.retry_initial_ms);
      }
    }
    return;
  }
  feed_.recorded(batches, now);
  for (const LedgerBatch& b : batches) {
    for (Department* d : owners) {
      if (d->config->id != b.department) continue;
      d->cursor.seq = b.new_cursor;
      d->cursor.delivered += b.delivered.size();
      d->cursor.failed += b.failures.size();
      if (!b.delivered.empty()) d->cursor.last_delivery_at_ms = now;
    }
  }
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
                           {"state", state_name(d->state)},
                           {"connector", hub::sdk::to_string(d->config->connector.type)},
                           {"plugin_version", d->plugin_version},
                           {"abi_version", d->abi_version},
                           {"cursor", d->cursor.seq},
                           {"lag", lag},
                           {"oldest_undelivered_ms", oldest_ms},
                           {"delivered", d->cursor.delivered},
                           {"failed", d->cursor.failed},
                           {"parked", 0},
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
                                       {status_.handle(), 0, ZMQ_POLLIN, 0}};
    for (auto& d : departments_) items.push_back({d->pipe.handle(), 0, ZMQ_POLLIN, 0});

    // Wake for the earliest retry.
    auto timeout = std::chrono::milliseconds(200);
    const auto now = Clock::now();
    for (auto& d : departments_)
      if (d->state == State::kRetrying)
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
    feed_.committed(last_seq_);
    if (items[2].revents & ZMQ_POLLIN) {
      zmq::message_t msg;
      (void)status_.recv(msg);
      const std::string reply = status_json().dump();
      status_.send(zmq::buffer(reply), zmq::send_flags::none);
    }
    for (std::size_t i = 0; i < departments_.size(); ++i) {
      auto& d = *departments_[i];
      while (d.pipe.get(zmq::sockopt::events) & ZMQ_POLLIN) on_worker_message(d);
    }
    commit_pending();
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
  stop_workers();
  spdlog::info("delivery: stopped");
}

}  // namespace hub::delivery

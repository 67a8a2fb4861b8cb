#include "pluginhost/plugin_host.h"

#include <spdlog/spdlog.h>

#include "runtime/worker_messages.h"
#include "runtime/plugin_worker.h"
#include "hub/sdk/version.h"
#include "pluginhost/host_protocol.h"
#include "security/keys.h"

namespace hub::pluginhost {

using nlohmann::json;
using runtime::Tag;

namespace {

constexpr auto kRetryAfterRefusal = std::chrono::milliseconds(1000);
constexpr int kByeLingerMs = 500;  // how long a closing socket may still try to send "bye"
constexpr std::size_t kLoggedChars = 400;  // of each message, at log level debug

std::string shortened(const std::string& text) {
  return text.size() <= kLoggedChars ? text : text.substr(0, kLoggedChars) + "…";
}

}  // namespace

PluginHost::PluginHost(zmq::context_t& context, HostConfig config, SharedState* shared, std::optional<Restart> restart)
    : context_(context), config_(std::move(config)), shared_(shared), restart_(std::move(restart)) {
  if (restart_) start_not_before_ = Clock::now() + std::chrono::milliseconds(restart_->start_delay_ms);
}

PluginHost::~PluginHost() { stop_workers(); }

void PluginHost::send(json message) {
  if (!session_.empty()) message["session"] = session_;
  const std::string text = message.dump();
  spdlog::debug("to hub: {}", shortened(text));
  hub_->send(zmq::buffer(text), zmq::send_flags::dontwait);
}

void PluginHost::connect() {
  // A fresh socket each time: nothing queued for a vanished hub is sent to the next one, and
  // the hub sees a new peer.
  close_hub_socket();
  session_.clear();
  hub_.emplace(context_, zmq::socket_type::dealer);
  hub_->set(zmq::sockopt::linger, kByeLingerMs);
  hub_->set(zmq::sockopt::reconnect_ivl, 100);
  hub_->set(zmq::sockopt::reconnect_ivl_max, 2000);
  hub_->set(zmq::sockopt::heartbeat_ivl, kHeartbeatMs);
  hub_->set(zmq::sockopt::heartbeat_timeout, kSilenceTimeoutMs);
  hub_->set(zmq::sockopt::heartbeat_ttl, kSilenceTimeoutMs);
  if (config_.curve) {
    hub_->set(zmq::sockopt::curve_serverkey, config_.hub_public_key);
    hub_->set(zmq::sockopt::curve_publickey, security::public_key_of(config_.secret_key));
    hub_->set(zmq::sockopt::curve_secretkey, config_.secret_key);
  }
  hub_watch_.emplace(context_, *hub_,
                     security::HandshakeWatch::Client{config_.curve, config_.key_name,
                                                      config_.curve ? security::public_key_of(config_.secret_key) : "",
                                                      config_.hub_key_source});
  hub_->connect(config_.hub_endpoint);
  json ids = json::array();
  for (const auto& p : config_.plugins) ids.push_back(p.id);
  json hello{{"type", "hello"},
             {"protocol", kProtocolVersion},
             {"host", config_.host_name},
             {"departments", ids},
             {"sdk_version", HUB_SDK_VERSION_STRING},
             {"abi_version", HUB_SDK_ABI_VERSION}};
  if (restart_) hello["restart"] = encode_restart(*restart_);
  send(std::move(hello));
  state_ = State::kConnecting;
  hello_sent_at_ = Clock::now();
  if (!announced_waiting_) {
    if (config_.curve)
      spdlog::info("plugin host '{}': connecting to the hub at {} (CURVE)", config_.host_name, config_.hub_endpoint);
    else
      spdlog::warn("plugin host '{}': connecting to the hub at {} WITHOUT CURVE (no \"curve\" in the configuration: "
                   "only a hub on this machine in security.mode \"insecure\" accepts that)",
                   config_.host_name, config_.hub_endpoint);
    announced_waiting_ = true;
  }
}

void PluginHost::reconnect_later(std::chrono::milliseconds delay) {
  pending_start_.reset();
  stop_workers();  // the hub disowns whatever they were doing; they restart on the next welcome
  close_hub_socket();
  session_.clear();
  state_ = State::kBackingOff;
  reconnect_at_ = Clock::now() + delay;
}

int PluginHost::run(const std::function<bool()>& stop_requested) {
  connect();
  while (!stop_requested()) {
    std::vector<zmq::pollitem_t> items;
    if (hub_) items.push_back({hub_->handle(), 0, ZMQ_POLLIN, 0});
    if (hub_watch_) items.push_back({hub_watch_->events().handle(), 0, ZMQ_POLLIN, 0});
    for (auto& w : workers_) items.push_back({w->pipe.handle(), 0, ZMQ_POLLIN, 0});
    zmq::poll(items, std::chrono::milliseconds(100));  // stop_requested is checked this often
    if (hub_watch_)
      if (auto failure = hub_watch_->read()) on_handshake_failure(*failure);
    while (hub_ && (hub_->get(zmq::sockopt::events) & ZMQ_POLLIN))
      if (auto exit_code = on_hub_message()) {
        stop_workers();
        return *exit_code;
      }
    for (std::size_t i = 0; i < workers_.size(); ++i)
      while (i < workers_.size() && (workers_[i]->pipe.get(zmq::sockopt::events) & ZMQ_POLLIN))
        on_worker_message(*workers_[i]);
    tick();
  }
  spdlog::info("plugin host '{}': stopping", config_.host_name);
  if (hub_ && state_ == State::kServing) send({{"type", "bye"}});
  stop_workers();
  close_hub_socket();
  return 0;
}

void PluginHost::close_hub_socket() {
  hub_watch_.reset();  // the monitor before its socket
  hub_.reset();
}

void PluginHost::on_handshake_failure(const security::HandshakeFailure& failure) {
  // The host keeps trying (the hub's administrator may be adding the key right now), and says
  // so again every minute while the problem lasts.
  const auto now = Clock::now();
  if (failure.code == handshake_problem_ && now - handshake_problem_logged_at_ < std::chrono::minutes(1)) return;
  spdlog::error("plugin host '{}': cannot connect to the hub at {}: {}: {}; still trying", config_.host_name,
                config_.hub_endpoint, failure.code, failure.message);
  handshake_problem_ = failure.code;
  handshake_problem_logged_at_ = now;
}

void PluginHost::tick() {
  const auto now = Clock::now();
  switch (state_) {
    case State::kBackingOff:
      if (now >= reconnect_at_) connect();
      break;
    case State::kConnecting:
      // No answer to hello (no hub yet, or it vanished with our hello): try a fresh socket.
      if (now - hello_sent_at_ > std::chrono::milliseconds(kSilenceTimeoutMs)) connect();
      break;
    case State::kServing:
      if (pending_start_ && now >= start_not_before_) {
        start_workers(std::move(*pending_start_));
        pending_start_.reset();
        spdlog::info("plugin host '{}': plugins started again after the crash", config_.host_name);
      }
      if (now - last_heard_ > std::chrono::milliseconds(kSilenceTimeoutMs)) {
        spdlog::warn("plugin host '{}': the hub has been silent for {} s; reconnecting", config_.host_name,
                     kSilenceTimeoutMs / 1000);
        announced_waiting_ = false;
        reconnect_later(std::chrono::milliseconds(0));
      } else if (now - last_ping_ >= std::chrono::milliseconds(kHeartbeatMs)) {
        send({{"type", "ping"}});
        last_ping_ = now;
      }
      break;
  }
}

std::optional<int> PluginHost::on_hub_message() {
  zmq::message_t frame;
  if (!hub_->recv(frame, zmq::recv_flags::dontwait)) return std::nullopt;
  last_heard_ = Clock::now();
  spdlog::debug("from hub: {}", shortened(frame.to_string()));
  try {
    const json message = parse_message(frame.to_string());
    const std::string type = message["type"];
    if (type == "welcome") {
      on_welcome(message);
    } else if (type == "deliver") {
      on_deliver(message);
    } else if (type == "reload") {
      on_reload(message);
    } else if (type == "pong") {
      // last_heard_ is all it is for
    } else if (type == "refused" || type == "error") {
      const auto [code, text] = decode_error(message, "unspecified");
      if (type == "refused" && code != "department_taken" && code != "hub_stopping") {
        spdlog::error("plugin host '{}': the hub refused this host ({}): {}", config_.host_name, code, text);
        return 1;
      }
      spdlog::warn("plugin host '{}': the hub answered {} ({}): {}; saying hello again", config_.host_name, type, code,
                   text);
      reconnect_later(code == "unknown_session" ? std::chrono::milliseconds(0) : kRetryAfterRefusal);
    } else if (type == "closing") {
      spdlog::warn("plugin host '{}': the hub is stopping; reconnecting when it is back", config_.host_name);
      announced_waiting_ = false;
      reconnect_later(std::chrono::milliseconds(0));
    } else {
      throw ProtocolError("type", "unknown message type '" + type + "'");
    }
  } catch (const ProtocolError& e) {
    spdlog::error("plugin host '{}': invalid message from the hub ({}); reconnecting", config_.host_name, e.what());
    reconnect_later(kRetryAfterRefusal);
  }
  return std::nullopt;
}

void PluginHost::on_welcome(const json& message) {
  if (state_ != State::kConnecting) throw ProtocolError("type", "welcome without hello");
  const std::string session = string_field(message, "", "session");
  const auto& departments = message.value("departments", json());
  if (!departments.is_array() || departments.size() != config_.plugins.size())
    throw ProtocolError("departments", "must list exactly the departments this host offered");
  std::vector<PluginConfig> configs = decode_welcome(departments);
  handshake_problem_.clear();  // a later handshake failure is news again
  const auto now = Clock::now();
  std::string names;
  for (const auto& c : configs) names += (names.empty() ? "" : ", ") + c.id;
  if (now < start_not_before_) {
    // After a crash: connected (so the hub knows), plugins held back for the backoff.
    pending_start_ = std::move(configs);
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(start_not_before_ - now).count();
    spdlog::warn("plugin host '{}': connected to the hub at {}; after the crash, {} start in {} ms", config_.host_name,
                 config_.hub_endpoint, names, wait_ms);
  } else {
    start_workers(std::move(configs));
    spdlog::info("plugin host '{}': connected to the hub at {}, serving {}", config_.host_name, config_.hub_endpoint,
                 names);
  }
  session_ = session;
  if (shared_ != nullptr) shared_->set_session(session_);
  restart_.reset();  // the hub has it
  state_ = State::kServing;
  last_ping_ = now;
}

std::vector<PluginConfig> PluginHost::decode_welcome(const json& departments) const {
  std::vector<PluginConfig> out;
  for (std::size_t i = 0; i < departments.size(); ++i) {
    const std::string where = "departments[" + std::to_string(i) + "].";
    const std::string id = departments[i].is_object() ? departments[i].value("id", "") : "";
    const HostedPlugin* hosted = nullptr;
    for (const auto& p : config_.plugins)
      if (p.id == id) hosted = &p;
    if (hosted == nullptr) throw ProtocolError(where + "id", "'" + id + "' is not a plugin of this host");
    out.push_back(decode_department(departments[i], where, hosted->library));
  }
  return out;
}

void PluginHost::start_workers(std::vector<PluginConfig> departments) {
  stop_workers();
  for (auto& department : departments) {
    std::size_t index = 0;
    while (config_.plugins[index].id != department.id) ++index;  // decode_welcome() checked it is there
    auto worker = std::make_unique<Worker>();
    worker->config = std::move(department);
    const std::string endpoint = "inproc://host-worker-" + worker->config.id + "-" + std::to_string(++worker_generation_);
    worker->pipe = zmq::socket_t(context_, zmq::socket_type::pair);
    worker->pipe.bind(endpoint);
    const PluginConfig* plugin = &worker->config;
    runtime::CallProbe* probe = shared_ != nullptr ? &shared_->probes[index] : nullptr;
    worker->thread = std::thread([this, plugin, endpoint, probe] {
      runtime::PluginWorker(context_, *plugin, config_.data_dir, endpoint, "", probe).run();
    });
    workers_.push_back(std::move(worker));
  }
}

void PluginHost::stop_workers() {
  for (auto& w : workers_) {
    runtime::send_terminate(w->pipe);
    w->thread.join();
    // What the worker sent after our last read is nobody's any more: free it.
    while (w->pipe.get(zmq::sockopt::events) & ZMQ_POLLIN) {
      auto [tag, pointer] = runtime::receive_owned(w->pipe);
      runtime::discard_owned(tag, pointer);
    }
  }
  workers_.clear();
}

void PluginHost::on_deliver(const json& message) {
  if (state_ != State::kServing || message.value("session", json()) != session_) return;  // an old session's
  const std::string id = string_field(message, "", "department");
  Worker* worker = nullptr;
  for (auto& w : workers_)
    if (w->config.id == id) worker = w.get();
  if (worker == nullptr) throw ProtocolError("department", "'" + id + "' is not served here");
  const json& events = message.value("events", json());
  if (!events.is_array() || events.empty()) throw ProtocolError("events", "must be a non-empty array");
  auto chunk = std::make_shared<EventChunk>();
  for (std::size_t i = 0; i < events.size(); ++i) {
    chunk->events.push_back(decode_event(events[i], "events[" + std::to_string(i) + "]."));
    if (i > 0 && chunk->events[i].seq != chunk->events[i - 1].seq + 1)
      throw ProtocolError("events[" + std::to_string(i) + "].seq", "events must be consecutive");
  }
  chunk->first_seq = chunk->events.front().seq;
  auto request = std::make_unique<runtime::Request>();
  request->begin = 0;
  request->end = chunk->events.size();
  request->generation = uint_field(message, "", "generation");
  request->chunk = std::move(chunk);
  worker->requests.push_back(uint_field(message, "", "request"));
  runtime::send_owned(worker->pipe, Tag::kRequest, std::move(request));
}

void PluginHost::on_reload(const json& message) {
  if (state_ != State::kServing || message.value("session", json()) != session_) return;  // an old session's
  const std::string id = string_field(message, "", "department");
  for (auto& w : workers_)
    if (w->config.id == id) {
      // The library of this host's configuration, read anew (the file may have been replaced).
      spdlog::info("plugin host '{}': the hub asks to reload plugin {} from {}", config_.host_name, id, w->config.library);
      runtime::send_owned(w->pipe, Tag::kReload, std::make_unique<runtime::Reload>());
      return;
    }
  send({{"type", "started"}, {"department", id}, {"ok", false}, {"reload", true}, {"keeps_running", false},
        {"error", {{"code", "plugin_not_started"}, {"message", "plugin " + id + " is not running on this host yet"}}}});
}

void PluginHost::on_worker_message(Worker& worker) {
  auto [tag, pointer] = runtime::receive_owned(worker.pipe);
  if (tag == Tag::kStarted) {
    std::unique_ptr<runtime::Started> started(static_cast<runtime::Started*>(pointer));
    json message = encode_started(*started);
    message["type"] = "started";
    message["department"] = worker.config.id;
    if (started->ok) {
      spdlog::info("plugin host '{}': plugin {} {} started", config_.host_name, worker.config.id, started->info.version);
    } else {
      spdlog::error("plugin host '{}': plugin {} did not start: {}: {}", config_.host_name, worker.config.id,
                    started->error_code, started->error);
    }
    if (state_ == State::kServing) send(std::move(message));
    return;
  }
  if (tag != Tag::kReport) {
    runtime::discard_owned(tag, pointer);
    return;
  }
  std::unique_ptr<runtime::Report> report(static_cast<runtime::Report*>(pointer));
  if (worker.requests.empty()) return;  // cannot happen: one report per request
  const std::uint64_t request_id = worker.requests.front();
  worker.requests.pop_front();
  json message = encode_report(*report);
  message["type"] = "report";
  message["department"] = worker.config.id;
  message["request"] = request_id;
  if (state_ == State::kServing) send(std::move(message));
}

}  // namespace hub::pluginhost

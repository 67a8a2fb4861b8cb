#include "pluginhost/host_link.h"

#include <random>
#include <set>

#include <spdlog/spdlog.h>

#include "pluginhost/host_protocol.h"
#include "security/gatekeeper.h"
#include "security/handshake_watch.h"

namespace hub::pluginhost {

using nlohmann::json;
using runtime::Report;
using runtime::Request;
using runtime::Started;
using runtime::Tag;

namespace {

constexpr int kClosingLingerMs = 200;  // at shutdown, time for "closing" to reach the hosts

std::string new_session_token() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device random;
  std::string token;
  for (int i = 0; i < 32; ++i) token += kHex[random() % 16];
  return token;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none)" : out;
}

}  // namespace

HostLink::HostLink(zmq::context_t& context, const HubConfig& config, std::vector<HostedDepartment> departments,
                   const security::Gatekeeper* gate)
    : context_(context),
      gate_(gate),
      router_(context, zmq::socket_type::router),
      monitor_(context, zmq::socket_type::pair),
      endpoint_(config.plugin_host_endpoint) {
  router_.set(zmq::sockopt::linger, kClosingLingerMs);
  router_.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(config.max_message_bytes));
  router_.set(zmq::sockopt::heartbeat_ivl, kHeartbeatMs);
  router_.set(zmq::sockopt::heartbeat_timeout, kSilenceTimeoutMs);
  router_.set(zmq::sockopt::heartbeat_ttl, kSilenceTimeoutMs);
  // The socket's one monitor is ours (disconnections); it hands refused handshakes to the gate.
  if (gate_ != nullptr) gate_->secure(router_, "plugin_hosts", security::Gatekeeper::Watching::kByOwner);
  router_.bind(endpoint_);
  endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  const std::string monitor_endpoint = "inproc://host-link-monitor";
  if (zmq_socket_monitor(router_.handle(), monitor_endpoint.c_str(),
                         ZMQ_EVENT_DISCONNECTED | security::Gatekeeper::kWatchedEvents) != 0)
    throw zmq::error_t();
  monitor_.connect(monitor_endpoint);
  for (auto& hosted : departments) {
    auto d = std::make_unique<Department>();
    d->config = hosted.config;
    d->pipe = zmq::socket_t(context_, zmq::socket_type::pair);
    d->pipe.set(zmq::sockopt::linger, 0);
    d->pipe.connect(hosted.pipe_endpoint);
    departments_.push_back(std::move(d));
  }
  std::vector<std::string> ids;
  for (const auto& d : departments_) ids.push_back(d->config->id);
  spdlog::info("plugin hosts: listening on {} for {}", endpoint_, joined(ids));
}

HostLink::~HostLink() { zmq_socket_monitor(router_.handle(), nullptr, 0); }

void HostLink::run() {
  // Nobody serves these departments yet: the dispatcher shows them as waiting_for_host.
  for (auto& d : departments_) runtime::send_host_lost(d->pipe);
  for (;;) {
    bool all_terminated = true;
    for (const auto& d : departments_) all_terminated = all_terminated && d->terminated;
    if (all_terminated) break;

    std::vector<zmq::pollitem_t> items{{router_.handle(), 0, ZMQ_POLLIN, 0}, {monitor_.handle(), 0, ZMQ_POLLIN, 0}};
    for (auto& d : departments_) items.push_back({d->pipe.handle(), 0, ZMQ_POLLIN, 0});
    zmq::poll(items, std::chrono::milliseconds(250));
    while (router_.get(zmq::sockopt::events) & ZMQ_POLLIN) on_host_message();
    while (monitor_.get(zmq::sockopt::events) & ZMQ_POLLIN) on_monitor_event();
    for (auto& d : departments_)
      while (d->pipe.get(zmq::sockopt::events) & ZMQ_POLLIN) on_pipe_message(*d);
    drop_silent_sessions();
  }
  // hubd is stopping: tell the hosts, so they reconnect at once to the next hubd.
  for (const auto& [routing_id, session] : sessions_) send(routing_id, {{"type", "closing"}});
  sessions_.clear();
}

void HostLink::send(const std::string& routing_id, const json& message) {
  const std::string text = message.dump();
  router_.send(zmq::buffer(routing_id), zmq::send_flags::sndmore);
  router_.send(zmq::buffer(text), zmq::send_flags::none);
}

void HostLink::on_host_message() {
  std::vector<zmq::message_t> frames;
  do {
    zmq::message_t frame;
    if (!router_.recv(frame, zmq::recv_flags::dontwait)) return;
    frames.push_back(std::move(frame));
  } while (router_.get(zmq::sockopt::rcvmore));
  if (frames.size() != 2) return;  // not a DEALER speaking this protocol
  const std::string routing_id = frames[0].to_string();
  json message;
  try {
    message = parse_message(frames[1].to_string());
  } catch (const ProtocolError& e) {
    send(routing_id, error_message("error", "invalid_message", e.what()));
    return;
  }
  const std::string type = message["type"];
  if (type == "hello") {
    // Only the key of each department claimed (role department:<id>) may serve it.
    if (gate_ != nullptr && message.contains("departments") && message["departments"].is_array()) {
      for (const auto& id : message["departments"]) {
        if (!id.is_string()) continue;  // on_hello refuses it
        const auto verdict = gate_->allow(frames[1], "department:" + id.get<std::string>(), "plugin_hosts",
                                          "hello for " + id.get<std::string>());
        if (!verdict.allowed) {
          send(routing_id, error_message("refused", "unauthorized", verdict.reason));
          return;
        }
      }
    }
    try {
      on_hello(routing_id, message);
    } catch (const ProtocolError& e) {
      send(routing_id, error_message("refused", "invalid_message", e.what()));
    }
    return;
  }
  auto it = sessions_.find(routing_id);
  if (it == sessions_.end() || message.value("session", json()) != it->second->token) {
    // E.g. a host that was given up, or that served the hubd before a restart: it says hello again.
    send(routing_id, error_message("error", "unknown_session", "no such session: say hello first"));
    return;
  }
  Session& session = *it->second;
  if (gate_ != nullptr) {
    // A key removed from the clients file (and reloaded) loses the connections it has, too.
    for (const Department* d : session.departments) {
      const auto verdict = gate_->allow(frames[1], "department:" + d->config->id, "plugin_hosts", type);
      if (!verdict.allowed) {
        send(routing_id, error_message("error", "unauthorized", verdict.reason));
        drop_session(routing_id, "its key is no longer allowed to serve " + d->config->id);
        return;
      }
    }
  }
  session.last_heard = Clock::now();
  try {
    if (type == "ping") {
      send(routing_id, {{"type", "pong"}, {"session", session.token}});
    } else if (type == "started") {
      on_started(session, message);
    } else if (type == "report") {
      on_report(session, message);
    } else if (type == "bye") {
      drop_session(routing_id, "it is stopping");
    } else {
      throw ProtocolError("type", "unknown message type '" + type + "'");
    }
  } catch (const ProtocolError& e) {
    // A host that breaks the protocol is given up; what it had is redelivered to the next one.
    send(routing_id, error_message("error", "invalid_message", e.what()));
    drop_session(routing_id, std::string("invalid message: ") + e.what());
  }
}

void HostLink::on_hello(const std::string& routing_id, const json& message) {
  const auto protocol = message.find("protocol");
  if (protocol == message.end() || !protocol->is_number_integer() || protocol->get<int>() != kProtocolVersion) {
    send(routing_id, error_message("refused", "protocol_mismatch",
                                   "this hub speaks plugin-host protocol " + std::to_string(kProtocolVersion) +
                                       ", the host sent " + (protocol == message.end() ? "none" : protocol->dump())));
    return;
  }
  const std::string host_name = string_field(message, "", "host");
  const json& ids = message.value("departments", json());
  if (!ids.is_array() || ids.empty()) throw ProtocolError("departments", "must be a non-empty array of department ids");
  std::optional<Restart> restart;
  if (auto r = message.find("restart"); r != message.end() && !r->is_null()) restart = decode_restart(*r);
  if (sessions_.count(routing_id)) drop_session(routing_id, "it said hello again");
  if (restart && !restart->replaces_session.empty()) {
    // The crashed process's session: given up now rather than after it times out.
    for (const auto& [id, session] : sessions_)
      if (session->token == restart->replaces_session) {
        drop_session(std::string(id), "it crashed (" + restart->exit + ") and its supervisor restarted it");
        break;
      }
  }

  std::vector<std::string> hosted;
  for (const auto& d : departments_) hosted.push_back(d->config->id);
  std::vector<Department*> claimed;
  std::set<std::string> seen;
  for (const auto& id_json : ids) {
    if (!id_json.is_string() || !seen.insert(id_json.get<std::string>()).second)
      throw ProtocolError("departments", "must list distinct department ids (strings)");
    const std::string id = id_json.get<std::string>();
    Department* d = find_department(id);
    std::string refusal;
    std::string code;
    if (d == nullptr) {
      code = "unknown_department";
      refusal = "department '" + id + "' is not placed on a plugin host by this hub (its configuration needs "
                "{\"id\": \"" + id + "\", \"placement\": \"host\"}); departments served through plugin hosts here: " +
                joined(hosted);
    } else if (d->session != nullptr) {
      code = "department_taken";
      refusal = "department '" + id + "' is already served by plugin host '" + d->session->host_name +
                "'; a second host is refused while that one is connected (it is given up after " +
                std::to_string(kSilenceTimeoutMs / 1000) + " s of silence)";
    } else if (d->terminated) {
      code = "hub_stopping";
      refusal = "the hub is stopping";
    }
    if (!refusal.empty()) {
      spdlog::warn("plugin hosts: refused host '{}': {}", host_name, refusal);
      send(routing_id, error_message("refused", code, refusal));
      return;
    }
    claimed.push_back(d);
  }

  auto session = std::make_unique<Session>();
  session->routing_id = routing_id;
  session->token = new_session_token();
  session->host_name = host_name;
  session->departments = claimed;
  session->last_heard = Clock::now();
  json departments = json::array();
  for (Department* d : claimed) {
    d->session = session.get();
    departments.push_back(encode_department(*d->config));
  }
  send(routing_id, {{"type", "welcome"},
                    {"session", session->token},
                    {"heartbeat_ms", kHeartbeatMs},
                    {"timeout_ms", kSilenceTimeoutMs},
                    {"departments", std::move(departments)}});
  std::vector<std::string> names;
  for (Department* d : claimed) names.push_back(d->config->id);
  spdlog::info("plugin hosts: host '{}' connected, serving {}", host_name, joined(names));
  sessions_[routing_id] = std::move(session);
  if (restart) {
    // Every department of a crashed host shows as failing until it delivers again; the one
    // whose plugin was handling an event has that event's attempt counted (and parked after
    // max_attempts), so an event that kills its plugin cannot crash the host forever.
    const std::string reason = restart->describe(host_name);
    spdlog::error("plugin hosts: {}", reason);
    for (Department* d : claimed) {
      auto crash = std::make_unique<runtime::HostCrash>();
      crash->reason = reason;
      if (restart->department == d->config->id && (restart->phase == "handling" || restart->phase == "ending_batch"))
        crash->seq = restart->seq;
      runtime::send_owned(d->pipe, Tag::kHostCrashed, std::move(crash));
    }
  }
}

HostLink::Department* HostLink::find_department(const std::string& id) {
  for (auto& d : departments_)
    if (d->config->id == id) return d.get();
  return nullptr;
}

HostLink::Department& HostLink::department_of(Session& session, const json& message) {
  const std::string id = string_field(message, "", "department");
  for (Department* d : session.departments)
    if (d->config->id == id) return *d;
  throw ProtocolError("department", "'" + id + "' is not served by this session");
}

void HostLink::on_started(Session& session, const json& message) {
  Department& d = department_of(session, message);
  auto started = std::make_unique<Started>(decode_started(message));
  started->host = session.host_name;
  if (started->reload) {
    if (!d.reload_pending) throw ProtocolError("reload", "no reload was asked for");
    d.reload_pending = false;
  }
  if (started->ok) {
    started->info.id = d.config->id;
  } else {
    started->error = "on plugin host '" + session.host_name + "': " + started->error;
  }
  if (d.awaiting_rewind && !started->reload) {
    d.held_started = std::move(started);  // the dispatcher has not disowned the old host's requests yet
  } else {
    runtime::send_owned(d.pipe, Tag::kStarted, std::move(started));
  }
}

void HostLink::on_report(Session& session, const json& message) {
  Department& d = department_of(session, message);
  const std::uint64_t id = uint_field(message, "", "request");
  auto it = d.outstanding.find(id);
  if (it == d.outstanding.end()) return;  // answered already (duplicate) or never sent: ignore
  auto report = std::make_unique<Report>(decode_report(message, *it->second, *d.config));
  d.outstanding.erase(it);
  if (report->failed && report->failure.rfind("plugin host sent an invalid report", 0) == 0)
    spdlog::warn("plugin hosts: host '{}' ({}): {}", session.host_name, d.config->id, report->failure);
  runtime::send_owned(d.pipe, Tag::kReport, std::move(report));
}

void HostLink::on_pipe_message(Department& d) {
  auto [tag, pointer] = runtime::receive_owned(d.pipe);
  switch (tag) {
    case Tag::kRequest: {
      std::unique_ptr<Request> request(static_cast<Request*>(pointer));
      if (d.session != nullptr && !d.awaiting_rewind && request->generation >= d.min_generation) {
        forward_request(d, std::move(request));
      } else {
        skip(d, std::move(request));
      }
      break;
    }
    case Tag::kRewound: {
      std::unique_ptr<runtime::Rewound> rewound(static_cast<runtime::Rewound*>(pointer));
      d.min_generation = rewound->generation;
      d.awaiting_rewind = false;
      if (d.held_started) runtime::send_owned(d.pipe, Tag::kStarted, std::move(d.held_started));
      break;
    }
    case Tag::kReload: {
      // The dispatcher waited for a batch boundary; the host reloads the library its own
      // configuration names (the dispatcher refuses another), and answers with "started".
      std::unique_ptr<runtime::Reload> reload(static_cast<runtime::Reload*>(pointer));
      if (d.session == nullptr || d.awaiting_rewind) {
        answer_reload(d, "host_unavailable", "no plugin host serves " + d.config->id + " right now");
        break;
      }
      d.reload_pending = true;
      send(d.session->routing_id, {{"type", "reload"}, {"session", d.session->token}, {"department", d.config->id}});
      break;
    }
    case Tag::kTerminate:
      d.terminated = true;
      break;
    default:
      runtime::discard_owned(tag, pointer);
  }
}

void HostLink::forward_request(Department& d, std::unique_ptr<Request> request) {
  const std::uint64_t id = d.next_request_id++;
  json events = json::array();
  for (std::size_t i = request->begin; i < request->end; ++i)
    events.push_back(encode_event(request->chunk->events[i], d.config));  // only what the department may see
  send(d.session->routing_id, {{"type", "deliver"},
                               {"session", d.session->token},
                               {"department", d.config->id},
                               {"request", id},
                               {"generation", request->generation},
                               {"events", std::move(events)}});
  d.outstanding.emplace(id, std::move(request));
}

void HostLink::skip(Department& d, std::unique_ptr<Request> request) {
  if (d.terminated) return;  // the dispatcher no longer reads: just free it
  auto report = std::make_unique<Report>();
  report->generation = request->generation;
  report->skipped = true;
  report->done_upto = request->chunk->first_seq + request->begin - 1;
  runtime::send_owned(d.pipe, Tag::kReport, std::move(report));
}

void HostLink::answer_reload(Department& d, const std::string& code, const std::string& message) {
  d.reload_pending = false;
  auto started = std::make_unique<Started>();
  started->reload = true;
  started->ok = false;
  started->keeps_running = true;  // whatever the host runs, it is not the hub's to stop
  started->error_code = code;
  started->error = message;
  runtime::send_owned(d.pipe, Tag::kStarted, std::move(started));
}

void HostLink::host_lost(Department& d) {
  for (auto& [id, request] : d.outstanding) skip(d, std::move(request));
  d.outstanding.clear();
  d.session = nullptr;
  d.held_started.reset();
  if (d.terminated) return;
  if (d.reload_pending)
    answer_reload(d, "host_lost", "plugin host went away during the reload; the next host to connect starts the "
                                  "library its configuration names");
  runtime::send_host_lost(d.pipe);
  d.awaiting_rewind = true;
}

void HostLink::drop_session(const std::string& routing_id, const std::string& why) {
  auto it = sessions_.find(routing_id);
  if (it == sessions_.end()) return;
  std::vector<std::string> names;
  for (Department* d : it->second->departments) names.push_back(d->config->id);
  spdlog::warn("plugin hosts: host '{}' ({}) is gone: {}", it->second->host_name, joined(names), why);
  for (Department* d : it->second->departments) host_lost(*d);
  sessions_.erase(it);
}

void HostLink::on_monitor_event() {
  const auto e = security::read_monitor_event(monitor_);
  if (!e) return;
  if (e->event != ZMQ_EVENT_DISCONNECTED) {
    if (gate_ != nullptr) gate_->handshake_failed("plugin_hosts", e->event, e->value);
    return;
  }
  // A connection closed. Which peer it was ZeroMQ does not say, so every session must prove it
  // is alive by its next ping.
  const auto now = Clock::now();
  for (auto& [routing_id, session] : sessions_)
    if (!session->suspect_since) session->suspect_since = now;
}

void HostLink::drop_silent_sessions() {
  const auto now = Clock::now();
  std::vector<std::pair<std::string, std::string>> silent;  // routing id, why
  for (const auto& [routing_id, session] : sessions_) {
    if (session->suspect_since && session->last_heard > *session->suspect_since) session->suspect_since.reset();
    if (now - session->last_heard > std::chrono::milliseconds(kSilenceTimeoutMs)) {
      silent.emplace_back(routing_id, "silent for " + std::to_string(kSilenceTimeoutMs / 1000) + " s");
    } else if (session->suspect_since && now - *session->suspect_since > std::chrono::milliseconds(kSuspectTimeoutMs)) {
      silent.emplace_back(routing_id, "its connection closed and it has been silent since");
    }
  }
  for (const auto& [routing_id, why] : silent) drop_session(routing_id, why);
}

}  // namespace hub::pluginhost

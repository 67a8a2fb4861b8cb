#include "security/gatekeeper.h"

#include <chrono>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "security/handshake_watch.h"

namespace hub::security {
namespace {

using nlohmann::json;

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

std::string key_prefix(const std::string& key) { return key.substr(0, 8) + "…"; }

// Who may complete a handshake on each endpoint. Roles are checked again on every message
// (Gatekeeper::allow) where the endpoint can answer; the live feed cannot, so its handshake
// is the check.
bool handshake_allowed(const std::string& domain, const Client& client) {
  if (domain == "live_feed") return client.has_role("observer") || client.has_role("admin");
  return domain == "ingest" || domain == "admin" || domain == "plugin_hosts";
}

}  // namespace

Gatekeeper::Gatekeeper(zmq::context_t& context, std::string server_secret_key, std::string clients_file,
                       std::set<std::string> departments, audit::AuditTrail& audit)
    : server_secret_key_(std::move(server_secret_key)),
      server_public_key_(public_key_of(server_secret_key_)),
      clients_file_(std::move(clients_file)),
      departments_(std::move(departments)),
      audit_(audit),
      context_(context),
      zap_(context, zmq::socket_type::rep),
      control_(context, zmq::socket_type::pair),
      control_peer_(context, zmq::socket_type::pair) {
  auto loaded = load_clients_file(clients_file_, departments_);
  if (auto* e = std::get_if<ConfigError>(&loaded)) throw std::runtime_error(e->to_string());
  ring_ = std::make_shared<const KeyRing>(std::move(std::get<KeyRing>(loaded)));
  zap_.set(zmq::sockopt::linger, 0);
  zap_.bind(kZapEndpoint);  // throws if another handler is bound: never run without one
  const std::string control_endpoint = "inproc://gatekeeper-control-" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
  control_.bind(control_endpoint);
  control_peer_.connect(control_endpoint);
  thread_ = std::thread([this] { serve(); });
}

Gatekeeper::~Gatekeeper() {
  {
    std::lock_guard lock(control_mutex_);
    control_peer_.send(zmq::buffer(std::string("$TERM")), zmq::send_flags::none);
  }
  thread_.join();
}

const char* Gatekeeper::refusal_name(Refusal r) {
  switch (r) {
    case Refusal::kUnknownKey: return "unknown_key";
    case Refusal::kRole: return "role";
    case Refusal::kNotCurve: return "not_curve";
    case Refusal::kWrongHubKey: return "wrong_hub_key";
    case Refusal::kMalformed: return "malformed";
    case Refusal::kIncomplete: return "incomplete";
  }
  return "malformed";
}

void Gatekeeper::secure(zmq::socket_t& socket, const std::string& domain, Watching watching) const {
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, server_secret_key_);
  socket.set(zmq::sockopt::zap_domain, domain);
  if (watching == Watching::kByOwner) return;
  // The socket's monitor publishes on an inproc PAIR; the PAIR end read here is connected now
  // and handed to the handler's thread (the mutex orders the hand-over, as ZeroMQ requires
  // when a socket changes threads).
  const std::string endpoint = "inproc://gatekeeper-watch-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)) +
                               "-" + std::to_string(++watches_made_);
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), kWatchedEvents | ZMQ_EVENT_MONITOR_STOPPED) != 0)
    throw zmq::error_t();
  Watch watch{zmq::socket_t(context_, zmq::socket_type::pair), domain};
  watch.events.set(zmq::sockopt::linger, 0);
  watch.events.connect(endpoint);
  {
    std::lock_guard lock(watch_mutex_);
    new_watches_.push_back(std::move(watch));
  }
  std::lock_guard lock(control_mutex_);
  control_peer_.send(zmq::buffer(std::string("$WATCH")), zmq::send_flags::none);
}

std::shared_ptr<const KeyRing> Gatekeeper::ring() const {
  std::lock_guard lock(ring_mutex_);
  return ring_;
}

void Gatekeeper::serve() {
  std::vector<Watch> watches;
  std::vector<zmq::pollitem_t> items;
  for (;;) {
    items.assign({{zap_.handle(), 0, ZMQ_POLLIN, 0}, {control_.handle(), 0, ZMQ_POLLIN, 0}});
    for (auto& w : watches) items.push_back({w.events.handle(), 0, ZMQ_POLLIN, 0});
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(-1));
    if (items[1].revents & ZMQ_POLLIN) {
      zmq::message_t command;
      (void)control_.recv(command);
      if (command.to_string_view() == "$TERM") return;
      std::lock_guard lock(watch_mutex_);
      for (auto& w : new_watches_) watches.push_back(std::move(w));
      new_watches_.clear();
      continue;  // the poll items changed
    }
    if (items[0].revents & ZMQ_POLLIN) answer_zap();
    for (std::size_t i = 2; i < items.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      Watch& w = watches[i - 2];
      const auto e = read_monitor_event(w.events);
      if (!e) continue;
      if (e->event == ZMQ_EVENT_MONITOR_STOPPED)
        w.domain.clear();  // its socket closed
      else
        handshake_failed(w.domain, e->event, e->value);
    }
    std::erase_if(watches, [](const Watch& w) { return w.domain.empty(); });
  }
}

void Gatekeeper::answer_zap() {
  std::vector<zmq::message_t> frames;
  do {
    frames.emplace_back();
    (void)zap_.recv(frames.back());
  } while (frames.back().more());
  // RFC 27: version, request id, domain, address, identity, mechanism, credentials…
  std::string request_id = frames.size() > 1 ? frames[1].to_string() : std::string();
  std::string status = "400", text = "refused", user_id;
  std::string domain, address, mechanism, key;
  Refusal why = Refusal::kMalformed;
  if (frames.size() >= 6 && frames[0].to_string() == "1.0") {
    domain = frames[2].to_string();
    address = frames[3].to_string();
    mechanism = frames[5].to_string();
    if (mechanism == "CURVE" && frames.size() == 7 && frames[6].size() == 32) {
      char z85[41];
      zmq_z85_encode(z85, static_cast<const std::uint8_t*>(frames[6].data()), 32);
      key = z85;
      const auto keys = ring();
      const Client* client = keys->find(key);
      if (client == nullptr) {
        text = "unknown key";
        why = Refusal::kUnknownKey;
      } else if (!handshake_allowed(domain, *client)) {
        text = "role not allowed on this endpoint";
        why = Refusal::kRole;
      } else {
        status = "200";
        text = "OK";
        user_id = key;
      }
    } else {
      text = "only CURVE is accepted";
      why = Refusal::kNotCurve;
    }
  }
  // Counted before the reply goes out: once libzmq has the answer the client may be talking to
  // the hub, and whoever then asks for the figures (keys list, /metrics) must see it counted.
  if (status == "200") ++handshakes_accepted_;
  const std::string replies[] = {"1.0", request_id, status, text, user_id, ""};
  for (std::size_t i = 0; i < 6; ++i)
    zap_.send(zmq::buffer(replies[i]), i + 1 < 6 ? zmq::send_flags::sndmore : zmq::send_flags::none);
  if (status == "200") return;
  const std::string name = key.empty() ? std::string() : name_of(key);
  refused(why, domain,
          audit::AuditEntry{"handshake_refused", name.empty() ? (key.empty() ? "" : "key " + key) : name, domain,
                            json{{"address", address}, {"mechanism", mechanism}, {"reason", text}}.dump()},
          fmt::format("refused a {} handshake on {} from {}: {}{}", mechanism.empty() ? "malformed" : mechanism, domain,
                      address, text, name.empty() ? "" : " (key '" + name + "')"));
}

void Gatekeeper::handshake_failed(const std::string& domain, int event, std::uint32_t value) const {
  // libzmq names neither the peer's address nor its key here (the handshake never got that far).
  Refusal why = Refusal::kMalformed;
  std::string text;
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
    // Typically a client without CURVE that saw the mismatch first and hung up while the hub
    // was still writing (EPIPE), or a TCP port check that connected, waited and closed
    // (ECONNRESET); one that closes at once is not seen.
    why = Refusal::kIncomplete;
    text = fmt::format("the connection closed during the handshake ({}): a client without CURVE, one that gave up, "
                       "or a TCP port check",
                       std::strerror(static_cast<int>(value)));
  } else if (event != ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
    return;
  } else if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
    why = Refusal::kNotCurve;
    text = "the client does not use CURVE (NULL or PLAIN mechanism); give it a key (docs/security.md)";
  } else if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC || value == ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE) {
    why = Refusal::kWrongHubKey;
    text = "the client's CURVE handshake cannot be decrypted: it uses another hub public key than this hub's";
  } else {
    text = fmt::format("malformed handshake (ZMTP protocol error 0x{:08x})", value);
  }
  refused(why, domain,
          audit::AuditEntry{"handshake_refused", "", domain,
                            json{{"reason", text}, {"event", event}, {"value", value}}.dump()},
          fmt::format("refused a handshake on {}: {}", domain, text));
}

void Gatekeeper::refused(Refusal why, const std::string& domain, audit::AuditEntry entry,
                         const std::string& log_line) const {
  ++refusals_[static_cast<std::size_t>(why)];
  // A misconfigured client retries about ten times a second: the log gets the first refusal of
  // each kind per endpoint and then one line per 10 s with the count (the audit log throttles
  // on its own, AuditTrail::record_refusal).
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(logged_mutex_);
    auto [it, first] = logged_.try_emplace({domain, why});
    Logged& last = it->second;
    if (first || now - last.at >= std::chrono::seconds(10)) {
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - last.at).count();
      spdlog::warn("security: {}{}", log_line,
                   last.since == 0 ? "" : fmt::format(" ({} more like it in the last {} s)", last.since, seconds));
      last = Logged{now, 0};
    } else {
      ++last.since;
    }
  }
  audit_.record_refusal(std::move(entry));
}

std::string Gatekeeper::name_of(const std::string& public_key) const {
  const auto keys = ring();
  const Client* client = keys->find(public_key);
  return client == nullptr ? std::string() : client->name;
}

Gatekeeper::Verdict Gatekeeper::allow(const zmq::message_t& frame, std::string_view role, const std::string& endpoint,
                                      const std::string& request) const {
  Verdict v;
  const char* user_id = zmq_msg_gets(const_cast<zmq_msg_t*>(frame.handle()), "User-Id");
  if (user_id == nullptr || *user_id == '\0') {
    // No handshake: inproc, i.e. hubd's own parts (the HTTP server forwards admin requests it
    // authorised itself). A TCP connection to a CURVE server always has one (set above).
    v.allowed = true;
    v.internal = true;
    return v;
  }
  const std::string key = user_id;
  const auto keys = ring();
  const Client* client = keys->find(key);
  if (client == nullptr) {
    v.who = "(revoked key " + key_prefix(key) + ")";
    v.reason = "this key is no longer allowed (it was removed from the hub's clients file)";
  } else if (!client->has_role(role)) {
    v.who = client->name;
    std::string roles;
    for (const auto& r : client->roles) roles += (roles.empty() ? "" : ", ") + r;
    v.reason = "key '" + client->name + "' (role " + roles + ") may not do this: " + std::string(role) + " only";
  } else {
    v.allowed = true;
    v.who = client->name;
    return v;
  }
  ++messages_refused_;
  spdlog::warn("security: refused {} on {} from {}: {}", request, endpoint, v.who, v.reason);
  audit_.record_refusal(audit::AuditEntry{"unauthorized", v.who, endpoint,
                                          json{{"request", request}, {"needs", std::string(role)}}.dump()});
  return v;
}

Gatekeeper::ReloadResult Gatekeeper::reload() {
  ReloadResult r;
  auto loaded = load_clients_file(clients_file_, departments_);
  if (auto* e = std::get_if<ConfigError>(&loaded)) {
    r.error = e->to_string();
    spdlog::error("security: keys not reloaded, the old ones stay in force: {}", r.error);
    return r;
  }
  auto fresh = std::make_shared<const KeyRing>(std::move(std::get<KeyRing>(loaded)));
  const auto old = ring();
  for (const auto& c : fresh->clients())
    if (old->find(c.public_key) == nullptr) r.added.push_back(c.name);
  for (const auto& c : old->clients())
    if (fresh->find(c.public_key) == nullptr) r.removed.push_back(c.name);
  r.keys = fresh->clients().size();
  {
    std::lock_guard lock(ring_mutex_);
    ring_ = std::move(fresh);
  }
  r.ok = true;
  spdlog::info("security: keys reloaded from {}: {} keys, {} added, {} removed", clients_file_, r.keys,
               r.added.size(), r.removed.size());
  return r;
}

json Gatekeeper::describe() const {
  const auto keys = ring();
  json list = json::array();
  for (const auto& c : keys->clients())
    list.push_back({{"name", c.name}, {"roles", c.roles}, {"public_key", c.public_key}});
  json by_reason = json::object();
  std::uint64_t refused = 0;
  for (std::size_t i = 0; i < kRefusalKinds; ++i) {
    const std::uint64_t n = refusals_[i].load();
    by_reason[refusal_name(static_cast<Refusal>(i))] = n;
    refused += n;
  }
  json handshakes{{"accepted", handshakes_accepted_.load()}, {"refused", refused}, {"refused_by_reason", by_reason}};
  return json{{"clients_file", clients_file_},
              {"server_public_key", server_public_key_},
              {"keys", std::move(list)},
              {"handshakes", std::move(handshakes)},
              {"refused_messages", messages_refused_.load()}};
}

}  // namespace hub::security

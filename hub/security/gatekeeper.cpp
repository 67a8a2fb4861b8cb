#include "security/gatekeeper.h"

#include <stdexcept>

#include <spdlog/spdlog.h>

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
  control_peer_.send(zmq::buffer(std::string("$TERM")), zmq::send_flags::none);
  thread_.join();
}

void Gatekeeper::secure(zmq::socket_t& socket, const std::string& domain) const {
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, server_secret_key_);
  socket.set(zmq::sockopt::zap_domain, domain);
}

std::shared_ptr<const KeyRing> Gatekeeper::ring() const {
  std::lock_guard lock(ring_mutex_);
  return ring_;
}

void Gatekeeper::serve() {
  zmq::pollitem_t items[] = {{zap_.handle(), 0, ZMQ_POLLIN, 0}, {control_.handle(), 0, ZMQ_POLLIN, 0}};
  for (;;) {
    zmq::poll(items, 2, std::chrono::milliseconds(-1));
    if (items[1].revents & ZMQ_POLLIN) return;
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    std::vector<zmq::message_t> frames;
    do {
      frames.emplace_back();
      (void)zap_.recv(frames.back());
    } while (frames.back().more());
    // RFC 27: version, request id, domain, address, identity, mechanism, credentials…
    std::string request_id = frames.size() > 1 ? frames[1].to_string() : std::string();
    std::string status = "400", text = "refused", user_id;
    std::string domain, address, mechanism, key;
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
        } else if (!handshake_allowed(domain, *client)) {
          text = "role not allowed on this endpoint";
        } else {
          status = "200";
          text = "OK";
          user_id = key;
        }
      } else {
        text = "only CURVE is accepted";
      }
    }
    const std::string replies[] = {"1.0", request_id, status, text, user_id, ""};
    for (std::size_t i = 0; i < 6; ++i)
      zap_.send(zmq::buffer(replies[i]), i + 1 < 6 ? zmq::send_flags::sndmore : zmq::send_flags::none);
    if (status == "200") {
      ++handshakes_accepted_;
      continue;
    }
    ++handshakes_refused_;
    const std::string name = key.empty() ? std::string() : name_of(key);
    spdlog::warn("security: refused a {} handshake on {} from {}: {}{}", mechanism.empty() ? "malformed" : mechanism,
                 domain, address, text, name.empty() ? "" : " (key '" + name + "')");
    audit::AuditEntry entry{"handshake_refused", name.empty() ? (key.empty() ? "" : "key " + key) : name, domain,
                            json{{"address", address}, {"mechanism", mechanism}, {"reason", text}}.dump()};
    audit_.record_refusal(std::move(entry));
  }
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
  return json{{"clients_file", clients_file_},
              {"server_public_key", server_public_key_},
              {"keys", std::move(list)},
              {"handshakes", {{"accepted", handshakes_accepted_.load()}, {"refused", handshakes_refused_.load()}}},
              {"refused_messages", messages_refused_.load()}};
}

}  // namespace hub::security

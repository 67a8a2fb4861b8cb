#include "cli/hub_client.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "security/keys.h"

namespace hub::cli {

HubClient::HubClient(zmq::context_t& context, std::string endpoint, std::chrono::milliseconds timeout,
                     const std::optional<CurveKeys>& keys)
    : socket_(context, zmq::socket_type::dealer),
      watch_(context, socket_,
             security::HandshakeWatch::Client{keys.has_value(), keys ? keys->name : "", keys ? keys->client_public : "",
                                              keys ? keys->server_file : ""}),
      endpoint_(std::move(endpoint)),
      timeout_(timeout) {
  socket_.set(zmq::sockopt::linger, 0);
  if (keys) {
    socket_.set(zmq::sockopt::curve_serverkey, keys->server_public);
    socket_.set(zmq::sockopt::curve_publickey, keys->client_public);
    socket_.set(zmq::sockopt::curve_secretkey, keys->client_secret);
  }
  socket_.connect(endpoint_);
}

std::optional<nlohmann::json> HubClient::request(const nlohmann::json& message) {
  send(message);
  return receive();
}

void HubClient::send(const nlohmann::json& message) {
  const std::string text = message.dump();
  socket_.send(zmq::buffer(text), zmq::send_flags::none);
}

std::optional<nlohmann::json> HubClient::receive() {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}, {watch_.events().handle(), 0, ZMQ_POLLIN, 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || zmq::poll(items, 2, left) == 0) return std::nullopt;
    if (items[0].revents & ZMQ_POLLIN) break;
    if (auto failure = watch_.read())
      return nlohmann::json{{"ok", false}, {"error", {{"code", failure->code}, {"message", failure->message}}}};
  }
  zmq::message_t reply;
  (void)socket_.recv(reply);
  auto parsed = nlohmann::json::parse(reply.to_string(), nullptr, false);
  if (parsed.is_discarded()) return nlohmann::json{{"ok", false}, {"error", {{"code", "invalid_reply"}, {"message", "the hub sent a reply that is not JSON"}}}};
  return parsed;
}

std::optional<CurveKeys> resolve_keys(const std::string& keys_dir_flag, const std::string& key_name,
                                      const std::string& data_dir) {
  namespace fs = std::filesystem;
  nlohmann::json endpoints = nlohmann::json::object();
  if (!data_dir.empty()) {
    std::ifstream in(data_dir + "/hubd.endpoints.json");
    endpoints = nlohmann::json::parse(in, nullptr, false);
    if (!endpoints.is_object()) endpoints = nlohmann::json::object();
  }
  // An explicit directory always means CURVE; otherwise a running hub's endpoints file decides.
  const char* env = std::getenv("HUB_KEYS_DIR");
  std::string dir = keys_dir_flag;
  if (dir.empty() && env != nullptr && *env != '\0') dir = env;
  if (dir.empty() && endpoints.value("security", "") == "insecure") return std::nullopt;
  if (dir.empty() && endpoints.contains("keys_dir") && endpoints["keys_dir"].is_string()) dir = endpoints["keys_dir"];
  if (dir.empty()) dir = data_dir.empty() ? std::string("var/keys") : data_dir + "/keys";
  const std::string server_file = (fs::path(dir) / "hub.curve.pub").string();
  const bool hub_says_curve = endpoints.value("security", "") == "curve";
  if (!fs::exists(server_file) && keys_dir_flag.empty() && !hub_says_curve) return std::nullopt;  // an insecure hub
  CurveKeys keys;
  keys.name = key_name;
  try {
    keys.server_public = hub::security::read_key_file(server_file);
    keys.server_file = server_file;
    keys.client_secret = hub::security::read_key_file((fs::path(dir) / (key_name + ".curve.key")).string());
    keys.client_public = hub::security::public_key_of(keys.client_secret);
  } catch (const std::exception& e) {
    throw KeyError(std::string(e.what()) + ". 枢纽启用了 CURVE，需要密钥 / the hub uses CURVE: hubctl needs the hub's "
                   "hub.curve.pub and a key of its own (NAME.curve.key, listed in the hub's clients file) in one "
                   "directory; see --keys DIR and --key NAME (docs/security.md)");
  }
  return keys;
}

Endpoints resolve_endpoints(const std::string& ingest_flag, const std::string& admin_flag, const std::string& data_dir) {
  Endpoints e;
  if (!data_dir.empty()) {
    std::ifstream in(data_dir + "/hubd.endpoints.json");
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
      e.ingest = j.value("ingest", e.ingest);
      e.admin = j.value("admin", e.admin);
    }
  }
  if (const char* v = std::getenv("HUB_INGEST_ENDPOINT"); v != nullptr && *v != '\0') e.ingest = v;
  if (const char* v = std::getenv("HUB_ADMIN_ENDPOINT"); v != nullptr && *v != '\0') e.admin = v;
  if (!ingest_flag.empty()) e.ingest = ingest_flag;
  if (!admin_flag.empty()) e.admin = admin_flag;
  return e;
}

}  // namespace hub::cli

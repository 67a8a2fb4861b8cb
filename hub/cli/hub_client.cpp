#include "cli/hub_client.h"

#include <cstdlib>
#include <fstream>

namespace hub::cli {

HubClient::HubClient(zmq::context_t& context, std::string endpoint, std::chrono::milliseconds timeout)
    : socket_(context, zmq::socket_type::dealer), endpoint_(std::move(endpoint)), timeout_(timeout) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.connect(endpoint_);
}

std::optional<nlohmann::json> HubClient::request(const nlohmann::json& message) {
  const std::string text = message.dump();
  socket_.send(zmq::buffer(text), zmq::send_flags::none);
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout_) == 0) return std::nullopt;
  zmq::message_t reply;
  (void)socket_.recv(reply);
  auto parsed = nlohmann::json::parse(reply.to_string(), nullptr, false);
  if (parsed.is_discarded()) return nlohmann::json{{"ok", false}, {"error", {{"code", "invalid_reply"}, {"message", "the hub sent a reply that is not JSON"}}}};
  return parsed;
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

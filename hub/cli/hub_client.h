// A client for hubd's ZeroMQ endpoints (ingest and admin): one JSON request, one JSON reply.
//
// Uses a DEALER socket with one request in flight; a reply that does not come within the
// timeout means the hub is unreachable (hubctl then exits with code 3). Endpoints come from
// the command line, then the environment (HUB_INGEST_ENDPOINT, HUB_ADMIN_ENDPOINT), then
// DATA_DIR/hubd.endpoints.json when --data-dir is given, then the §4 defaults.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

namespace hub::cli {

class HubClient {
 public:
  HubClient(zmq::context_t& context, std::string endpoint, std::chrono::milliseconds timeout);
  // The reply, or nothing if none came in time.
  std::optional<nlohmann::json> request(const nlohmann::json& message);
  const std::string& endpoint() const noexcept { return endpoint_; }

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
  std::chrono::milliseconds timeout_;
};

struct Endpoints {
  std::string ingest = "tcp://127.0.0.1:7001";
  std::string admin = "tcp://127.0.0.1:7004";
};

// Resolves the endpoints as described above; explicit values win when not empty.
Endpoints resolve_endpoints(const std::string& ingest_flag, const std::string& admin_flag, const std::string& data_dir);

}  // namespace hub::cli

// A client for hubd's ZeroMQ endpoints (ingest and admin): one JSON request, one JSON reply.
//
// Uses a DEALER socket: request() has one request in flight; send() and receive() let a caller
// keep several (hubctl import), the hub answering each connection's requests in the order they
// came. A reply that does not come within the timeout means the hub is unreachable (hubctl
// then exits with code 3). A handshake the hub
// refuses is reported at once, saying why (hubctl then exits with code 1). Endpoints come from
// the command line, then the environment (HUB_INGEST_ENDPOINT, HUB_ADMIN_ENDPOINT), then
// DATA_DIR/hubd.endpoints.json when --data-dir is given, then the §4 defaults.
//
// With CURVE (the hub's default, docs/security.md) the client needs the hub's public key and a
// key pair of its own, found in a keys directory: --keys DIR, else $HUB_KEYS_DIR, else the
// keys_dir named in DATA_DIR/hubd.endpoints.json (--data-dir), else DATA_DIR/keys, else
// var/keys — where hubd writes them on its first run. In it: hub.curve.pub (the hub) and
// NAME.curve.key (this client; NAME from --key, by default "admin" for admin commands and
// "publisher" for publish and import).
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "security/handshake_watch.h"

namespace hub::cli {

struct CurveKeys {
  std::string name;           // the key's name (NAME.curve.key)
  std::string server_public;  // Z85
  std::string server_file;    // where server_public was read (for messages)
  std::string client_public;
  std::string client_secret;
};

struct KeyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The keys to use as described above, or nothing when the hub runs without CURVE (its
// endpoints file says "insecure", or the keys directory has no hub.curve.pub). Throws KeyError
// (a message a clerk can act on) when the hub needs a key this machine does not have.
std::optional<CurveKeys> resolve_keys(const std::string& keys_dir_flag, const std::string& key_name,
                                      const std::string& data_dir);

class HubClient {
 public:
  HubClient(zmq::context_t& context, std::string endpoint, std::chrono::milliseconds timeout,
            const std::optional<CurveKeys>& keys = std::nullopt);
  // The reply, or nothing if none came in time. When the handshake fails for certain (a key the
  // hub refuses, the wrong hub key, CURVE on one side only) the reply is made here, at once:
  // {"ok":false,"error":{"code":"key_refused"|…,"message":…}} (security/handshake_watch.h).
  std::optional<nlohmann::json> request(const nlohmann::json& message);
  // The two halves of request(): the replies come in the order of the sends.
  void send(const nlohmann::json& message);
  std::optional<nlohmann::json> receive();
  const std::string& endpoint() const noexcept { return endpoint_; }

 private:
  zmq::socket_t socket_;
  security::HandshakeWatch watch_;
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

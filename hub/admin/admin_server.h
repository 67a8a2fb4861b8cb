// The admin endpoint (§4): a ZeroMQ ROUTER that answers hubctl's read commands —
// status (forwarded to the dispatcher, which owns the live figures) and household (read
// from the event log and the ledger through this thread's own read-only connection).
//
// Requests are one JSON frame {"cmd":"status"} | {"cmd":"household","household_id":"…"} |
// {"cmd":"ping"}; replies are one JSON frame with "ok". Runs on its own thread until $TERM.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>
#include <zmq.hpp>

#include "config/hub_config.h"

namespace hub {

class AdminServer {
 public:
  AdminServer(zmq::context_t& context, const HubConfig& config, const std::string& control_endpoint,
              const std::string& status_endpoint);
  std::string bound_endpoint() const;
  void run();

 private:
  nlohmann::json handle(const nlohmann::json& request);
  nlohmann::json household(const std::string& household_id);

  const HubConfig& config_;
  zmq::socket_t router_;
  zmq::socket_t control_;
  zmq::socket_t status_;
};

}  // namespace hub

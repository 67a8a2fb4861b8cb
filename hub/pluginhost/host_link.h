// The host link: hubd's side of the plugin-host endpoint (endpoints.plugin_hosts). One thread
// owns a ROUTER bound there and stands in for the worker of every department placed on a plugin
// host ("placement": "host"): it speaks the dispatcher's inproc messages (runtime/worker_messages.h)
// on each such department's PAIR and relays them as JSON to whichever hub-plugin-host serves
// that department (wire: host_protocol.h, docs/protocol.md "Plugin hosts").
//
// The dispatcher keeps the cursor and the ledger exactly as for in-process plugins; the link
// only relays. Sessions: a host says "hello" naming its departments; the link refuses a
// department that is not placed on a host here, or that another live host already serves
// (department_taken), and otherwise answers "welcome" with each department's catalogue and
// settings. A host that is silent for kSilenceTimeoutMs (or, once a TCP connection to the
// endpoint has closed, for kSuspectTimeoutMs), says "bye" or hellos again is gone:
// every request it still had is answered to the dispatcher as skipped, and the dispatcher is
// told kHostLost, so it disowns them (new generation) and resumes from its last acknowledged
// event when a host comes back. Reports from a host are checked against their request and the
// catalogue (decode_report) before the dispatcher sees them.
//
// Threads: constructed (and bound) on hubd's main thread, then run() on its own thread until
// the dispatcher has sent kTerminate on every hosted department's PAIR.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "config/hub_config.h"
#include "runtime/worker_messages.h"

namespace hub::security {
class Gatekeeper;
}

namespace hub::pluginhost {

struct HostedDepartment {
  const PluginConfig* config = nullptr;  // owned by the HubConfig, which outlives the link
  std::string pipe_endpoint;             // the dispatcher's inproc PAIR (bound)
};

class HostLink {
 public:
  // Binds config.plugin_host_endpoint (throws zmq::error_t if it cannot).
  // With a gatekeeper the endpoint is a CURVE server, and a host must hold the key of every
  // department it claims (role department:<id>), on every message (`unauthorized`).
  HostLink(zmq::context_t& context, const HubConfig& config, std::vector<HostedDepartment> departments,
           const security::Gatekeeper* gate = nullptr);
  // Stops the ROUTER's monitor before either socket closes: a monitor whose reading end is gone
  // can block libzmq's I/O thread in its send (security/handshake_watch.h had that bug).
  ~HostLink();
  HostLink(const HostLink&) = delete;
  HostLink& operator=(const HostLink&) = delete;
  void run();
  // Where it listens (the real port when the configuration gave a wildcard).
  const std::string& bound_endpoint() const { return endpoint_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Session;

  struct Department {
    const PluginConfig* config = nullptr;
    zmq::socket_t pipe;
    Session* session = nullptr;         // the host serving it, if any
    bool awaiting_rewind = true;        // kHostLost sent, kRewound not yet received
    std::uint64_t min_generation = 0;   // requests below it were sent to a host that is gone
    std::unique_ptr<runtime::Started> held_started;  // a host's start, held until rewound
    std::uint64_t next_request_id = 1;
    std::map<std::uint64_t, std::unique_ptr<runtime::Request>> outstanding;  // sent to the host
    bool terminated = false;
    bool reload_pending = false;        // "reload" sent to the host, its "started" not yet received
  };

  struct Session {
    std::string routing_id;
    std::string token;       // "session" in every message after welcome
    std::string host_name;
    std::vector<Department*> departments;
    Clock::time_point last_heard;
    // Set when some connection closed after last_heard: a live host pings again within
    // kHeartbeatMs, so one that stays silent past kSuspectTimeoutMs is the one that went away.
    std::optional<Clock::time_point> suspect_since;
  };

  void on_host_message();
  void on_hello(const std::string& routing_id, const nlohmann::json& message);
  void on_started(Session& session, const nlohmann::json& message);
  void on_report(Session& session, const nlohmann::json& message);
  void on_pipe_message(Department& d);
  void forward_request(Department& d, std::unique_ptr<runtime::Request> request);
  void skip(Department& d, std::unique_ptr<runtime::Request> request);
  void answer_reload(Department& d, const std::string& code, const std::string& message);
  void host_lost(Department& d);
  void drop_session(const std::string& routing_id, const std::string& why);
  void drop_silent_sessions();
  void on_monitor_event();  // a connection closed, or a handshake libzmq refused
  Department* find_department(const std::string& id);
  Department& department_of(Session& session, const nlohmann::json& message);
  void send(const std::string& routing_id, const nlohmann::json& message);

  zmq::context_t& context_;
  const security::Gatekeeper* gate_;
  zmq::socket_t router_;
  zmq::socket_t monitor_;  // the ROUTER's "disconnected" events (ZeroMQ socket monitor)
  std::string endpoint_;
  std::vector<std::unique_ptr<Department>> departments_;
  std::map<std::string, std::unique_ptr<Session>> sessions_;  // by routing id
};

}  // namespace hub::pluginhost

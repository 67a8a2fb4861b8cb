// hub-plugin-host's engine: runs department plugins on a department's own server and serves
// them to a hub over TCP (wire: host_protocol.h, docs/protocol.md "Plugin hosts").
//
// Each plugin runs in the very same PluginWorker as inside hubd (runtime/plugin_worker.h),
// on its own thread behind an inproc PAIR, so hosted and in-process plugins run the same code:
// the same loader and ABI check, subscription filter and action checks. The host owns no
// cursor and no ledger: it turns the hub's "deliver" messages into worker Requests and the
// workers' Reports into "report" messages; the hub's dispatcher decides what is delivered.
//
// Connection: a DEALER to the hub's endpoint; "hello" on every (re)connect; on "welcome" the
// workers are (re)started with the catalogues and settings the hub sent (so a reconnect always
// starts from a clean plugin and a fresh generation count). The host pings every
// kHeartbeatMs; when the hub is silent for kSilenceTimeoutMs, says it is closing, or no longer
// knows the session (a restarted hubd), the host drops the socket and says hello again.
//
// Supervised (pluginhost/supervisor.h, the default), the host keeps each worker's CallProbe and
// its session in the memory it shares with its supervisor. A host started after a crash says so
// in its first hello ("restart": what died, in which plugin call, which session it replaces)
// and starts its plugins only after the supervisor's backoff, while the hub shows the
// department as failing.
//
// Threads: run() on the caller's thread; one thread per plugin worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "config/hub_config.h"
#include "pluginhost/host_config.h"
#include "pluginhost/supervisor.h"
#include "security/handshake_watch.h"

namespace hub::pluginhost {

class PluginHost {
 public:
  // `shared`: the memory shared with the supervisor (nullptr when unsupervised); `restart`: what
  // the supervisor says happened to the previous host process, if it crashed.
  PluginHost(zmq::context_t& context, HostConfig config, SharedState* shared = nullptr,
             std::optional<Restart> restart = std::nullopt);
  ~PluginHost();
  // Serves until `stop_requested` returns true (checked several times a second): returns 0.
  // Returns 1 when the hub refuses this host for good (e.g. a department it does not place
  // on a host), after logging the hub's reason.
  int run(const std::function<bool()>& stop_requested);

 private:
  using Clock = std::chrono::steady_clock;
  enum class State { kConnecting, kServing, kBackingOff };

  struct Worker {
    PluginConfig config;  // referenced by the worker thread: lives as long as it
    zmq::socket_t pipe;
    std::thread thread;
    std::deque<std::uint64_t> requests;  // ids of the hub's requests, in the order sent
  };

  void connect();
  void reconnect_later(std::chrono::milliseconds delay);
  std::optional<int> on_hub_message();
  void on_welcome(const nlohmann::json& message);
  void on_deliver(const nlohmann::json& message);
  void on_reload(const nlohmann::json& message);
  void on_worker_message(Worker& worker);
  std::vector<PluginConfig> decode_welcome(const nlohmann::json& departments) const;  // throws ProtocolError
  void start_workers(std::vector<PluginConfig> departments);
  void stop_workers();
  void tick();
  void send(nlohmann::json message);
  void close_hub_socket();
  void on_handshake_failure(const security::HandshakeFailure& failure);

  zmq::context_t& context_;
  HostConfig config_;
  std::optional<zmq::socket_t> hub_;
  std::optional<security::HandshakeWatch> hub_watch_;  // why a handshake with the hub failed
  std::string handshake_problem_;                     // the last failure's code, logged at…
  Clock::time_point handshake_problem_logged_at_{};   // …this time (again after a minute)
  State state_ = State::kConnecting;
  std::string session_;
  Clock::time_point hello_sent_at_{};
  Clock::time_point last_heard_{};
  Clock::time_point last_ping_{};
  Clock::time_point reconnect_at_{};
  bool announced_waiting_ = false;
  SharedState* shared_ = nullptr;
  std::optional<Restart> restart_;              // told the hub in hello until the first welcome
  Clock::time_point start_not_before_{};        // the supervisor's backoff after a crash
  std::optional<std::vector<PluginConfig>> pending_start_;  // the welcome's, started at start_not_before_
  std::uint64_t worker_generation_ = 0;  // makes each worker's inproc endpoint unique
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace hub::pluginhost

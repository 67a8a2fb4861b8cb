// A department's delivery thread: loads its plugin, starts it, hands it events in sequence
// order, checks what it returns, hands the valid actions to the department's system through
// the configured connector (hub/sdk/connectors.h), and reports back to the dispatcher over an
// inproc PAIR. A failed hand-off fails the event for this department like a plugin error.
//
// Everything that touches the plugin happens here, in this order, in run(): load (with the
// ABI check), create, start, handle events, stop, destroy, unload. The plugin's hooks are
// called on a call thread of the instance (one per instance, so always the same thread for
// one instance): the worker waits for each call with delivery.call_timeout_ms, and a call
// that takes longer is abandoned with its thread and instance (docs/reliability.md), the event
// fails with a "timeout" reason, and a fresh instance is started for the retry. After 8
// abandoned calls the department is reported hung (state refused) until its plugin is
// reloaded. kReload swaps the plugin for another build between batches: the new build is
// loaded and checked (ABI, id) before the old one is stopped; a refused build leaves the old
// one running. A department reloaded before a restart of hubd starts with the library that
// reload chose (`library_override`); when that one cannot be loaded or started the worker
// falls back to the config's library and says why (Started::fallback_error).
#pragma once

#include <string>

#include <zmq.hpp>

#include "config/hub_config.h"

#include "delivery/logged_event.h"

namespace hub::delivery {

// Whether the department subscribes to this event (type, villages, statuses).
bool subscribed(const PluginConfig& plugin, const LoggedEvent& e);

class PluginWorker {
 public:
  // `pipe_endpoint`: the dispatcher's inproc PAIR for this department (already bound).
  // `library_override`: the .so to start with instead of plugin.library ("" = the config's).
  PluginWorker(zmq::context_t& context, const PluginConfig& plugin, std::string data_dir, std::string pipe_endpoint,
               std::string library_override = "");
  void run();

 private:
  zmq::context_t& context_;
  const PluginConfig& plugin_;
  std::string data_dir_;
  std::string pipe_endpoint_;
  std::string library_override_;
};

}  // namespace hub::delivery

// A department's delivery thread: loads its plugin, starts it, hands it events in sequence
// order, checks what it returns, hands the valid actions to the department's system through
// the configured connector (hub/sdk/connectors.h), and reports back to the dispatcher over an
// inproc PAIR. A failed hand-off fails the event for this department like a plugin error.
//
// Everything that touches the plugin happens here, in this order, in run(): load (with the
// ABI check), create, start, handle events, stop, destroy, unload. The plugin's hooks are
// therefore always called on this one thread.
#pragma once

#include <string>

#include <zmq.hpp>

#include "config/hub_config.h"

namespace hub::delivery {

class PluginWorker {
 public:
  // `pipe_endpoint`: the dispatcher's inproc PAIR for this department (already bound).
  PluginWorker(zmq::context_t& context, const PluginConfig& plugin, std::string data_dir, std::string pipe_endpoint);
  void run();

 private:
  zmq::context_t& context_;
  const PluginConfig& plugin_;
  std::string data_dir_;
  std::string pipe_endpoint_;
};

}  // namespace hub::delivery

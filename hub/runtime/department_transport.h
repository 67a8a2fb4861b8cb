// How the dispatcher reaches a department's plugin. For every enabled department the
// dispatcher binds an inproc PAIR and speaks runtime/worker_messages.h on it; a transport
// serves the other end of those PAIRs. Two transports exist, and the daemon hands both to the
// dispatcher, which owns neither:
//   - in process (runtime/in_process_transport.h): a PluginWorker thread per department,
//     loading the plugin inside hubd;
//   - on a plugin host (pluginhost/host_transport.h): the host link, which relays the same
//     messages to a hub-plugin-host on the department's own server.
//
// Lifetime: the owner constructs the transport before the dispatcher and destroys it after.
// The dispatcher calls start() once, from the thread that constructs it, and join() once, after
// it has sent kTerminate on every PAIR it gave to start().
#pragma once

#include <string>
#include <vector>

#include "config/hub_config.h"

namespace hub::runtime {

// One department a transport serves.
struct DepartmentPipe {
  const PluginConfig* config = nullptr;  // owned by the HubConfig, which outlives the transport
  std::string pipe_endpoint;             // the dispatcher's inproc PAIR (bound)
  std::string library;                   // the .so to start with instead of the config's ("" = the config's)
};

class DepartmentTransport {
 public:
  virtual ~DepartmentTransport() = default;
  // Starts serving `departments` on threads of the transport's own. Throws when it cannot
  // (e.g. an endpoint already in use): then nothing was started.
  virtual void start(std::vector<DepartmentPipe> departments) = 0;
  // Waits for the transport's threads, which end once every department was sent kTerminate.
  virtual void join() = 0;
};

}  // namespace hub::runtime

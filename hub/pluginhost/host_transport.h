// The plugin-host transport (runtime/department_transport.h): the departments placed on a
// plugin host ("placement": "host") are served by the host link (pluginhost/host_link.h) on a
// thread of its own, which relays the dispatcher's messages to whichever hub-plugin-host serves
// each department.
//
// start() binds endpoints.plugin_hosts before any thread starts, so a busy endpoint stops
// hubd's start-up with a clear error (it throws; nothing is left running). With no department
// on a host, start() is not called and the endpoint is not bound at all.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "config/hub_config.h"
#include "runtime/department_transport.h"

namespace hub::security {
class Gatekeeper;
}

namespace hub::pluginhost {

class HostLink;

class HostTransport final : public runtime::DepartmentTransport {
 public:
  // `context`, `config` and `gate` (may be null: no CURVE) outlive the transport.
  HostTransport(zmq::context_t& context, const HubConfig& config, const security::Gatekeeper* gate);
  ~HostTransport() override;

  void start(std::vector<runtime::DepartmentPipe> departments) override;
  void join() override;
  // The plugin-host endpoint as bound (the real port for a wildcard), or "" before start().
  const std::string& bound_endpoint() const { return endpoint_; }

 private:
  zmq::context_t& context_;
  const HubConfig& config_;
  const security::Gatekeeper* gate_;
  std::string endpoint_;
  std::thread thread_;
};

}  // namespace hub::pluginhost

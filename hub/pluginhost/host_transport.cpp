#include "pluginhost/host_transport.h"

#include "pluginhost/host_link.h"

namespace hub::pluginhost {

HostTransport::HostTransport(zmq::context_t& context, const HubConfig& config, const security::Gatekeeper* gate)
    : context_(context), config_(config), gate_(gate) {}

HostTransport::~HostTransport() { join(); }

void HostTransport::start(std::vector<runtime::DepartmentPipe> departments) {
  std::vector<HostedDepartment> hosted;
  hosted.reserve(departments.size());
  for (auto& d : departments) hosted.push_back({d.config, std::move(d.pipe_endpoint)});
  auto link = std::make_shared<HostLink>(context_, config_, std::move(hosted), gate_);
  endpoint_ = link->bound_endpoint();
  thread_ = std::thread([link] { link->run(); });
}

void HostTransport::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace hub::pluginhost

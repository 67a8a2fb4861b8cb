#include "runtime/in_process_transport.h"

#include "runtime/plugin_worker.h"

namespace hub::runtime {

InProcessTransport::InProcessTransport(zmq::context_t& context, std::string data_dir)
    : context_(context), data_dir_(std::move(data_dir)) {}

InProcessTransport::~InProcessTransport() { join(); }

void InProcessTransport::start(std::vector<DepartmentPipe> departments) {
  for (auto& d : departments) {
    workers_.emplace_back([&context = context_, dir = data_dir_, d = std::move(d)] {
      PluginWorker(context, *d.config, dir, d.pipe_endpoint, d.library).run();
    });
  }
}

void InProcessTransport::join() {
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

}  // namespace hub::runtime

// The in-process transport (runtime/department_transport.h): one PluginWorker thread per
// department, which loads the department's plugin inside this process and answers the
// dispatcher on its PAIR. For trusted plugins: a plugin that crashes takes the process with it
// (a plugin host contains that; docs/plugin-host.md).
#pragma once

#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "runtime/department_transport.h"

namespace hub::runtime {

class InProcessTransport final : public DepartmentTransport {
 public:
  // `context` and the plugins' configuration outlive the transport; `data_dir` is where the
  // plugins' own stores live.
  InProcessTransport(zmq::context_t& context, std::string data_dir);
  ~InProcessTransport() override;

  void start(std::vector<DepartmentPipe> departments) override;
  void join() override;

 private:
  zmq::context_t& context_;
  std::string data_dir_;
  std::vector<std::thread> workers_;
};

}  // namespace hub::runtime

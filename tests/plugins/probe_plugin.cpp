// A plugin for the shutdown and back-pressure tests. It pretends to be "police" (and decides
// nothing), appends the sequence number of every event it is handed to DATA_DIR/handled.log
// (flushed at the end of each batch and at stop), and sleeps HUB_TEST_PROBE_SLEEP_US
// microseconds per event when that variable is set, to play a slow department.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "hub/sdk/plugin.h"

class ProbePlugin final : public hub::sdk::Plugin {
 public:
  ~ProbePlugin() override {
    if (out_ != nullptr) std::fclose(out_);
  }

 protected:
  hub::sdk::HandleResult on_start(hub::sdk::Host& host) override {
    const std::string path = std::string(host.data_dir()) + "/handled.log";
    out_ = std::fopen(path.c_str(), "a");
    if (out_ == nullptr) return hub::sdk::HandleResult::error("cannot open " + path);
    if (const char* s = std::getenv("HUB_TEST_PROBE_SLEEP_US")) sleep_us_ = std::strtol(s, nullptr, 10);
    return hub::sdk::HandleResult::ok();
  }
  hub::sdk::HandleResult on_event(const hub::sdk::Event& event, std::vector<hub::sdk::PolicyAction>&) override {
    if (sleep_us_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
    std::fprintf(out_, "%llu\n", static_cast<unsigned long long>(event.sequence));
    return hub::sdk::HandleResult::ok();
  }
  hub::sdk::HandleResult on_batch_end() override {
    std::fflush(out_);
    return hub::sdk::HandleResult::ok();
  }
  void on_stop() override { std::fflush(out_); }

 private:
  std::FILE* out_ = nullptr;
  long sleep_us_ = 0;
};

HUB_DECLARE_PLUGIN(ProbePlugin, "police", "0.0.1-probe")

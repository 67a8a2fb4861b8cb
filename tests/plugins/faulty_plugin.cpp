// Faulty stand-ins for "police" (they decide nothing), for the retry and parking tests. One
// source, built several times with FAULT set to what goes wrong for household V01-00666 (every
// other household is handled normally):
//   1 throws      on_event throws
//   2 hangs       on_event never returns (sleeps)
//   3 garbage     on_event returns an action for a policy the catalogue does not have, which
//                 the hub's validator rejects
//   4 crashes     on_event calls abort(): the process running the plugin dies of SIGABRT (in a
//                 plugin host, its supervisor restarts it); it also keeps handled.log, as 0 does
// FAULT 0 is a well-behaved plugin whose version is PLUGIN_VERSION (the reload test builds it
// twice, v1 and v2): it appends "VERSION SEQ" for every event it handles to handled.log in
// its data directory, made durable at the end of each batch, so a test can see that no event
// reached the plugin twice.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include <unistd.h>

#include "hub/sdk/plugin.h"

#ifndef FAULT
#error "build with -DFAULT=0..4"
#endif
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.0.1-faulty"
#endif

class FaultyPlugin final : public hub::sdk::Plugin {
 protected:
  hub::sdk::HandleResult on_start(hub::sdk::Host& host) override {
    if (FAULT == 0 || FAULT == 4) {
      const std::string path = std::string(host.data_dir()) + "/handled.log";
      log_ = std::fopen(path.c_str(), "a");
      if (log_ == nullptr) return hub::sdk::HandleResult::error("cannot open " + path);
    }
    return hub::sdk::HandleResult::ok();
  }
  hub::sdk::HandleResult on_event(const hub::sdk::Event& event, std::vector<hub::sdk::PolicyAction>& actions) override {
    if (log_ != nullptr) std::fprintf(log_, "%s %llu\n", PLUGIN_VERSION, static_cast<unsigned long long>(event.sequence));
    if (event.household_id != "V01-00666") return hub::sdk::HandleResult::ok();
    switch (FAULT) {
      case 1: throw std::runtime_error("household V01-00666 breaks this plugin");
      case 2:
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
      case 4:
        std::fflush(log_);
        std::abort();
      case 3: {
        hub::sdk::PolicyAction a;
        a.household_id = event.household_id;
        a.policy_id = "police.no_such_policy";
        a.action = hub::sdk::ActionKind::kApply;
        a.reason = "garbage";
        actions.push_back(a);
        return hub::sdk::HandleResult::ok();
      }
      default: return hub::sdk::HandleResult::ok();
    }
  }
  hub::sdk::HandleResult on_batch_end() override {
    if (log_ != nullptr && (std::fflush(log_) != 0 || fsync(fileno(log_)) != 0))
      return hub::sdk::HandleResult::retry("cannot write handled.log");
    return hub::sdk::HandleResult::ok();
  }
  void on_stop() override {
    if (log_ != nullptr) std::fclose(log_);
    log_ = nullptr;
  }

 private:
  std::FILE* log_ = nullptr;
};

HUB_DECLARE_PLUGIN(FaultyPlugin, "police", PLUGIN_VERSION)

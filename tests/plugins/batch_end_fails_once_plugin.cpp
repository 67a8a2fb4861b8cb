// A plugin whose first batch cannot be committed: on_batch_end answers retry once, then ok.
// It pretends to be "police" (and decides nothing) so a test can put it in place of the real
// one and check that the hub records none of that batch, retries it, and records each event
// exactly once afterwards.
#include "hub/sdk/plugin.h"

class BatchEndFailsOncePlugin final : public hub::sdk::Plugin {
 protected:
  hub::sdk::HandleResult on_event(const hub::sdk::Event&, std::vector<hub::sdk::PolicyAction>&) override {
    return hub::sdk::HandleResult::ok();
  }
  hub::sdk::HandleResult on_batch_end() override {
    if (failed_once_) return hub::sdk::HandleResult::ok();
    failed_once_ = true;
    return hub::sdk::HandleResult::retry("the department's database is busy");
  }

 private:
  bool failed_once_ = false;
};

HUB_DECLARE_PLUGIN(BatchEndFailsOncePlugin, "police", "0.0.1-batch-end-fails-once")

// A plugin that claims to be built for plugin ABI 999: hubd must refuse it, name both
// versions, and keep running. It pretends to be "police" so the test can put it in place of
// the real one.
#include "hub/sdk/version.h"
#undef HUB_SDK_ABI_VERSION
#define HUB_SDK_ABI_VERSION 999u
#include "hub/sdk/plugin.h"

class BadAbiPlugin final : public hub::sdk::Plugin {
 protected:
  hub::sdk::HandleResult on_event(const hub::sdk::Event&, std::vector<hub::sdk::PolicyAction>&) override {
    return hub::sdk::HandleResult::ok();
  }
};

HUB_DECLARE_PLUGIN(BadAbiPlugin, "police", "0.0.1-bad-abi")

// A plugin for the harness's own tests: it answers correctly for most households, and
// misbehaves in one chosen way for the household whose number says so, so that a test can
// check that the harness reports each fault as hubd would.
//   V09-00001 throws            V09-00002 asks to retry      V09-00003 unknown policy
//   V09-00004 another household V09-00005 negative amount    V09-00006 leaves a policy out
//   V09-00007 empty reason
// It logs at start and stamps each reason with the host's clock, for the FakeHost tests.
#include <stdexcept>
#include <string>
#include <vector>

#include "hub/sdk/plugin.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::Event;
using hub::sdk::HandleResult;
using hub::sdk::PolicyAction;

class MisbehavingPlugin final : public hub::sdk::Plugin {
 protected:
  HandleResult on_start(hub::sdk::Host& host) override {
    host_ = &host;
    host.log(hub::sdk::LogLevel::kWarn, "misbehaving: data dir " + std::string(host.data_dir()));
    return HandleResult::ok();
  }

  HandleResult on_event(const Event& event, std::vector<PolicyAction>& actions) override {
    const std::string& h = event.household_id;
    if (h == "V09-00001") throw std::runtime_error("department database offline");
    if (h == "V09-00002") return HandleResult::retry("department system busy");
    const std::string stamp = " @" + std::to_string(host_->now_unix_ms());
    actions.push_back(PolicyAction{h == "V09-00003" ? "misbehaving.unknown" : "misbehaving.priority",
                                   h == "V09-00004" ? "V09-99999" : h, ActionKind::kApply, std::nullopt,
                                   h == "V09-00007" ? "" : "priority" + stamp});
    if (h != "V09-00006")
      actions.push_back(PolicyAction{"misbehaving.reward", h, ActionKind::kApply, h == "V09-00005" ? -100 : 100,
                                     "reward" + stamp});
    return HandleResult::ok();
  }

 private:
  hub::sdk::Host* host_ = nullptr;
};

}  // namespace

HUB_DECLARE_PLUGIN(MisbehavingPlugin, "misbehaving", "0.0.1")

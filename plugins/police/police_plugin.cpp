// 派出所 (police station): priority household-registration (户籍) services and fast-track
// certificates. Every household is concerned, so the plugin needs no department data: the
// catalogue's standard rule decides (credit → apply, non_credit → defer, breach → withhold,
// and back to credit → release after non_credit, restore after breach).
#include "hub/sdk/plugin.h"
#include "hub/sdk/standard_plugin.h"

namespace {

// A police station grants priority services rather than payments.
constexpr hub::sdk::ActionWording kWording{"优先办理", "暂缓优先办理", "不予优先办理", "恢复优先办理", "恢复优先办理"};

class PolicePlugin final : public hub::sdk::StandardPlugin {
 public:
  PolicePlugin() : StandardPlugin({.department = "police", .wording = kWording}) {}
};

}  // namespace

HUB_DECLARE_PLUGIN(PolicePlugin, "police", "1.0.0")

// 城建办 (urban construction office): priority in dilapidated-house renovation (危房改造) and
// priority building permits (建房许可). Every household is concerned; the catalogue's standard
// rule decides.
#include "hub/sdk/plugin.h"
#include "hub/sdk/standard_plugin.h"

namespace {

constexpr hub::sdk::ActionWording kWording{"优先安排", "暂缓优先安排", "不予优先安排", "恢复优先安排", "恢复优先安排"};

class UrbanConstructionPlugin final : public hub::sdk::StandardPlugin {
 public:
  UrbanConstructionPlugin() : StandardPlugin({.department = "urban_construction", .wording = kWording}) {}
};

}  // namespace

HUB_DECLARE_PLUGIN(UrbanConstructionPlugin, "urban_construction", "1.0.0")

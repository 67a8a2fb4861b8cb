// 农业服务中心 (agricultural services centre): priority in agricultural training, in project
// support and in applications for farm-machinery purchase subsidies. Every household is
// concerned; the catalogue's standard rule decides, so the plugin is only its wording.
#include "hub/sdk/plugin.h"
#include "hub/sdk/standard_plugin.h"

namespace {

// The centre arranges places and applications first (优先安排) rather than paying money.
constexpr hub::sdk::ActionWording kWording{"优先安排", "暂缓优先安排", "不予优先安排", "恢复优先安排", "恢复优先安排"};

class AgriculturePlugin final : public hub::sdk::StandardPlugin {
 public:
  AgriculturePlugin() : StandardPlugin({.department = "agriculture", .wording = kWording}) {}
};

}  // namespace

HUB_DECLARE_PLUGIN(AgriculturePlugin, "agriculture", "1.0.0")

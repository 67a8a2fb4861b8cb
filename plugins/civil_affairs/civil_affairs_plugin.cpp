// 社会事务办 (civil affairs office): priority in the minimum-living allowance (低保) and in
// temporary relief for every household, and assistance programmes (帮扶项目) for households
// designated "assistance" (帮扶对象). Designation-scoped policies answer not_applicable for
// households without the designation; everything else follows the catalogue's standard rule.
// Priorities and programmes carry no money here, and the office keeps no roster of its own:
// designations arrive with the event.
#include "hub/sdk/plugin.h"
#include "hub/sdk/standard_plugin.h"

namespace {

class CivilAffairsPlugin final : public hub::sdk::StandardPlugin {
 public:
  CivilAffairsPlugin() : StandardPlugin({.department = "civil_affairs"}) {}
};

}  // namespace

HUB_DECLARE_PLUGIN(CivilAffairsPlugin, "civil_affairs", "1.0.0")

// 司法所 (judicial office): priority legal aid (法律援助) and priority in people's mediation
// (人民调解). Every household is concerned; the catalogue's standard rule decides. Legal aid
// itself is a right: a deferred or withheld *priority* means the case is taken in the normal
// order, which is what the reasons say.
#include "hub/sdk/plugin.h"
#include "hub/sdk/standard_plugin.h"

namespace {

constexpr hub::sdk::ActionWording kWording{"优先受理", "暂缓优先受理（按常规顺序受理）", "不予优先受理（按常规顺序受理）",
                                           "恢复优先受理", "恢复优先受理"};

class JudicialPlugin final : public hub::sdk::StandardPlugin {
 public:
  JudicialPlugin() : StandardPlugin({.department = "judicial", .wording = kWording}) {}
};

}  // namespace

HUB_DECLARE_PLUGIN(JudicialPlugin, "judicial", "1.0.0")

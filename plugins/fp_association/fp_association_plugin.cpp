// 计生协会 (family-planning association): assistance programmes (帮扶项目) and the assistance
// grant (帮扶金) for households designated "assistance" (帮扶对象). Households without the
// designation get not_applicable; designated ones follow the catalogue's standard rule.
//
// The grant carries its quarterly amount on every decision (apply, defer, withhold, release,
// restore) so the association's accounts can follow it: settings.assistance_grant_fen, per
// household and quarter in fen (default 30000, i.e. 300 yuan). The association keeps no
// accrual table: a release states the quarter's amount; what accrued is in the ledger.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "hub/sdk/plugin.h"
#include "hub/sdk/reasons.h"
#include "hub/sdk/standard_plugin.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::HandleResult;

constexpr std::int64_t kDefaultGrantFen = 30000;
constexpr std::int64_t kMaxGrantFen = 100'000'000;  // 1,000,000 yuan: a typo, not a policy

class FpAssociationPlugin final : public hub::sdk::StandardPlugin {
 public:
  FpAssociationPlugin() : StandardPlugin({.department = "fp_association", .prices_money = true}) {}

 protected:
  HandleResult configure(hub::sdk::Host& host, const hub::sdk::Catalogue& catalogue) override {
    (void)catalogue;
    const auto config = nlohmann::json::parse(host.config_json(), nullptr, /*allow_exceptions=*/false);
    const auto settings = config.is_object() ? config.value("settings", nlohmann::json::object()) : nlohmann::json();
    if (!settings.is_object()) return HandleResult::error("fp_association: settings must be a JSON object");
    grant_fen_ = kDefaultGrantFen;
    if (const auto it = settings.find("assistance_grant_fen"); it != settings.end()) {
      if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > kMaxGrantFen)
        return HandleResult::error("fp_association: settings.assistance_grant_fen must be a whole number of fen from 0 to " +
                                   std::to_string(kMaxGrantFen) + ", got " + it->dump());
      grant_fen_ = it->get<std::int64_t>();
    }
    host.log(hub::sdk::LogLevel::kInfo,
             "fp_association: assistance grant " + hub::sdk::format_yuan(grant_fen_) + " per household and quarter");
    return HandleResult::ok();
  }

  hub::sdk::PolicyAction decide(const hub::sdk::PolicyDefinition& policy, const hub::sdk::Event& event) override {
    hub::sdk::PolicyAction action = StandardPlugin::decide(policy, event);
    if (policy.money && action.action != ActionKind::kNotApplicable) {
      action.amount_fen = grant_fen_;
      action.reason += " — " + hub::sdk::format_yuan(grant_fen_);
    }
    return action;
  }

 private:
  std::int64_t grant_fen_ = kDefaultGrantFen;
};

}  // namespace

HUB_DECLARE_PLUGIN(FpAssociationPlugin, "fp_association", "1.0.0")

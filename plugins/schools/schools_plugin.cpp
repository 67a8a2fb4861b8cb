// 中心学校 (central school): tuition and fee reduction (学杂费减免) for enrolled children and
// enrolment priority (入学优先). Only households on the school's roster are concerned; the
// others get not_applicable for every policy.
//
// Department data: the roster, a CSV `household_id,children` (children = enrolled children,
// >= 1) at <data_dir>/roster.csv or at settings.roster (relative to the data directory).
// Settings: fee_reduction_fen_per_child, the reduction per enrolled child and quarter in fen
// (default 15000, i.e. 150 yuan). The fee reduction carries its amount on every decision
// (apply, defer, withhold, release, restore) so the school's accounts can follow it.
#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/plugin.h"
#include "hub/sdk/reasons.h"
#include "hub/sdk/roster.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::Catalogue;
using hub::sdk::Event;
using hub::sdk::format_yuan;
using hub::sdk::HandleResult;
using hub::sdk::Host;
using hub::sdk::HouseholdStatus;
using hub::sdk::PolicyAction;
using hub::sdk::PolicyDefinition;
using hub::sdk::RosterRow;

// The households with enrolled children, one row each.
const hub::sdk::RosterSpec kRosterSpec{
    .department = "schools",
    .columns = {"children"},
    .remedy = "generate it with the town generator or set settings.roster",
};

constexpr std::string_view kFeeReductionPolicy = "schools.fee_reduction";
constexpr std::int64_t kDefaultFeeReductionFenPerChild = 15000;
constexpr std::int64_t kMaxChildren = 100;                         // guards against garbage rows
constexpr std::int64_t kMaxFeeReductionFenPerChild = 100'000'000;  // 1,000,000 yuan: a typo, not a policy

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

class SchoolsPlugin final : public hub::sdk::Plugin {
 protected:
  HandleResult on_start(Host& host) override {
    std::string error;
    auto catalogue = Catalogue::from_plugin_config(host.config_json(), &error);
    if (!catalogue) return HandleResult::error("schools: cannot read the policy catalogue: " + error);
    for (const PolicyDefinition& policy : catalogue->policies()) {
      if (policy.money && policy.id != kFeeReductionPolicy)
        return HandleResult::error("schools: policy " + policy.id +
                                   " is marked \"money\": true, but the plugin only knows the amount of " +
                                   std::string(kFeeReductionPolicy) + "; fix config/departments/schools.json");
    }

    const nlohmann::json config = nlohmann::json::parse(host.config_json(), nullptr, /*allow_exceptions=*/false);
    const nlohmann::json settings =
        config.is_object() && config.contains("settings") ? config["settings"] : nlohmann::json::object();
    if (!settings.is_object()) return HandleResult::error("schools: settings must be a JSON object");

    fen_per_child_ = kDefaultFeeReductionFenPerChild;
    if (auto it = settings.find("fee_reduction_fen_per_child"); it != settings.end()) {
      if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
          it->get<std::int64_t>() > kMaxFeeReductionFenPerChild)
        return HandleResult::error(
            "schools: settings.fee_reduction_fen_per_child must be a whole number of fen from 0 to " +
            std::to_string(kMaxFeeReductionFenPerChild) + ", got " + it->dump());
      fen_per_child_ = it->get<std::int64_t>();
    }

    const auto roster_path = hub::sdk::roster_path(kRosterSpec, host.config_json(), host.data_dir(), &error);
    if (!roster_path) return HandleResult::error(error);
    if (HandleResult loaded = load_roster(*roster_path); !loaded.is_ok()) return loaded;

    host.log(hub::sdk::LogLevel::kInfo, "schools: roster " + *roster_path + ": " + std::to_string(children_.size()) +
                                            " households, fee reduction " + format_yuan(fen_per_child_) +
                                            " per child and quarter");
    catalogue_ = std::move(catalogue);
    return HandleResult::ok();
  }

  HandleResult on_event(const Event& event, std::vector<PolicyAction>& actions) override {
    if (!catalogue_) return HandleResult::error("schools: event before a successful start");
    const auto enrolled = children_.find(event.household_id);
    for (const PolicyDefinition& policy : catalogue_->policies()) {
      const bool needs_roster = policy.scope == PolicyDefinition::Scope::kRoster || policy.money;
      if (needs_roster && enrolled == children_.end()) {
        PolicyAction action;
        action.policy_id = policy.id;
        action.household_id = event.household_id;
        action.action = ActionKind::kNotApplicable;
        action.reason = "不在学校名册（无在校子女），不适用 / not on the school roster: not applicable";
        actions.push_back(std::move(action));
        continue;
      }
      PolicyAction action = hub::sdk::standard_policy_action(policy, event);
      if (policy.money && action.action != ActionKind::kNotApplicable) {
        const std::int64_t children = enrolled->second;
        action.amount_fen = children * fen_per_child_;
        action.reason += " — " + format_yuan(*action.amount_fen) + " (" + std::to_string(children) + " × " +
                         format_yuan(fen_per_child_) + ")";
      }
      actions.push_back(std::move(action));
    }
    return HandleResult::ok();
  }

 private:
  HandleResult load_roster(const std::string& path) {
    std::unordered_map<std::string, std::int64_t> children;
    std::unordered_map<std::string, std::size_t> first_line;
    std::string error;
    const auto roster = hub::sdk::load_roster(
        kRosterSpec, path,
        [&](const RosterRow& row) -> std::optional<std::string> {
          const std::string& count_text = row.fields[0];
          const auto count = parse_integer(count_text);
          if (!count || *count < 1 || *count > kMaxChildren)
            return "children must be a whole number from 1 to " + std::to_string(kMaxChildren) + ", got '" +
                   count_text + "'";
          if (auto [it, inserted] = first_line.emplace(row.household_id, row.line); !inserted)
            return "household " + row.household_id + " is already listed on line " + std::to_string(it->second);
          children.emplace(row.household_id, *count);
          return std::nullopt;
        },
        &error);
    if (!roster) return HandleResult::error(error);
    children_ = std::move(children);
    return HandleResult::ok();
  }

  std::optional<Catalogue> catalogue_;
  std::unordered_map<std::string, std::int64_t> children_;  // household id → enrolled children
  std::int64_t fen_per_child_ = kDefaultFeeReductionFenPerChild;
};

}  // namespace

HUB_DECLARE_PLUGIN(SchoolsPlugin, "schools", "1.0.0")

// A department's policy catalogue (config/departments/<id>.json) and the standard rule that
// maps a status change to a policy action.
//
// The catalogue lists the department's policies with their Chinese and English names, whether
// they carry money, which households they concern (every household, the department's own
// roster, or a designation such as "assistance"), and the effect of each status. The hub
// reads it to validate what a plugin returns; plugins read it (Host::config_json()["catalogue"])
// to decide. Catalogue is an immutable value; parse once, share freely between threads.
//
// File format:
//   {"department":"finance","name_zh":"财政所","name_en":"Finance office",
//    "policies":[{"id":"finance.only_child_reward","name_zh":"…","name_en":"…",
//                 "money":true,"scope":"roster",
//                 "effects":{"credit":"apply","non_credit":"defer","breach":"withhold"}}]}
// scope is "all", "roster" or "designation:<name>".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/sdk/types.h"

namespace hub::sdk {

struct PolicyDefinition {
  enum class Scope { kAll, kRoster, kDesignation };

  std::string id;
  std::string name_zh;
  std::string name_en;
  bool money = false;
  Scope scope = Scope::kAll;
  std::string designation;  // for Scope::kDesignation
  ActionKind on_credit = ActionKind::kApply;
  ActionKind on_non_credit = ActionKind::kDefer;
  ActionKind on_breach = ActionKind::kWithhold;
};

class Catalogue {
 public:
  // Parses catalogue JSON. On failure returns nothing and sets *error to a message naming the
  // key and the problem (e.g. "policies[2].effects.breach: unknown action 'skip'").
  static std::optional<Catalogue> parse(std::string_view json_text, std::string* error);

  // Parses the "catalogue" member of a plugin's configuration (Host::config_json()).
  static std::optional<Catalogue> from_plugin_config(std::string_view config_json, std::string* error);

  const std::string& department() const noexcept { return department_; }
  const std::string& name_zh() const noexcept { return name_zh_; }
  const std::string& name_en() const noexcept { return name_en_; }
  const std::vector<PolicyDefinition>& policies() const noexcept { return policies_; }
  const PolicyDefinition* find(std::string_view policy_id) const noexcept;

 private:
  std::string department_;
  std::string name_zh_;
  std::string name_en_;
  std::vector<PolicyDefinition> policies_;
};

// The standard rule (§2): the catalogue's effect for the new status, refined by the previous
// one — returning to credit from non_credit releases what was deferred, from breach restores.
ActionKind standard_action(const PolicyDefinition& policy, const Event& event) noexcept;

// The effect the catalogue gives a status, without the transition refinement. For
// kUnevaluated it returns kNotApplicable.
ActionKind effect_for_status(const PolicyDefinition& policy, HouseholdStatus status) noexcept;

}  // namespace hub::sdk

#include "hub/sdk/catalogue.h"

#include <nlohmann/json.hpp>

namespace hub::sdk {
namespace {

using nlohmann::json;

// Reads a required string member; on failure sets *error naming the key.
bool read_string(const json& object, const char* key, const std::string& where, std::string* out,
                 std::string* error) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    *error = where + key + ": required, a non-empty string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

bool read_effect(const json& effects, const char* status, const std::string& where, ActionKind* out,
                 std::string* error) {
  auto it = effects.find(status);
  if (it == effects.end()) return true;  // keep the default
  if (!it->is_string()) {
    *error = where + "effects." + status + ": must be a string";
    return false;
  }
  auto kind = parse_action_kind(it->get<std::string>());
  if (!kind || *kind == ActionKind::kRelease || *kind == ActionKind::kRestore) {
    *error = where + "effects." + status + ": unknown effect '" + it->get<std::string>() +
             "' (apply, defer, withhold or not_applicable)";
    return false;
  }
  *out = *kind;
  return true;
}

}  // namespace

std::optional<Catalogue> Catalogue::parse(std::string_view json_text, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    *error = "catalogue: not a JSON object";
    return std::nullopt;
  }
  Catalogue c;
  if (!read_string(root, "department", "", &c.department_, error) ||
      !read_string(root, "name_zh", "", &c.name_zh_, error) ||
      !read_string(root, "name_en", "", &c.name_en_, error))
    return std::nullopt;
  auto policies = root.find("policies");
  if (policies == root.end() || !policies->is_array() || policies->empty()) {
    *error = "policies: required, a non-empty array";
    return std::nullopt;
  }
  for (std::size_t i = 0; i < policies->size(); ++i) {
    const json& p = (*policies)[i];
    const std::string where = "policies[" + std::to_string(i) + "].";
    if (!p.is_object()) {
      *error = where.substr(0, where.size() - 1) + ": must be an object";
      return std::nullopt;
    }
    PolicyDefinition def;
    if (!read_string(p, "id", where, &def.id, error) || !read_string(p, "name_zh", where, &def.name_zh, error) ||
        !read_string(p, "name_en", where, &def.name_en, error))
      return std::nullopt;
    if (c.find(def.id) != nullptr) {
      *error = where + "id: duplicate policy id '" + def.id + "'";
      return std::nullopt;
    }
    if (auto m = p.find("money"); m != p.end()) {
      if (!m->is_boolean()) {
        *error = where + "money: must be true or false";
        return std::nullopt;
      }
      def.money = m->get<bool>();
    }
    if (auto s = p.find("scope"); s != p.end()) {
      const std::string scope = s->is_string() ? s->get<std::string>() : std::string();
      if (scope == "all") {
        def.scope = PolicyDefinition::Scope::kAll;
      } else if (scope == "roster") {
        def.scope = PolicyDefinition::Scope::kRoster;
      } else if (scope.rfind("designation:", 0) == 0 && scope.size() > 12) {
        def.scope = PolicyDefinition::Scope::kDesignation;
        def.designation = scope.substr(12);
      } else {
        *error = where + "scope: must be \"all\", \"roster\" or \"designation:<name>\"";
        return std::nullopt;
      }
    }
    if (auto e = p.find("effects"); e != p.end()) {
      if (!e->is_object()) {
        *error = where + "effects: must be an object";
        return std::nullopt;
      }
      for (const auto& [key, value] : e->items()) {
        (void)value;
        if (key != "credit" && key != "non_credit" && key != "breach") {
          *error = where + "effects." + key + ": unknown status (credit, non_credit or breach)";
          return std::nullopt;
        }
      }
      if (!read_effect(*e, "credit", where, &def.on_credit, error) ||
          !read_effect(*e, "non_credit", where, &def.on_non_credit, error) ||
          !read_effect(*e, "breach", where, &def.on_breach, error))
        return std::nullopt;
    }
    c.policies_.push_back(std::move(def));
  }
  return c;
}

std::optional<Catalogue> Catalogue::from_plugin_config(std::string_view config_json, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  json root = json::parse(config_json, nullptr, false);
  if (root.is_discarded() || !root.is_object() || !root.contains("catalogue")) {
    *error = "plugin configuration has no \"catalogue\" object";
    return std::nullopt;
  }
  return parse(root["catalogue"].dump(), error);
}

const PolicyDefinition* Catalogue::find(std::string_view policy_id) const noexcept {
  for (const auto& p : policies_)
    if (p.id == policy_id) return &p;
  return nullptr;
}

ActionKind effect_for_status(const PolicyDefinition& policy, HouseholdStatus status) noexcept {
  switch (status) {
    case HouseholdStatus::kCredit: return policy.on_credit;
    case HouseholdStatus::kNonCredit: return policy.on_non_credit;
    case HouseholdStatus::kBreach: return policy.on_breach;
    case HouseholdStatus::kUnevaluated: break;
  }
  return ActionKind::kNotApplicable;
}

ActionKind standard_action(const PolicyDefinition& policy, const Event& event) noexcept {
  const ActionKind effect = effect_for_status(policy, event.new_status);
  if (effect != ActionKind::kApply) return effect;
  // Back to a status that grants the policy: what was deferred is released; after a breach the
  // policy is restored (nothing accrued to release).
  const ActionKind before = effect_for_status(policy, event.previous_status);
  if (before == ActionKind::kDefer) return ActionKind::kRelease;
  if (before == ActionKind::kWithhold) return ActionKind::kRestore;
  return ActionKind::kApply;
}

}  // namespace hub::sdk

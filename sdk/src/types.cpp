#include "hub/sdk/types.h"

#include <array>
#include <utility>

namespace hub::sdk {
namespace {

constexpr std::array<std::pair<HouseholdStatus, std::string_view>, 4> kStatusNames{{
    {HouseholdStatus::kUnevaluated, "unevaluated"},
    {HouseholdStatus::kCredit, "credit"},
    {HouseholdStatus::kNonCredit, "non_credit"},
    {HouseholdStatus::kBreach, "breach"},
}};

constexpr std::array<std::pair<ActionKind, std::string_view>, 6> kActionNames{{
    {ActionKind::kApply, "apply"},
    {ActionKind::kDefer, "defer"},
    {ActionKind::kWithhold, "withhold"},
    {ActionKind::kRelease, "release"},
    {ActionKind::kRestore, "restore"},
    {ActionKind::kNotApplicable, "not_applicable"},
}};

}  // namespace

std::string_view to_string(HouseholdStatus status) noexcept {
  for (const auto& [value, name] : kStatusNames)
    if (value == status) return name;
  return "invalid";
}

std::optional<HouseholdStatus> parse_household_status(std::string_view text) noexcept {
  for (const auto& [value, name] : kStatusNames)
    if (name == text) return value;
  return std::nullopt;
}

std::string_view to_string(ActionKind kind) noexcept {
  for (const auto& [value, name] : kActionNames)
    if (value == kind) return name;
  return "invalid";
}

std::optional<ActionKind> parse_action_kind(std::string_view text) noexcept {
  for (const auto& [value, name] : kActionNames)
    if (name == text) return value;
  return std::nullopt;
}

}  // namespace hub::sdk

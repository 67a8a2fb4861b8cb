// Checks for plugin tests: find the actions of one policy, assert on them with a readable
// failure message, and check an answer against the SDK's contract.
//
//   EXPECT_ACTION(actions, "finance.rural_reward", ActionKind::kDefer, 24000);
//
// prints, when it fails, what the plugin did answer, one action per line.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/types.h"

namespace hub::sdk_testing {

// The actions for one policy, in the order returned.
std::vector<hub::sdk::PolicyAction> actions_for(const std::vector<hub::sdk::PolicyAction>& actions,
                                                std::string_view policy_id);

// One line per action, "policy household action amount reason", for comparisons and messages.
std::string describe(const std::vector<hub::sdk::PolicyAction>& actions);

// Success when `actions` hold exactly one action for `policy_id`, of kind `kind`, and — when
// `amount_fen` is given — with that amount (std::nullopt: whatever the amount).
::testing::AssertionResult has_action(const std::vector<hub::sdk::PolicyAction>& actions, std::string_view policy_id,
                                      hub::sdk::ActionKind kind,
                                      std::optional<std::int64_t> amount_fen = std::nullopt);

// Everything wrong with an answer, one problem per line ("" when there is none): what hubd
// would refuse (hub::validate_actions), plus the SDK's rules that keep reports complete —
// every policy of the catalogue gets at least one action, every reason is non-empty.
std::string contract_violations(const hub::sdk::Catalogue& catalogue, const hub::sdk::Event& event,
                                const std::vector<hub::sdk::PolicyAction>& actions);

}  // namespace hub::sdk_testing

namespace hub::sdk {
// GoogleTest prints values with these (found by argument-dependent lookup).
void PrintTo(const PolicyAction& action, std::ostream* out);
void PrintTo(ActionKind kind, std::ostream* out);
void PrintTo(HouseholdStatus status, std::ostream* out);
}  // namespace hub::sdk

// EXPECT_ACTION(actions, policy_id, kind[, amount_fen]): see has_action().
#define EXPECT_ACTION(actions, ...) EXPECT_TRUE(::hub::sdk_testing::has_action((actions), __VA_ARGS__))
#define ASSERT_ACTION(actions, ...) ASSERT_TRUE(::hub::sdk_testing::has_action((actions), __VA_ARGS__))

// Checks what a plugin returned before anything reaches the ledger: every action names a
// policy of the department's catalogue, the event's household, a known action kind, and an
// amount only where the policy carries money (never negative). Plugin output is input from
// outside the hub's core and is treated as such.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/types.h"

namespace hub::delivery {

// Returns a message naming the offending action and field, or nothing when all are valid.
std::optional<std::string> validate_actions(const hub::sdk::Catalogue& catalogue, const std::string& household_id,
                                            const std::vector<hub::sdk::PolicyAction>& actions);

}  // namespace hub::delivery

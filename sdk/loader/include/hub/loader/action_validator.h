// Checks what a plugin returned before anything reaches the ledger: every action names a
// policy of the department's catalogue, the event's household, a known action kind, and an
// amount only where the policy carries money (never negative). Plugin output is input from
// outside the hub's core and is treated as such.
//
// Shared by hubd (which counts a rejected answer as a failed delivery) and the SDK's test
// harness (which fails a plugin test on the same answer), so both apply one rule.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/result.h"
#include "hub/sdk/types.h"

namespace hub {

// The longest PolicyAction::reason the ledger accepts, in bytes.
inline constexpr std::size_t kMaxReasonBytes = 1000;

// Returns a message naming the offending action and field ("invalid_action: actions[2].…"),
// or nothing when all are valid.
std::optional<std::string> validate_actions(const hub::sdk::Catalogue& catalogue, const std::string& household_id,
                                            const std::vector<hub::sdk::PolicyAction>& actions);

// The hub's verdict on one answer of a plugin to an event: nothing when the hub records the
// actions, otherwise the failure reason it logs and shows in `hubctl status` — "plugin asked
// to retry: …", "plugin error: …" or validate_actions()'s message.
std::optional<std::string> answer_failure(const hub::sdk::HandleResult& result, const hub::sdk::Catalogue& catalogue,
                                          const std::string& household_id,
                                          const std::vector<hub::sdk::PolicyAction>& actions);

}  // namespace hub

// Checks for plugins that follow the catalogue's standard rule (hub::sdk::StandardPlugin and
// the departments built on it: police, civil affairs, agriculture, judicial, urban
// construction, the family-planning association): every transition of §2 gives the expected
// action on each listed policy, and every answer keeps the hub's contract. Failures are
// reported through GoogleTest with the transition.
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include "hub/sdk/testing/plugin_under_test.h"
#include "hub/sdk/types.h"

namespace hub::sdk_testing {

// (previous status, new status, the standard rule's action) for every transition of §2.
std::vector<std::tuple<hub::sdk::HouseholdStatus, hub::sdk::HouseholdStatus, hub::sdk::ActionKind>>
standard_transitions();

// Delivers one event per transition (with `designations`) and expects each of `policies`
// to answer exactly once with the standard action, for the event's household; every answer
// must keep the contract for the plugin's catalogue (PluginUnderTest::decide checks it).
void expect_standard_rule(PluginUnderTest& plugin, const std::vector<std::string>& policies,
                          const std::vector<std::string>& designations = {});

// Expects `actions` to be non-empty and every one of them to have the given action kind and a
// reason containing `reason_fragment`.
void expect_all(const std::vector<hub::sdk::PolicyAction>& actions, hub::sdk::ActionKind kind,
                const std::string& reason_fragment);

}  // namespace hub::sdk_testing

// hubctl's household search (docs/protocol.md "households"):
//   hubctl households [--id PREFIX] [--head NAME] [--village V] [--status S] [--designation D]
//                     [--limit N] [--after ID] [--format table|json|csv]
// A page of matches as a table (with the command for the next page), or every match as CSV.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/hub_client.h"
#include "cli/hubctl_verbs.h"

namespace hub::cli {

// Adds "households" to `hubctl`, filling `args` and *json_output.
CLI::App* add_households_verb(CLI::App& hubctl, VerbArgs& args, bool* json_output);

// Exit codes as hubctl's: 0 ok, 1 rejected, 2 usage error, 3 hub unreachable.
int run_households(const CLI::App& verb, const VerbArgs& args, bool json_output, HubClient& client);

}  // namespace hub::cli

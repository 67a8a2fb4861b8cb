// hubctl's dead-letter and plugin-lifecycle commands (docs/protocol.md "parked", "plugins"):
//   hubctl parked list|retry|skip [--department D] [--household H] [--seq N] [--all] [--by NAME]
//   hubctl plugins list|reload NAME [--library PATH]|disable NAME|enable NAME [--by NAME]
// add_lifecycle_verbs() declares them on hubctl's command line; run_parked() and run_plugins()
// run the action given. Retries, skips, reloads, disables and enables are recorded with the
// operator's name: --by, else $USER.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/hub_client.h"
#include "cli/hubctl_verbs.h"

namespace hub::cli {

struct LifecycleVerbs {
  CLI::App* parked = nullptr;
  CLI::App* plugins = nullptr;
};

// Adds "parked" and "plugins" with their actions to `hubctl`, filling `args` and *json_output.
LifecycleVerbs add_lifecycle_verbs(CLI::App& hubctl, VerbArgs& args, bool* json_output);

// `action` is the action given ("parked retry"). Exit codes as hubctl's: 0 ok, 1 rejected or
// failed, 2 usage error, 3 hub unreachable.
int run_parked(const CLI::App& action, const VerbArgs& args, bool json_output, HubClient& client);
int run_plugins(const CLI::App& action, const VerbArgs& args, bool json_output, HubClient& client);

}  // namespace hub::cli

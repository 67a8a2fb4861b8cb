// hubctl's dead-letter and plugin-lifecycle commands (docs/protocol.md "parked", "plugins"):
//   hubctl parked list|retry|skip [--department D] [--household H] [--seq N] [--all] [--by NAME]
//   hubctl plugins list|reload NAME [--library PATH]|disable NAME|enable NAME [--by NAME]
// Retries, skips, reloads, disables and enables are recorded with the operator's name: --by,
// else $USER.
#pragma once

#include <string>
#include <vector>

#include "cli/hub_client.h"

namespace hub::cli {

// Exit codes as hubctl's: 0 ok, 1 rejected or failed, 2 usage error, 3 hub unreachable.
int run_parked(const std::vector<std::string>& args, bool json_output, HubClient& client);
int run_plugins(const std::vector<std::string>& args, bool json_output, HubClient& client);

}  // namespace hub::cli

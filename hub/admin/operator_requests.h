// The operators' requests that the dispatcher carries out — "parked" (list, retry, skip) and
// "plugins" (list, reload, disable, enable), docs/protocol.md — read from the wire: each field
// parsed and checked, in the order the protocol's error replies promise, into a typed command
// (delivery/operator_commands.h). What the configuration alone answers is answered here too:
// an unknown department, one disabled in the configuration. What needs the dispatcher's live
// state (busy, not parked, not running, no plugin host) the dispatcher answers.
//
// Called by the admin thread (admin/admin_server.cpp) for each such request, before it is
// audited and handed to the dispatcher. A pure function of the request and the configuration.
#pragma once

#include <nlohmann/json.hpp>

#include "config/hub_config.h"
#include "delivery/operator_commands.h"

namespace hub::admin {

// Fills `command` and returns null, or returns the error reply (and leaves `command` alone).
// `request` is an object whose "cmd" is "parked" or "plugins".
nlohmann::json parse_operator_request(const HubConfig& config, const nlohmann::json& request,
                                      delivery::OperatorCommand& command);

}  // namespace hub::admin

// Whether a department subscribes to an event: its type, village and status against the
// plugin's subscription in the configuration. The dispatcher asks it to skip what a department
// does not want, the worker before it calls the plugin, and the plugin-host protocol before it
// sends an event over the wire (data minimisation). A pure function: any thread.
#pragma once

#include "config/hub_config.h"
#include "domain/logged_event.h"

namespace hub::runtime {

bool subscribed(const PluginConfig& plugin, const LoggedEvent& e);

// The event as the department's plugin sees it: only the fields its configuration lets it
// receive ("fields"; the others keep their empty defaults), with its idempotency key
// "<department>:<seq>". The worker and the dry evaluation (dry_evaluation.h) use this one rule.
hub::sdk::Event to_sdk_event(const PluginConfig& plugin, const LoggedEvent& e);

}  // namespace hub::runtime

#include "runtime/subscription.h"

#include <string>

namespace hub::runtime {

bool subscribed(const PluginConfig& plugin, const LoggedEvent& e) {
  return !e.withheld && e.type == EventType::kStatusChange &&
         plugin.subscribes(e.village, std::string(hub::sdk::to_string(e.status)));
}

}  // namespace hub::runtime

#include "runtime/subscription.h"

#include <string>

namespace hub::runtime {

bool subscribed(const PluginConfig& plugin, const LoggedEvent& e) {
  return !e.withheld && e.type == EventType::kStatusChange &&
         plugin.subscribes(e.village, std::string(hub::sdk::to_string(e.status)));
}

// The event as the plugin sees it: only the fields its department may receive ("fields" in its
// configuration); the others keep their empty defaults.
hub::sdk::Event to_sdk_event(const PluginConfig& plugin, const LoggedEvent& e) {
  const std::uint32_t f = plugin.fields;
  hub::sdk::Event out;
  out.sequence = e.seq;
  out.idempotency_key = plugin.id + ":" + std::to_string(e.seq);
  out.household_id = e.household_id;
  out.new_status = e.status;
  out.past_quarter = e.past_quarter;  // always: without it a past quarter reads as the status now
  if (f & kFieldEventId) out.event_id = e.event_id;
  if (f & kFieldVillage) out.village = e.village;
  if (f & kFieldPreviousStatus) out.previous_status = e.previous_status;
  if (f & kFieldPreviousQuarter) out.previous_quarter = e.previous_quarter;
  if (f & kFieldQuarter) out.quarter = e.quarter;
  if (f & kFieldEffectiveDate) out.effective_date = e.effective_date;
  if (f & kFieldDesignations) out.designations = e.designations;
  if (f & kFieldCorrection) {
    out.correction = e.correction;
    out.complaint_id = e.complaint_id;
  }
  return out;
}

}  // namespace hub::runtime

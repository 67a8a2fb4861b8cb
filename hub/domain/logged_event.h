// An event as read back from the event log for delivery (with its sequence number and the
// household's previous status, which plugins need to tell a release from a restore), and the
// chunks the dispatcher shares, read-only, between department workers. Plain values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hub/sdk/types.h"
#include "domain/wire_event.h"

namespace hub {

struct LoggedEvent {
  std::uint64_t seq = 0;
  EventType type = EventType::kHousehold;
  std::string event_id;
  std::string household_id;
  std::string village;
  hub::sdk::HouseholdStatus status = hub::sdk::HouseholdStatus::kUnevaluated;
  hub::sdk::HouseholdStatus previous_status = hub::sdk::HouseholdStatus::kUnevaluated;
  std::string quarter;
  std::string previous_quarter;
  std::string effective_date;
  std::vector<std::string> designations;
  bool correction = false;
  bool past_quarter = false;    // a past quarter put right by a complaint's ruling (sdk::Event)
  std::string complaint_id;     // the upheld complaint of a ruling's correction
  // Published by a notice's confirmation (publisher "notice:…"): each department receives it
  // on its effective_date, not before (delivery/dispatcher.h).
  bool from_notice = false;
  std::int64_t received_at_ms = 0;
  // On a plugin host only: an event the hub did not send because the department does not
  // subscribe to it (only its seq crossed the wire, to keep the sequence without gaps).
  bool withheld = false;
};

// Consecutive events [first_seq, first_seq + events.size()). Immutable once built.
struct EventChunk {
  std::uint64_t first_seq = 0;
  std::vector<LoggedEvent> events;
  bool has_notice_events = false;  // some event is from_notice (the dispatcher looks at those)
};

}  // namespace hub

// Events as read back from the event log for delivery, and the chunks the dispatcher shares
// (read-only) between department workers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hub/sdk/types.h"
#include "ingest/wire_event.h"
#include "store/sqlite.h"

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
  std::int64_t received_at_ms = 0;
  // On a plugin host only: an event the hub did not send because the department does not
  // subscribe to it (only its seq crossed the wire, to keep the sequence without gaps).
  bool withheld = false;
};

// Consecutive events [first_seq, first_seq + events.size()). Immutable once built.
struct EventChunk {
  std::uint64_t first_seq = 0;
  std::vector<LoggedEvent> events;
};

// Reads events.db on the thread that owns it (its own connection).
class EventReader {
 public:
  explicit EventReader(const std::string& path);
  // Events with from <= seq <= to, in sequence order.
  std::vector<LoggedEvent> read(std::uint64_t from, std::uint64_t to);
  // When the event was received, or 0 if unknown.
  std::int64_t received_at(std::uint64_t seq);

 private:
  store::Database db_;
  store::Statement range_;
  store::Statement received_;
};

}  // namespace hub

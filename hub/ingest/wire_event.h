// Parsing and field validation of the events the family-planning office publishes (§4).
//
// parse_event() turns one JSON object into a WireEvent or a FieldError; it checks only what
// can be checked without the hub's state (types, required fields, formats, known values).
// The rules that need state — unknown household, stale quarter, duplicate and conflicting
// event ids — are applied by the EventLog (eventlog/event_log.h). Pure functions, no I/O:
// safe on any thread and the natural target for fuzzing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "hub/sdk/types.h"

namespace hub {

enum class EventType : std::uint8_t { kHousehold, kCommitment, kStatusChange };
std::string_view to_string(EventType type) noexcept;

// An error that names the field and a stable code (documented in docs/protocol.md).
struct FieldError {
  std::string code;     // e.g. "missing_field", "invalid_status"
  std::string message;  // human-readable, names the field and the problem
  std::string field;    // the offending field, or empty
};

struct WireEvent {
  EventType type = EventType::kHousehold;
  std::string event_id;
  std::string household_id;
  // household
  std::string village;
  std::string head;
  std::optional<std::int64_t> members;
  // commitment
  std::string signed_on;
  // status_change
  hub::sdk::HouseholdStatus status = hub::sdk::HouseholdStatus::kUnevaluated;
  std::vector<std::string> designations;
  std::string quarter;
  std::string effective_date;  // defaulted to the first day of the next quarter
  std::string basis;

  // Canonical JSON of the event (sorted keys, defaults filled in): what is stored, and what
  // the digest is computed over to tell a duplicate from a conflict.
  std::string canonical_json() const;
};

std::variant<WireEvent, FieldError> parse_event(const nlohmann::json& object);

// "2020Q3" -> 2020*4+2 (monotonic), or nothing if malformed.
std::optional<int> quarter_index(std::string_view quarter) noexcept;
// True for a real calendar date written YYYY-MM-DD.
bool is_valid_date(std::string_view date) noexcept;
// The first day of the quarter after `quarter` ("2020Q3" -> "2020-10-01").
std::string first_day_after_quarter(std::string_view quarter);
// Ids of households, villages and events: 1–64 characters from [A-Za-z0-9_.:-], not
// starting with a punctuation character.
bool is_valid_id(std::string_view id) noexcept;

// 16 hex digits of FNV-1a-64 over the text: the digest stored beside each event.
std::string content_digest(std::string_view text);

// The designations the hub knows (§2).
const std::vector<std::string>& known_designations();

}  // namespace hub

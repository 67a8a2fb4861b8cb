// Parsing and field validation of the events the family-planning office publishes (§4).
//
// parse_event() turns one JSON object into a WireEvent or a FieldError; it checks only what
// can be checked without the hub's state (types, required fields, formats, known values).
// The rules that need state — unknown household, stale quarter, duplicate and conflicting
// event ids — are applied by the EventLog (eventlog/event_log.h). Pure functions, no I/O:
// safe on any thread and the natural target for fuzzing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/status.h"
#include "hub/sdk/types.h"

namespace hub {

enum class EventType : std::uint8_t { kHousehold, kCommitment, kStatusChange };
std::string_view to_string(EventType type) noexcept;


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
  // The upheld complaint whose ruling this correction carries out ("TS-2026-000123"); empty for
  // the office's own evaluations. Only the hub publishes it (the rule is the event log's).
  std::string complaint_id;

  // Canonical JSON of the event (sorted keys, defaults filled in): what is stored, and what
  // the digest is computed over to tell a duplicate from a conflict.
  std::string canonical_json() const;
};

Result<WireEvent> parse_event(const nlohmann::json& object);

// One ingest request (§4) as it arrives in a ZeroMQ frame: a single event, or a batch
// {"type":"batch","events":[…],"dry_run":bool}. The request-level problems (too large, not
// JSON, not an object, malformed batch) come back as a FieldError; the events of a batch are
// parsed one by one, and the ones that fail are reported by their index in item_errors.
struct IngestRequest {
  bool is_batch = false;
  bool dry_run = false;
  std::vector<WireEvent> events;              // the well-formed events, in order
  std::vector<std::size_t> original_index;    // events[i] is item original_index[i] of the request
  std::map<std::size_t, FieldError> item_errors;  // batch items that failed to parse, by index
};
struct RequestLimits {
  std::size_t max_message_bytes = 64u << 20;
  std::size_t max_batch_events = 100000;
};
Result<IngestRequest> parse_request(std::string_view body, const RequestLimits& limits);

// "2020Q3" -> 2020*4+2 (monotonic), or nothing if malformed.
std::optional<int> quarter_index(std::string_view quarter) noexcept;
// True for a real calendar date written YYYY-MM-DD.
bool is_valid_date(std::string_view date) noexcept;
// The first day of the quarter after `quarter` ("2020Q3" -> "2020-10-01").
std::string first_day_after_quarter(std::string_view quarter);
// True for well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF):
// what a JSON text may contain.
bool is_valid_utf8(std::string_view text) noexcept;
// Ids of households, villages and events: 1–64 characters from [A-Za-z0-9_.:-], not
// starting with a punctuation character.
bool is_valid_id(std::string_view id) noexcept;

// 16 hex digits of FNV-1a-64 over the text: the digest stored beside each event.
std::string content_digest(std::string_view text);

// The stable event id of an event published without one (hubctl import, the web console's
// form; docs/protocol.md §11.2): "reg-<household>-<digest>", "com-…" or
// "ev-<quarter>-<household>-<digest>", the digest over the event's content without its id; so
// the same content gets the same id (published twice, it is stored once), and a corrected row
// a new one. At most 64 characters.
std::string generated_event_id(const WireEvent& event);

// The designations the hub knows (§2).
const std::vector<std::string>& known_designations();

}  // namespace hub

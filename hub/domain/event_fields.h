// The fields of one wire event as a parser read them, before any rule of §4 is applied, and the
// one validator that applies those rules.
//
// Two parsers fill EventFields: parse_event() from an nlohmann::json object (hubctl import, the
// web console, tests) and parse_request() straight from the bytes of an ingest frame, with no
// DOM (ingest_request.cpp). Both hand the result to validate_event_fields(), so every error code,
// message and field of an event is decided in one place (wire_event.cpp). Internal to domain:
// nothing outside hub/domain includes this header. Plain values, no I/O: safe on any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"
#include "domain/wire_event.h"

namespace hub::wire {

// What a JSON value was, as far as the rules care. kAbsent: the key was not sent.
enum class ValueKind : std::uint8_t { kAbsent, kNull, kString, kInteger, kOtherNumber, kBoolean, kArray, kObject };

// The keys that some event type allows; any other key is "unknown" for every type.
enum class EventKey : std::uint8_t {
  kType,
  kEventId,
  kHouseholdId,
  kVillage,
  kHead,
  kMembers,
  kSignedOn,
  kStatus,
  kDesignations,
  kQuarter,
  kEffectiveDate,
  kBasis,
  kComplaintId,
};
inline constexpr std::size_t kEventKeyCount = 13;

// The key's EventKey, or nothing when no event type allows it; and back.
std::optional<EventKey> event_key(std::string_view name) noexcept;
std::string_view key_name(EventKey key) noexcept;

struct FieldValue {
  ValueKind kind = ValueKind::kAbsent;
  std::string text;          // kString: the (unescaped, UTF-8) string
  std::int64_t integer = 0;  // kInteger: the value (an unsigned one past INT64_MAX cast, as nlohmann's get<> does)
};

// One event object. With a key sent twice, the last value counts (as in nlohmann's DOM).
struct EventFields {
  std::array<FieldValue, kEventKeyCount> values;
  // The items of "designations" when it is an array (kind and, for strings, text); nested
  // arrays and objects count as one item each.
  std::vector<FieldValue> designation_items;
  // The smallest key in byte order that is no EventKey: with the EventKeys present but not
  // allowed for the event's type, it decides which unknown_field is reported (nlohmann's
  // objects iterate in key order, and the first unknown key was always the one named).
  std::optional<std::string> first_other_key;

  FieldValue& operator[](EventKey key) { return values[static_cast<std::size_t>(key)]; }
  const FieldValue& operator[](EventKey key) const { return values[static_cast<std::size_t>(key)]; }
  void note_other_key(std::string_view key);
  // Back to an empty object, keeping the strings' capacity.
  void clear();
};

// The event, or the first rule it breaks. Moves the strings out of `fields`.
Result<WireEvent> validate_event_fields(EventFields& fields);

// The error for an event (a request, or an item of a batch) that is not a JSON object.
FieldError not_an_object_error();

// At most max_bytes of text, cut at a character boundary: error messages quote what was sent,
// and a reply must stay valid UTF-8.
std::string utf8_prefix(std::string_view text, std::size_t max_bytes);

}  // namespace hub::wire

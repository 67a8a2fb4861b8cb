// The overview's timeline counts what happened per minute: status changes received, per
// village and status, and deliveries recorded, per department. The event log and the ledger keep
// those counts as they store the rows (a few rows per minute of activity), so the timeline
// reads them instead of the rows; the minute is fixed here, once, for both and for the
// timeline that reads them.
#pragma once

#include <cstdint>

namespace hub {

inline constexpr std::int64_t kActivityMinuteMs = 60'000;

// The first millisecond of the minute `at_ms` falls in (as SQL's `at_ms / 60000 * 60000`:
// times before 1970 are not expected).
inline constexpr std::int64_t activity_minute(std::int64_t at_ms) {
  return at_ms / kActivityMinuteMs * kActivityMinuteMs;
}

}  // namespace hub

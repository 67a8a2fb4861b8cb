// The corrected history of one household and policy, replayed from scratch: what the finance
// office should have paid, forfeited and left open had every quarter been decided as the
// journal now says (the latest decision of each quarter, a past quarter's ruling included).
//
// The finance plugin uses it for a ruling on a past quarter (Event::past_quarter, 投诉裁定):
// the remedy is what this replay paid minus what the journal shows was actually paid, and the
// open accruals are brought to the replay's open set. Pure computation, no storage; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "hub/sdk/types.h"

namespace finance {

// What became of one quarter's own amount in the replay.
enum class QuarterFate {
  kNone,       // no money decision for it (unevaluated, or a policy with no effect)
  kPaid,       // applied at once, or deferred and later released
  kOpen,       // deferred and still open at the end
  kForfeited,  // withheld at once, or deferred and later forfeited by a breach
};

struct Replay {
  std::int64_t paid_fen = 0;
  std::int64_t forfeited_fen = 0;
  std::map<std::string, std::int64_t> open;  // quarter → deferred amount, still open at the end
  std::map<std::string, QuarterFate> fate;   // every quarter of the history
};

// Replays `effects` (quarter → the catalogue's effect of that quarter's status: kApply, kDefer,
// kWithhold; anything else changes nothing) in quarter order, each quarter worth `amount_fen`:
//   apply    → paid += every open accrual + amount, nothing left open
//   defer    → the quarter's amount opens
//   withhold → forfeited += amount + every open accrual, nothing left open
// These are the plugin's incremental rules, so a history delivered in order, one event per
// quarter, leaves exactly this paid and open. Quarters "YYYYQn" sort as text.
Replay replay(const std::map<std::string, hub::sdk::ActionKind>& effects, std::int64_t amount_fen);

}  // namespace finance

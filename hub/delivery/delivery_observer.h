// What the dispatcher tells whoever observes delivery (the live feed, livefeed/feed_notifier.h):
// "events are committed up to seq N" and "these deliveries and failures were just recorded in
// the ledger". The dispatcher is given its observer by the daemon and owns it not; it calls it
// on the dispatcher thread only, after each ledger commit, and the observer must never block
// (a slow observer must not hold back delivery).
//
// The records carry no personal data (no household or event id): what the live feed may say.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hub::delivery {

// What one ledger commit recorded for one department.
struct RecordedOutcome {
  struct Delivered {
    std::uint64_t seq = 0;
    std::map<std::string, int> actions;  // action kind ("apply", "defer", …) → how many
  };
  struct Failure {
    std::uint64_t seq = 0;
    std::uint32_t attempt = 0;
  };
  std::string department;
  std::vector<Delivered> delivered;
  std::vector<Failure> failures;
};

class DeliveryObserver {
 public:
  virtual ~DeliveryObserver() = default;
  virtual void committed(std::uint64_t last_seq) = 0;
  // Whether anyone wants the outcomes now. While not, the dispatcher does not describe them
  // and recorded() is not called: describing every delivery costs the delivery thread time.
  virtual bool watching_outcomes() const = 0;
  // Departments with nothing delivered and nothing failed are left out of `outcomes`.
  virtual void recorded(const std::vector<RecordedOutcome>& outcomes, std::int64_t at_ms) = 0;
};

}  // namespace hub::delivery

// The live feed's delivery observer (delivery/delivery_observer.h): forwards what the dispatcher
// says — "events are committed up to seq N", "these deliveries and failures were just recorded
// in the ledger" — to the live feed's thread (live_feed.h) over an inproc PUSH.
//
// Owned by the daemon, used by the dispatcher thread only. Sends never block: the live feed is for
// observers, and a slow observer must never hold back delivery, so when the feed thread is
// behind (the PUSH socket's high-water mark is reached) a notice is dropped. Deliveries and
// failures are described only while the feed has a subscriber for them
// (LiveFeed::outcomes_watched). Default-constructed (no endpoint) it does nothing, for tests
// that run a dispatcher without a feed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "delivery/delivery_observer.h"
#include "livefeed/live_feed.h"

namespace hub::livefeed {

class FeedNotifier final : public delivery::DeliveryObserver {
 public:
  FeedNotifier() = default;
  // `feed` (which binds `endpoint`) must outlive the notifier.
  FeedNotifier(zmq::context_t& context, const std::string& endpoint, const LiveFeed& feed);

  void committed(std::uint64_t last_seq) override;
  bool watching_outcomes() const override;
  void recorded(const std::vector<delivery::RecordedOutcome>& outcomes, std::int64_t at_ms) override;

 private:
  std::optional<zmq::socket_t> push_;
  const LiveFeed* feed_ = nullptr;
  std::uint64_t last_committed_ = 0;
};

}  // namespace hub::livefeed

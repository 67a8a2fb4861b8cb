// What the dispatcher tells the live feed (live_feed.h): "events are committed up to seq N"
// and "these deliveries and failures were just recorded in the ledger".
//
// Owned and used by the dispatcher thread only. Sends never block: the live feed is for
// observers, and a slow observer must never hold back delivery, so when the feed thread is
// behind (the PUSH socket's high-water mark is reached) a notice is dropped. Default-
// constructed (no endpoint) it does nothing, for tests that run a dispatcher without a feed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "delivery/ledger.h"

namespace hub::livefeed {

class FeedNotifier {
 public:
  FeedNotifier() = default;
  FeedNotifier(zmq::context_t& context, const std::string& endpoint);

  void committed(std::uint64_t last_seq);
  void recorded(const std::vector<delivery::LedgerBatch>& batches, std::int64_t at_ms);

 private:
  std::optional<zmq::socket_t> push_;
  std::uint64_t last_committed_ = 0;
};

}  // namespace hub::livefeed

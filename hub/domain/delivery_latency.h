// A delivery's latency: the time from the hub receiving an event to a department's actions for
// it being recorded in the ledger. The ledger counts every delivery into one bucket of this
// histogram as it records it, and /metrics shows the counts (hub_delivery_latency_seconds), so
// the bounds are fixed here, once, for both.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace hub {

// Upper bounds of the histogram's buckets, in milliseconds, ascending; a last bucket (+Inf)
// holds what is slower than the last bound.
inline constexpr std::array<std::int64_t, 10> kDeliveryLatencyBoundsMs = {10,   50,    100,   500,   1000,
                                                                           5000, 10000, 30000, 60000, 300000};

// The bucket a latency falls into: the first whose bound is at least `latency_ms`, or
// kDeliveryLatencyBoundsMs.size() (+Inf) when it is slower than every bound. A negative
// latency (a clock set back between receipt and delivery) counts in the first bucket.
inline std::size_t delivery_latency_bucket(std::int64_t latency_ms) {
  std::size_t i = 0;
  while (i < kDeliveryLatencyBoundsMs.size() && latency_ms > kDeliveryLatencyBoundsMs[i]) ++i;
  return i;
}

}  // namespace hub

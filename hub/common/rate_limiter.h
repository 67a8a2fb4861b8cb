// A token bucket per connection (limits.max_requests_per_second): each connection may send a
// burst of `per_second` requests, then `per_second` a second. Used by the ingest and admin
// endpoints with the ROUTER's routing id as the connection. Not thread-safe: one per thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace hub {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // 0 = no limit.
  explicit RateLimiter(std::uint32_t per_second) : rate_(per_second) {}

  // True when `connection` may send one more request now (and takes its token).
  bool allow(const std::string& connection, Clock::time_point now = Clock::now()) {
    if (rate_ == 0) return true;
    if (now - pruned_ > std::chrono::seconds(60)) {
      // Connections silent for a minute have a full bucket again anyway: forget them.
      std::erase_if(buckets_, [&](const auto& b) { return now - b.second.refilled > std::chrono::seconds(60); });
      pruned_ = now;
    }
    auto [it, fresh] = buckets_.try_emplace(connection, Bucket{rate_, now});
    Bucket& b = it->second;
    if (!fresh) {
      b.tokens = std::min(rate_, b.tokens + rate_ * std::chrono::duration<double>(now - b.refilled).count());
      b.refilled = now;
    }
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
  }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point refilled{};
  };
  double rate_;
  std::unordered_map<std::string, Bucket> buckets_;
  Clock::time_point pruned_{};
};

}  // namespace hub

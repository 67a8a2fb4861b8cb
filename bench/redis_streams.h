// The peer a user would pick instead: Redis Streams doing the same durable fan-out.
//
// The bench starts Debian's redis-server on loopback with the append-only file and
// `appendfsync always` (a reply is sent only after the write is fsynced, like the hub's
// acknowledgment), publishes with XADD, and has one consumer group per department read with
// XREADGROUP and acknowledge every event with XACK. Client: hiredis.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "bench_support.h"

namespace hub::bench {

class RedisServer {
 public:
  // Starts redis-server with its data in `dir`; throws if it does not answer PING in time.
  explicit RedisServer(const std::string& dir);
  ~RedisServer();
  int port() const noexcept { return port_; }
  static bool available();  // redis-server is installed

 private:
  int port_ = 0;
  std::unique_ptr<Child> child_;
};

// Events per second, one XADD at a time, each waiting for its reply.
double redis_publish_single(const RedisServer& server, const std::vector<std::string>& payloads, std::size_t count);
// Events per second, XADDs pipelined `batch` at a time (Redis fsyncs once per pipeline turn).
double redis_publish_batched(const RedisServer& server, const std::vector<std::string>& payloads, std::size_t batch);
// Deliveries per second: `groups` consumer groups, each on its own connection and thread,
// read and acknowledge every one of the stream's events (published beforehand, untimed).
double redis_fanout(const RedisServer& server, const std::vector<std::string>& payloads, std::size_t groups);
// Seconds from the first XADD until every group acknowledged every event, publishing in
// pipelined batches while the groups consume (the town's quarter through Redis).
double redis_deliver_all(const RedisServer& server, const std::vector<std::string>& payloads, std::size_t groups,
                         std::size_t batch);

struct LatencySamples {
  std::vector<double> acked_ms;       // publish -> durable acknowledgment
  std::vector<double> all_groups_ms;  // publish -> acknowledged by every consumer group
};
// Single events at `rate` per second for `count` events from `threads` connections.
LatencySamples redis_latency(const RedisServer& server, const std::vector<std::string>& payloads, std::size_t count,
                             double rate, std::size_t threads, std::size_t groups);

}  // namespace hub::bench

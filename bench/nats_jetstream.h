// The second peer: NATS JetStream doing the same durable fan-out, measured like Redis Streams.
//
// The bench starts Debian's nats-server (2.9) on loopback with JetStream on and its store in
// the bench's work directory (the same disk as the hub's data), creates one stream on file
// storage per measurement, publishes with JetStream acknowledgments (js_Publish, or
// js_PublishAsync with a window of events in flight), and has one durable pull consumer per
// department with explicit acknowledgment (every message acked; the last of each fetched batch
// with AckSync, whose reply comes after the server processed that ack; the batch's other acks
// went before it on the same connection). Client: libnats (C).
//
// Durability differs from the hub's and Redis's: nats-server 2.9 acknowledges a publish once
// the message is in its file store, not after an fsync; it fsyncs on a timer (every 2 minutes,
// not configurable before 2.10, which added `sync_interval`). docs/benchmarks.md says so
// beside the figures.
//
// Built only when libnats is found at configure time; otherwise JetStreamServer::unavailable()
// says why and hub-bench skips these figures.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "bench_support.h"
#include "redis_streams.h"  // LatencySamples

namespace hub::bench {

class JetStreamServer {
 public:
  // Starts nats-server -js with its store in `dir`; throws if it does not accept a client and
  // answer a JetStream request in time.
  explicit JetStreamServer(const std::string& dir);
  ~JetStreamServer();
  int port() const noexcept { return port_; }
  std::string url() const;
  std::string version() const { return version_; }
  // Empty when the figures can run; otherwise why not (no libnats at build time, no nats-server).
  static std::string unavailable();

 private:
  int port_ = 0;
  std::string version_;
  std::unique_ptr<Child> child_;
};

// Events per second, one js_Publish at a time, each waiting for its JetStream ack.
double jetstream_publish_single(const JetStreamServer& server, const std::vector<std::string>& payloads,
                                std::size_t count);
// Events per second, js_PublishAsync with at most `in_flight` unacknowledged, until every ack arrived.
double jetstream_publish_batched(const JetStreamServer& server, const std::vector<std::string>& payloads,
                                 std::size_t in_flight);
// Deliveries per second: `consumers` durable pull consumers, each on its own connection and
// thread, fetch and acknowledge every one of the stream's events (published beforehand, untimed).
double jetstream_fanout(const JetStreamServer& server, const std::vector<std::string>& payloads,
                        std::size_t consumers);
// Seconds from the first publish until every consumer acknowledged every event, publishing
// asynchronously (`in_flight` at most) while the consumers fetch (the town's quarter).
double jetstream_deliver_all(const JetStreamServer& server, const std::vector<std::string>& payloads,
                             std::size_t consumers, std::size_t in_flight);
// Single events at `rate` per second for `count` events from `threads` connections, each a
// synchronous js_Publish: -> JetStream ack, and -> acknowledged by every consumer.
LatencySamples jetstream_latency(const JetStreamServer& server, const std::vector<std::string>& payloads,
                                 std::size_t count, double rate, std::size_t threads, std::size_t consumers);

}  // namespace hub::bench

// Built instead of nats_jetstream.cpp when libnats (libnats-dev) was not found at configure
// time: hub-bench says so and skips the JetStream figures; nothing here measures anything.
#include <stdexcept>

#include "nats_jetstream.h"

namespace hub::bench {

namespace {
[[noreturn]] void not_built() { throw std::logic_error("hub-bench was built without libnats"); }
}  // namespace

std::string JetStreamServer::unavailable() {
  return "hub-bench was built without libnats (install libnats-dev and configure again)";
}
JetStreamServer::JetStreamServer(const std::string&) { not_built(); }
JetStreamServer::~JetStreamServer() = default;
std::string JetStreamServer::url() const { not_built(); }
double jetstream_publish_single(const JetStreamServer&, const std::vector<std::string>&, std::size_t) { not_built(); }
double jetstream_publish_batched(const JetStreamServer&, const std::vector<std::string>&, std::size_t) { not_built(); }
double jetstream_fanout(const JetStreamServer&, const std::vector<std::string>&, std::size_t) { not_built(); }
double jetstream_deliver_all(const JetStreamServer&, const std::vector<std::string>&, std::size_t, std::size_t) {
  not_built();
}
LatencySamples jetstream_latency(const JetStreamServer&, const std::vector<std::string>&, std::size_t, double,
                                 std::size_t, std::size_t) {
  not_built();
}

}  // namespace hub::bench

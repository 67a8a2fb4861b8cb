// The harness's own promise about fixed ports (hub/testing/reserved_port.h, docs/reliability.md):
// the plugin-host endpoint a test gives hubd is outside the kernel's ephemeral range, so no
// bind to port 0 and no outgoing connection can be handed it, and no other reservation gets it
// while the test holds it. A CI run once lost a test to a released kernel-picked port.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "integration/hub_process.h"

namespace hub::test {
namespace {

int port_of(const std::string& endpoint) { return std::stoi(endpoint.substr(endpoint.rfind(':') + 1)); }

TEST(Harness, APluginHostEndpointIsReservedOutsideTheEphemeralRangeAndHubdBindsIt) {
  int ephemeral_low = 0, ephemeral_high = 0;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low >> ephemeral_high;
  ASSERT_GT(ephemeral_low, 0);

  HubOptions options;
  options.departments = {"police", "land"};
  options.hosted = {"police"};
  HubProcess hub(options);
  hub.start();
  const int port = port_of(hub.plugin_host_endpoint());
  EXPECT_TRUE(port < ephemeral_low || port > ephemeral_high) << port;
  EXPECT_EQ(hub.endpoints()["plugin_hosts"], hub.plugin_host_endpoint());

  // While it is held, no other reservation is given it, nor one another's.
  std::vector<hub::testing::ReservedPort> others(64);
  std::set<int> seen{port};
  for (const auto& other : others) {
    EXPECT_TRUE(seen.insert(other.number()).second) << "port " << other.number() << " reserved twice";
    EXPECT_TRUE(other.number() < ephemeral_low || other.number() > ephemeral_high) << other.number();
  }

  // And a restarted hubd binds it again.
  hub.stop();
  hub.start();
  EXPECT_EQ(hub.endpoints()["plugin_hosts"], hub.plugin_host_endpoint());
  hub.stop();
}

}  // namespace
}  // namespace hub::test

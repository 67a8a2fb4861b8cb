// SIGTERM under load: a real hubd receives status changes from a publisher with several
// batches in flight while three departments (one of them the probe plugin, which writes down
// every event it is handed) are being delivered to. SIGTERM must make hubd answer what it has
// received, finish the batches its plugins are working on, commit them to the ledger and exit
// 0 in reasonable time. After a restart and the rest of the publication: every acknowledged
// event is in the log, each status change is in every ledger once, and the probe was handed
// each event exactly once — a drained stop repeats nothing, even to the plugin.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "integration/hub_process.h"

namespace hub::test {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::map<std::uint64_t, int> handled_counts(const std::string& path) {
  std::map<std::uint64_t, int> counts;
  std::ifstream in(path);
  std::uint64_t seq = 0;
  while (in >> seq) ++counts[seq];
  return counts;
}

std::string ingest_endpoint(const HubProcess& hub) {
  std::ifstream in(hub.data_dir() + "/hubd.endpoints.json");
  return json::parse(in)["ingest"];
}

// Sends batches from `batches` in order with up to `window` in flight; records the ones
// acknowledged. Stops sending when told; then waits briefly for the replies still due.
struct WindowedPublisher {
  WindowedPublisher(const std::vector<json>& b, std::string e) : batches(b), endpoint(std::move(e)) {}
  const std::vector<json>& batches;
  std::string endpoint;
  std::size_t window = 4;
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> acked_batches{0};
  std::set<std::size_t> acked;  // batch indexes (read after join)
  std::size_t sent = 0;
  std::string error;

  void run() {
    zmq::context_t context;
    zmq::socket_t s(context, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    s.connect(endpoint);
    std::size_t outstanding = 0;
    auto quiet_since = Clock::now();
    for (;;) {
      while (!stop && outstanding < window && sent < batches.size()) {
        // The batch index travels as an empty-delimited routing prefix of our own: the hub
        // echoes every envelope frame, so a reply names its batch.
        const std::string tag = std::to_string(sent);
        s.send(zmq::buffer(tag), zmq::send_flags::sndmore);
        s.send(zmq::buffer(std::string()), zmq::send_flags::sndmore);
        s.send(zmq::buffer(batches[sent].dump()), zmq::send_flags::none);
        ++sent;
        ++outstanding;
      }
      zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) {
        if (outstanding == 0 && (stop || sent == batches.size())) return;
        if (stop && Clock::now() - quiet_since > std::chrono::seconds(3)) return;  // hubd is gone
        continue;
      }
      quiet_since = Clock::now();
      std::vector<zmq::message_t> frames;
      do {
        frames.emplace_back();
        (void)s.recv(frames.back());
      } while (frames.back().more());
      --outstanding;
      const json reply = json::parse(frames.back().to_string(), nullptr, false);
      if (frames.size() != 3 || !reply.is_object() || !reply.value("ok", false)) {
        error = "unexpected reply: " + frames.back().to_string();
        return;
      }
      acked.insert(std::stoul(frames.front().to_string()));
      ++acked_batches;
    }
  }
};

// `hosted`: the probe runs in a real hub-plugin-host, so the batches in flight at SIGTERM are
// on the other side of a TCP connection.
void sigterm_under_load(bool hosted) {
  ::setenv("HUB_TEST_PROBE_SLEEP_US", "100", 1);  // slow enough that batches are in flight
  HubOptions options;
  options.departments = {"schools", "finance", "police"};
  if (hosted) options.hosted = {"police"};
  else options.police_library = HUB_PROBE_PLUGIN;
  options.max_batch_events = 2000;
  options.delivery_batch_events = 256;
  HubProcess hub(options);
  hub.start();
  std::optional<PluginHostProcess> host;
  if (hosted) {
    host.emplace(hub.plugin_host_endpoint(), std::vector<std::string>{"police"});
    const json config{{"hub", hub.plugin_host_endpoint()},
                      {"host_name", "dept-1"},
                      {"plugin_dir", HUB_PLUGIN_DIR},
                      {"data_dir", "var"},
                      {"plugins", json::array({{{"id", "police"}, {"library", HUB_PROBE_PLUGIN}}})}};
    std::ofstream(host->dir() + "/host.json") << config.dump(2);
    host->start();
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (hub.department_state("police") != "running") {
      ASSERT_LT(Clock::now(), deadline) << host->log();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  const int kHouseholds = 4000;
  std::vector<std::string> ids;
  json registry = json::array();
  for (int i = 1; i <= kHouseholds; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "V%02d-%05d", 1 + i % 14, i);
    ids.push_back(id);
    registry.push_back(household_event(id, std::string(id, 3)));
    if (registry.size() == 2000) {
      ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", registry}})["ok"], true);
      registry = json::array();
    }
  }
  // Four quarters of status changes, 1,000 per batch.
  const char* statuses[] = {"credit", "non_credit", "breach", "credit"};
  const char* quarters[] = {"2020Q3", "2020Q4", "2021Q1", "2021Q2"};
  std::vector<json> batches;
  for (int q = 0; q < 4; ++q)
    for (int start = 0; start < kHouseholds; start += 1000) {
      json events = json::array();
      for (int i = start; i < start + 1000; ++i) events.push_back(status_event(ids[i], statuses[(q + i) % 4], quarters[q]));
      batches.push_back({{"type", "batch"}, {"events", events}});
    }

  WindowedPublisher publisher{batches, ingest_endpoint(hub)};
  std::thread publishing([&] { publisher.run(); });
  // Under load: a third of the publication acknowledged, delivery busy.
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (publisher.acked_batches < batches.size() / 3 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_GE(publisher.acked_batches, batches.size() / 3) << hub.log();
  const json before = hub.admin({{"cmd", "status"}});
  bool delivering = false;
  for (const auto& d : before["departments"]) delivering = delivering || d["lag"].get<std::uint64_t>() > 0;
  EXPECT_TRUE(delivering) << "SIGTERM should arrive while deliveries are under way: " << before.dump();

  const auto stop_started = Clock::now();
  hub.stop();  // SIGTERM; throws unless the exit status is 0
  const double stop_seconds = std::chrono::duration<double>(Clock::now() - stop_started).count();
  EXPECT_LT(stop_seconds, 30.0) << "hubd took too long to stop";
  publisher.stop = true;
  publishing.join();
  ASSERT_TRUE(publisher.error.empty()) << publisher.error;
  const std::string first_log = hub.log();
  EXPECT_NE(first_log.find("hubd stopped cleanly"), std::string::npos) << first_log;
  EXPECT_EQ(first_log.find("drain timed out"), std::string::npos) << first_log;

  // What the probe was handed before the stop is exactly what its ledger holds: the batches in
  // flight were finished and committed, none abandoned.
  const std::string handled_log = (hosted ? host->data_dir() : hub.data_dir()) + "/plugins/police/handled.log";
  const auto handled_before = handled_counts(handled_log);
  ASSERT_FALSE(handled_before.empty());
  for (const auto& [seq, count] : handled_before) ASSERT_EQ(count, 1) << "seq " << seq << " handled twice";
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police'"),
            static_cast<std::int64_t>(handled_before.size()));
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT seq FROM cursor WHERE department='police'"),
            static_cast<std::int64_t>(handled_before.rbegin()->first));

  // Every reply the publisher saw is in the log; the rest is published again after a restart.
  std::set<std::string> stored;
  for (const auto& row : hub.query_rows("events.db", "SELECT event_id FROM event")) stored.insert(row[0]);
  std::size_t acked_events = 0;
  for (std::size_t b : publisher.acked)
    for (const auto& e : batches[b]["events"]) {
      ++acked_events;
      EXPECT_TRUE(stored.count(e["event_id"])) << "acknowledged " << e["event_id"] << " lost";
    }
  EXPECT_GT(acked_events, 0u);

  hub.start();
  for (std::size_t b = 0; b < batches.size(); ++b) {
    if (publisher.acked.count(b)) continue;
    const json reply = hub.ingest(batches[b]);
    ASSERT_EQ(reply["ok"], true) << reply.dump();
  }
  hub.wait_for_delivery(std::chrono::seconds(240));
  hub.stop();
  ::unsetenv("HUB_TEST_PROBE_SLEEP_US");

  const std::int64_t status_events = hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE type='status_change'");
  EXPECT_EQ(status_events, 4 * kHouseholds);
  for (const std::string department : {"schools", "finance", "police"})
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='" + department + "'"),
              status_events)
        << department;
  const auto handled = handled_counts(handled_log);
  EXPECT_EQ(static_cast<std::int64_t>(handled.size()), status_events);
  std::size_t repeated = 0;
  for (const auto& [seq, count] : handled) repeated += count > 1 ? 1 : 0;
  EXPECT_EQ(repeated, 0u) << "events handed to the plugin twice across a SIGTERM";
  EXPECT_EQ(finance_overpayments(hub), 0);
  if (hosted) {
    EXPECT_EQ(host->stop(), 0) << host->log();
  }
}

TEST(ShutdownTest, SigtermUnderLoadDrainsDeliveriesAnswersRequestsAndExitsZero) { sigterm_under_load(false); }

TEST(ShutdownTest, SigtermUnderLoadDrainsDeliveriesToAPluginHost) { sigterm_under_load(true); }

}  // namespace
}  // namespace hub::test

// A network that stalls, splits and trickles, between real processes (testing/fault_proxy.h):
// a plugin host behind a stalled link is noticed within the hub's heartbeat and nothing is
// recorded twice when the link comes back; partitions that heal in the middle of delivery, at
// random (seeded) moments, lose and repeat nothing and keep each household's order; publishers
// behind a flapping link that resend the same event_id get each event stored once with its
// seq; and slow-loris clients on ingest and admin do not starve a normal publisher.
//
// Longer runs: HUB_TEST_FAULT_CYCLES (partition cycles, and 4 × as many flaps of the
// publishers' link; default 6) and HUB_TEST_FAULT_SEED (the seed a failing run printed) —
// docs/reliability.md, "Network faults".
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include <zmq.hpp>

#include "integration/hub_process.h"
#include "testing/fault_proxy.h"

namespace hub::test {
namespace {

using hub::testing::Direction;
using hub::testing::FaultProxy;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::atoi(value) : fallback;
}

int fault_cycles() { return std::max(1, env_int("HUB_TEST_FAULT_CYCLES", 6)); }

// HUB_TEST_FAULT_SEED, or a fresh one; printed so that a failing run can be replayed.
std::uint32_t fault_seed() {
  const int given = env_int("HUB_TEST_FAULT_SEED", 0);
  const std::uint32_t seed = given != 0 ? static_cast<std::uint32_t>(given) : std::random_device{}() | 1u;
  std::cout << "fault seed " << seed << " (rerun with HUB_TEST_FAULT_SEED=" << seed << ")\n";
  ::testing::Test::RecordProperty("fault_seed", std::to_string(seed));
  return seed;
}

int port_of(const std::string& endpoint) { return std::stoi(endpoint.substr(endpoint.rfind(':') + 1)); }

// Polls `condition` until it holds; fails the test (returns false) after `limit`.
template <typename Condition>
bool wait_until(const std::string& what, std::chrono::milliseconds limit, Condition condition) {
  const auto deadline = Clock::now() + limit;
  while (!condition()) {
    if (Clock::now() > deadline) {
      ADD_FAILURE() << "not within " << limit.count() << " ms: " << what;
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::string household_id(int village, int n) {
  char id[32];
  std::snprintf(id, sizeof id, "V%02d-%05d", village, n);
  return id;
}

// Quarter number `i` from 2020Q3 on.
std::string quarter(int i) { return std::to_string(2020 + (i + 2) / 4) + "Q" + std::to_string((i + 2) % 4 + 1); }

// Registers and commits `households` households of village V01 in one batch.
std::vector<std::string> register_households(HubProcess& hub, int households, int village = 1) {
  std::vector<std::string> ids;
  json events = json::array();
  for (int n = 1; n <= households; ++n) {
    ids.push_back(household_id(village, n));
    events.push_back(household_event(ids.back(), household_id(village, 0).substr(0, 3)));
    events.push_back(commitment_event(ids.back()));
  }
  const json reply = hub.ingest({{"type", "batch"}, {"events", events}});
  EXPECT_EQ(reply["ok"], true) << reply.dump();
  return ids;
}

// What the ledgers must show after any network fault: every department's cursor at the end of
// the log; one delivery with a complete action set per status change; in each household the
// deliveries recorded in publication order; no failure counted (a lost link is not the
// plugin's failure) and nothing parked; finance never releasing more than it deferred.
void expect_ledgers_exact(HubProcess& hub, const std::vector<std::string>& departments) {
  const std::int64_t status_events = hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE type='status_change'");
  const std::int64_t last_seq = hub.query_int("events.db", "SELECT MAX(seq) FROM event");
  const auto status_seqs = hub.query_rows("events.db", "SELECT seq FROM event WHERE type='status_change' ORDER BY seq");
  ASSERT_GT(status_events, 0);
  const json status = hub.admin({{"cmd", "status"}});
  for (const auto& department : departments) {
    SCOPED_TRACE(department);
    const std::string in = " WHERE department='" + department + "'";
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT seq FROM cursor" + in), last_seq);
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery" + in), status_events);
    EXPECT_EQ(hub.query_rows("ledger.db", "SELECT seq FROM delivery" + in + " ORDER BY seq"), status_seqs);
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery d" + in +
                                             " AND NOT EXISTS (SELECT 1 FROM action a WHERE a.department=d.department "
                                             "AND a.seq=d.seq)"),
              0);
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery a JOIN delivery b ON "
                                         "a.department=b.department AND a.household_id=b.household_id AND "
                                         "a.seq<b.seq AND a.delivered_at_ms>b.delivered_at_ms WHERE a.department='" +
                                             department + "'"),
              0)
        << "a household's later event was recorded before an earlier one";
    for (const auto& d : status["departments"])
      if (d["id"] == department) {
        EXPECT_EQ(d["failed"], 0) << d.dump();
        EXPECT_EQ(d["parked"], 0) << d.dump();
        EXPECT_EQ(d["state"], "running") << d.dump();
      }
  }
  EXPECT_EQ(finance_overpayments(hub), 0);
}

// A publisher's DEALER (optionally CURVE) that can give up a connection and open a new one, as
// docs/protocol.md §3 tells a publisher to do when a reply does not come.
class Publisher {
 public:
  struct Keys {
    std::string server, client_public, client_secret;
  };
  Publisher(zmq::context_t& context, std::string endpoint, std::optional<Keys> keys)
      : context_(context), endpoint_(std::move(endpoint)), keys_(std::move(keys)) {
    reconnect();
  }
  void reconnect() {
    socket_.emplace(context_, zmq::socket_type::dealer);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->set(zmq::sockopt::reconnect_ivl, 20);
    if (keys_) {
      socket_->set(zmq::sockopt::curve_serverkey, keys_->server);
      socket_->set(zmq::sockopt::curve_publickey, keys_->client_public);
      socket_->set(zmq::sockopt::curve_secretkey, keys_->client_secret);
    }
    socket_->connect(endpoint_);
  }
  // The reply, or nothing within `limit`.
  std::optional<json> request(const json& message, std::chrono::milliseconds limit) {
    socket_->send(zmq::buffer(message.dump()), zmq::send_flags::dontwait);
    zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, limit) == 0) return std::nullopt;
    zmq::message_t reply;
    (void)socket_->recv(reply);
    return json::parse(reply.to_string());
  }

 private:
  zmq::context_t& context_;
  std::string endpoint_;
  std::optional<Keys> keys_;
  std::optional<zmq::socket_t> socket_;
};

Publisher::Keys publisher_keys(const HubProcess& hub) {
  const auto key = [&](const std::string& name) { return read_text(hub.data_dir() + "/keys/" + name).substr(0, 40); };
  return {key("hub.curve.pub"), key("publisher.curve.pub"), key("publisher.curve.key")};
}

// The proxy itself, between two plain sockets: each fault does what it says, and heal undoes it.
class RawPair {
 public:
  explicit RawPair(FaultProxy& proxy) {
    client_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in address = hub::testing::loopback_address(proxy.port());
    connected_ = ::connect(client_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawPair() {
    if (client_ >= 0) ::close(client_);
    if (server_ >= 0) ::close(server_);
  }
  bool connected() const { return connected_; }
  void accept_from(int listener) { server_ = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC); }
  int client() const { return client_; }
  int server() const { return server_; }

 private:
  int client_ = -1;
  int server_ = -1;
  bool connected_ = false;
};

void send_all(int fd, const std::string& bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
}

// Reads until `size` bytes came, the peer ended (returns what came) or `limit` passed.
std::string receive(int fd, std::size_t size, std::chrono::milliseconds limit) {
  std::string got;
  const auto deadline = Clock::now() + limit;
  while (got.size() < size && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left, 0))) <= 0) break;
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, std::min(sizeof buffer, size - got.size()), 0);
    if (n <= 0) break;
    got.append(buffer, static_cast<std::size_t>(n));
  }
  return got;
}

// True when the peer ended the connection (end-of-file or reset) within `limit`.
bool ended(int fd, std::chrono::milliseconds limit) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return false;
  char byte;
  return ::recv(fd, &byte, 1, MSG_DONTWAIT) <= 0;
}

TEST(FaultProxyTest, EachFaultDoesWhatItSaysOnRealSocketsAndHealUndoesIt) {
  hub::testing::ReservedPort target_port;
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  const sockaddr_in address = hub::testing::loopback_address(target_port.number());
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  FaultProxy proxy("127.0.0.1", target_port.number());

  auto pair = std::make_unique<RawPair>(proxy);
  ASSERT_TRUE(pair->connected());
  pair->accept_from(listener);
  send_all(pair->client(), "hello");
  EXPECT_EQ(receive(pair->server(), 5, 5s), "hello");
  send_all(pair->server(), "back");
  EXPECT_EQ(receive(pair->client(), 4, 5s), "back");

  // Stalled: held, not forwarded, while the other direction flows; heal lets it through.
  proxy.stall(Direction::kUpstream);
  send_all(pair->client(), "held");
  send_all(pair->server(), "down");
  EXPECT_EQ(receive(pair->client(), 4, 5s), "down");
  ASSERT_TRUE(wait_until("the proxy holds the stalled bytes", 5s, [&] { return proxy.held_bytes(Direction::kUpstream) == 4; }));
  EXPECT_EQ(proxy.forwarded_bytes(Direction::kUpstream), 5u);  // "hello" only
  char byte;
  EXPECT_LT(::recv(pair->server(), &byte, 1, MSG_DONTWAIT), 0) << "a stalled byte arrived";
  proxy.heal();
  EXPECT_EQ(receive(pair->server(), 4, 5s), "held");

  // Dropped: lost for good; what is sent after pass() arrives.
  proxy.drop(Direction::kUpstream);
  send_all(pair->client(), "lost");
  ASSERT_TRUE(wait_until("the proxy read and dropped the bytes", 5s, [&] {
    return proxy.discarded_bytes(Direction::kUpstream) == 4;
  }));
  EXPECT_EQ(proxy.forwarded_bytes(Direction::kUpstream), 9u);  // "hello" and "held"
  proxy.pass(Direction::kUpstream);
  send_all(pair->client(), "kept");
  EXPECT_EQ(receive(pair->server(), 4, 5s), "kept");

  // Delayed and throttled: late, and slow.
  proxy.delay(Direction::kDownstream, 300ms);
  auto start = Clock::now();
  send_all(pair->server(), "late");
  EXPECT_EQ(receive(pair->client(), 4, 5s), "late");
  EXPECT_GE(Clock::now() - start, 290ms);
  proxy.pass(Direction::kDownstream);
  proxy.throttle(Direction::kDownstream, 1000);
  start = Clock::now();
  send_all(pair->server(), std::string(500, 'x'));
  EXPECT_EQ(receive(pair->client(), 500, 5s).size(), 500u);
  EXPECT_GE(Clock::now() - start, 400ms);  // 500 bytes at 1000 B/s, after a burst of 50
  proxy.heal();

  // Half-closed: the receiver sees end-of-file; the other direction still works.
  proxy.half_close(Direction::kUpstream);
  EXPECT_TRUE(ended(pair->server(), 5s));
  send_all(pair->server(), "still");
  EXPECT_EQ(receive(pair->client(), 5, 5s), "still");
  proxy.heal();

  // Cut: both ends see the connection end, and a new one is refused until heal.
  pair = std::make_unique<RawPair>(proxy);
  ASSERT_TRUE(pair->connected());
  pair->accept_from(listener);
  proxy.cut();
  EXPECT_EQ(proxy.open_connections(), 0u);
  EXPECT_TRUE(ended(pair->client(), 5s));
  EXPECT_TRUE(ended(pair->server(), 5s));
  EXPECT_FALSE(RawPair(proxy).connected());
  proxy.heal();
  pair = std::make_unique<RawPair>(proxy);
  ASSERT_TRUE(pair->connected());
  pair->accept_from(listener);
  send_all(pair->client(), "again");
  EXPECT_EQ(receive(pair->server(), 5, 5s), "again");
  pair.reset();
  ::close(listener);
}

// police and finance on a real plugin host whose link to hubd goes through `link`; schools and
// land in hubd.
struct HostBehindProxy {
  explicit HostBehindProxy(std::size_t delivery_batch_events)
      : hub(options(delivery_batch_events)),
        link("127.0.0.1", port_of(hub.plugin_host_endpoint())),
        host(link.endpoint(), {"police", "finance"}) {}
  static HubOptions options(std::size_t delivery_batch_events) {
    HubOptions o;
    o.departments = {"schools", "police", "land", "finance"};
    o.hosted = {"police", "finance"};
    o.delivery_batch_events = delivery_batch_events;
    return o;
  }
  // Starts hubd and the host; true once the host serves police.
  bool start() {
    hub.start();
    host.start();
    return wait_until("police served by the host", 30s, [&] { return hub.department_state("police") == "running"; });
  }

  HubProcess hub;
  FaultProxy link;
  PluginHostProcess host;
};

TEST(NetworkFaultTest, AHostBehindAStalledLinkIsNoticedWithinTheHeartbeatAndNothingIsRecordedTwice) {
  HostBehindProxy setup(512);
  ASSERT_TRUE(setup.start()) << setup.host.log();
  auto& [hub, link, host] = setup;
  const auto households = register_households(hub, 20);
  json quarter3 = json::array();
  for (const auto& id : households) quarter3.push_back(status_event(id, "non_credit", "2020Q3"));
  ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", quarter3}})["ok"], true);
  hub.wait_for_delivery();

  // The link stalls (no byte either way, no close): only the heartbeat can tell.
  link.stall(Direction::kBoth);
  const auto stalled_at = Clock::now();
  json quarter4 = json::array();
  for (const auto& id : households) quarter4.push_back(status_event(id, "credit", "2020Q4"));
  ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", quarter4}})["ok"], true);
  ASSERT_TRUE(wait_until("the hub gives the silent host up", 15s, [&] {
    return hub.department_state("police") == "waiting_for_host";
  })) << hub.log();
  // The hub's timeout is 4 s without a message (docs/protocol.md §13.1), the last ping up to
  // 1 s before the stall; the rest is slack for a sanitizer build on a loaded machine.
  const auto noticed_after = Clock::now() - stalled_at;
  EXPECT_LT(noticed_after, 8s);
  std::cout << "the hub noticed the stalled link after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(noticed_after).count() << " ms\n";
  for (const char* id : {"police", "finance"}) {
    const json d = hub.department_status(id);
    EXPECT_EQ(d["state"], "waiting_for_host") << d.dump();
    EXPECT_EQ(d["host"], "") << d.dump();
    EXPECT_GT(d["lag"].get<std::int64_t>(), 0) << d.dump();
  }
  // The departments in hubd flow all the while.
  ASSERT_TRUE(wait_until("schools and land deliver the new quarter", 30s, [&] {
    return hub.department_status("schools")["lag"] == 0 && hub.department_status("land")["lag"] == 0;
  }));
  EXPECT_EQ(hub.department_state("police"), "waiting_for_host");

  // The link comes back: what the stalled connection held flows into closed sockets or stale
  // sessions; the host says hello again and delivery resumes after the cursor.
  link.heal();
  hub.wait_for_delivery(std::chrono::seconds(60));
  EXPECT_EQ(hub.department_status("police")["host"], "dept-1");
  expect_ledgers_exact(hub, {"schools", "police", "land", "finance"});
  EXPECT_GE(link.accepted(), 2u) << "the host never reconnected through the proxy";
  hub.stop();
  EXPECT_EQ(host.stop(), 0) << host.log();
}

// Found by the partition test: the host's link half-closed towards the hub while the host was
// reconnecting. Its libzmq I/O thread then blocked for good on a socket-monitor event that had
// no reader any more (security::HandshakeWatch closed its end before stopping the monitor), so
// the host never reached the hub again although it kept "reconnecting".
TEST(NetworkFaultTest, AHostWhoseLinkWasHalfClosedWhileItReconnectedServesAgainWhenItHeals) {
  HostBehindProxy setup(512);
  ASSERT_TRUE(setup.start()) << setup.host.log();
  auto& [hub, link, host] = setup;
  const auto households = register_households(hub, 5);
  link.half_close(Direction::kUpstream);
  ASSERT_TRUE(wait_until("the host gives the silent hub up and says hello again", 15s, [&] {
    return host.log().find("the hub has been silent") != std::string::npos;
  })) << host.log();
  // Its new connections are half-closed too, until the link heals.
  ASSERT_TRUE(wait_until("a connection of the new socket half-closed", 10s, [&] { return link.accepted() >= 3; }));
  link.heal();
  ASSERT_TRUE(wait_until("police served again", 20s, [&] { return hub.department_state("police") == "running"; }))
      << host.log() << hub.log();
  json quarter3 = json::array();
  for (const auto& id : households) quarter3.push_back(status_event(id, "breach", "2020Q3"));
  ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", quarter3}})["ok"], true);
  hub.wait_for_delivery(std::chrono::seconds(30));
  expect_ledgers_exact(hub, {"schools", "police", "land", "finance"});
  hub.stop();
  EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(NetworkFaultTest, PartitionsHealingMidBatchAtRandomMomentsLoseAndRepeatNothingInOrder) {
  std::mt19937 random(fault_seed());
  const int cycles = fault_cycles();
  HostBehindProxy setup(4);  // small batches: many round trips to cut into
  ASSERT_TRUE(setup.start()) << setup.host.log();
  auto& [hub, link, host] = setup;
  const auto households = register_households(hub, 120);

  struct Fault {
    const char* name;
    void (FaultProxy::*apply)(Direction);
    Direction direction;
  };
  const Fault faults[] = {{"stall both", &FaultProxy::stall, Direction::kBoth},
                          {"stall hub-bound", &FaultProxy::stall, Direction::kUpstream},
                          {"stall host-bound", &FaultProxy::stall, Direction::kDownstream},
                          {"half-close hub-bound", &FaultProxy::half_close, Direction::kUpstream},
                          {"half-close host-bound", &FaultProxy::half_close, Direction::kDownstream},
                          {"cut", nullptr, Direction::kBoth}};
  const char* statuses[] = {"credit", "non_credit", "breach"};
  int mid_delivery = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    // A quarter for every household, in two batches; the fault falls at a random moment of
    // the first one's delivery, and the second is published while the link is down.
    json first = json::array(), second = json::array();
    for (std::size_t i = 0; i < households.size(); ++i)
      (i % 2 == 0 ? first : second).push_back(status_event(households[i], statuses[random() % 3], quarter(cycle)));
    ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", first}})["ok"], true);
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 40000));
    const Fault& fault = faults[random() % std::size(faults)];
    if (fault.apply != nullptr)
      (link.*fault.apply)(fault.direction);
    else
      link.cut();
    if (hub.department_status("police")["lag"] != 0 || hub.department_status("finance")["lag"] != 0) ++mid_delivery;
    ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", second}})["ok"], true);
    // Held shorter or longer than the heartbeat's 4 s: both sides keep the session, or both
    // give it up, or one does and the other not yet.
    const auto hold = random() % 3 == 0 ? std::chrono::milliseconds(3500 + random() % 2000)
                                        : std::chrono::milliseconds(50 + random() % 1500);
    std::cout << "cycle " << cycle << ": " << fault.name << " for " << hold.count() << " ms\n";
    std::this_thread::sleep_for(hold);  // the length of the partition, not a wait for an outcome
    link.heal();
  }
  try {
    hub.wait_for_delivery(std::chrono::seconds(60));
  } catch (const std::exception& e) {
    FAIL() << e.what() << "\nconnections through the proxy: " << link.open_connections() << " open, "
           << link.accepted() << " accepted\nplugin host (exit code " << host.wait_exit(std::chrono::seconds(0))
           << ", -1 = still running):\n" << host.log();
  }
  std::cout << mid_delivery << " of " << cycles << " faults fell in the middle of a delivery\n";
  EXPECT_GT(mid_delivery, 0);
  expect_ledgers_exact(hub, {"schools", "police", "land", "finance"});
  hub.stop();
  EXPECT_EQ(host.stop(), 0) << host.log();
}

// A reply lost after the event was stored (the replies stalled): the resend of the same event
// on a new connection is answered as a duplicate with the first seq. With CURVE, as shipped:
// the proxy carries it untouched.
TEST(NetworkFaultTest, AResendAfterALostReplyIsAnsweredAsADuplicateWithTheFirstSeqThroughCurve) {
  HubOptions options;
  options.departments = {"police"};
  options.curve = true;
  HubProcess hub(options);
  hub.start();
  FaultProxy link("127.0.0.1", port_of(hub.endpoints()["ingest"].get<std::string>()));
  zmq::context_t context;
  Publisher publisher(context, link.endpoint(), publisher_keys(hub));
  const auto registered = publisher.request(household_event(household_id(1, 1)), 10s);  // and the handshake done
  ASSERT_TRUE(registered.has_value());
  ASSERT_EQ((*registered)["ok"], true) << registered->dump();
  const json event = status_event(household_id(1, 1), "credit", "2020Q3");
  const std::string stored_seq = "SELECT seq FROM event WHERE event_id='" + event["event_id"].get<std::string>() + "'";
  link.stall(Direction::kDownstream);
  EXPECT_FALSE(publisher.request(event, 300ms).has_value());
  ASSERT_TRUE(wait_until("the event is stored", 10s, [&] { return !hub.query_rows("events.db", stored_seq).empty(); }));
  publisher.reconnect();
  link.heal();
  const auto reply = publisher.request(event, 10s);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(*reply, json({{"ok", true}, {"duplicate", true}, {"seq", hub.query_int("events.db", stored_seq)}}));
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event"), 2);
  hub.stop();
}

// Without CURVE: it adds nothing to what is tested here, and a long CURVE run under the CI's
// ThreadSanitizer stage loses the stack that tests/tsan.supp's libzmq suppression (the ZAP
// user id's hand-over) needs, and reports that known false positive.
TEST(NetworkFaultTest, PublishersBehindAFlappingLinkResendingTheSameEventIdGetEachStoredOnceWithItsSeq) {
  HubOptions options;
  options.departments = {"police"};
  HubProcess hub(options);
  hub.start();
  FaultProxy link("127.0.0.1", port_of(hub.endpoints()["ingest"].get<std::string>()));
  zmq::context_t context;

  // Four publishers register households and publish their evaluations without pause, each
  // resending after 500 ms without a reply, while the link flaps 4 × HUB_TEST_FAULT_CYCLES times.
  std::mt19937 random(fault_seed());
  const int kPublishers = 4;
  std::mutex mutex;  // guards acknowledged, resends and duplicates
  std::map<std::string, std::int64_t> acknowledged;
  std::size_t published = 0;
  int resends = 0, duplicates = 0;
  std::atomic<bool> flapping{true};
  std::vector<std::thread> publishers;
  for (int p = 0; p < kPublishers; ++p)
    publishers.emplace_back([&, p] {
      Publisher publisher(context, link.endpoint(), std::nullopt);
      const auto deadline = Clock::now() + 120s;
      for (int n = 1; flapping && n < 100000 && Clock::now() < deadline; ++n) {
        const std::string id = household_id(2 + p, n);
        for (const json& event : {household_event(id, id.substr(0, 3)), status_event(id, n % 2 ? "credit" : "breach", "2020Q3")}) {
          std::optional<json> reply;
          while (!(reply = publisher.request(event, 500ms)) && Clock::now() < deadline) {
            publisher.reconnect();  // the same event, with the same event_id, on a new connection
            std::lock_guard lock(mutex);
            ++resends;
          }
          std::lock_guard lock(mutex);
          ++published;
          if (!reply || (*reply)["ok"] != true) {
            ADD_FAILURE() << event.dump() << " not acknowledged: " << (reply ? reply->dump() : "no reply");
            continue;
          }
          acknowledged[event["event_id"]] = (*reply)["seq"].get<std::int64_t>();
          if ((*reply)["duplicate"] == true) ++duplicates;
        }
      }
    });
  for (int flap = 0; flap < 4 * fault_cycles(); ++flap) {
    switch (random() % 5) {
      case 0: link.cut(); break;
      case 1: link.stall(Direction::kDownstream); break;  // stored, but the reply does not come
      case 2: link.stall(Direction::kUpstream); break;
      case 3: link.stall(Direction::kBoth); break;
      case 4: link.delay(Direction::kBoth, 700ms); break;  // the reply comes after the publisher gave up
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + random() % 600));  // the flap's length
    link.heal();
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + random() % 300));
  }
  flapping = false;
  for (auto& t : publishers) t.join();
  std::cout << acknowledged.size() << " events acknowledged, " << resends << " resends, " << duplicates
            << " answered as duplicates\n";
  EXPECT_GT(resends, 0) << "the link never got in the way";

  ASSERT_EQ(acknowledged.size(), published);
  std::map<std::string, std::int64_t> stored;
  for (const auto& row : hub.query_rows("events.db", "SELECT event_id, seq FROM event")) stored[row[0]] = std::stoll(row[1]);
  EXPECT_EQ(stored.size(), acknowledged.size());
  for (const auto& [event_id, seq] : acknowledged) {
    ASSERT_TRUE(stored.count(event_id)) << "acknowledged but not stored: " << event_id;
    EXPECT_EQ(stored[event_id], seq) << event_id << " acknowledged with another seq than stored";
  }
  hub.wait_for_delivery();
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery"),
            hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE type='status_change'"));
  hub.stop();
}

TEST(NetworkFaultTest, SlowLorisClientsOnIngestAndAdminDoNotStarveANormalPublisher) {
  HubOptions options;
  options.departments = {"land"};
  HubProcess hub(options);
  hub.start();
  const json endpoints = hub.endpoints();
  // 25 clients on each endpoint whose connections carry 20 bytes a second: the handshake takes
  // seconds, then each starts a 200 KB request that will not arrive within the test.
  FaultProxy slow_ingest("127.0.0.1", port_of(endpoints["ingest"].get<std::string>()));
  FaultProxy slow_admin("127.0.0.1", port_of(endpoints["admin"].get<std::string>()));
  slow_ingest.throttle(Direction::kUpstream, 20);
  slow_admin.throttle(Direction::kUpstream, 20);
  zmq::context_t context;
  std::vector<zmq::socket_t> slow;
  const std::string big(200 * 1024, 'x');
  for (FaultProxy* proxy : {&slow_ingest, &slow_admin})
    for (int i = 0; i < 25; ++i) {
      slow.emplace_back(context, zmq::socket_type::dealer);
      slow.back().set(zmq::sockopt::linger, 0);
      slow.back().connect(proxy->endpoint());
      slow.back().send(zmq::buffer(R"({"type":"batch","events":[{"type":"household","head":")" + big + "\"}]}"),
                       zmq::send_flags::dontwait);
    }
  ASSERT_TRUE(wait_until("50 slow connections open and trickling", 20s, [&] {
    return slow_ingest.open_connections() == 25 && slow_admin.open_connections() == 25 &&
           slow_ingest.forwarded_bytes(Direction::kUpstream) > 25 * 64 &&
           slow_admin.forwarded_bytes(Direction::kUpstream) > 25 * 64;  // past the ZMTP greetings
  }));

  // Meanwhile a normal publisher and an administrator are answered as promptly as ever.
  std::vector<std::int64_t> latencies_ms;
  for (int n = 1; n <= 100; ++n) {
    const auto start = Clock::now();
    const json reply = n % 10 == 0 ? hub.admin({{"cmd", "status"}}) : hub.ingest(household_event(household_id(1, n)));
    latencies_ms.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
    ASSERT_EQ(reply["ok"], true) << reply.dump();
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::cout << "with 50 slow-loris connections: median " << latencies_ms[50] << " ms, max " << latencies_ms.back()
            << " ms\n";
  EXPECT_LT(latencies_ms.back(), 2000);  // milliseconds without them; seconds would be starvation
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event"), 90);
  EXPECT_EQ(slow_ingest.open_connections(), 25u) << "the slow clients were dropped: the test proved nothing";
  slow.clear();
  hub.stop();  // cleanly, with 50 half-received requests
}

}  // namespace
}  // namespace hub::test

// Departments placed on a plugin host: real hubd and hub-plugin-host processes over TCP. The
// hosted ledger equals the in-process one for the same reference-town quarters; kill -9 of the
// host or of hubd in the middle of a quarter loses and repeats nothing; the host may start
// before hubd; bad host configurations and unwanted hosts are refused with clear messages.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <zmq.hpp>

#include "hub/sdk/version.h"
#include "integration/hub_process.h"

namespace hub::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Rows = std::vector<std::vector<std::string>>;

const std::vector<std::string> kHostedDepartments{"police", "finance"};

// A reference town from hub-towngen (deterministic), removed afterwards.
class Town {
 public:
  explicit Town(int households) : dir_(make_temp_dir("town-it-")) {
    const auto r = run_command(std::string(HUB_TOWNGEN_PATH) + " --quiet --out " + dir_ + " --households " +
                               std::to_string(households));
    if (r.exit_code != 0) throw std::runtime_error("hub-towngen failed: " + r.output);
  }
  ~Town() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // The finance roster goes where the finance plugin runs (hubd's or the host's data dir).
  void copy_finance_roster(const std::string& data_dir) const {
    fs::copy_file(dir_ + "/rosters/finance.csv", data_dir + "/plugins/finance/roster.csv",
                  fs::copy_options::overwrite_existing);
  }
  void import(HubProcess& hub, const std::string& file) const {
    const auto r = run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " import " + dir_ + "/" + file);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

 private:
  std::string dir_;
};

HubOptions hosted_options(std::size_t delivery_batch_events = 512) {
  HubOptions o;
  o.departments = kHostedDepartments;
  o.hosted = kHostedDepartments;
  o.delivery_batch_events = delivery_batch_events;
  return o;
}

// Every status change has exactly one complete action set in each department, and every
// department's cursor is at the end of the log.
void expect_each_event_recorded_once(HubProcess& hub, const std::vector<std::string>& departments) {
  const std::int64_t status_events = hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE type='status_change'");
  const std::int64_t last_seq = hub.query_int("events.db", "SELECT MAX(seq) FROM event");
  ASSERT_GT(status_events, 0);
  for (const auto& d : departments) {
    SCOPED_TRACE(d);
    const std::string where = " WHERE department='" + d + "'";
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery" + where), status_events);
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(DISTINCT seq) FROM delivery" + where), status_events);
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery d" + where +
                                             " AND NOT EXISTS (SELECT 1 FROM action a WHERE a.department=d.department "
                                             "AND a.seq=d.seq)"),
              0);
    EXPECT_EQ(hub.query_int("ledger.db", "SELECT seq FROM cursor" + where), last_seq);
  }
  // Finance never pays out more than was deferred (a repeated release would).
  EXPECT_EQ(finance_overpayments(hub), 0);
}

void wait_for_state(HubProcess& hub, const std::string& department, const std::string& state) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (hub.department_state(department) != state) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << department << " never became " << state << "\n" << hub.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Polls until `department` has delivered some but not all of the log; false if it finished first.
bool wait_until_mid_delivery(HubProcess& hub, const std::string& department, std::uint64_t from_cursor) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    const json d = hub.department_status(department);
    const auto cursor = d["cursor"].get<std::uint64_t>();
    if (cursor > from_cursor) return d["lag"].get<std::uint64_t>() > 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

// The ledger without timestamps: every delivery and every action, in key order.
Rows ledger_rows(HubProcess& hub) {
  Rows rows = hub.query_rows("ledger.db",
                             "SELECT 'action', department, seq, idx, household_id, policy_id, action, "
                             "COALESCE(amount_fen, ''), reason FROM action ORDER BY department, seq, idx");
  for (auto& r : hub.query_rows("ledger.db",
                                "SELECT 'delivery', department, seq, household_id, event_id, plugin_version "
                                "FROM delivery ORDER BY department, seq"))
    rows.push_back(std::move(r));
  return rows;
}

Rows deliver_town_quarters(const Town& town, bool hosted) {
  HubOptions options = hosted_options();
  if (!hosted) options.hosted.clear();
  HubProcess hub(options);
  std::optional<PluginHostProcess> host;
  if (hosted) {
    host.emplace(hub.plugin_host_endpoint(), kHostedDepartments);
    town.copy_finance_roster(host->data_dir());
    host->start();
  } else {
    town.copy_finance_roster(hub.data_dir());
  }
  hub.start();
  for (const char* file : {"households.csv", "commitments.csv", "evaluations-2020Q3.csv", "evaluations-2020Q4.csv"})
    town.import(hub, file);
  const json status = hub.wait_for_delivery();
  for (const auto& d : status["departments"]) EXPECT_EQ(d["placement"], hosted ? "host" : "in_process") << d.dump();
  Rows rows = ledger_rows(hub);
  hub.stop();
  if (host) {
    EXPECT_EQ(host->stop(), 0) << host->log();
  }
  return rows;
}

TEST(PluginHostTest, HostedDepartmentsRecordTheSameLedgerAsInProcess) {
  const Town town(300);
  const Rows in_process = deliver_town_quarters(town, false);
  const Rows hosted = deliver_town_quarters(town, true);
  ASSERT_GT(in_process.size(), 4 * 300u);  // two quarters, two departments, at least one action each
  ASSERT_EQ(in_process.size(), hosted.size());
  for (std::size_t i = 0; i < in_process.size(); ++i) {
    ASSERT_EQ(in_process[i], hosted[i]) << "first difference at row " << i;
  }
}

// A reference town whose first quarter has been delivered to police and finance on a plugin
// host, with small delivery batches so that the next quarter takes many round trips.
class HostedTownTest : public ::testing::Test {
 protected:
  HostedTownTest() : town_(500), hub_(hosted_options(4)), host_(hub_.plugin_host_endpoint(), kHostedDepartments) {}

  void SetUp() override {
    town_.copy_finance_roster(host_.data_dir());
    host_.start();
    hub_.start();
    for (const char* file : {"households.csv", "commitments.csv", "evaluations-2020Q3.csv"}) town_.import(hub_, file);
    first_quarter_end_ = hub_.wait_for_delivery()["last_seq"].get<std::uint64_t>();
  }

  // Publishes the second quarter and returns once `department` is in the middle of it.
  void start_second_quarter(const std::string& department) {
    town_.import(hub_, "evaluations-2020Q4.csv");
    ASSERT_TRUE(wait_until_mid_delivery(hub_, department, first_quarter_end_))
        << "the quarter was delivered before the kill";
  }

  Town town_;
  HubProcess hub_;
  PluginHostProcess host_;
  std::uint64_t first_quarter_end_ = 0;
};

TEST_F(HostedTownTest, KillNineOfTheHostMidQuarterLosesAndRepeatsNothing) {
  start_second_quarter("police");
  host_.kill9();
  // The hub notices the silence, disowns what the host had, and waits for a host.
  wait_for_state(hub_, "police", "waiting_for_host");
  host_.start();
  hub_.wait_for_delivery(std::chrono::seconds(60));
  expect_each_event_recorded_once(hub_, kHostedDepartments);
  hub_.stop();
  EXPECT_EQ(host_.stop(), 0);
}

TEST_F(HostedTownTest, KillNineOfHubdMidQuarterTheHostReconnectsByItself) {
  start_second_quarter("finance");
  hub_.kill9();
  hub_.start();  // same plugin-host endpoint; the host is left alone
  hub_.wait_for_delivery(std::chrono::seconds(60));
  expect_each_event_recorded_once(hub_, kHostedDepartments);
  EXPECT_TRUE(host_.wait_for_log("saying hello again", std::chrono::seconds(1)) ||
              host_.wait_for_log("reconnecting", std::chrono::seconds(1)))
      << host_.log();
  hub_.stop();
  EXPECT_EQ(host_.stop(), 0) << host_.log();
}

TEST(PluginHostTest, WaitsForItsHostWhileOthersFlowAndAHostMayStartBeforeHubd) {
  HubOptions options;
  options.departments = {"police", "land"};
  options.hosted = {"police"};
  HubProcess hub(options);
  hub.start();
  json events = json::array();
  for (const char* id : {"V01-00001", "V01-00002"}) {
    events.push_back(household_event(id));
    events.push_back(status_event(id, "non_credit", "2020Q3"));
  }
  ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", events}})["ok"], true);
  // land (in process) delivers; police has no host yet and its lag stays.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (hub.department_status("land")["lag"] != 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << hub.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const json police = hub.department_status("police");
  EXPECT_EQ(police["state"], "waiting_for_host");
  EXPECT_EQ(police["host"], "");
  EXPECT_EQ(police["lag"], 4);
  hub.stop();

  // Now the host first, then hubd: the host keeps trying until hubd is there.
  PluginHostProcess host(hub.plugin_host_endpoint(), {"police"});
  host.start();
  ASSERT_TRUE(host.wait_for_log("connecting to the hub", std::chrono::seconds(10))) << host.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  hub.start();
  hub.wait_for_delivery(std::chrono::seconds(30));
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police'"), 2);
  EXPECT_EQ(hub.department_state("police"), "running");
  hub.stop();
  EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(PluginHostTest, HubdRefusesToStartWhenThePluginHostEndpointIsTaken) {
  HubOptions options;
  options.departments = {"police", "land"};
  options.hosted = {"police"};
  HubProcess first(options);
  first.start();
  options.plugin_host_endpoint = first.plugin_host_endpoint();
  HubProcess second(options);
  try {
    second.start();
    FAIL() << "a second hubd bound the same plugin-host endpoint";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("exited during start-up"), std::string::npos) << e.what();
    EXPECT_NE(second.log().find("cannot start"), std::string::npos) << second.log();
  }
  first.stop();
}

TEST(PluginHostTest, BadHostConfigurationExitsWithCodeTwoNamingTheKey) {
  const std::string dir = make_temp_dir("plugin-host-config-");
  auto run_with = [&](const std::string& text) {
    std::ofstream(dir + "/host.json") << text;
    return run_command(plugin_host_path() + " --config " + dir + "/host.json");
  };
  auto r = run_with(R"({"plugins": ["police"]})");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("hub: required"), std::string::npos) << r.output;
  r = run_with(R"({"hub": "tcp://127.0.0.1:7002", "plugins": ["police"], "plugin": "x"})");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("plugin: unknown key"), std::string::npos) << r.output;
  r = run_with(R"({"hub": "tcp://127.0.0.1:7002", "plugins": [{"id": "police", "libary": "/x.so"}]})");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("plugins[0].libary"), std::string::npos) << r.output;
  r = run_with("{not json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("not valid JSON"), std::string::npos) << r.output;
  r = run_command(plugin_host_path() + " --config " + dir + "/missing.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("cannot read"), std::string::npos) << r.output;
  r = run_command(plugin_host_path());
  EXPECT_EQ(r.exit_code, 2);
  r = run_command(plugin_host_path() + " --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("部门插件宿主"), std::string::npos);
  EXPECT_NE(r.output.find("Usage"), std::string::npos);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(PluginHostTest, TheHubRefusesUnplacedDepartmentsAndASecondHostForTheSameDepartment) {
  HubOptions options;
  options.departments = {"police", "land"};
  options.hosted = {"police"};
  HubProcess hub(options);
  hub.start();

  // land runs inside hubd: a host offering it is refused for good (exit 1), with the reason.
  PluginHostProcess wrong(hub.plugin_host_endpoint(), {"land"}, "land-server");
  wrong.start();
  EXPECT_EQ(wrong.wait_exit(std::chrono::seconds(15)), 1) << wrong.log();
  EXPECT_NE(wrong.log().find("unknown_department"), std::string::npos) << wrong.log();
  EXPECT_NE(wrong.log().find("\"placement\": \"host\""), std::string::npos) << wrong.log();

  // A second host for police while the first serves it: refused (department_taken), keeps trying.
  PluginHostProcess first(hub.plugin_host_endpoint(), {"police"}, "police-1");
  first.start();
  wait_for_state(hub, "police", "running");
  EXPECT_EQ(hub.department_status("police")["host"], "police-1");
  PluginHostProcess second(hub.plugin_host_endpoint(), {"police"}, "police-2");
  second.start();
  ASSERT_TRUE(second.wait_for_log("department_taken", std::chrono::seconds(10))) << second.log();
  EXPECT_NE(second.log().find("already served by plugin host 'police-1'"), std::string::npos) << second.log();
  EXPECT_EQ(hub.department_state("police"), "running");
  ASSERT_EQ(hub.ingest(household_event("V01-00009"))["ok"], true);
  ASSERT_EQ(hub.ingest(status_event("V01-00009", "credit", "2020Q3"))["ok"], true);
  hub.wait_for_delivery(std::chrono::seconds(20));
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department='police'"), 1);
  EXPECT_EQ(second.stop(), 0);
  hub.stop();
  EXPECT_EQ(first.stop(), 0) << first.log();
}

}  // namespace
}  // namespace hub::test

namespace hub::test {
namespace {

// A raw client speaking the plugin-host protocol in the place of a department's server, so a
// test sees the exact bytes the hub sends and can send what a real host never would.
class RawHost {
 public:
  explicit RawHost(const std::string& endpoint) : socket_(context_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::rcvtimeo, 20000);
    socket_.connect(endpoint);
  }
  void send(const json& message) { socket_.send(zmq::buffer(message.dump()), zmq::send_flags::none); }
  std::string receive() {
    zmq::message_t frame;
    if (!socket_.recv(frame)) throw std::runtime_error("no message from the hub within 20 s");
    return frame.to_string();
  }
  // The next message that is not a pong.
  json next() {
    for (;;) {
      json message = json::parse(receive());
      if (message["type"] != "pong") return message;
    }
  }
  // hello, welcome, started for police: returns the session token.
  std::string start_police() {
    send({{"type", "hello"}, {"protocol", 1}, {"host", "raw-host"}, {"departments", {"police"}},
          {"sdk_version", "1.0.0"}, {"abi_version", HUB_SDK_ABI_VERSION}});
    const json welcome = json::parse(receive());
    if (welcome["type"] != "welcome") throw std::runtime_error("no welcome: " + welcome.dump());
    const std::string session = welcome["session"];
    send({{"type", "started"}, {"session", session}, {"department", "police"}, {"ok", true},
          {"plugin_version", "9.9.9"}, {"abi_version", HUB_SDK_ABI_VERSION}});
    return session;
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

// Data minimisation on the wire.
TEST(PluginHostTest, AHostReceivesOnlyWhatItsDepartmentMayOnTheWire) {
  HubOptions options;
  options.departments = {"police", "civil_affairs"};
  options.hosted = {"police"};
  options.plugin_extra["police"] = {{"fields", {"village", "quarter"}}, {"villages", {"V01"}}};
  HubProcess hub(options);
  hub.start();

  RawHost host(hub.plugin_host_endpoint());
  const std::string session = host.start_police();
  auto send = [&host](const json& message) { host.send(message); };
  auto receive = [&host]() { return host.receive(); };

  json events = json::array();
  for (const auto& [id, village] : {std::pair{"V01-00001", "V01"}, std::pair{"V02-00001", "V02"}}) {
    events.push_back(household_event(id, village));  // with the head of household's name
    events.push_back(commitment_event(id));
    json status = status_event(id, "non_credit", "2020Q3");
    status["designations"] = {"assistance"};
    status["basis"] = "村民代表会议纪要第3号 / minutes no. 3";
    events.push_back(status);
  }
  const json reply = hub.ingest({{"type", "batch"}, {"events", events}});
  ASSERT_EQ(reply["ok"], true) << reply.dump();
  const std::uint64_t last = reply["results"].back()["seq"];

  // Every deliver frame until the last event, answered as a host whose plugin handled nothing.
  std::string wire;
  json delivered_events = json::array();
  for (std::uint64_t done = 0; done < last;) {
    const std::string frame = receive();
    const json message = json::parse(frame);
    if (message["type"] != "deliver") continue;  // pong and the like
    wire += frame;
    for (const auto& e : message["events"]) delivered_events.push_back(e);
    done = message["events"].back()["seq"];
    send({{"type", "report"}, {"session", session}, {"department", "police"}, {"request", message["request"]},
          {"skipped", false}, {"done_upto", done}, {"delivered", json::array()}});
  }
  ASSERT_EQ(delivered_events.size(), last);  // the sequence has no gap ...
  std::size_t withheld = 0;
  for (const auto& e : delivered_events) {
    if (e.value("withheld", false)) {
      ++withheld;
      EXPECT_EQ(e.size(), 2u) << e.dump();  // ... but what is not for police is only its seq
      continue;
    }
    // The one status change police subscribes to (V01), with only the fields it may receive.
    EXPECT_EQ(e, json({{"seq", e["seq"]}, {"type", "status_change"}, {"household_id", "V01-00001"},
                       {"status", "non_credit"}, {"village", "V01"}, {"quarter", "2020Q3"}}));
  }
  EXPECT_EQ(withheld, last - 1);
  for (const char* absent : {"V02-00001", "张三", "members", "basis", "会议纪要", "designations", "assistance",
                             "event_id", "effective_date", "previous_status", "correction"})
    EXPECT_EQ(wire.find(absent), std::string::npos) << absent << " reached the host: " << wire;
  hub.stop();
}

// --no-supervisor: the plugins run in the process started (no child to restart them), which
// serves as usual and stops cleanly.
TEST(PluginHostTest, WithoutASupervisorTheHostRunsItsPluginsItselfAndServes) {
  HubOptions options;
  options.departments = {"police"};
  options.hosted = {"police"};
  HubProcess hub(options);
  hub.start();
  PluginHostProcess host(hub.plugin_host_endpoint(), {"police"});
  host.start({"--no-supervisor"});
  hub.ingest(household_event("V01-00001"));
  hub.ingest(status_event("V01-00001", "breach", "2020Q3"));
  hub.wait_for_delivery(std::chrono::seconds(60));
  EXPECT_EQ(hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department = 'police'"), 1);
  // No child process: the plugins are in the host's own process.
  const auto children = run_command("pgrep -P " + std::to_string(host.pid()));
  EXPECT_NE(children.exit_code, 0) << "children: " << children.output;
  EXPECT_EQ(host.stop(), 0) << host.log();
  hub.stop();
}

// A host may say "reload":true only in answer to the hub's reload: one that nobody asked for
// breaks the protocol, so its session is given up (and a real host then says hello again).
TEST(PluginHostTest, AStartedWithAReloadNobodyAskedForEndsTheSession) {
  HubOptions options;
  options.departments = {"police"};
  options.hosted = {"police"};
  HubProcess hub(options);
  hub.start();
  RawHost host(hub.plugin_host_endpoint());
  const std::string session = host.start_police();
  host.send({{"type", "started"}, {"session", session}, {"department", "police"}, {"ok", true}, {"reload", true},
             {"plugin_version", "9.9.9"}, {"abi_version", HUB_SDK_ABI_VERSION}});
  json message = host.next();
  while (message["type"] == "deliver") message = host.next();  // nothing was published, but be lenient
  EXPECT_EQ(message["type"], "error") << message.dump();
  EXPECT_NE(message.dump().find("no reload was asked for"), std::string::npos) << message.dump();
  host.send({{"type", "ping"}, {"session", session}});
  message = host.next();
  EXPECT_EQ(message["error"]["code"], "unknown_session") << message.dump();
  EXPECT_NE(hub.log().find("no reload was asked for"), std::string::npos) << hub.log();
  hub.stop();
}

}  // namespace
}  // namespace hub::test

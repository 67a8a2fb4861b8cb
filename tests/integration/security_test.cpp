// Issue 5: who may connect to hubd, and what they may do. Every client here is a process of
// its own (hub-test-probe, hubctl, hub-plugin-host) talking to a real hubd with CURVE on, as
// shipped: hubd makes its own key, an admin and a publisher key on first start; the tests add
// department, observer and publisher keys with `hubctl keygen`, list them in the clients file
// and reload it (hubctl keys reload, SIGHUP) without restarting hubd.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "hub/sdk/version.h"
#include "integration/hub_process.h"

namespace hub::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// One connection from a separate process: NULL mechanism when key_file is empty.
json probe(const std::string& endpoint, const std::string& server_key, const std::string& key_file,
           const std::string& request, bool subscribe = false, int timeout_ms = 3000) {
  std::string command = std::string(HUB_TEST_PROBE_PATH) + " --endpoint " + quoted(endpoint) + " --timeout " +
                        std::to_string(timeout_ms);
  if (!key_file.empty()) command += " --server-key " + quoted(server_key) + " --key " + quoted(key_file);
  if (subscribe) command += " --socket sub";
  if (!request.empty()) command += " --send " + quoted(request);
  const auto r = run_command(command);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto line = r.output.substr(0, r.output.find('\n'));
  json out = json::parse(line, nullptr, false);
  EXPECT_FALSE(out.is_discarded()) << r.output;
  return out;
}

// A hub with CURVE on, a police department on a plugin host, and client keys of every role.
class SecureHub {
 public:
  SecureHub() : hub(options()) {
    hub.start();
    keys_dir = hub.dir() + "/client-keys";
    fs::create_directories(keys_dir);
    for (const char* name : {"police-server-1", "schools-server", "observer-1", "publisher-2", "stranger"}) {
      const auto r = run_command(std::string(HUBCTL_PATH) + " keygen " + name + " --dir " + keys_dir);
      EXPECT_EQ(r.exit_code, 0) << r.output;
    }
    server_key = first_line(hub.data_dir() + "/keys/hub.curve.pub");
  }

  static HubOptions options() {
    HubOptions o;
    o.curve = true;
    o.departments = {"schools", "police"};
    o.hosted = {"police"};
    return o;
  }

  // The clients file: hubd's own admin and publisher keys plus `extra` (name → role) from
  // keys_dir; "stranger" is never listed.
  void write_clients(const std::map<std::string, std::string>& extra) {
    json clients = json::array();
    for (const char* name : {"admin", "publisher"})
      clients.push_back({{"name", name}, {"role", name},
                         {"public_key", first_line(hub.data_dir() + "/keys/" + name + ".curve.pub")}});
    for (const auto& [name, role] : extra)
      clients.push_back({{"name", name}, {"role", role}, {"public_key", first_line(pub(name))}});
    std::ofstream(hub.data_dir() + "/keys/clients.json") << json{{"clients", clients}}.dump(2);
  }

  std::string key(const std::string& name) const {
    return name == "admin" || name == "publisher" ? hub.data_dir() + "/keys/" + name + ".curve.key"
                                                  : keys_dir + "/" + name + ".curve.key";
  }
  std::string pub(const std::string& name) const { return keys_dir + "/" + name + ".curve.pub"; }
  std::string endpoint(const std::string& which) { return hub.endpoints()[which].get<std::string>(); }
  CommandResult hubctl(const std::string& args) {
    return run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " " + args);
  }

  HubProcess hub;
  std::string keys_dir;
  std::string server_key;
};

const std::map<std::string, std::string> kAllClients{{"police-server-1", "department:police"},
                                                     {"schools-server", "department:schools"},
                                                     {"observer-1", "observer"},
                                                     {"publisher-2", "publisher"}};

json police_hello() {
  return {{"type", "hello"}, {"protocol", 1}, {"host", "probe"}, {"departments", {"police"}},
          {"sdk_version", "1.0.0"}, {"abi_version", HUB_SDK_ABI_VERSION}};
}

// NULL, an unknown key and a client that encrypts for another hub's key never complete a
// handshake, whatever the endpoint.
void expect_strangers_refused(SecureHub& s, const std::string& which, const std::string& request, bool subscribe) {
  SCOPED_TRACE(which);
  const json null = probe(s.endpoint(which), "", "", request, subscribe, 1500);
  EXPECT_NE(null["handshake"], "succeeded") << null.dump();
  EXPECT_TRUE(null["reply"].is_null()) << null.dump();
  const json unknown = probe(s.endpoint(which), s.server_key, s.key("stranger"), request, subscribe);
  EXPECT_EQ(unknown["handshake"], "failed_auth") << unknown.dump();
  EXPECT_EQ(unknown["auth_status"], 400) << unknown.dump();
  EXPECT_TRUE(unknown["reply"].is_null()) << unknown.dump();
  // The admin's own key, but the stranger's public key taken for the hub's.
  const json wrong_hub = probe(s.endpoint(which), first_line(s.pub("stranger")), s.key("admin"), request, subscribe, 1500);
  EXPECT_NE(wrong_hub["handshake"], "succeeded") << wrong_hub.dump();
  EXPECT_TRUE(wrong_hub["reply"].is_null()) << wrong_hub.dump();
}

// Waits for a live-feed message with `key`, publishing status changes until one comes.
json feed_probe(SecureHub& s, const std::string& key, int timeout_ms) {
  json result;
  std::thread waiter([&] { result = probe(s.endpoint("live_feed"), s.server_key, key, "", true, timeout_ms); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  static int next = 0;
  while (std::chrono::steady_clock::now() < deadline && result.is_null()) {
    const std::string id = "V01-" + std::to_string(10000 + next++).substr(1);
    s.hub.ingest(household_event(id));
    s.hub.ingest(status_event(id, "credit", "2020Q3"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  waiter.join();
  return result;
}

TEST(Security, EveryEndpointLetsInOnlyTheRightKeyAndARevokedKeyLosesItsWay) {
  SecureHub s;
  s.write_clients(kAllClients);
  auto r = s.hubctl("keys reload --by test");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("6 keys"), std::string::npos) << r.output;

  const std::string ping = json{{"cmd", "ping"}}.dump();
  const std::string registration = household_event("V01-00001").dump();

  // Ingest: only a publisher's key publishes; a department's key is answered unauthorized.
  expect_strangers_refused(s, "ingest", registration, false);
  json p = probe(s.endpoint("ingest"), s.server_key, s.key("police-server-1"), registration);
  EXPECT_EQ(p["handshake"], "succeeded") << p.dump();
  EXPECT_EQ(p["reply"]["error"]["code"], "unauthorized") << p.dump();
  EXPECT_EQ(s.hub.query_int("events.db", "SELECT COUNT(*) FROM event"), 0);  // nothing stored
  p = probe(s.endpoint("ingest"), s.server_key, s.key("publisher-2"), registration);
  EXPECT_EQ(p["reply"]["ok"], true) << p.dump();
  EXPECT_EQ(s.hub.query_int("events.db", "SELECT COUNT(*) FROM event"), 1);
  // The event and its chain record name the key that published it.
  EXPECT_EQ(s.hub.query_rows("events.db", "SELECT publisher FROM event"),
            (std::vector<std::vector<std::string>>{{"publisher-2"}}));

  // Admin: only an admin's key; a publisher or an observer is unauthorized.
  expect_strangers_refused(s, "admin", ping, false);
  for (const char* name : {"publisher", "observer-1", "police-server-1"}) {
    p = probe(s.endpoint("admin"), s.server_key, s.key(name), ping);
    EXPECT_EQ(p["reply"]["error"]["code"], "unauthorized") << name << ": " << p.dump();
  }
  p = probe(s.endpoint("admin"), s.server_key, s.key("admin"), ping);
  EXPECT_EQ(p["reply"]["ok"], true) << p.dump();

  // Plugin hosts: a host may serve only the departments whose keys it holds.
  const std::string hello = police_hello().dump();
  expect_strangers_refused(s, "plugin_hosts", hello, false);
  for (const char* name : {"schools-server", "publisher", "admin"}) {
    p = probe(s.endpoint("plugin_hosts"), s.server_key, s.key(name), hello);
    EXPECT_EQ(p["reply"]["type"], "refused") << name << ": " << p.dump();
    EXPECT_EQ(p["reply"]["error"]["code"], "unauthorized") << name << ": " << p.dump();
  }
  p = probe(s.endpoint("plugin_hosts"), s.server_key, s.key("police-server-1"), hello);
  EXPECT_EQ(p["reply"]["type"], "welcome") << p.dump();

  // Live feed: observers (and admins) only; it cannot answer, so the handshake decides.
  expect_strangers_refused(s, "live_feed", "", true);
  for (const char* name : {"publisher", "police-server-1"}) {
    p = probe(s.endpoint("live_feed"), s.server_key, s.key(name), "", true, 1500);
    EXPECT_EQ(p["handshake"], "failed_auth") << name << ": " << p.dump();
  }
  p = feed_probe(s, s.key("observer-1"), 15000);
  EXPECT_EQ(p["handshake"], "succeeded") << p.dump();
  ASSERT_TRUE(p["reply"].is_string()) << p.dump();
  // The first message received: the status change feed_probe published, or (when the
  // subscription started between that message and the next) one of its deliveries.
  const std::string topic = p["reply"];
  const bool delivery = topic.rfind("delivery/", 0) == 0 && topic.size() > 20 &&
                        topic.compare(topic.size() - 11, 11, "/V01/credit") == 0;
  EXPECT_TRUE(topic == "status/V01/credit" || delivery) << p.dump();

  // A connection a key already has: publisher-2 publishes now, and not once revoked.
  zmq::context_t context(1);
  zmq::socket_t open_connection(context, zmq::socket_type::dealer);
  open_connection.set(zmq::sockopt::linger, 0);
  open_connection.set(zmq::sockopt::curve_serverkey, s.server_key);
  open_connection.set(zmq::sockopt::curve_publickey, first_line(s.pub("publisher-2")));
  open_connection.set(zmq::sockopt::curve_secretkey, first_line(s.key("publisher-2")));
  open_connection.connect(s.endpoint("ingest"));
  auto ask = [&](const json& request) {
    open_connection.send(zmq::buffer(request.dump()), zmq::send_flags::none);
    zmq::pollitem_t item{open_connection.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(20000)) == 0) return json();
    zmq::message_t reply;
    (void)open_connection.recv(reply);
    return json::parse(reply.to_string());
  };
  EXPECT_EQ(ask(household_event("V02-00001", "V02"))["ok"], true);

  // The refusals above may have used up the audit log's 20 refusal records of this second (the
  // rest are counted into the next record, AuditTrail::record_refusal): each revoked key's
  // refusal below is checked by name, so let that second pass.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));

  // Revoke with SIGHUP: the clients file without the observer, police's host and publisher-2.
  s.write_clients({{"schools-server", "department:schools"}});
  ASSERT_EQ(::kill(s.hub.endpoints()["pid"].get<pid_t>(), SIGHUP), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (s.hub.log().find("keys reloaded") == s.hub.log().rfind("keys reloaded") ||
         s.hub.log().find("3 removed") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << s.hub.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const json revoked = ask(household_event("V02-00002", "V02"));
  EXPECT_EQ(revoked["error"]["code"], "unauthorized") << revoked.dump();
  EXPECT_EQ(s.hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE household_id = 'V02-00002'"), 0);
  p = probe(s.endpoint("ingest"), s.server_key, s.key("publisher-2"), household_event("V02-00003", "V02").dump());
  EXPECT_EQ(p["handshake"], "failed_auth") << p.dump();
  p = probe(s.endpoint("plugin_hosts"), s.server_key, s.key("police-server-1"), hello);
  EXPECT_EQ(p["handshake"], "failed_auth") << p.dump();
  p = probe(s.endpoint("live_feed"), s.server_key, s.key("observer-1"), "", true, 1500);
  EXPECT_EQ(p["handshake"], "failed_auth") << p.dump();
  p = probe(s.endpoint("admin"), s.server_key, s.key("admin"), ping);
  EXPECT_EQ(p["reply"]["ok"], true) << p.dump();

  // Counted, and in the audit log: refused handshakes on every endpoint, refused requests,
  // both key reloads; the chain verifies.
  r = s.hubctl("--json keys list");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json listed = json::parse(r.output);
  // By reason, at least: 4 unknown (the strangers) + 3 revoked keys; 2 wrong roles on the feed;
  // and on each of the 4 endpoints a NULL client and one with the wrong hub key, which libzmq
  // refuses before the ZAP handler (the gatekeeper reads them from the sockets' monitors). The
  // NULL client is "not_curve" when the hub sees the mismatch first, "incomplete" when the
  // client saw it first and hung up (EPIPE) — about half of each.
  const json by_reason = listed["handshakes"]["refused_by_reason"];
  EXPECT_GE(by_reason["unknown_key"].get<int>(), 7) << r.output;
  EXPECT_GE(by_reason["role"].get<int>(), 2) << r.output;
  EXPECT_GE(by_reason["not_curve"].get<int>() + by_reason["incomplete"].get<int>(), 4) << r.output;
  EXPECT_GE(by_reason["wrong_hub_key"].get<int>(), 4) << r.output;
  EXPECT_EQ(by_reason["malformed"].get<int>(), 0) << r.output;
  int sum = 0;
  for (const auto& [reason, n] : by_reason.items()) sum += n.get<int>();
  EXPECT_EQ(listed["handshakes"]["refused"].get<int>(), sum) << r.output;
  EXPECT_EQ(listed["refused_messages"].get<int>(), 8) << r.output;  // 1 + 3 + 3 above, 1 revoked
  EXPECT_EQ(listed["keys"].size(), 3u) << r.output;
  // The same counts at /metrics (through the dashboard's own, internal, connection).
  r = run_command("python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' " +
                  s.hub.http_url() + "metrics");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("hub_requests_unauthorized_total 8\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("hub_handshakes_total{result=\"refused\"} " +
                          std::to_string(listed["handshakes"]["refused"].get<int>())),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("hub_handshakes_refused_total{reason=\"wrong_hub_key\"} " +
                          std::to_string(by_reason["wrong_hub_key"].get<int>())),
            std::string::npos)
      << r.output;
  s.hub.stop();
  for (const char* endpoint : {"ingest", "admin", "plugin_hosts", "live_feed"})
    for (const char* reason : {"%unknown key%", "%another hub public key%",
                               "%does not use CURVE%' OR detail LIKE '%closed during the handshake%"})
      EXPECT_GE(s.hub.query_int("audit.db", std::string("SELECT COUNT(*) FROM audit WHERE kind = 'handshake_refused' "
                                                        "AND subject = '") + endpoint + "' AND (detail LIKE '" +
                                                reason + "')"),
                1)
          << endpoint << ": " << reason;
  for (const char* endpoint : {"ingest", "admin", "plugin_hosts"})
    EXPECT_GE(s.hub.query_int("audit.db", std::string("SELECT COUNT(*) FROM audit WHERE kind = 'unauthorized' "
                                                      "AND subject = '") + endpoint + "'"),
              1)
        << endpoint;
  EXPECT_EQ(s.hub.query_int("audit.db", "SELECT COUNT(*) FROM audit WHERE kind = 'unauthorized' AND actor = "
                                        "'(revoked key " + first_line(s.pub("publisher-2")).substr(0, 8) + "…)'"),
            1);
  // Both reloads are the same operator action, audited before and after, by who did it and
  // with the keys each one added and removed.
  using Names = std::set<std::string>;
  const auto names = [](const json& list) { return list.get<Names>(); };
  EXPECT_EQ(s.hub.query_rows("audit.db", "SELECT actor FROM audit WHERE kind = 'admin_keys_reload' ORDER BY seq"),
            (std::vector<std::vector<std::string>>{{"admin (by test)"}, {"SIGHUP"}}));
  const auto reloads =
      s.hub.query_rows("audit.db", "SELECT actor, detail FROM audit WHERE kind = 'admin_keys_reload_result' ORDER BY seq");
  ASSERT_EQ(reloads.size(), 2u);
  const json by_admin = json::parse(reloads[0][1]), by_signal = json::parse(reloads[1][1]);
  EXPECT_EQ(reloads[0][0], "admin (by test)");
  EXPECT_EQ(by_admin["ok"], true);
  EXPECT_EQ(names(by_admin["added"]), (Names{"observer-1", "police-server-1", "publisher-2", "schools-server"}));
  EXPECT_EQ(names(by_admin["removed"]), Names{});
  EXPECT_EQ(reloads[1][0], "SIGHUP");
  EXPECT_EQ(by_signal["ok"], true);
  EXPECT_EQ(names(by_signal["added"]), Names{});
  EXPECT_EQ(names(by_signal["removed"]), (Names{"observer-1", "police-server-1", "publisher-2"}));
  r = run_command(std::string(HUBCTL_PATH) + " --data-dir " + s.hub.data_dir() + " audit verify");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(Security, APluginHostServesItsDepartmentOnlyWithThatDepartmentsKey) {
  SecureHub s;
  s.write_clients(kAllClients);
  ASSERT_EQ(s.hubctl("keys reload").exit_code, 0);
  const std::string hub_pub = s.hub.data_dir() + "/keys/hub.curve.pub";

  // The schools server's key claiming police: refused, and the host says why and exits 1.
  PluginHostProcess impostor(s.hub.plugin_host_endpoint(), {"police"}, "impostor");
  impostor.use_curve(hub_pub, s.key("schools-server"));
  impostor.start();
  EXPECT_EQ(impostor.wait_exit(std::chrono::seconds(60)), 1) << impostor.log();
  EXPECT_NE(impostor.log().find("unauthorized"), std::string::npos) << impostor.log();

  // A key the hub does not list, and another hub's public key: the host keeps trying, and its
  // log says why, naming its key or the hub key file to check.
  PluginHostProcess stranger(s.hub.plugin_host_endpoint(), {"police"}, "stranger-host");
  stranger.use_curve(hub_pub, s.key("stranger"));
  stranger.start();
  EXPECT_TRUE(stranger.wait_for_log("key_refused", std::chrono::seconds(30))) << stranger.log();
  EXPECT_NE(stranger.log().find("key 'stranger' (public key " + first_line(s.pub("stranger"))), std::string::npos)
      << stranger.log();
  EXPECT_EQ(stranger.stop(), 0) << stranger.log();
  PluginHostProcess misled(s.hub.plugin_host_endpoint(), {"police"}, "misled-host");
  misled.use_curve(s.pub("stranger"), s.key("police-server-1"));
  misled.start();
  EXPECT_TRUE(misled.wait_for_log("wrong_hub_key", std::chrono::seconds(30))) << misled.log();
  EXPECT_NE(misled.log().find("Check that " + s.pub("stranger") + " is this hub's hub.curve.pub"), std::string::npos)
      << misled.log();
  EXPECT_EQ(misled.stop(), 0) << misled.log();

  // Police's own key: served over CURVE, events delivered.
  PluginHostProcess host(s.hub.plugin_host_endpoint(), {"police"}, "police-server-1");
  host.use_curve(hub_pub, s.key("police-server-1"));
  host.start();
  s.hub.ingest(household_event("V01-00001"));
  s.hub.ingest(status_event("V01-00001", "non_credit", "2020Q3"));
  s.hub.wait_for_delivery(std::chrono::seconds(60));
  EXPECT_EQ(s.hub.query_int("ledger.db", "SELECT COUNT(*) FROM delivery WHERE department = 'police'"), 1);
  EXPECT_NE(host.log().find("(CURVE)"), std::string::npos) << host.log();
  EXPECT_EQ(host.stop(), 0);
}

TEST(Security, WithASigningKeyEveryAuditRecordIsSignedByTheHub) {
  const std::string dir = make_temp_dir("hub-sign-");
  for (const char* name : {"hub-audit", "someone-else"})
    ASSERT_EQ(run_command(std::string(HUBCTL_PATH) + " keygen " + name + " --dir " + dir).exit_code, 0);
  HubOptions o = SecureHub::options();
  o.audit_signing_key = dir + "/hub-audit.sign.key";
  HubProcess hub(o);
  hub.start();
  EXPECT_NE(hub.log().find("every record is signed; public key " + first_line(dir + "/hub-audit.sign.pub")),
            std::string::npos)
      << hub.log();
  // An operator action (two records) and a refused handshake (one).
  auto r = run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " keys reload");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  fs::copy_file(hub.data_dir() + "/keys/hub.curve.pub", dir + "/hub.curve.pub");
  r = run_command(std::string(HUBCTL_PATH) + " --timeout 1500 --admin " + hub.endpoints()["admin"].get<std::string>() +
                  " --keys " + dir + " --key hub-audit status");  // a key the hub does not list
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("key_refused"), std::string::npos) << r.output;
  hub.stop();
  const std::string verify = std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " audit verify --public-key ";
  r = run_command(verify + dir + "/hub-audit.sign.pub");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 checked"), std::string::npos) << r.output;
  r = run_command(std::string(HUBCTL_PATH) + " --json --data-dir " + hub.data_dir() + " audit verify --public-key " +
                  dir + "/someone-else.sign.pub");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("\"bad_signature\""), std::string::npos) << r.output;
  // A signing key that is not one stops hubd at start, naming the setting.
  HubOptions bad = SecureHub::options();
  bad.audit_signing_key = dir + "/hub-audit.curve.pub";
  HubProcess refused(bad);
  EXPECT_THROW(refused.start(), std::runtime_error);
  EXPECT_NE(refused.log().find("security.audit_signing_key"), std::string::npos) << refused.log();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(Security, HubctlUsesTheKeysHubdMadeOnItsFirstStartAndSaysWhatIsMissing) {
  SecureHub s;
  // hubd made its key pair, an admin and a publisher key, and the clients file; secrets 0600.
  for (const char* name : {"hub", "admin", "publisher"}) {
    const auto perms = fs::status(s.hub.data_dir() + "/keys/" + name + ".curve.key").permissions();
    EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none) << name;
  }
  auto r = s.hubctl("status");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const json unknown_action = s.hub.admin({{"cmd", "keys"}, {"action", "rotate"}});
  EXPECT_EQ(unknown_action["error"]["code"], "invalid_request") << unknown_action.dump();
  r = s.hubctl("publish --household V01-00001 --status credit --quarter 2020Q3");
  EXPECT_EQ(r.exit_code, 1) << r.output;  // the publisher key is used: refused for the household, not the key
  EXPECT_NE(r.output.find("unknown_household"), std::string::npos) << r.output;
  r = s.hubctl("--key publisher status");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("unauthorized"), std::string::npos) << r.output;
  const std::string empty = s.hub.dir() + "/no-keys";
  fs::create_directories(empty);
  r = s.hubctl("--keys " + empty + " status");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--keys DIR"), std::string::npos) << r.output;
  // A key the hub does not know, another hub's public key, no keys at all: hubctl says which at
  // once (exit 1), instead of waiting for its timeout and calling the hub unreachable.
  const auto keygen = [&](const std::string& name, const std::string& dir) {
    const auto made = run_command(std::string(HUBCTL_PATH) + " keygen " + name + " --dir " + dir);
    ASSERT_EQ(made.exit_code, 0) << made.output;
  };
  const std::string stranger = s.hub.dir() + "/stranger-keys";
  keygen("stranger", stranger);  // keygen makes the directory, private
  EXPECT_EQ(fs::status(stranger).permissions() & fs::perms::all, fs::perms::owner_all);
  // A directory that cannot be made (under a file): exit 1 naming it, and no key written.
  const std::string a_file = s.hub.dir() + "/a-file";
  std::ofstream(a_file) << "not a directory";
  const auto blocked = run_command(std::string(HUBCTL_PATH) + " keygen x --dir " + a_file + "/keys");
  EXPECT_EQ(blocked.exit_code, 1) << blocked.output;
  EXPECT_NE(blocked.output.find("cannot create the directory " + a_file + "/keys"), std::string::npos)
      << blocked.output;
  EXPECT_FALSE(fs::exists(a_file + "/keys"));
  fs::copy_file(s.hub.data_dir() + "/keys/hub.curve.pub", stranger + "/hub.curve.pub");
  r = s.hubctl("--timeout 20000 --keys " + stranger + " --key stranger status");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("key_refused: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("key 'stranger' (public key " + first_line(stranger + "/stranger.curve.pub")),
            std::string::npos)
      << r.output;
  const std::string other_hub = s.hub.dir() + "/other-hub-keys";
  keygen("hub", other_hub);
  fs::copy_file(s.hub.data_dir() + "/keys/admin.curve.key", other_hub + "/admin.curve.key");
  r = s.hubctl("--timeout 20000 --keys " + other_hub + " status");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("wrong_hub_key: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(other_hub + "/hub.curve.pub"), std::string::npos) << r.output;
  r = run_command("cd " + empty + " && " + HUBCTL_PATH + " --timeout 20000 --admin " + s.endpoint("admin") + " status");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("hub_requires_curve: "), std::string::npos) << r.output;
  // An invalid clients file is refused by a reload, naming the entry; the old keys stay.
  std::ofstream(s.hub.data_dir() + "/keys/clients.json") << R"({"clients":[{"name":"x","role":"king","public_key":"?"}]})";
  r = s.hubctl("keys reload");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("clients[0].public_key"), std::string::npos) << r.output;
  EXPECT_EQ(s.hubctl("status").exit_code, 0);
  // …and stops hubd from starting.
  s.hub.stop();
  EXPECT_THROW(s.hub.start(), std::runtime_error);
  EXPECT_NE(s.hub.log().find("clients[0].public_key"), std::string::npos) << s.hub.log();
}

}  // namespace
}  // namespace hub::test

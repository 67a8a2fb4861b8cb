// Test fixture: a real hubd process in a temporary directory, with its own configuration
// (ZeroMQ wildcard ports, the real department plugins, small rosters), and a client that
// talks to it over real ZeroMQ sockets and reads its SQLite files directly. PluginHostProcess
// is the same for hub-plugin-host, for departments placed on a plugin host.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "testing/reserved_port.h"

namespace hub::test {

// The admin_token every test hub is configured with (admin-only HTTP actions).
inline constexpr const char* kTestAdminToken = "test-admin-token-0123456789";

struct HubOptions {
  std::vector<std::string> departments{"schools",     "police",   "land",
                                       "finance",     "civil_affairs", "agriculture",
                                       "judicial",    "urban_construction", "fp_association"};
  std::vector<std::string> hosted;  // of those, the ones with "placement": "host"
  std::string plugin_host_endpoint;  // with hosted: this one instead of a free port
  std::string police_library;  // overrides the police plugin's library when not empty
  std::map<std::string, nlohmann::json> connectors;  // department id → its "connector" config
  std::size_t max_message_bytes = 1 << 20;
  std::size_t max_batch_events = 5000;
  std::uint32_t max_requests_per_second = 0;  // limits.max_requests_per_second (0 = none)
  std::size_t delivery_batch_events = 512;
  // Retries and parking. The fixture's default is "practically never park" so that tests of
  // other things may keep a department failing for a while; the parking tests lower it.
  std::int64_t max_attempts = 1000;
  std::int64_t call_timeout_ms = 30000;
  std::map<std::string, nlohmann::json> plugin_delivery;  // department id → its own "delivery"
  std::map<std::string, nlohmann::json> plugin_extra;  // department id → more keys of its entry ("fields", …)
  // security.mode: "insecure" by default here (the tests of other things talk NULL on
  // loopback); true = "curve", as shipped: hubd makes its keys on first start and this
  // fixture's own sockets use them (the publisher key for ingest, the admin key for admin).
  bool curve = false;
  std::string audit_signing_key;  // security.audit_signing_key (a NAME.sign.key), "" = none
  // The "http" entry: an address, or an object with the address, TLS files and client limits.
  nlohmann::json http = "127.0.0.1:0";
  nlohmann::json storage;         // the "storage" section (null = the default, SQLite in data_dir)
  nlohmann::json notice;          // the "notice" section (null = the default: 7 days, not required)
};

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr
};
CommandResult run_command(const std::string& command);

// A child process with stdout and stderr appended to `log_path`, started in `dir`.
pid_t spawn(const std::string& dir, const std::string& log_path, const std::vector<std::string>& argv);
std::string read_text(const std::string& path);

class HubProcess {
 public:
  explicit HubProcess(HubOptions options = {});
  ~HubProcess();

  void start();           // and wait until ready
  // The next start() runs hubd under this command, e.g. {"/usr/bin/env", "TZ=Etc/GMT-14"} for a
  // hub whose local date is another one ({} = hubd itself).
  void run_under(std::vector<std::string> prefix) { run_under_ = std::move(prefix); }
  void stop();            // SIGTERM, expect exit code 0
  void kill9();           // SIGKILL
  bool running();

  nlohmann::json ingest(const nlohmann::json& request);  // throws on timeout
  nlohmann::json admin(const nlohmann::json& request);
  std::string ingest_raw(const std::string& bytes);

  // Waits until every department's lag is 0 (or throws after `limit`).
  nlohmann::json wait_for_delivery(std::chrono::seconds limit = std::chrono::seconds(60));

  // SQLite queries straight from the files, for assertions.
  std::int64_t query_int(const std::string& db, const std::string& sql);
  std::vector<std::vector<std::string>> query_rows(const std::string& db, const std::string& sql);

  // Changes a SQLite file directly (only while hubd is stopped), to inject faults.
  void exec_sql(const std::string& db, const std::string& sql);

  // From hubd.endpoints.json of the running hub.
  nlohmann::json endpoints() const;
  std::string http_url() const;            // "http://127.0.0.1:PORT/" ("https://…" with TLS)
  int http_port() const;                   // PORT of http_url()
  std::string live_feed_endpoint() const;  // "tcp://127.0.0.1:PORT"

  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/var"; }
  std::string log() const;
  // A fixed port outside the kernel's ephemeral range (testing/reserved_port.h), kept across
  // restarts, so that a plugin host configured before hubd starts finds it, and finds it again
  // after a restart.
  const std::string& plugin_host_endpoint() const { return plugin_host_endpoint_; }
  // The departments' state in `hubctl status`, by id.
  std::string department_state(const std::string& id);
  nlohmann::json department_status(const std::string& id);

 private:
  nlohmann::json request(zmq::socket_t& socket, const std::string& bytes);
  void connect();

  HubOptions options_;
  std::string dir_;
  std::optional<hub::testing::ReservedPort> plugin_host_port_;
  std::string plugin_host_endpoint_;
  pid_t pid_ = -1;
  std::vector<std::string> run_under_;
  zmq::context_t context_;
  std::optional<zmq::socket_t> ingest_;
  std::optional<zmq::socket_t> admin_;
};

// A real hub-plugin-host process in its own temporary directory (as on a department's server),
// running `departments` and connecting to `hub_endpoint`; rosters as HubProcess writes them.
class PluginHostProcess {
 public:
  PluginHostProcess(std::string hub_endpoint, std::vector<std::string> departments, std::string host_name = "dept-1");
  ~PluginHostProcess();

  void start(const std::vector<std::string>& extra_args = {});  // does not wait: the host connects by itself
  pid_t pid() const { return pid_; }
  // Before start(): connect with CURVE, as a host on another machine must ("curve" in host.json).
  void use_curve(const std::string& hub_public_key_file, const std::string& secret_key_file);
  void kill9();
  int stop();              // SIGTERM; returns the exit code
  // Waits for the process to exit by itself; returns its exit code, or -1 after `limit`.
  int wait_exit(std::chrono::seconds limit);
  bool wait_for_log(const std::string& fragment, std::chrono::seconds limit);
  std::string log() const { return read_text(dir_ + "/host.log"); }
  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/var"; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

// Finance households and policies whose released amount exceeds what was deferred: a release
// recorded twice would show here. 0 when all is well.
std::int64_t finance_overpayments(HubProcess& hub);

// The small department rosters (schools, land, finance) of the fixture, under DATA_DIR/plugins.
void write_test_rosters(const std::string& data_dir);
// The hubd and hub-plugin-host the tests run: this build's, unless HUB_TEST_HUBD or
// HUB_TEST_PLUGIN_HOST names another (CI's ThreadSanitizer stage points them at a TSan build
// of the two daemons and runs these tests against it, .ci/run).
std::string hubd_path();
std::string plugin_host_path();
// A unique empty directory under the system's temporary directory.
std::string make_temp_dir(const std::string& prefix);

// Events as the family-planning office publishes them.
nlohmann::json household_event(const std::string& id, const std::string& village = "V01");
// The local date `days_ago` days before today, YYYY-MM-DD (hubd's "today" is local too).
std::string local_date(int days_ago = 0);
// Registrations of households V02-00001 … (n of them, villages V01..V14 in turn).
nlohmann::json household_registry(int n);
nlohmann::json commitment_event(const std::string& id);
nlohmann::json status_event(const std::string& id, const std::string& status, const std::string& quarter,
                            const std::string& event_id = "");

}  // namespace hub::test

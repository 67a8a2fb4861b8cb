#include "integration/hub_process.h"

#include "testing/spawn.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hub::test {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// SIGKILL and reap; no-op when the process is not running.
void kill_and_reap(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid = -1;
}

}  // namespace

CommandResult run_command(const std::string& command) {
  CommandResult r{-1, {}};
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) r.output += buffer;
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

pid_t spawn(const std::string& dir, const std::string& log_path, const std::vector<std::string>& argv) {
  return hub::testing::spawn_process(argv, log_path, dir);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string make_temp_dir(const std::string& prefix) {
  std::random_device rd;
  const auto dir = fs::temp_directory_path() / (prefix + std::to_string(rd()) + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir.string();
}

void write_test_rosters(const std::string& data_dir) {
  // Department-side data: a few households on each roster.
  write_file(fs::path(data_dir) / "plugins/schools/roster.csv", "household_id,children\nV01-00001,2\nV01-00003,1\n");
  write_file(fs::path(data_dir) / "plugins/land/roster.csv",
             "household_id,application_id,applied_on\nV01-00002,ZJD-2020-000001,2020-05-01\n");
  write_file(fs::path(data_dir) / "plugins/finance/roster.csv",
             "household_id,policy_id,amount_fen_per_quarter\nV01-00001,finance.only_child_reward,6000\n"
             "V01-00002,finance.rural_reward,24000\n");
}

HubProcess::HubProcess(HubOptions options) : options_(std::move(options)) {
  dir_ = make_temp_dir("hubd-it-");
  json plugins = json::array();
  for (const auto& id : options_.departments) {
    json p{{"id", id}};
    if (id == "police" && !options_.police_library.empty()) p["library"] = options_.police_library;
    if (auto it = options_.connectors.find(id); it != options_.connectors.end()) p["connector"] = it->second;
    if (auto it = options_.plugin_delivery.find(id); it != options_.plugin_delivery.end()) p["delivery"] = it->second;
    for (const auto& hosted : options_.hosted)
      if (hosted == id) p["placement"] = "host";
    if (auto it = options_.plugin_extra.find(id); it != options_.plugin_extra.end()) p.update(it->second);
    plugins.push_back(p);
  }
  json endpoints{{"ingest", "tcp://127.0.0.1:*"}, {"admin", "tcp://127.0.0.1:*"}, {"live_feed", "tcp://127.0.0.1:*"}};
  if (!options_.hosted.empty()) {
    if (options_.plugin_host_endpoint.empty()) plugin_host_port_.emplace();
    plugin_host_endpoint_ = plugin_host_port_ ? plugin_host_port_->endpoint() : options_.plugin_host_endpoint;
    endpoints["plugin_hosts"] = plugin_host_endpoint_;
  }
  json config{{"data_dir", "var"},
              {"log_level", "info"},
              {"endpoints", endpoints},
              {"http", options_.http},
              {"admin_token", kTestAdminToken},
              {"limits", {{"max_message_bytes", options_.max_message_bytes},
                          {"max_batch_events", options_.max_batch_events},
                          {"max_requests_per_second", options_.max_requests_per_second}}},
              {"delivery",
               {{"retry_initial_ms", 100},
                {"retry_max_ms", 1000},
                {"batch_events", options_.delivery_batch_events},
                {"max_attempts", options_.max_attempts},
                {"call_timeout_ms", options_.call_timeout_ms}}},
              {"plugin_dir", HUB_PLUGIN_DIR},
              {"security", {{"mode", options_.curve ? "curve" : "insecure"},
                            {"audit_signing_key", options_.audit_signing_key}}},
              {"plugins", plugins}};
  if (!options_.storage.is_null()) config["storage"] = options_.storage;
  if (!options_.notice.is_null()) config["notice"] = options_.notice;
  write_file(fs::path(dir_) / "hub.json", config.dump(2));
  write_test_rosters(data_dir());
}

HubProcess::~HubProcess() {
  if (pid_ > 0) kill9();
  std::error_code ec;
  if (!::getenv("HUB_TEST_KEEP")) fs::remove_all(dir_, ec);
}

std::string HubProcess::log() const { return read_text(dir_ + "/hubd.log"); }

void HubProcess::start() {
  const fs::path endpoints = fs::path(data_dir()) / "hubd.endpoints.json";
  std::error_code ec;
  fs::remove(endpoints, ec);
  std::vector<std::string> argv = run_under_;
  argv.insert(argv.end(), {hubd_path(), "--config", dir_ + "/hub.json"});
  pid_ = spawn(dir_, dir_ + "/hubd.log", argv);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(endpoints)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("hubd exited during start-up:\n" + log());
    }
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("hubd did not become ready:\n" + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  connect();
}

void HubProcess::connect() {
  const json endpoints = this->endpoints();
  ingest_.emplace(context_, zmq::socket_type::dealer);
  admin_.emplace(context_, zmq::socket_type::dealer);
  ingest_->set(zmq::sockopt::linger, 0);
  admin_->set(zmq::sockopt::linger, 0);
  if (options_.curve) {
    const auto key = [&](const std::string& name) { return read_text(data_dir() + "/keys/" + name).substr(0, 40); };
    const std::string server = key("hub.curve.pub");
    ingest_->set(zmq::sockopt::curve_serverkey, server);
    ingest_->set(zmq::sockopt::curve_publickey, key("publisher.curve.pub"));
    ingest_->set(zmq::sockopt::curve_secretkey, key("publisher.curve.key"));
    admin_->set(zmq::sockopt::curve_serverkey, server);
    admin_->set(zmq::sockopt::curve_publickey, key("admin.curve.pub"));
    admin_->set(zmq::sockopt::curve_secretkey, key("admin.curve.key"));
  }
  ingest_->connect(endpoints["ingest"].get<std::string>());
  admin_->connect(endpoints["admin"].get<std::string>());
}

void HubProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  ingest_.reset();
  admin_.reset();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("hubd did not stop cleanly (status " + std::to_string(status) + "):\n" + log());
}

void HubProcess::kill9() {
  if (pid_ <= 0) return;
  kill_and_reap(pid_);
  ingest_.reset();
  admin_.reset();
}

bool HubProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  return ::waitpid(pid_, &status, WNOHANG) == 0;
}

json HubProcess::request(zmq::socket_t& socket, const std::string& bytes) {
  socket.send(zmq::buffer(bytes), zmq::send_flags::none);
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::milliseconds(30000)) == 0)
    throw std::runtime_error("no reply from hubd within 30 s:\n" + log());
  zmq::message_t reply;
  (void)socket.recv(reply);
  return json::parse(reply.to_string());
}

json HubProcess::endpoints() const {
  std::ifstream in(fs::path(data_dir()) / "hubd.endpoints.json");
  return json::parse(in);
}

std::string HubProcess::http_url() const { return endpoints()["http"].get<std::string>(); }
int HubProcess::http_port() const {
  const std::string url = http_url();
  return std::stoi(url.substr(url.rfind(':') + 1));
}
std::string HubProcess::live_feed_endpoint() const { return endpoints()["live_feed"].get<std::string>(); }

void HubProcess::exec_sql(const std::string& db, const std::string& sql) {
  if (running()) throw std::runtime_error("exec_sql changes " + db + " behind hubd's back: stop hubd first");
  sqlite3* handle = nullptr;
  const std::string path = data_dir() + "/" + db;
  if (sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(handle);
    throw std::runtime_error("cannot open " + path);
  }
  char* error = nullptr;
  const int rc = sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(handle);
  if (rc != SQLITE_OK) throw std::runtime_error("exec " + sql + ": " + message);
}

json HubProcess::ingest(const json& message) { return request(*ingest_, message.dump()); }
json HubProcess::admin(const json& message) { return request(*admin_, message.dump()); }
std::string HubProcess::ingest_raw(const std::string& bytes) { return request(*ingest_, bytes).dump(); }

json HubProcess::wait_for_delivery(std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    json status = admin({{"cmd", "status"}});
    bool done = true;
    for (const auto& d : status["departments"])
      if (d["state"] == "running" || d["state"] == "retrying" || d["state"] == "starting" ||
          d["state"] == "waiting_for_host" || d["state"] == "failing")
        done = done && d["lag"].get<std::uint64_t>() == 0 && d["state"] == "running";
    if (done) return status;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("delivery did not finish: " + status.dump() + "\n" + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

json HubProcess::department_status(const std::string& id) {
  const json status = admin({{"cmd", "status"}});
  for (const auto& d : status["departments"])
    if (d["id"] == id) return d;
  throw std::runtime_error("no department " + id + " in " + status.dump());
}

std::string HubProcess::department_state(const std::string& id) { return department_status(id)["state"]; }

std::vector<std::vector<std::string>> HubProcess::query_rows(const std::string& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  const std::string path = data_dir() + "/" + db;
  if (sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(handle);
    throw std::runtime_error("cannot open " + path);
  }
  sqlite3_busy_timeout(handle, 5000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    const std::string message = sqlite3_errmsg(handle);
    sqlite3_close(handle);
    throw std::runtime_error("bad query " + sql + ": " + message);
  }
  std::vector<std::vector<std::string>> rows;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const auto* text = sqlite3_column_text(stmt, i);
      row.push_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return rows;
}

std::int64_t HubProcess::query_int(const std::string& db, const std::string& sql) {
  auto rows = query_rows(db, sql);
  if (rows.empty() || rows[0].empty()) throw std::runtime_error("no result for " + sql);
  return std::stoll(rows[0][0]);
}

std::int64_t finance_overpayments(HubProcess& hub) {
  return hub.query_int("ledger.db",
                       "SELECT COUNT(*) FROM (SELECT household_id, policy_id, "
                       "SUM(CASE action WHEN 'defer' THEN amount_fen ELSE 0 END) AS deferred, "
                       "SUM(CASE action WHEN 'release' THEN amount_fen ELSE 0 END) AS released "
                       "FROM action WHERE department='finance' GROUP BY household_id, policy_id) "
                       "WHERE released > deferred");
}

PluginHostProcess::PluginHostProcess(std::string hub_endpoint, std::vector<std::string> departments,
                                     std::string host_name) {
  dir_ = make_temp_dir("plugin-host-it-");
  const json config{{"hub", hub_endpoint},
                    {"host_name", host_name},
                    {"plugin_dir", HUB_PLUGIN_DIR},
                    {"data_dir", "var"},
                    {"plugins", departments}};
  write_file(fs::path(dir_) / "host.json", config.dump(2));
  write_test_rosters(data_dir());
}

PluginHostProcess::~PluginHostProcess() {
  kill_and_reap(pid_);
  std::error_code ec;
  if (!::getenv("HUB_TEST_KEEP")) fs::remove_all(dir_, ec);
}

void PluginHostProcess::use_curve(const std::string& hub_public_key_file, const std::string& secret_key_file) {
  json config = json::parse(read_text(dir_ + "/host.json"));
  config["curve"] = {{"hub_public_key", hub_public_key_file}, {"secret_key_file", secret_key_file}};
  write_file(fs::path(dir_) / "host.json", config.dump(2));
}

void PluginHostProcess::start(const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv{plugin_host_path(), "--config", dir_ + "/host.json"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  pid_ = spawn(dir_, dir_ + "/host.log", argv);
}

void PluginHostProcess::kill9() { kill_and_reap(pid_); }

int PluginHostProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  return wait_exit(std::chrono::seconds(20));
}

int PluginHostProcess::wait_exit(std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (pid_ > 0) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

bool PluginHostProcess::wait_for_log(const std::string& fragment, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (log().find(fragment) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string hubd_path() {
  const char* path = std::getenv("HUB_TEST_HUBD");
  return path != nullptr && *path != '\0' ? path : HUBD_PATH;
}

std::string plugin_host_path() {
  const char* path = std::getenv("HUB_TEST_PLUGIN_HOST");
  return path != nullptr && *path != '\0' ? path : HUB_PLUGIN_HOST_PATH;
}

std::string local_date(int days_ago) {
  const std::time_t t = std::time(nullptr) - static_cast<std::time_t>(days_ago) * 86400;
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
  return text;
}

json household_event(const std::string& id, const std::string& village) {
  return {{"type", "household"}, {"event_id", "reg-" + id}, {"household_id", id}, {"village", village},
          {"head", "张三"}, {"members", 4}};
}

json household_registry(int n) {
  json registry = json::array();
  for (int i = 1; i <= n; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "V%02d-%05d", 1 + i % 14, i);
    registry.push_back(household_event(id, std::string(id, 3)));
  }
  return registry;
}

json commitment_event(const std::string& id) {
  return {{"type", "commitment"}, {"event_id", "com-" + id}, {"household_id", id}, {"signed_on", "2020-04-15"}};
}

json status_event(const std::string& id, const std::string& status, const std::string& quarter,
                  const std::string& event_id) {
  return {{"type", "status_change"},
          {"event_id", event_id.empty() ? "ev-" + quarter + "-" + id + "-" + status : event_id},
          {"household_id", id},
          {"status", status},
          {"quarter", quarter},
          {"designations", json::array()}};
}

}  // namespace hub::test

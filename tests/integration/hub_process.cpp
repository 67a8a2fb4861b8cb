#include "integration/hub_process.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

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

}  // namespace

HubProcess::HubProcess(HubOptions options) : options_(std::move(options)) {
  std::random_device rd;
  dir_ = (fs::temp_directory_path() / ("hubd-it-" + std::to_string(rd()) + std::to_string(::getpid()))).string();
  fs::create_directories(dir_);
  json plugins = json::array();
  for (const auto& id : options_.departments) {
    json p{{"id", id}};
    if (id == "police" && !options_.police_library.empty()) p["library"] = options_.police_library;
    if (auto it = options_.connectors.find(id); it != options_.connectors.end()) p["connector"] = it->second;
    plugins.push_back(p);
  }
  json config{{"data_dir", "var"},
              {"log_level", "info"},
              {"endpoints", {{"ingest", "tcp://127.0.0.1:*"}, {"admin", "tcp://127.0.0.1:*"}}},
              {"limits", {{"max_message_bytes", options_.max_message_bytes}, {"max_batch_events", options_.max_batch_events}}},
              {"delivery", {{"retry_initial_ms", 100}, {"retry_max_ms", 1000}}},
              {"plugin_dir", HUB_PLUGIN_DIR},
              {"plugins", plugins}};
  write_file(fs::path(dir_) / "hub.json", config.dump(2));
  // Department-side data: a few households on each roster.
  write_file(fs::path(data_dir()) / "plugins/schools/roster.csv", "household_id,children\nV01-00001,2\nV01-00003,1\n");
  write_file(fs::path(data_dir()) / "plugins/land/roster.csv",
             "household_id,application_id,applied_on\nV01-00002,ZJD-2020-000001,2020-05-01\n");
  write_file(fs::path(data_dir()) / "plugins/finance/roster.csv",
             "household_id,policy_id,amount_fen_per_quarter\nV01-00001,finance.only_child_reward,6000\n"
             "V01-00002,finance.rural_reward,24000\n");
}

HubProcess::~HubProcess() {
  if (pid_ > 0) kill9();
  std::error_code ec;
  if (!::getenv("HUB_TEST_KEEP")) fs::remove_all(dir_, ec);
}

std::string HubProcess::log() const {
  std::ifstream in(dir_ + "/hubd.log");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void HubProcess::start() {
  const fs::path endpoints = fs::path(data_dir()) / "hubd.endpoints.json";
  std::error_code ec;
  fs::remove(endpoints, ec);
  pid_ = ::fork();
  if (pid_ == 0) {
    const std::string log_path = dir_ + "/hubd.log";
    FILE* log = std::fopen(log_path.c_str(), "a");
    if (log != nullptr) {
      ::dup2(::fileno(log), 1);
      ::dup2(::fileno(log), 2);
    }
    ::chdir(dir_.c_str());
    const std::string config = dir_ + "/hub.json";
    ::execl(HUBD_PATH, HUBD_PATH, "--config", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
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
  std::ifstream in(fs::path(data_dir()) / "hubd.endpoints.json");
  const json endpoints = json::parse(in);
  ingest_.emplace(context_, zmq::socket_type::dealer);
  admin_.emplace(context_, zmq::socket_type::dealer);
  ingest_->set(zmq::sockopt::linger, 0);
  admin_->set(zmq::sockopt::linger, 0);
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
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
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

json HubProcess::ingest(const json& message) { return request(*ingest_, message.dump()); }
json HubProcess::admin(const json& message) { return request(*admin_, message.dump()); }
std::string HubProcess::ingest_raw(const std::string& bytes) { return request(*ingest_, bytes).dump(); }

json HubProcess::wait_for_delivery(std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    json status = admin({{"cmd", "status"}});
    bool done = true;
    for (const auto& d : status["departments"])
      if (d["state"] == "running" || d["state"] == "retrying" || d["state"] == "starting")
        done = done && d["lag"].get<std::uint64_t>() == 0 && d["state"] == "running";
    if (done) return status;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("delivery did not finish: " + status.dump() + "\n" + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

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

json household_event(const std::string& id, const std::string& village) {
  return {{"type", "household"}, {"event_id", "reg-" + id}, {"household_id", id}, {"village", village},
          {"head", "张三"}, {"members", 4}};
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

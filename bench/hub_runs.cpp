#include "hub_runs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <zmq.hpp>

#include <httplib.h>

#include "domain/import_file.h"
#include "store/postgresql/pg_connection.h"
#include "towngen/town_generator.h"

namespace hub::bench {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A read-only look at the ledger's cursors: how far the slowest department got.
class CursorWatch {
 public:
  explicit CursorWatch(const LedgerSource& ledger) {
    if (ledger.storage.postgresql()) {
      hub_id_ = ledger.storage.hub_id;
      try {
        pg_ = std::make_unique<store::pg::Connection>(ledger.storage.dsn);
      } catch (const store::pg::PgError&) {
        pg_.reset();  // the server is there (the bench started it); hubd may not have made its tables
      }
      return;
    }
    if (sqlite3_open_v2(ledger.sqlite_path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(db_);
      db_ = nullptr;
      return;
    }
    sqlite3_busy_timeout(db_, 1000);
    if (sqlite3_prepare_v2(db_, "SELECT COUNT(*), COALESCE(MIN(seq), 0) FROM cursor", -1, &query_, nullptr) !=
        SQLITE_OK) {
      query_ = nullptr;  // ledger.db exists but has no schema yet
    }
  }
  ~CursorWatch() {
    sqlite3_finalize(query_);
    sqlite3_close(db_);
  }
  bool ready() const noexcept { return query_ != nullptr || pg_ != nullptr; }
  // The slowest cursor, or 0 until all `departments` have one.
  std::uint64_t slowest(std::size_t departments) {
    if (pg_) {
      try {
        const store::pg::Rows rows =
            pg_->exec("SELECT COUNT(*), COALESCE(MIN(seq), 0) FROM ledger_cursor WHERE hub_id = $1",
                      store::pg::Params().text(hub_id_));
        return static_cast<std::size_t>(rows.integer(0, 0)) >= departments
                   ? static_cast<std::uint64_t>(rows.integer(0, 1))
                   : 0;
      } catch (const store::pg::PgError&) {
        return 0;  // no ledger tables yet
      }
    }
    std::uint64_t out = 0;
    if (sqlite3_step(query_) == SQLITE_ROW &&
        static_cast<std::size_t>(sqlite3_column_int64(query_, 0)) >= departments) {
      out = static_cast<std::uint64_t>(sqlite3_column_int64(query_, 1));
    }
    sqlite3_reset(query_);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* query_ = nullptr;
  std::unique_ptr<store::pg::Connection> pg_;
  std::string hub_id_;
};

json request(zmq::socket_t& socket, const std::string& body) {
  socket.send(zmq::buffer(body));
  zmq::message_t reply;
  if (!socket.recv(reply)) throw std::runtime_error("hubd did not reply within 60 s");
  return json::parse(reply.to_string_view());
}

zmq::socket_t connect_dealer(zmq::context_t& context, const IngestTarget& target) {
  zmq::socket_t s(context, zmq::socket_type::dealer);
  s.set(zmq::sockopt::rcvtimeo, 60000);
  s.set(zmq::sockopt::linger, 0);
  if (!target.server_key.empty()) {
    s.set(zmq::sockopt::curve_serverkey, target.server_key);
    s.set(zmq::sockopt::curve_publickey, target.public_key);
    s.set(zmq::sockopt::curve_secretkey, target.secret_key);
  }
  s.connect(target.endpoint);
  return s;
}

void expect_ok(const json& reply) {
  if (!reply.value("ok", false))
    throw std::runtime_error("hubd refused a bench request: " + reply.dump().substr(0, 400));
}

std::string quarter_name(std::size_t k) {  // k = 0 -> 2020Q3
  const std::size_t index = 2020 * 4 + 2 + k;
  return std::to_string(index / 4) + "Q" + std::to_string(index % 4 + 1);
}

}  // namespace

Town make_town(const std::string& dir, std::size_t households, const std::string& plugin_data_dir) {
  towngen::TownOptions options;
  options.households = households;
  options.out_dir = dir + "/town";
  options.plugin_data_dir = plugin_data_dir;
  towngen::generate_town(options);
  Town town;
  for (const char* name : {"households.csv", "commitments.csv", "evaluations-2020Q3.csv", "evaluations-2020Q4.csv"}) {
    const fs::path path = fs::path(options.out_dir) / name;
    hub::ImportFile file = hub::parse_import(path.string(), read_text(path));
    if (!file.issues.empty()) throw std::runtime_error("generated file " + path.string() + " has bad rows");
    for (auto& row : file.rows) town.events.push_back(row.event.dump());
    if (file.kind == "households") {
      for (const auto& row : file.rows) town.household_ids.push_back(row.event.at("household_id").get<std::string>());
    }
  }
  return town;
}

HubDaemon::HubDaemon(const HubSetup& setup, const std::string& data_dir, std::size_t departments, bool curve,
                     bool http, const HubStorage& storage)
    : data_dir_(data_dir), storage_(storage) {
  fs::create_directories(data_dir);
  json plugins = json::array();
  for (std::size_t i = 0; i < departments && i < setup.departments.size(); ++i)
    plugins.push_back({{"id", setup.departments[i]}});
  json config{{"data_dir", data_dir},
                    {"log_level", "warn"},
                    {"endpoints",
                     {{"ingest", "tcp://127.0.0.1:*"}, {"admin", "tcp://127.0.0.1:*"}, {"live_feed", "tcp://127.0.0.1:*"}}},
                    {"http", http ? "127.0.0.1:0" : ""},  // only time_views() measures the dashboard
                    {"plugin_dir", setup.plugin_dir},
                    {"departments_dir", setup.departments_dir},
                    {"security", {{"mode", curve ? "curve" : "insecure"}}},
                    {"plugins", plugins}};
  if (storage.postgresql())
    config["storage"] = {{"backend", "postgresql"}, {"dsn", storage.dsn}, {"hub_id", storage.hub_id}};
  const std::string config_path = data_dir + "/bench-hub.json";
  std::ofstream(config_path) << config.dump(2);
  const fs::path endpoints = fs::path(data_dir) / "hubd.endpoints.json";
  fs::remove(endpoints);
  child_ =
      std::make_unique<Child>(std::vector<std::string>{setup.hubd, "--config", config_path}, data_dir + "/hubd.log");
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!fs::exists(endpoints)) {
    if (!child_->running()) throw std::runtime_error("hubd exited at start-up; see " + data_dir + "/hubd.log");
    if (Clock::now() > deadline) throw std::runtime_error("hubd did not become ready in 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the file is written whole, but be safe
  const json ready = json::parse(read_text(endpoints));
  ingest_.endpoint = ready.at("ingest").get<std::string>();
  if (http) http_url_ = ready.at("http").get<std::string>();
  if (curve) {
    const auto key = [&](const char* file) { return read_text(data_dir + "/keys/" + file).substr(0, 40); };
    ingest_.server_key = key("hub.curve.pub");
    ingest_.public_key = key("publisher.curve.pub");
    ingest_.secret_key = key("publisher.curve.key");
  }
}

HubDaemon::~HubDaemon() = default;

void HubDaemon::stop() {
  const int code = child_->stop();
  if (code != 0)
    throw std::runtime_error("hubd exited with " + std::to_string(code) + "; see " + data_dir_ + "/hubd.log");
}

double publish_batches(const IngestTarget& endpoint, const std::vector<std::string>& events, std::size_t batch,
                       std::size_t window) {
  std::vector<std::string> bodies;
  for (std::size_t first = 0; first < events.size(); first += batch) {
    std::string body = "{\"type\":\"batch\",\"events\":[";
    const std::size_t end = std::min(events.size(), first + batch);
    for (std::size_t i = first; i < end; ++i) {
      if (i > first) body += ',';
      body += events[i];
    }
    body += "]}";
    bodies.push_back(std::move(body));
  }
  zmq::context_t context;
  zmq::socket_t socket = connect_dealer(context, endpoint);
  const auto start = Clock::now();
  std::size_t sent = 0, acked = 0;
  while (acked < bodies.size()) {
    while (sent < bodies.size() && sent - acked < window) socket.send(zmq::buffer(bodies[sent++]));
    zmq::message_t reply;
    if (!socket.recv(reply)) throw std::runtime_error("hubd did not reply within 60 s");
    expect_ok(json::parse(reply.to_string_view()));
    ++acked;
  }
  return seconds_since(start);
}

double publish_singles(const IngestTarget& endpoint, const std::vector<std::string>& events, std::size_t threads) {
  zmq::context_t context;
  std::vector<std::thread> workers;
  std::atomic<bool> failed{false};
  std::string failure;
  const auto start = Clock::now();
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        zmq::socket_t socket = connect_dealer(context, endpoint);
        for (std::size_t i = t; i < events.size() && !failed; i += threads) expect_ok(request(socket, events[i]));
      } catch (const std::exception& e) {
        if (!failed.exchange(true)) failure = e.what();
      }
    });
  }
  for (auto& w : workers) w.join();
  if (failed) throw std::runtime_error(failure);
  return static_cast<double>(events.size()) / seconds_since(start);
}

void wait_delivered(const LedgerSource& ledger, std::size_t departments, std::uint64_t last_seq,
                    std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  std::unique_ptr<CursorWatch> watch;
  for (;;) {
    if (!watch || !watch->ready()) {
      if (ledger.storage.postgresql() || fs::exists(ledger.sqlite_path)) watch = std::make_unique<CursorWatch>(ledger);
    }
    if (watch && watch->ready() && watch->slowest(departments) >= last_seq) return;
    if (Clock::now() > deadline) throw std::runtime_error("departments did not catch up within the time limit");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::vector<std::string> registrations(const Town& town) {
  const auto n = static_cast<std::ptrdiff_t>(2 * town.household_ids.size());
  return {town.events.begin(), town.events.begin() + n};
}

std::vector<std::string> status_changes(const Town& town, std::size_t count) {
  static const char* const statuses[] = {"non_credit", "credit", "breach"};
  const std::size_t n = town.household_ids.size();
  std::vector<std::string> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string quarter = quarter_name(2 + i / n);
    out.push_back(json{
        {"type", "status_change"},
        {"event_id", "bench-" + quarter + "-" + std::to_string(i)},
        {"household_id", town.household_ids[i % n]},
        {"status", statuses[i % 3]},
        {"quarter",
         quarter}}.dump());
  }
  return out;
}

LatencySamples hub_latency(const IngestTarget& endpoint, const LedgerSource& ledger, std::size_t departments,
                           const std::vector<std::string>& events, double rate, std::size_t threads) {
  // Ledger watcher: (time, slowest cursor) each time the slowest cursor moves.
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> slowest{0};
  std::vector<std::pair<Clock::time_point, std::uint64_t>> progress_points;  // read after join
  std::thread watcher([&] {
    std::unique_ptr<CursorWatch> watch;
    while (!stop) {
      if (!watch || !watch->ready()) watch = std::make_unique<CursorWatch>(ledger);
      const std::uint64_t now_at = watch->ready() ? watch->slowest(departments) : 0;
      if (now_at != slowest) {
        progress_points.emplace_back(Clock::now(), now_at);
        slowest = now_at;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(250));
    }
  });
  std::vector<std::uint64_t> seqs(events.size());
  zmq::context_t context;
  PacedRun run = paced_publish(events.size(), rate, threads, [&]() -> Publisher {
    auto socket = std::make_shared<zmq::socket_t>(connect_dealer(context, endpoint));
    return [socket, &events, &seqs](std::size_t i) {
      const json reply = request(*socket, events[i]);
      expect_ok(reply);
      seqs[i] = reply.at("seq").get<std::uint64_t>();
    };
  });
  const std::uint64_t last_seq = *std::max_element(seqs.begin(), seqs.end());
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (slowest < last_seq && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;
  watcher.join();
  if (slowest < last_seq) throw std::runtime_error("departments did not record the latency run's events within 120 s");
  LatencySamples out;
  for (std::size_t i = 0; i < events.size(); ++i) {
    out.acked_ms.push_back((run.acked_s[i] - run.due_s[i]) * 1000.0);
    auto it = std::lower_bound(progress_points.begin(), progress_points.end(), seqs[i],
                               [](const auto& point, std::uint64_t seq) { return point.second < seq; });
    out.all_groups_ms.push_back((seconds_between(run.start, it->first) - run.due_s[i]) * 1000.0);
  }
  return out;
}

ViewTimes time_views(const std::string& http_url, const std::vector<std::string>& households,
                     const std::string& quarter, std::size_t runs) {
  // "http://127.0.0.1:PORT/" → host and port for the client.
  const std::string authority = http_url.substr(http_url.find("//") + 2, http_url.rfind('/') - http_url.find("//") - 2);
  httplib::Client client(authority.substr(0, authority.find(':')), std::stoi(authority.substr(authority.find(':') + 1)));
  client.set_read_timeout(std::chrono::seconds(3600));
  const auto timed = [&](const std::string& path) {
    const auto start = Clock::now();
    const auto response = client.Get(path);
    const double ms = seconds_since(start) * 1000.0;
    if (!response) throw std::runtime_error("GET " + path + ": " + httplib::to_string(response.error()));
    if (response->status != 200)
      throw std::runtime_error("GET " + path + ": HTTP " + std::to_string(response->status) + " " +
                               response->body.substr(0, 300));
    return std::make_pair(ms, response->body);
  };
  ViewTimes out;
  for (std::size_t r = 0; r < runs; ++r) out.metrics_ms.push_back(timed("/metrics").first);
  for (const auto& id : households) out.household_ms.push_back(timed("/api/household/" + id).first);
  for (std::size_t r = 0; r < runs; ++r) out.report_ms.push_back(timed("/api/report?quarter=" + quarter).first);
  for (std::size_t r = 0; r < runs; ++r) out.timeline_ms.push_back(timed("/api/timeline?minutes=60").first);
  const auto [ms, body] = timed("/api/reconcile");
  const json reconciled = json::parse(body);
  if (reconciled.value("count", -1) != 0)
    throw std::runtime_error("reconcile found " + std::to_string(reconciled.value("count", -1)) +
                             " disagreements on a hub that delivered everything");
  out.reconcile_ms.push_back(ms);
  return out;
}

}  // namespace hub::bench

// hub-crash-driver: the kill -9 crash test, as one program used both by the CI test
// (`crash_kill9_town`, 20 cycles) and by scripts/crash-cycles.sh (as many cycles as asked).
//
// It generates a town with hub-towngen, starts a real hubd (some departments in process, some
// on a real hub-plugin-host) and publishes the whole town over the ingest endpoint in batches,
// recording exactly which events it saw acknowledged, in order. Meanwhile it sends SIGKILL to
// hubd or to the plugin host at random moments and restarts the killed process each time. A
// batch that gets no reply is sent again on a fresh socket until it is acknowledged (the
// event ids make that idempotent). When everything is published and delivered it stops hubd
// with SIGTERM (exit code 0 expected) and reads the SQLite files directly:
//   lost        acknowledged events missing from the event log, plus status changes missing
//               from a department's ledger
//   duplicated  an event id stored twice in the log, or recorded twice (or for an event that
//               is not in the log) in a department's ledger, or a finance release exceeding
//               what was deferred (a release applied twice)
//   misordered  per household and department, ledger rows (seq order, with their commit
//               times) not in publication order; or log seqs not in publication order
// and prints one line: cycles=… acked=… lost=0 duplicated=0 misordered=0 (plus details).
// Exit status 0 only when all three are 0 and every process behaved.
//
// With --net-faults the publisher reaches hubd's ingest endpoint, and the plugin host hubd's
// plugin-host endpoint, through a fault proxy each (testing/fault_proxy.h), and a cycle is one
// of eight, chosen from the seed: kill hubd (2 of 8), the host, both; cut the publisher's link;
// cut, stall or half-close the host's link; partition one direction of one link (its bytes held,
// or lost and the connection reset at heal, as TCP would end it); or cut both links and kill
// hubd while they are down. Each fault is held 50 ms–1.5 s, or (one in four) 3.5–5 s, across the
// 4 s heartbeat of the host link, then healed. The checks are the same.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "store/sqlite/chain_keeper.h"
#include "domain/import_file.h"
#include "common/command_line.h"
#include "testing/fault_proxy.h"
#include "testing/reserved_port.h"
#include "testing/spawn.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string hubd = HUBD_PATH;
  std::string plugin_host = HUB_PLUGIN_HOST_PATH;
  std::string towngen = HUB_TOWNGEN_PATH;
  std::string plugin_dir = HUB_PLUGIN_DIR;
  std::size_t households = 100000;
  int cycles = 20;
  std::uint64_t seed = 0;
  bool seed_given = false;
  std::vector<std::string> in_process{"schools"};
  std::vector<std::string> hosted{"police"};
  int min_gap_ms = 100;
  int max_gap_ms = 1500;
  std::size_t batch = 2000;
  int deliver_limit_s = 600;
  std::string work;
  bool keep = false;
  bool net_faults = false;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

void log_line(const std::string& text) {
  static std::mutex m;
  static const auto start = Clock::now();
  std::lock_guard lock(m);
  std::fprintf(stderr, "[crash %7.1fs] %s\n", std::chrono::duration<double>(Clock::now() - start).count(),
               text.c_str());
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

pid_t spawn(const fs::path& dir, const fs::path& log, const std::vector<std::string>& argv) {
  return hub::testing::spawn_process(argv, log.string(), dir.string());
}

// Exit status of a child that ended (-1 while it runs), 128+signal when killed.
int exited(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void kill9(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid = -1;
}

// One batch as sent: its text and the events it holds (indexes into Town::events).
struct Batch {
  std::string text;
  std::size_t first = 0;
  std::size_t count = 0;
};

struct TownEvent {
  std::string event_id;
  std::string household_id;
  bool status_change = false;
};

struct Town {
  std::vector<TownEvent> events;  // publication order
  std::vector<Batch> batches;
};

Town load_town(const fs::path& dir, std::size_t batch_size) {
  Town town;
  for (const char* name : {"households.csv", "commitments.csv", "evaluations-2020Q3.csv", "evaluations-2020Q4.csv"}) {
    auto file = hub::parse_import(name, read_text(dir / name));
    if (!file.issues.empty())
      throw std::runtime_error(std::string(name) + " line " + std::to_string(file.issues.front().line) + ": " +
                               file.issues.front().message);
    for (std::size_t i = 0; i < file.rows.size(); i += batch_size) {
      Batch b;
      b.first = town.events.size();
      b.text = "{\"type\":\"batch\",\"events\":[";
      for (std::size_t j = i; j < std::min(i + batch_size, file.rows.size()); ++j) {
        const json& e = file.rows[j].event;
        if (j != i) b.text += ',';
        b.text += e.dump();
        town.events.push_back({e["event_id"].get<std::string>(), e["household_id"].get<std::string>(),
                               e["type"] == "status_change"});
        ++b.count;
      }
      b.text += "]}";
      town.batches.push_back(std::move(b));
    }
  }
  return town;
}

class Rig {
 public:
  Rig(const Options& o, zmq::context_t& context) : o_(o), context_(context) {
    hub_dir_ = fs::path(o.work) / "hub";
    host_dir_ = fs::path(o.work) / "host";
    ingest_ = ingest_port_.endpoint();
    admin_ = admin_port_.endpoint();
    hosts_ = hosts_port_.endpoint();
    // The proxies outlive every hubd and host they carry: a restarted hubd binds the same
    // ports, and each new connection through a proxy reaches it.
    if (o.net_faults) {
      publisher_link_.emplace("127.0.0.1", ingest_port_.number());
      if (!o.hosted.empty()) host_link_.emplace("127.0.0.1", hosts_port_.number());
    }
    json plugins = json::array();
    for (const auto& id : o.in_process) plugins.push_back({{"id", id}});
    for (const auto& id : o.hosted) plugins.push_back({{"id", id}, {"placement", "host"}});
    json endpoints{{"ingest", ingest_}, {"admin", admin_}, {"live_feed", live_feed_port_.endpoint()}};
    if (!o.hosted.empty()) endpoints["plugin_hosts"] = hosts_;
    const json config{{"data_dir", "var"},
                      {"log_level", "info"},
                      {"http", "127.0.0.1:0"},
                      {"endpoints", endpoints},
                      {"limits", {{"max_batch_events", 10000}, {"max_message_bytes", 16 << 20}}},
                      {"delivery", {{"retry_initial_ms", 100}, {"retry_max_ms", 1000}}},
                      {"plugin_dir", o.plugin_dir},
                      {"security", {{"mode", "insecure"}}},
                      {"plugins", plugins}};
    write_text(hub_dir_ / "hub.json", config.dump(2));
    const json host{{"hub", host_link_ ? host_link_->endpoint() : hosts_},
                    {"host_name", "crash-host"},
                    {"plugin_dir", o.plugin_dir},
                    {"data_dir", "var"},
                    {"plugins", o.hosted}};
    write_text(host_dir_ / "host.json", host.dump(2));
  }
  ~Rig() {
    kill9(hubd_);
    kill9(host_);
  }

  const fs::path& hub_dir() const { return hub_dir_; }
  const fs::path& host_dir() const { return host_dir_; }
  // Where the publisher connects: hubd's ingest endpoint, or the proxy in front of it.
  std::string publisher_endpoint() const { return publisher_link_ ? publisher_link_->endpoint() : ingest_; }
  bool has_host() const { return !o_.hosted.empty(); }
  // With --net-faults: the links the faults are applied to (the host's only with a host).
  hub::testing::FaultProxy& publisher_link() { return *publisher_link_; }
  hub::testing::FaultProxy* host_link() { return host_link_ ? &*host_link_ : nullptr; }

  void start_hubd() {
    const fs::path ready = hub_dir_ / "var" / "hubd.endpoints.json";
    std::error_code ec;
    fs::remove(ready, ec);
    hubd_ = spawn(hub_dir_, hub_dir_ / "hubd.log", {o_.hubd, "--config", (hub_dir_ / "hub.json").string()});
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (!fs::exists(ready)) {
      if (const int code = exited(hubd_); code >= 0) {
        hubd_ = -1;
        throw std::runtime_error("hubd exited during start-up with " + std::to_string(code) + "; see " +
                                 (hub_dir_ / "hubd.log").string());
      }
      if (Clock::now() > deadline) throw std::runtime_error("hubd did not become ready within 120 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void start_host() {
    if (has_host())
      host_ = spawn(host_dir_, host_dir_ / "host.log", {o_.plugin_host, "--config", (host_dir_ / "host.json").string()});
  }
  void kill_hubd() { kill9(hubd_); }
  void kill_host() { kill9(host_); }
  // Neither process may end by itself.
  void check_alive() {
    if (hubd_ > 0)
      if (const int code = exited(hubd_); code >= 0) {
        hubd_ = -1;
        throw std::runtime_error("hubd ended by itself with " + std::to_string(code) + "; see " +
                                 (hub_dir_ / "hubd.log").string());
      }
    if (host_ > 0)
      if (const int code = exited(host_); code >= 0) {
        host_ = -1;
        throw std::runtime_error("hub-plugin-host ended by itself with " + std::to_string(code) + "; see " +
                                 (host_dir_ / "host.log").string());
      }
  }
  // SIGTERM; returns the exit status, or -1 when it did not end within `limit`.
  static int terminate(pid_t& pid, std::chrono::seconds limit) {
    if (pid <= 0) return -1;
    ::kill(pid, SIGTERM);
    const auto deadline = Clock::now() + limit;
    for (;;) {
      if (const int code = exited(pid); code >= 0) {
        pid = -1;
        return code;
      }
      if (Clock::now() > deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  int stop_hubd() { return terminate(hubd_, std::chrono::seconds(60)); }
  int stop_host() { return terminate(host_, std::chrono::seconds(60)); }

  json status() {
    zmq::socket_t s(context_, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    s.connect(admin_);
    s.send(zmq::buffer(std::string(R"({"cmd":"status"})")), zmq::send_flags::none);
    zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(10000)) == 0) return json();
    zmq::message_t reply;
    (void)s.recv(reply);
    return json::parse(reply.to_string(), nullptr, false);
  }

 private:
  const Options& o_;
  zmq::context_t& context_;
  fs::path hub_dir_, host_dir_;
  // Fixed across the kill -9 cycles, for the publisher and the plugin host that keep
  // reconnecting (testing/reserved_port.h says why not a port the kernel picked).
  hub::testing::ReservedPort ingest_port_, admin_port_, hosts_port_, live_feed_port_;
  std::string ingest_, admin_, hosts_;
  std::optional<hub::testing::FaultProxy> publisher_link_, host_link_;
  pid_t hubd_ = -1;
  pid_t host_ = -1;
};

// Publishes every batch in order; a batch is acknowledged when its reply says ok with one
// result per event. No reply within the timeout, or told that the reply will not come (hubd
// killed, or its link broken and healed): a fresh socket, the same batch.
struct Publisher {
  Publisher(const Town& t, std::string e, zmq::context_t& c) : town(t), endpoint(std::move(e)), context(c) {}
  const Town& town;
  std::string endpoint;
  zmq::context_t& context;
  std::atomic<std::size_t> acked{0};  // events acknowledged, a prefix of town.events
  std::atomic<bool> done{false};
  std::atomic<std::size_t> resends{0};
  std::atomic<int> link_breaks{0};  // bumped by the driver when it kills hubd or heals a broken link
  std::atomic<bool> abort{false};     // set by the driver when the run has failed
  std::string error;

  void run() {
    try {
      std::unique_ptr<zmq::socket_t> s;
      for (const Batch& b : town.batches) {
        for (;;) {
          if (abort) throw std::runtime_error("stopped by the driver before the publication was complete");
          if (!s) {
            s = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
            s->set(zmq::sockopt::linger, 0);
            s->connect(endpoint);
          }
          const int breaks_at_send = link_breaks.load();
          s->send(zmq::buffer(b.text), zmq::send_flags::none);
          zmq::pollitem_t item{s->handle(), 0, ZMQ_POLLIN, 0};
          // No reply within 10 s, or hubd was killed or the link broken meanwhile (its reply
          // may never come; if it does, on the old socket, it is not waited for).
          bool replied = false;
          for (int waited = 0; waited < 10000 && !replied; waited += 50) {
            replied = zmq::poll(&item, 1, std::chrono::milliseconds(50)) > 0;
            if (!replied && link_breaks.load() != breaks_at_send) break;
          }
          if (!replied) {
            s.reset();
            ++resends;
            continue;
          }
          zmq::message_t reply;
          (void)s->recv(reply);
          const json r = json::parse(reply.to_string(), nullptr, false);
          if (r.is_object() && r.value("ok", false) && r.value("count", 0u) == b.count) break;
          if (r.is_object() && r.contains("error") && r["error"].value("code", "") == "storage_unavailable") {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            continue;
          }
          throw std::runtime_error("batch at event " + std::to_string(b.first) + " refused: " + reply.to_string());
        }
        acked += b.count;
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    done = true;
  }
};

class Db {
 public:
  explicit Db(const fs::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open " + path.string());
    sqlite3_busy_timeout(db_, 10000);
  }
  ~Db() { sqlite3_close(db_); }
  template <typename F>
  void each(const std::string& sql, F&& f) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error("bad query " + sql + ": " + sqlite3_errmsg(db_));
    while (sqlite3_step(st) == SQLITE_ROW) f(st);
    sqlite3_finalize(st);
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string text(sqlite3_stmt* st, int i) {
  const auto* t = sqlite3_column_text(st, i);
  return t == nullptr ? std::string() : reinterpret_cast<const char*>(t);
}

struct Verdict {
  std::size_t lost = 0, duplicated = 0, misordered = 0;
  std::vector<std::string> details;
  void note(std::size_t& counter, const std::string& what) {
    ++counter;
    if (details.size() < 20) details.push_back(what);
  }
};

Verdict verify(const Options& o, const Town& town, std::size_t acked, const fs::path& data) {
  Verdict v;
  // Publication index of each event id (the town's order is the order of acknowledgment).
  std::unordered_map<std::string, std::size_t> position;
  position.reserve(town.events.size());
  for (std::size_t i = 0; i < town.events.size(); ++i) position.emplace(town.events[i].event_id, i);

  Db events(data / "events.db");
  std::unordered_map<std::string, std::uint64_t> seq_of;
  std::map<std::uint64_t, std::string> status_changes;  // seq -> event id
  std::unordered_map<std::string, std::uint64_t> last_seq_of_household;
  events.each("SELECT seq, event_id, type, household_id FROM event ORDER BY seq", [&](sqlite3_stmt* st) {
    const auto seq = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
    const std::string id = text(st, 1);
    if (!seq_of.emplace(id, seq).second) v.note(v.duplicated, "event id " + id + " stored twice in the log");
    if (text(st, 2) == "status_change") status_changes.emplace(seq, id);
  });
  for (std::size_t i = 0; i < acked; ++i)
    if (!seq_of.count(town.events[i].event_id))
      v.note(v.lost, "acknowledged event " + town.events[i].event_id + " is not in the event log");
  // Log order per household = publication order.
  std::unordered_map<std::string, std::size_t> last_position;
  {
    std::map<std::uint64_t, std::size_t> by_seq;
    for (const auto& [id, seq] : seq_of)
      if (auto it = position.find(id); it != position.end()) by_seq.emplace(seq, it->second);
    for (const auto& [seq, pos] : by_seq) {
      const std::string& household = town.events[pos].household_id;
      auto [it, fresh] = last_position.emplace(household, pos);
      if (!fresh) {
        if (it->second > pos) v.note(v.misordered, "log: household " + household + " seq " + std::to_string(seq) +
                                                       " is published before an earlier seq");
        it->second = pos;
      }
    }
  }

  Db ledger(data / "ledger.db");
  std::vector<std::string> departments = o.in_process;
  departments.insert(departments.end(), o.hosted.begin(), o.hosted.end());
  for (const auto& dep : departments) {
    std::set<std::uint64_t> seen;
    std::set<std::string> seen_ids;
    std::unordered_map<std::string, std::pair<std::size_t, std::int64_t>> last;  // household -> (position, at)
    ledger.each("SELECT seq, event_id, household_id, delivered_at_ms FROM delivery WHERE department='" + dep +
                    "' ORDER BY seq",
                [&](sqlite3_stmt* st) {
                  const auto seq = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
                  const std::string id = text(st, 1);
                  const std::string household = text(st, 2);
                  const std::int64_t at = sqlite3_column_int64(st, 3);
                  seen.insert(seq);
                  if (!seen_ids.insert(id).second)
                    v.note(v.duplicated, dep + ": event " + id + " recorded twice");
                  auto sc = status_changes.find(seq);
                  if (sc == status_changes.end() || sc->second != id) {
                    v.note(v.duplicated, dep + ": ledger row seq " + std::to_string(seq) + " (" + id +
                                             ") matches no status change in the log");
                    return;
                  }
                  const auto pit = position.find(id);
                  if (pit == position.end()) return;
                  auto [it, fresh] = last.emplace(household, std::make_pair(pit->second, at));
                  if (!fresh) {
                    if (it->second.first > pit->second || it->second.second > at)
                      v.note(v.misordered, dep + ": household " + household + " event " + id +
                                               " recorded out of publication order");
                    it->second = {pit->second, at};
                  }
                });
    for (const auto& [seq, id] : status_changes)
      if (!seen.count(seq)) v.note(v.lost, dep + ": status change " + id + " (seq " + std::to_string(seq) + ") not in the ledger");
  }
  if (std::find(departments.begin(), departments.end(), "finance") != departments.end()) {
    ledger.each(
        "SELECT COUNT(*) FROM (SELECT household_id, policy_id, "
        "SUM(CASE action WHEN 'defer' THEN amount_fen ELSE 0 END) AS deferred, "
        "SUM(CASE action WHEN 'release' THEN amount_fen ELSE 0 END) AS released "
        "FROM action WHERE department='finance' GROUP BY household_id, policy_id) WHERE released > deferred",
        [&](sqlite3_stmt* st) {
          for (auto n = sqlite3_column_int64(st, 0); n > 0; --n) v.note(v.duplicated, "finance released more than deferred");
        });
  }
  return v;
}

// How many faults of each kind a run applied (a cycle that cuts the links and kills hubd
// counts in both).
struct FaultCounts {
  int hubd_kills = 0, host_kills = 0;
  int net_cuts = 0, net_stalls = 0, net_half_closes = 0, net_partitions = 0;
  int while_publishing = 0;  // cycles whose fault fell before the whole town was acknowledged
};

// SIGKILL of hubd, the host or both, a random pause of up to 200 ms, and the restart.
std::string kill_cycle(Rig& rig, Publisher& publisher, FaultCounts& counts, bool hit_hubd, bool hit_host,
                       std::mt19937_64& random) {
  if (hit_hubd) rig.kill_hubd(), ++counts.hubd_kills, ++publisher.link_breaks;
  if (hit_host) rig.kill_host(), ++counts.host_kills;
  std::this_thread::sleep_for(std::chrono::milliseconds(random() % 200));
  if (hit_hubd) rig.start_hubd();
  if (hit_host) rig.start_host();
  return std::string("killed ") + (hit_hubd && hit_host ? "hubd and host" : hit_hubd ? "hubd" : "host");
}

// How long a network fault is held: mostly 50 ms–1.5 s (within the host link's 4 s heartbeat:
// both ends keep their session), one in four 3.5–5 s (across it: one end or both give up).
std::uint64_t fault_hold_ms(std::uint64_t draw) {
  return draw % 4 == 0 ? 3500 + (draw / 4) % 1501 : 50 + (draw / 4) % 1451;
}

// One cycle of --net-faults. `pick` (0–7) chooses the kind, `detail` the link, direction and
// mode; each fault is held `hold_ms`, then healed. A healed publisher link counts as a broken
// one for the publisher: the reply to what it sent may never come, so it sends again.
template <typename Pause>
std::string net_fault_cycle(Rig& rig, Publisher& publisher, FaultCounts& counts, std::uint64_t pick,
                            std::uint64_t detail, std::uint64_t hold_ms, std::mt19937_64& random, Pause pause) {
  using hub::testing::Direction;
  using hub::testing::FaultProxy;
  const std::string held = " for " + std::to_string(hold_ms) + " ms";
  FaultProxy& publisher_link = rig.publisher_link();
  // Without a plugin host the host link's faults fall on the publisher's link.
  FaultProxy* host_link = rig.host_link();
  FaultProxy& link_to_host = host_link != nullptr ? *host_link : publisher_link;
  const std::string host_link_name = host_link != nullptr ? "the host link" : "the publisher link";
  const auto healed = [&](FaultProxy& link) {
    link.heal();
    if (&link == &publisher_link) ++publisher.link_breaks;
  };
  switch (pick) {
    case 0:
    case 1:
      return kill_cycle(rig, publisher, counts, true, false, random);
    case 2:
      return kill_cycle(rig, publisher, counts, !rig.has_host(), rig.has_host(), random);
    case 3:
      return kill_cycle(rig, publisher, counts, true, rig.has_host(), random);
    case 4:
      publisher_link.cut();
      ++counts.net_cuts;
      pause(hold_ms);
      healed(publisher_link);
      return "cut the publisher link" + held;
    case 5: {
      std::string what;
      switch (detail % 3) {
        case 0:
          link_to_host.cut(), ++counts.net_cuts, what = "cut ";
          break;
        case 1:
          link_to_host.stall(Direction::kBoth), ++counts.net_stalls, what = "stalled ";
          break;
        default: {
          const bool towards_hub = (detail / 3) % 2 == 0;
          link_to_host.half_close(towards_hub ? Direction::kUpstream : Direction::kDownstream);
          ++counts.net_half_closes;
          what = towards_hub ? "half-closed (towards hubd) " : "half-closed (from hubd) ";
        }
      }
      pause(hold_ms);
      healed(link_to_host);
      return what + host_link_name + held;
    }
    case 6: {
      // One direction of one link partitioned: its bytes held (TCP retransmitting; they flow
      // at heal), or lost (then the connection cannot go on, and is reset at heal, as TCP ends
      // a connection whose bytes never arrive).
      FaultProxy& link = detail % 2 == 0 ? publisher_link : link_to_host;
      const bool upstream = (detail / 2) % 2 == 0;
      const bool lost = (detail / 4) % 2 == 0;
      const Direction direction = upstream ? Direction::kUpstream : Direction::kDownstream;
      lost ? link.drop(direction) : link.stall(direction);
      ++counts.net_partitions;
      pause(hold_ms);
      if (lost) link.cut();
      healed(link);
      return std::string("partitioned ") + (&link == &publisher_link ? "the publisher link" : host_link_name) +
             (upstream ? " towards hubd" : " from hubd") + (lost ? " (bytes lost)" : " (bytes held)") + held;
    }
    default: {
      // hubd cut off from everyone, killed and restarted while its links are down.
      publisher_link.cut();
      if (host_link != nullptr) host_link->cut();
      ++counts.net_cuts;
      pause(hold_ms / 2);
      rig.kill_hubd(), ++counts.hubd_kills, ++publisher.link_breaks;
      rig.start_hubd();
      pause(hold_ms / 2);
      if (host_link != nullptr) host_link->heal();
      healed(publisher_link);
      return "cut both links" + held + ", killed and restarted hubd meanwhile";
    }
  }
}

int run(Options o) {
  const auto started = Clock::now();
  if (!o.seed_given) o.seed = std::random_device()();
  std::printf("seed=%llu (reproduce with --seed %llu)\n", static_cast<unsigned long long>(o.seed),
              static_cast<unsigned long long>(o.seed));
  std::fflush(stdout);
  std::mt19937_64 random(o.seed);
  bool own_work = false;
  if (o.work.empty()) {
    o.work = (fs::temp_directory_path() / ("hub-crash-" + std::to_string(::getpid()))).string();
    own_work = true;
  }
  fs::create_directories(o.work);
  zmq::context_t context;
  Rig rig(o, context);

  // The town, its rosters for the hub and for the plugin host.
  const fs::path town_dir = fs::path(o.work) / "town";
  const std::string command = o.towngen + " --quiet --households " + std::to_string(o.households) + " --seed " +
                              std::to_string(o.seed % 1000000007) + " --out " + town_dir.string() + " --plugin-data " +
                              (rig.hub_dir() / "var/plugins").string() + " > " + (fs::path(o.work) / "towngen.log").string() +
                              " 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("hub-towngen failed: " + command);
  fs::create_directories(rig.host_dir() / "var");
  fs::copy(rig.hub_dir() / "var/plugins", rig.host_dir() / "var/plugins",
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  const Town town = load_town(town_dir, o.batch);
  std::size_t status_changes = 0;
  for (const auto& e : town.events) status_changes += e.status_change ? 1 : 0;
  log_line(std::to_string(town.events.size()) + " events (" + std::to_string(status_changes) + " status changes) in " +
           std::to_string(town.batches.size()) + " batches; work dir " + o.work);

  rig.start_hubd();
  rig.start_host();
  Publisher publisher{town, rig.publisher_endpoint(), context};
  std::thread publishing([&] { publisher.run(); });

  FaultCounts counts;
  std::string failure;
  try {
    // Waits `ms`, checking all the while that no process has ended by itself.
    const auto pause = [&](std::uint64_t ms) {
      const auto until = Clock::now() + std::chrono::milliseconds(ms);
      while (Clock::now() < until) {
        rig.check_alive();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    };
    for (int cycle = 1; cycle <= o.cycles; ++cycle) {
      const int gap = o.min_gap_ms + static_cast<int>(random() % static_cast<std::uint64_t>(o.max_gap_ms - o.min_gap_ms + 1));
      pause(static_cast<std::uint64_t>(gap));
      std::string what;
      if (!publisher.done) ++counts.while_publishing;
      if (o.net_faults) {
        // Three draws a cycle, whatever the kind: same seed, same choices.
        const auto pick = random() % 8;
        const auto detail = random();
        const auto hold_draw = random();
        what = net_fault_cycle(rig, publisher, counts, pick, detail, fault_hold_ms(hold_draw), random, pause);
      } else {
        const auto pick = random() % 4;  // hubd, hubd, host, both
        what = kill_cycle(rig, publisher, counts, pick != 2 || !rig.has_host(), rig.has_host() && pick >= 2, random);
      }
      log_line("cycle " + std::to_string(cycle) + ": " + what + " after " + std::to_string(gap) + " ms; acked " +
               std::to_string(publisher.acked.load()));
    }
    while (!publisher.done) {
      rig.check_alive();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    log_line("published: " + std::to_string(publisher.acked.load()) + " events acknowledged, " +
             std::to_string(publisher.resends.load()) + " batches sent again");
    // Delivery to the end.
    const auto deadline = Clock::now() + std::chrono::seconds(o.deliver_limit_s);
    for (;;) {
      rig.check_alive();
      const json status = rig.status();
      bool done = status.is_object() && status.contains("departments");
      if (done)
        for (const auto& d : status["departments"])
          done = done && d["state"] == "running" && d["lag"].get<std::uint64_t>() == 0;
      if (done) break;
      if (Clock::now() > deadline) throw std::runtime_error("delivery did not finish in time: " + status.dump());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    log_line("delivered");
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!publisher.done) publisher.abort = true;  // the run failed before the publication ended
  publishing.join();
  if (!publisher.error.empty()) failure += (failure.empty() ? "" : "; ") + ("publisher: " + publisher.error);
  if (failure.empty()) {
    if (const int code = rig.stop_hubd(); code != 0) failure = "hubd SIGTERM exit status " + std::to_string(code);
    if (const int code = rig.stop_host(); rig.has_host() && code != 0 && failure.empty())
      failure = "hub-plugin-host SIGTERM exit status " + std::to_string(code);
  } else {
    rig.kill_hubd();
    rig.kill_host();
  }

  Verdict v = verify(o, town, publisher.acked.load(), rig.hub_dir() / "var");
  // The audit chains, written in the same transactions as the events and the deliveries, must
  // be whole after every kill (hub/eventlog/event_log.h, hub/delivery/ledger.h).
  const auto event_chain = hub::store::verify_event_chain((rig.hub_dir() / "var/events.db").string());
  const auto ledger_chain = hub::store::verify_ledger_chain((rig.hub_dir() / "var/ledger.db").string());
  std::printf("audit chains: %s; %s\n", event_chain.message.c_str(), ledger_chain.message.c_str());
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::string net;  // only with --net-faults, so that the line of a kill-only run stays as it was
  if (o.net_faults)
    net = " net_cuts=" + std::to_string(counts.net_cuts) + " net_stalls=" + std::to_string(counts.net_stalls) +
          " net_half_closes=" + std::to_string(counts.net_half_closes) +
          " net_partitions=" + std::to_string(counts.net_partitions);
  std::printf("cycles=%d acked=%zu lost=%zu duplicated=%zu misordered=%zu hubd_kills=%d host_kills=%d%s "
              "while_publishing=%d households=%zu departments=%zu seconds=%.0f seed=%llu\n",
              o.cycles, publisher.acked.load(), v.lost, v.duplicated, v.misordered, counts.hubd_kills,
              counts.host_kills, net.c_str(), counts.while_publishing, o.households,
              o.in_process.size() + o.hosted.size(), seconds, static_cast<unsigned long long>(o.seed));
  for (const auto& d : v.details) std::printf("  %s\n", d.c_str());
  if (!failure.empty()) std::printf("FAILED: %s\n", failure.c_str());
  if (!event_chain.ok || !ledger_chain.ok) std::printf("FAILED: an audit chain is broken\n");
  const bool ok = failure.empty() && v.lost == 0 && v.duplicated == 0 && v.misordered == 0 &&
                  publisher.acked.load() == town.events.size() && event_chain.ok && ledger_chain.ok;
  if (!ok) std::printf("work dir kept for inspection: %s\n", o.work.c_str());
  std::fflush(stdout);
  if (ok && own_work && !o.keep) {
    std::error_code ec;
    fs::remove_all(o.work, ec);
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  // Lists and pairs are taken as text and split below ("a,b", "MIN,MAX").
  std::string in_process = "schools", hosted = "police", gap_ms;
  CLI::App app("hub-crash-driver — kill -9 of hubd and of a plugin host at random moments (and, with "
               "--net-faults, network faults between them) while a town is published; then checks that no event "
               "was lost, duplicated or misordered",
               "hub-crash-driver");
  hub::command_line::repeated_options_take_the_last(app);
  app.add_option("--households", o.households, "town size")->capture_default_str();
  app.add_option("--cycles", o.cycles, "kill cycles")->capture_default_str();
  app.add_option("--seed", o.seed, "random seed (default: from the clock, printed)");
  app.add_option("--in-process", in_process, "departments in hubd's process")->type_name("a,b")->capture_default_str();
  app.add_option("--hosted", hosted, "departments on a plugin host")->type_name("c,d")->capture_default_str();
  app.add_option("--gap-ms", gap_ms, "time between kills, at random in [MIN,MAX] (default 100,1500)")
      ->type_name("MIN,MAX");
  app.add_option("--batch", o.batch, "events per publish request")->capture_default_str();
  app.add_option("--deliver-limit", o.deliver_limit_s, "seconds to wait for the deliveries at the end")
      ->type_name("S")
      ->capture_default_str();
  app.add_option("--work", o.work, "work directory (default: a new temporary one)")->type_name("DIR");
  app.add_flag("--keep", o.keep, "keep the work directory after a pass");
  app.add_flag("--net-faults", o.net_faults,
               "put a fault proxy between the publisher and hubd's ingest endpoint and between the plugin host "
               "and hubd, and choose each cycle (from the seed) among: kill hubd, the host or both; cut the "
               "publisher link; cut, stall or half-close the host link; partition one direction of one link; cut "
               "both links and kill hubd meanwhile. Faults are held 50 ms-1.5 s or 3.5-5 s, then healed; the "
               "summary adds net_cuts, net_stalls, net_half_closes, net_partitions");
  app.add_option("--hubd", o.hubd, "hubd to run")->type_name("P");
  app.add_option("--plugin-host", o.plugin_host, "hub-plugin-host to run")->type_name("P");
  app.add_option("--towngen", o.towngen, "hub-towngen to run")->type_name("P");
  app.add_option("--plugin-dir", o.plugin_dir, "where the department plugins are")->type_name("D");
  if (const auto exit_code = hub::command_line::parse_command_line(app, argc, argv)) return *exit_code;
  o.seed_given = app.count("--seed") > 0;
  o.in_process = split(in_process);
  o.hosted = split(hosted);
  if (!gap_ms.empty()) {
    const auto parts = split(gap_ms);
    if (parts.size() != 2 || parts[0].find_first_not_of("0123456789") != std::string::npos ||
        parts[1].find_first_not_of("0123456789") != std::string::npos)
      return hub::command_line::usage_error(app, "--gap-ms takes MIN,MAX in milliseconds");
    o.min_gap_ms = std::stoi(parts[0]);
    o.max_gap_ms = std::stoi(parts[1]);
  }
  if (o.cycles < 0 || o.max_gap_ms < o.min_gap_ms || o.batch == 0 || o.households == 0)
    return hub::command_line::usage_error(app, "bad --cycles, --gap-ms, --batch or --households");
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::printf("FAILED: %s\n", e.what());
    return 1;
  }
}

// hub-bench: the hub's speed beside the machine's limits and Redis Streams, in one run.
//
//   hub-bench [--runs N] [--town-households N] [--county-households N] [--departments N]
//             [--storage sqlite|postgresql|both] [--scaling] [--smoke] [--no-redis]
//             [--no-jetstream] [--jetstream-county-max N] [--out FILE] [--work-dir DIR]
//
// Sections, in this order: limits (libzmq, SQLite, fsync; with PostgreSQL, its COPY), redis
// (Redis Streams with appendfsync always and one consumer group per department), jetstream
// (NATS JetStream, a file-storage stream and one durable pull consumer per department with
// explicit acks, each figure beside Redis's and, in the hub section, beside the hub's), hub (a real
// hubd on SQLite: durable ingest, deliveries per second, latency at a fixed rate, the town's
// and the county's quarter end to end), postgresql (the same hubd on a PostgreSQL server the
// bench starts for the run, fsync on: ingest, deliveries, the town's quarter, each beside its
// SQLite figure and the COPY limit), and optionally the scaling curve. Prints a table on stdout and writes
// the same figures as JSON. It measures and reports; it never fails because of a slow figure.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_support.h"
#include "common/command_line.h"
#include "domain/wire_event.h"
#include "hub_runs.h"
#include "limits.h"
#include "nats_jetstream.h"
#include "postgresql.h"
#include "redis_streams.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace hub::bench;

namespace {

struct Options {
  std::size_t runs = 3;
  std::size_t town = 17090;
  std::size_t county = 1000000;
  std::size_t departments = 0;  // 0 = all
  bool scaling = false;
  std::vector<std::size_t> scaling_sizes{10000, 100000, 1000000};
  bool smoke = false;
  bool redis = true;
  bool jetstream = true;
  // JetStream's county runs only up to this many households: at 1,000,000 libnats 3.4.1
  // (Debian 12) crashed in its reader thread (docs/benchmarks.md), which aborts the whole run.
  std::size_t jetstream_county_max = 300000;
  std::string storage = "sqlite";  // sqlite, postgresql or both
  bool on_sqlite() const { return storage != "postgresql"; }
  bool on_postgresql() const { return storage != "sqlite"; }
  std::vector<std::string> only;  // id prefixes; empty = everything
  std::string out = "bench-results.json";
  std::string work_dir;
  std::string hubd = HUB_BENCH_HUBD;
  std::string plugin_dir = HUB_BENCH_PLUGIN_DIR;
  std::string departments_dir = HUB_BENCH_DEPARTMENTS_DIR;
  std::string config = HUB_BENCH_CONFIG;
};


// Reads the command line into `o`. nullopt: go on; otherwise the exit code (0 after --help, 2
// after a usage error).
std::optional<int> parse_options(int argc, char** argv, Options& o) {
  bool no_redis = false;
  bool no_jetstream = false;
  CLI::App app("hub-bench — Chengxin Hub benchmarks / 诚信枢纽性能基准", "hub-bench");
  hub::command_line::repeated_options_take_the_last(app);
  app.add_option("--runs", o.runs, "repetitions of each figure (median, min, max are reported)")
      ->capture_default_str();
  app.add_option("--town-households", o.town, "the town's size (default: the reference town)")->capture_default_str();
  app.add_option("--county-households", o.county, "the county's size; 0 skips the county")->capture_default_str();
  app.add_option("--departments", o.departments, "departments to enable (first N of the configuration); default all");
  app.add_option("--storage", o.storage,
                 "the hub's storage: sqlite (the default), postgresql (a server started for the run, fsync on) or "
                 "both, side by side")
      ->check(CLI::IsMember({"sqlite", "postgresql", "both"}))
      ->capture_default_str();
  app.add_flag("--scaling", o.scaling, "also run the scaling curve (households x 1, 3 and all departments)");
  app.add_option("--scaling-sizes", o.scaling_sizes, "households for the scaling curve")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->type_name("LIST")
      ->capture_default_str();
  app.add_flag("--smoke", o.smoke, "seconds-long run with tiny sizes, for CI (figures are meaningless)");
  app.add_option("--only", o.only,
                 "only the figures whose id starts with one of these prefixes (e.g. limits.sqlite,hub.ingest); for "
                 "profiling one part")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->type_name("LIST");
  app.add_flag("--no-redis", no_redis, "skip Redis Streams (it is skipped anyway when redis-server is missing)");
  app.add_flag("--no-jetstream", no_jetstream,
               "skip NATS JetStream (it is skipped anyway when nats-server or libnats is missing)");
  app.add_option("--jetstream-county-max", o.jetstream_county_max,
                 "run JetStream's county only up to this many households (libnats 3.4.1 crashed at 1,000,000; "
                 "see docs/benchmarks.md)")
      ->capture_default_str();
  app.add_option("--out", o.out, "JSON results")->type_name("FILE")->capture_default_str();
  app.add_option("--work-dir", o.work_dir, "where databases are created; default $TMPDIR or /tmp")->type_name("DIR");
  app.add_option("--hubd", o.hubd, "the hub to measure; default: this build tree")->type_name("PATH");
  app.add_option("--plugin-dir", o.plugin_dir, "its plugins")->type_name("DIR");
  app.add_option("--departments-dir", o.departments_dir, "its department catalogues")->type_name("DIR");
  app.add_option("--config", o.config, "its configuration")->type_name("FILE");
  if (const auto exit_code = hub::command_line::parse_command_line(app, argc, argv)) return exit_code;
  o.runs = std::max<std::size_t>(1, o.runs);
  o.redis = !no_redis;
  o.jetstream = !no_jetstream;
  if (o.smoke) {
    o.runs = 1;
    o.town = std::min<std::size_t>(o.town, 200);
    o.county = std::min<std::size_t>(o.county, 400);
    o.scaling_sizes = {100, 200};
  }
  if (o.town == 0) return hub::command_line::usage_error(app, "--town-households must be at least 1");
  return std::nullopt;
}

// The departments of the hub's configuration, in order.
std::vector<std::string> configured_departments(const std::string& config_path) {
  std::ifstream in(config_path);
  if (!in) throw std::runtime_error("cannot read " + config_path);
  const json config = json::parse(in);
  std::vector<std::string> ids;
  for (const auto& p : config.at("plugins")) ids.push_back(p.at("id").get<std::string>());
  return ids;
}

// A sample event as the hub receives it, for the raw message-size limits.
std::string sample_event(const Town& town) { return town.events.at(town.events.size() - 1); }

std::string join_batch(const std::vector<std::string>& events, std::size_t n) {
  std::string body = "{\"type\":\"batch\",\"events\":[";
  for (std::size_t i = 0; i < n && i < events.size(); ++i) {
    if (i > 0) body += ',';
    body += events[i];
  }
  return body + "]}";
}

// parse_request() alone, on one thread: events/s of the ingest thread's parsing, with no socket or
// database. The same batch is parsed `rounds` times; a failure to parse is an error of the bench.
double parse_rate(const std::string& body, std::size_t events_per_body, std::size_t rounds) {
  const auto start = Clock::now();
  std::size_t parsed = 0;
  for (std::size_t r = 0; r < rounds; ++r) {
    auto request = hub::parse_request(body, hub::RequestLimits{});
    if (!request.ok() || !request.value().item_errors.empty())
      throw std::runtime_error("parse.batch: the bench's batch does not parse");
    parsed += request.value().events.size();
  }
  if (parsed != events_per_body * rounds) throw std::runtime_error("parse.batch: events lost");
  return static_cast<double>(parsed) / seconds_since(start);
}

void add_latency(Report& report, const std::string& id, const std::string& label, const std::vector<Percentiles>& runs,
                 const std::string& limit_prefix, const std::string& redis_prefix, const Target& p99_target) {
  std::vector<double> p50, p99, p999;
  for (const auto& p : runs) {
    p50.push_back(p.p50);
    p99.push_back(p.p99);
    p999.push_back(p.p999);
  }
  const std::pair<const char*, std::vector<double>*> parts[] = {{"p50", &p50}, {"p99", &p99}, {"p999", &p999}};
  for (const auto& [name, samples] : parts) {
    Figure f{id + "." + name, "", label + " " + name, "ms", false, summarize(*samples), "", "", {}};
    if (!limit_prefix.empty()) f.limit_id = limit_prefix + "." + name;
    if (!redis_prefix.empty()) f.redis_id = redis_prefix + "." + name;
    if (std::string(name) == "p99") f.target = p99_target;
    f.section = id.substr(0, id.find('.'));
    report.add(std::move(f));
  }
}

// A fresh data directory for hubd with the department rosters in place.
std::string fresh_data_dir(const std::string& base, const std::string& name, const std::string& rosters) {
  const fs::path dir = fs::path(base) / name;
  fs::remove_all(dir);
  fs::create_directories(dir / "plugins");
  if (fs::exists(rosters)) fs::copy(rosters, dir / "plugins", fs::copy_options::recursive);
  return dir.string();
}

struct EndToEnd {
  double seconds = 0;
  double rss_mib = 0;
  std::optional<ViewTimes> views;  // with_views only
  double rss_after_views_mib = 0;  // hubd's peak RSS with the views asked too
};

// The whole quarter of `town` through a fresh hubd with `departments` departments: from the
// first publish until every department's ledger holds every event. `with_views`: then the
// administrators' views of that hub, through its HTTP API (time_views: 20 households spread
// over the town, the 2020Q4 report, the overview's timeline, reconciliation).
EndToEnd deliver_town(const HubSetup& setup, const std::string& base, const std::string& rosters, const Town& town,
                      std::size_t departments, bool with_views = false, const HubStorage& storage = {}) {
  const std::string data = fresh_data_dir(base, "e2e", rosters);
  HubDaemon hubd(setup, data, departments, false, with_views, storage);
  const auto start = Clock::now();
  publish_batches(hubd.ingest_endpoint(), town.events, 1000, 4);
  wait_delivered(hubd.ledger(), departments, town.events.size(), std::chrono::seconds(3600));
  EndToEnd out{seconds_since(start), static_cast<double>(hubd.peak_rss_kib()) / 1024.0, std::nullopt, 0};
  if (with_views) {
    std::vector<std::string> households;
    for (std::size_t i = 0; i < 20; ++i)
      households.push_back(town.household_ids.at(i * town.household_ids.size() / 20));
    progress("hub: the administrators' views of that hub (/metrics, household, report, timeline, reconcile)");
    out.views = time_views(hubd.http_url(), households, "2020Q4", 3);
    out.rss_after_views_mib = static_cast<double>(hubd.peak_rss_kib()) / 1024.0;
  }
  hubd.stop();
  fs::remove_all(data);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (const auto exit_code = parse_options(argc, argv, o)) return *exit_code;
  try {
    HubSetup setup{o.hubd, o.plugin_dir, o.departments_dir, configured_departments(o.config)};
    const std::size_t departments =
        o.departments == 0 ? setup.departments.size() : std::min(o.departments, setup.departments.size());
    if (!o.work_dir.empty()) ::setenv("TMPDIR", o.work_dir.c_str(), 1);
    TempDir work("hub-bench");
    Report report;
    report.set_info("machine", machine_info(work.path()));
    report.set_info("options",
                    json{{"runs", o.runs},
                         {"town_households", o.town},
                         {"county_households", o.county},
                         {"departments", departments},
                         {"department_ids",
                          json(std::vector<std::string>(setup.departments.begin(),
                                                        setup.departments.begin() + static_cast<long>(departments)))},
                         {"storage", o.storage},
                         {"smoke", o.smoke}});
    const std::string rosters = work.path() + "/rosters";
    progress("generating the town (" + format_number(static_cast<double>(o.town)) + " households)");
    const Town town = make_town(work.path(), o.town, rosters);
    const std::string event = sample_event(town);
    const std::size_t batch_events = std::min<std::size_t>(1000, town.events.size());
    const std::string batch = join_batch(town.events, batch_events);
    const std::size_t scale = o.smoke ? 100 : 1;  // smoke: a hundredth of the work
    // --only: a block runs when its id and one of the prefixes start the same way.
    auto want = [&](const std::string& block) {
      if (o.only.empty()) return true;
      for (const auto& p : o.only) {
        if (block.rfind(p, 0) == 0 || p.rfind(block, 0) == 0) return true;
      }
      return false;
    };

    // ---- limits ----
    if (want("limits.zmq")) {
      progress("limits: libzmq");
      report.add({"limits.zmq.event", "limits",
                  "libzmq tcp PUSH->PULL, " + std::to_string(event.size()) + " B messages", "msg/s", true,
                  repeat(o.runs, [&] { return zmq_tcp_throughput(event, 1000000 / scale); }), "", "", {}});
      report.add(
          {"limits.zmq.batch", "limits",
           "libzmq tcp, " + std::to_string(batch_events) + "-event batches (" + std::to_string(batch.size() / 1024) +
               " KiB)",
           "events/s", true,
           repeat(o.runs, [&] { return zmq_tcp_throughput(batch, 2000 / scale) * static_cast<double>(batch_events); }),
           "", "", {}});
      {
        std::vector<Percentiles> rtt;
        for (std::size_t r = 0; r < o.runs; ++r) rtt.push_back(percentiles(zmq_tcp_round_trips(event, 50000 / scale)));
        add_latency(report, "limits.zmq.rtt", "libzmq tcp round trip", rtt, "", "", {});
      }
    }
    if (want("limits.sqlite") || want("limits.fsync")) {
      progress("limits: SQLite and fsync");
      report.add({"limits.sqlite.append", "limits", "SQLite WAL FULL append, 1,000 rows/txn, keys in order", "rows/s",
                  true, repeat(o.runs, [&] { return sqlite_append_rate(work.path(), 500000 / scale, 1000, event); }),
                  "", "", {}});
      const Range event_ledger = repeat(
          o.runs, [&] { return sqlite_event_with_ledger_rate(work.path(), 200000 / scale, 1000, departments, event); });
      report.add({"limits.sqlite.event_ledger", "limits",
                  "SQLite WAL FULL, event + " + std::to_string(departments) + " ledger rows, 1,000 events/txn",
                  "events/s", true, event_ledger, "", "", {}});
      Range ledger_rows = event_ledger;
      for (double* v : {&ledger_rows.median, &ledger_rows.min, &ledger_rows.max})
        *v *= static_cast<double>(departments);
      report.add({"limits.sqlite.ledger_rows", "limits", "  the same, counted as ledger rows (deliveries)", "rows/s",
                  true, ledger_rows, "", "", {}});
      report.add({"limits.fsync", "limits", "fdatasync loop (512 B write + fdatasync)", "ops/s", true,
                  repeat(o.runs, [&] { return fsync_rate(work.path(), o.smoke ? 0.2 : 2.0); }), "", "", {}});
    }
    std::unique_ptr<BenchPostgres> postgres;  // one server for the run, fsync on
    if (o.on_postgresql() && (want("limits.pg") || want("postgresql"))) {
      progress("postgresql: initdb and start a server for the run (fsync on)");
      postgres = std::make_unique<BenchPostgres>();
      report.set_info("postgresql", postgres->describe());
    }
    if (postgres && want("limits.pg")) {
      progress("limits: PostgreSQL COPY into the event table's shape");
      report.add({"limits.pg.copy", "limits",
                  "PostgreSQL COPY, 1,000 rows/txn, event table shape, fsync on", "rows/s", true,
                  repeat(o.runs, [&] { return pg_copy_rate(*postgres, town.events, 200000 / scale, 1000); }), "", "",
                  {}});
    }
    // ---- Redis Streams ----
    const bool redis = o.redis && want("redis") && RedisServer::available();
    const std::size_t latency_events = o.smoke ? 200 : 25000;  // 5 s at 5,000 events/s
    const double latency_rate = 5000;
    const std::size_t latency_threads = 64;  // enough connections that 5,000/s never waits for a free one
    if (o.redis && want("redis") && !redis) progress("redis-server not found: Redis Streams figures skipped");
    if (redis) {
      progress("redis: starting redis-server (appendonly, appendfsync always)");
      const std::string redis_dir = work.path() + "/redis";
      fs::create_directories(redis_dir);
      RedisServer server(redis_dir);
      if (want("redis.publish")) {
        progress("redis: publish");
        report.add({"redis.publish.single", "redis", "XADD one at a time, reply after fsync", "events/s", true,
                    repeat(o.runs, [&] { return redis_publish_single(server, town.events, o.smoke ? 100 : 5000); }), "",
                    "", {}});
        report.add({"redis.publish.batch", "redis", "XADD pipelined 1,000 at a time", "events/s", true,
                    repeat(o.runs, [&] { return redis_publish_batched(server, town.events, 1000); }), "", "", {}});
      }
      if (want("redis.fanout")) {
        progress("redis: fan-out to " + std::to_string(departments) + " consumer groups");
        report.add({"redis.fanout", "redis",
                    std::to_string(departments) + " consumer groups XREADGROUP + XACK every event", "deliveries/s",
                    true, repeat(o.runs, [&] { return redis_fanout(server, town.events, departments); }), "", "", {}});
      }
      if (want("redis.latency")) {
        progress("redis: latency at 5,000 events/s");
        std::vector<Percentiles> acked, all;
        for (std::size_t r = 0; r < o.runs; ++r) {
          LatencySamples s =
              redis_latency(server, town.events, latency_events, latency_rate, latency_threads, departments);
          acked.push_back(percentiles(s.acked_ms));
          all.push_back(percentiles(s.all_groups_ms));
        }
        add_latency(report, "redis.latency.ack", "XADD -> reply, 5,000 events/s", acked, "", "", {});
        add_latency(report, "redis.latency.all", "XADD -> every group XACKed, 5,000 events/s", all, "", "", {});
      }
      if (want("redis.town")) {
        progress("redis: the town's quarter");
        report.add({"redis.town", "redis", "town's quarter: publish -> every group acked", "s", false,
                    repeat(o.runs, [&] { return redis_deliver_all(server, town.events, departments, 1000); }), "", "",
                    {}});
      }
      if (o.county > 0 && want("redis.county")) {
        progress("redis: the county's quarter (" + format_number(static_cast<double>(o.county)) + " households)");
        TempDir county_dir("hub-bench-county-redis");
        const Town county = make_town(county_dir.path(), o.county, county_dir.path() + "/rosters");
        report.add({"redis.county", "redis", "county's quarter: publish -> every group acked", "s", false,
                    repeat(1, [&] { return redis_deliver_all(server, county.events, departments, 1000); }), "", "",
                    {}});
      }
    }

    // ---- parsing: the ingest thread's parse_request() alone, no socket, no database ----
    if (want("parse.batch")) {
      progress("parse: parse_request on batches of 1,000 status_change events");
      std::vector<std::string> status_changes;
      for (const auto& e : town.events)
        if (e.find("\"type\":\"status_change\"") != std::string::npos) status_changes.push_back(e);
      const std::size_t n = std::min<std::size_t>(1000, status_changes.size());
      const std::string body = join_batch(status_changes, n);
      report.add({"parse.batch", "parse",
                  "parse_request, " + std::to_string(n) + " status_change events (" + std::to_string(body.size() / 1024) +
                      " KiB)",
                  "events/s", true, repeat(o.runs, [&] { return parse_rate(body, n, 2000 / scale); }), "", "", {}});
    }

    // ---- NATS JetStream ----
    // The same figures as Redis's, each beside it; the hub's figures name these too (below).
    const std::string jetstream_missing = JetStreamServer::unavailable();
    const bool jetstream = o.jetstream && want("jetstream") && jetstream_missing.empty();
    const std::size_t jetstream_in_flight = 4000;  // as many events in flight as the hub's 4 batches of 1,000
    if (o.jetstream && want("jetstream") && !jetstream)
      progress(jetstream_missing + ": NATS JetStream figures skipped");
    if (jetstream) {
      progress("jetstream: starting nats-server -js (file storage in the work directory)");
      const std::string nats_dir = work.path() + "/nats";
      fs::create_directories(nats_dir);
      JetStreamServer server(nats_dir);
      report.set_info("jetstream", json{{"server", server.version()},
                                         {"stream", "file storage, 1 replica, limits retention"},
                                         {"consumers", "one durable pull consumer per department, explicit ack, "
                                                       "fetch 512, the last of each batch acked with AckSync"},
                                         {"sync", "no fsync before the publish ack; nats-server 2.9 fsyncs its "
                                                  "file store every 2 minutes (no sync_interval before 2.10)"}});
      if (want("jetstream.publish")) {
        progress("jetstream: publish");
        report.add({"jetstream.publish.single", "jetstream", "js_Publish one at a time, ack before fsync",
                    "events/s", true,
                    repeat(o.runs,
                           [&] { return jetstream_publish_single(server, town.events, o.smoke ? 100 : 5000); }),
                    "", "redis.publish.single", {}});
        report.add({"jetstream.publish.async", "jetstream", "js_PublishAsync, 4,000 in flight", "events/s", true,
                    repeat(o.runs,
                           [&] { return jetstream_publish_batched(server, town.events, jetstream_in_flight); }),
                    "", "redis.publish.batch", {}});
      }
      if (want("jetstream.fanout")) {
        progress("jetstream: fan-out to " + std::to_string(departments) + " durable pull consumers");
        report.add({"jetstream.fanout", "jetstream",
                    std::to_string(departments) + " pull consumers Fetch 512 + Ack every event", "deliveries/s", true,
                    repeat(o.runs, [&] { return jetstream_fanout(server, town.events, departments); }), "",
                    "redis.fanout", {}});
      }
      if (want("jetstream.latency")) {
        progress("jetstream: latency at 5,000 events/s");
        std::vector<Percentiles> acked, all;
        for (std::size_t r = 0; r < o.runs; ++r) {
          LatencySamples s =
              jetstream_latency(server, town.events, latency_events, latency_rate, latency_threads, departments);
          acked.push_back(percentiles(s.acked_ms));
          all.push_back(percentiles(s.all_groups_ms));
        }
        add_latency(report, "jetstream.latency.ack", "js_Publish -> ack, 5,000 events/s", acked, "",
                    redis ? "redis.latency.ack" : "", {});
        add_latency(report, "jetstream.latency.all", "js_Publish -> every consumer acked, 5,000 events/s", all, "",
                    redis ? "redis.latency.all" : "", {});
      }
      if (want("jetstream.town")) {
        progress("jetstream: the town's quarter");
        report.add({"jetstream.town", "jetstream", "town's quarter: publish -> every consumer acked", "s", false,
                    repeat(o.runs,
                           [&] {
                             return jetstream_deliver_all(server, town.events, departments, jetstream_in_flight);
                           }),
                    "", "redis.town", {}});
      }
      const bool jetstream_county = o.county > 0 && want("jetstream.county");
      if (jetstream_county && o.county > o.jetstream_county_max)
        progress("jetstream: the county's quarter skipped: " + format_number(static_cast<double>(o.county)) +
                 " households is above --jetstream-county-max " +
                 format_number(static_cast<double>(o.jetstream_county_max)) +
                 " (libnats 3.4.1 crashed at 1,000,000; docs/benchmarks.md)");
      if (jetstream_county && o.county <= o.jetstream_county_max) {
        progress("jetstream: the county's quarter (" + format_number(static_cast<double>(o.county)) + " households)");
        TempDir county_dir("hub-bench-county-jetstream");
        const Town county = make_town(county_dir.path(), o.county, county_dir.path() + "/rosters");
        report.add({"jetstream.county", "jetstream", "county's quarter: publish -> every consumer acked", "s", false,
                    repeat(1,
                           [&] {
                             return jetstream_deliver_all(server, county.events, departments, jetstream_in_flight);
                           }),
                    "", "redis.county", {}});
      }
    }

    // ---- the hub (on SQLite) ----
    auto want_sqlite_hub = [&](const std::string& block) { return o.on_sqlite() && want(block); };
    const std::string base = work.path() + "/hub";
    std::string log_dir;  // a data directory holding the whole town in its event log
    // CPU milliseconds per 1,000 events, from CPU seconds spent publishing the town.
    const auto per_thousand = [&](double cpu_seconds) {
      return cpu_seconds * 1000.0 * 1000.0 / static_cast<double>(town.events.size());
    };
    if (want_sqlite_hub("hub.ingest.batch")) {
      progress("hub: durable ingest in batches of 1,000 (no departments enabled)");
      std::vector<double> cpu;
      report.add({"hub.ingest.batch", "hub", "durable ingest, batches of 1,000, 4 in flight", "events/s", true,
                  repeat(o.runs,
                         [&] {
                           log_dir = fresh_data_dir(base, "ingest", rosters);
                           HubDaemon hubd(setup, log_dir, 0);
                           const double cpu_before = hubd.cpu_seconds();
                           const double seconds = publish_batches(hubd.ingest_endpoint(), town.events, 1000, 4);
                           cpu.push_back(per_thousand(hubd.cpu_seconds() - cpu_before));
                           hubd.stop();
                           return static_cast<double>(town.events.size()) / seconds;
                         }),
                  "limits.sqlite.append", "redis.publish.batch", Target().vs_limit_at_least(0.5).vs_redis_at_least(1.2)});
      report.add({"hub.ingest.batch.cpu", "hub", "  CPU per 1,000 events (hubd)", "ms", false, summarize(cpu), "", "",
                  {}});
    }
    if (want_sqlite_hub("hub.delivery") && log_dir.empty()) {  // the delivery figure needs a full event log
      log_dir = fresh_data_dir(base, "ingest", rosters);
      HubDaemon hubd(setup, log_dir, 0);
      publish_batches(hubd.ingest_endpoint(), town.events, 1000, 4);
      hubd.stop();
    }
    if (want_sqlite_hub("hub.delivery")) {
      progress("hub: deliveries to " + std::to_string(departments) + " departments from a full event log");
      report.add(
          {"hub.delivery", "hub", "deliveries through " + std::to_string(departments) + " plugins, ledger committed",
           "deliveries/s", true,
           repeat(o.runs,
                  [&] {
                    for (const char* f : {"ledger.db", "ledger.db-wal", "ledger.db-shm"})
                      fs::remove(fs::path(log_dir) / f);
                    fs::remove_all(fs::path(log_dir) / "plugins");
                    fs::copy(rosters, fs::path(log_dir) / "plugins", fs::copy_options::recursive);
                    const auto start = Clock::now();
                    HubDaemon hubd(setup, log_dir, departments);
                    wait_delivered(hubd.ledger(), departments, town.events.size(), std::chrono::seconds(3600));
                    const double seconds = seconds_since(start);
                    hubd.stop();
                    return static_cast<double>(town.events.size() * departments) / seconds;
                  }),
           "limits.sqlite.ledger_rows", "redis.fanout", Target().vs_limit_at_least(0.8).vs_redis_at_least(1.1)});
    }
    if (want_sqlite_hub("hub.ingest.batch.curve")) {
      progress("hub: durable ingest in batches of 1,000 with CURVE (as shipped)");
      report.add({"hub.ingest.batch.curve", "hub", "durable ingest, batches of 1,000, 4 in flight, CURVE", "events/s",
                  true,
                  repeat(o.runs,
                         [&] {
                           const std::string data = fresh_data_dir(base, "curve", rosters);
                           HubDaemon hubd(setup, data, 0, /*curve=*/true);
                           const double seconds = publish_batches(hubd.ingest_endpoint(), town.events, 1000, 4);
                           hubd.stop();
                           return static_cast<double>(town.events.size()) / seconds;
                         }),
                  "hub.ingest.batch", "", Target().bounded(100000)});
    }
    if (want_sqlite_hub("hub.ingest.single")) {
      progress("hub: single events from 32 connections (group commit)");
      report.add({"hub.ingest.single", "hub", "durable ingest, single events, 32 connections", "events/s", true,
                  repeat(o.runs,
                         [&] {
                           const std::string data = fresh_data_dir(base, "single", rosters);
                           HubDaemon hubd(setup, data, 0);
                           publish_batches(hubd.ingest_endpoint(), registrations(town), 1000, 4);
                           const double rate =
                               publish_singles(hubd.ingest_endpoint(), status_changes(town, o.smoke ? 200 : 20000), 32);
                           hubd.stop();
                           return rate;
                         }),
                  "limits.fsync", "redis.publish.single", Target().vs_limit_at_least(1).vs_redis_at_least(1)});
    }
    if (want_sqlite_hub("hub.ingest.single.curve")) {
      progress("hub: single events from 32 connections with CURVE (as shipped)");
      report.add({"hub.ingest.single.curve", "hub", "durable ingest, single events, 32 connections, CURVE", "events/s",
                  true,
                  repeat(o.runs,
                         [&] {
                           const std::string data = fresh_data_dir(base, "single-curve", rosters);
                           HubDaemon hubd(setup, data, 0, /*curve=*/true);
                           publish_batches(hubd.ingest_endpoint(), registrations(town), 1000, 4);
                           const double rate =
                               publish_singles(hubd.ingest_endpoint(), status_changes(town, o.smoke ? 200 : 20000), 32);
                           hubd.stop();
                           return rate;
                         }),
                  "hub.ingest.single", "", Target().noted("fsync-bound")});
    }
    if (want_sqlite_hub("hub.latency")) {
      progress("hub: latency at 5,000 events/s with " + std::to_string(departments) + " departments");
      {
        std::vector<Percentiles> acked, ledger;
        for (std::size_t r = 0; r < o.runs; ++r) {
          const std::string data = fresh_data_dir(base, "latency", rosters);
          HubDaemon hubd(setup, data, departments);
          const auto registered = registrations(town);
          publish_batches(hubd.ingest_endpoint(), registered, 1000, 4);
          wait_delivered(hubd.ledger(), departments, registered.size(), std::chrono::seconds(600));
          LatencySamples s = hub_latency(hubd.ingest_endpoint(), hubd.ledger(), departments,
                                         status_changes(town, latency_events), latency_rate, latency_threads);
          hubd.stop();
          acked.push_back(percentiles(s.acked_ms));
          ledger.push_back(percentiles(s.all_groups_ms));
        }
        add_latency(report, "hub.latency.ack", "publish -> durable ack, 5,000 events/s", acked, "limits.zmq.rtt",
                    redis ? "redis.latency.ack" : "", Target().bounded(2).vs_redis_at_least(1));
        add_latency(report, "hub.latency.ledger", "publish -> every department's ledger", ledger, "",
                    redis ? "redis.latency.all" : "", Target().bounded(5).vs_redis_at_least(1));
      }
    }
    if (want_sqlite_hub("hub.town")) {
      progress("hub: the town's quarter end to end");
      {
        std::vector<double> seconds, rss;
        for (std::size_t r = 0; r < o.runs; ++r) {
          const EndToEnd e = deliver_town(setup, base, rosters, town, departments);
          seconds.push_back(e.seconds);
          rss.push_back(e.rss_mib);
        }
        report.add(
            {"hub.town", "hub",
             "town's quarter (" + format_number(static_cast<double>(o.town)) + " households): publish -> all ledgers",
             "s", false, summarize(seconds), "", redis ? "redis.town" : "", Target().bounded(1).vs_redis_at_least(1.5)});
        report.add({"hub.town.rss", "hub", "  hubd peak RSS", "MiB", false, summarize(rss), "", "", {}});
      }
    }
    if (o.county > 0 && want_sqlite_hub("hub.county")) {
      progress("hub: the county's quarter (" + format_number(static_cast<double>(o.county)) + " households)");
      TempDir county_dir("hub-bench-county");
      const std::string county_rosters = county_dir.path() + "/rosters";
      const Town county = make_town(county_dir.path(), o.county, county_rosters);
      const EndToEnd e = deliver_town(setup, county_dir.path(), county_rosters, county, departments, true);
      report.add(
          {"hub.county", "hub",
           "county's quarter (" + format_number(static_cast<double>(o.county)) + " households): publish -> all ledgers",
           "s", false, summarize({e.seconds}), "", redis ? "redis.county" : "", Target().bounded(60).vs_redis_at_least(1.5)});
      report.add(
          {"hub.county.rss", "hub", "  hubd peak RSS", "MiB", false, summarize({e.rss_mib}), "", "", Target().bounded(1024)});
      const ViewTimes& v = *e.views;
      report.add({"hub.county.views.metrics", "hub", "  its /metrics scrape", "ms", false, summarize(v.metrics_ms), "",
                  "", Target().bounded(100)});
      report.add({"hub.county.views.household", "hub", "  one household (20 asked)", "ms", false,
                  summarize(v.household_ms), "", "", Target().bounded(50)});
      report.add({"hub.county.views.report", "hub", "  the quarterly report (2020Q4)", "ms", false,
                  summarize(v.report_ms), "", "", Target().bounded(5000)});
      report.add({"hub.county.views.timeline", "hub", "  the overview's timeline (last 60 minutes)", "ms", false,
                  summarize(v.timeline_ms), "", "", {}});
      report.add({"hub.county.views.reconcile", "hub", "  reconcile (finds nothing)", "ms", false,
                  summarize(v.reconcile_ms), "", "", Target().bounded(60000)});
      report.add({"hub.county.views.rss", "hub", "  hubd peak RSS with those views", "MiB", false,
                  summarize({e.rss_after_views_mib}), "", "", Target().bounded(1024)});
    }

    // ---- the hub on PostgreSQL ----
    // The same hubd, measured the same way, with "storage": {"backend": "postgresql"}: a fresh
    // database per run, and the figure on SQLite and the COPY limit beside each.
    if (postgres && want("postgresql.ingest")) {
      progress("postgresql: durable ingest in batches of 1,000 (no departments enabled)");
      std::vector<double> cpu, hubd_cpu, server_cpu;  // where the CPU went while the town was published
      report.add({"postgresql.ingest.batch", "postgresql", "durable ingest, batches of 1,000, 4 in flight",
                  "events/s", true,
                  repeat(o.runs,
                         [&] {
                           const std::string data = fresh_data_dir(base, "pg-ingest", rosters);
                           HubDaemon hubd(setup, data, 0, false, false, postgres->fresh_hub("ingest"));
                           const double hubd_before = hubd.cpu_seconds(), server_before = postgres->cpu_seconds();
                           const double seconds = publish_batches(hubd.ingest_endpoint(), town.events, 1000, 4);
                           hubd_cpu.push_back(per_thousand(hubd.cpu_seconds() - hubd_before));
                           server_cpu.push_back(per_thousand(postgres->cpu_seconds() - server_before));
                           cpu.push_back(hubd_cpu.back() + server_cpu.back());
                           hubd.stop();
                           return static_cast<double>(town.events.size()) / seconds;
                         }),
                  "limits.pg.copy", "hub.ingest.batch", Target().vs_redis_at_least(0.5)});
      report.add({"postgresql.ingest.batch.cpu", "postgresql", "  CPU per 1,000 events (hubd + server)", "ms", false,
                  summarize(cpu), "", "hub.ingest.batch.cpu", {}});
      report.add({"postgresql.ingest.batch.cpu.hubd", "postgresql", "    of which hubd", "ms", false,
                  summarize(hubd_cpu), "", "hub.ingest.batch.cpu", {}});
      report.add({"postgresql.ingest.batch.cpu.server", "postgresql", "    of which the PostgreSQL server", "ms", false,
                  summarize(server_cpu), "", "", {}});
    }
    if (postgres && want("postgresql.delivery")) {
      progress("postgresql: deliveries to " + std::to_string(departments) + " departments from a full event log");
      report.add({"postgresql.delivery", "postgresql",
                  "deliveries through " + std::to_string(departments) + " plugins, ledger committed",
                  "deliveries/s", true,
                  repeat(o.runs,
                         [&] {
                           const std::string data = fresh_data_dir(base, "pg-delivery", rosters);
                           const HubStorage storage = postgres->fresh_hub("delivery");
                           {
                             HubDaemon log_only(setup, data, 0, false, false, storage);
                             publish_batches(log_only.ingest_endpoint(), town.events, 1000, 4);
                             log_only.stop();
                           }
                           const auto start = Clock::now();
                           HubDaemon hubd(setup, data, departments, false, false, storage);
                           wait_delivered(hubd.ledger(), departments, town.events.size(), std::chrono::seconds(3600));
                           const double seconds = seconds_since(start);
                           hubd.stop();
                           return static_cast<double>(town.events.size() * departments) / seconds;
                         }),
                  "", "hub.delivery", {}});
    }
    if (postgres && want("postgresql.town")) {
      progress("postgresql: the town's quarter end to end");
      std::vector<double> seconds, rss;
      for (std::size_t r = 0; r < o.runs; ++r) {
        const EndToEnd e =
            deliver_town(setup, base, rosters, town, departments, false, postgres->fresh_hub("town"));
        seconds.push_back(e.seconds);
        rss.push_back(e.rss_mib);
      }
      report.add(
          {"postgresql.town", "postgresql",
           "town's quarter (" + format_number(static_cast<double>(o.town)) + " households): publish -> all ledgers",
           "s", false, summarize(seconds), "", "hub.town", Target().bounded(1)});
      report.add({"postgresql.town.rss", "postgresql", "  hubd peak RSS", "MiB", false, summarize(rss), "",
                  "hub.town.rss", {}});
    }

    // ---- scaling ----
    if (o.scaling && o.on_sqlite() && want("scaling")) {
      for (std::size_t households : o.scaling_sizes) {
        TempDir dir("hub-bench-scaling");
        const std::string scaling_rosters = dir.path() + "/rosters";
        progress("scaling: generating " + format_number(static_cast<double>(households)) + " households");
        const Town t = make_town(dir.path(), households, scaling_rosters);
        for (std::size_t d : {std::size_t{1}, std::size_t{3}, departments}) {
          if (d > departments || (d == departments && d < 3)) continue;  // 1, 3 and all of them
          progress("scaling: " + format_number(static_cast<double>(households)) + " households, " + std::to_string(d) +
                   " departments");
          const EndToEnd e = deliver_town(setup, dir.path(), scaling_rosters, t, d);
          const std::string id = "scaling." + std::to_string(households) + "." + std::to_string(d);
          const std::string label =
              format_number(static_cast<double>(households)) + " households, " + std::to_string(d) + " departments";
          report.add({id, "scaling", label + ": seconds", "s", false, summarize({e.seconds}), "", "", {}});
          report.add({id + ".rate", "scaling", label + ": events/s", "events/s", true,
                      summarize({static_cast<double>(t.events.size()) / e.seconds}), "", "", {}});
          report.add({id + ".rss", "scaling", label + ": peak RSS", "MiB", false, summarize({e.rss_mib}), "", "", {}});
        }
      }
    }

    // Each hub figure beside its JetStream counterpart (the column "vs JetStream").
    for (const auto& [hub_id, jetstream_id] : std::vector<std::pair<std::string, std::string>>{
             {"hub.ingest.batch", "jetstream.publish.async"},
             {"hub.delivery", "jetstream.fanout"},
             {"hub.ingest.single", "jetstream.publish.single"},
             {"hub.latency.ack.p50", "jetstream.latency.ack.p50"},
             {"hub.latency.ack.p99", "jetstream.latency.ack.p99"},
             {"hub.latency.ack.p999", "jetstream.latency.ack.p999"},
             {"hub.latency.ledger.p50", "jetstream.latency.all.p50"},
             {"hub.latency.ledger.p99", "jetstream.latency.all.p99"},
             {"hub.latency.ledger.p999", "jetstream.latency.all.p999"},
             {"hub.town", "jetstream.town"},
             {"hub.county", "jetstream.county"}}) {
      report.compare_with_jetstream(hub_id, jetstream_id);
    }
    report.print(std::cout);
    std::ofstream out(o.out);
    out << report.to_json().dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write " + o.out);
    std::cout << "\nJSON: " << o.out << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "hub-bench: " << e.what() << "\n";
    return 1;
  }
}

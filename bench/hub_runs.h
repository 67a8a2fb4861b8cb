// The hub under load: a real hubd process started by the bench, fed over its ZeroMQ ingest
// endpoint exactly as a publisher would, and watched through its ledger's cursors (ledger.db,
// or the ledger_cursor table when the hub runs on PostgreSQL).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench_support.h"
#include "redis_streams.h"

namespace hub::bench {

// Where the hub's pieces are.
struct HubSetup {
  std::string hubd;                      // the hubd executable
  std::string plugin_dir;                // the built department plugins
  std::string departments_dir;           // the departments' policy catalogues
  std::vector<std::string> departments;  // every department the bench may enable, in order
};

// A town's events as the family-planning office publishes them (wire JSON, in publication
// order: households, commitments, the 2020Q3 and 2020Q4 evaluations).
struct Town {
  std::vector<std::string> household_ids;
  std::vector<std::string> events;
};
// Generates the town into dir/town (department rosters into plugin_data_dir) and reads its
// files with hubctl's own import reader.
Town make_town(const std::string& dir, std::size_t households, const std::string& plugin_data_dir);

// Where to publish: the ingest endpoint and, when the hub runs with CURVE, the hub's public key
// and the publisher key hubd made on its first start (all Z85; empty without CURVE).
struct IngestTarget {
  std::string endpoint;
  std::string server_key, public_key, secret_key;
};

// Where a hubd keeps its event log and ledger: SQLite files in its data directory (the default,
// dsn empty) or one hub's rows in a PostgreSQL database (hubd's "storage" section).
struct HubStorage {
  std::string dsn;
  std::string hub_id;
  bool postgresql() const noexcept { return !dsn.empty(); }
};

// Where the bench reads a hub's delivery cursors.
struct LedgerSource {
  std::string sqlite_path;  // ledger.db, when the hub runs on SQLite
  HubStorage storage;
};

// A hubd with its data in data_dir and the first `departments` departments of the setup;
// without CURVE unless `curve` (the figures since stop 9 are without; the *.curve figures
// measure what CURVE costs).
class HubDaemon {
 public:
  // `http`: also serve the dashboard and its API on a free loopback port (http_url()).
  HubDaemon(const HubSetup& setup, const std::string& data_dir, std::size_t departments, bool curve = false,
            bool http = false, const HubStorage& storage = {});
  ~HubDaemon();
  const IngestTarget& ingest_endpoint() const noexcept { return ingest_; }
  const std::string& http_url() const noexcept { return http_url_; }  // "http://127.0.0.1:PORT/"; "" without
  LedgerSource ledger() const { return {data_dir_ + "/ledger.db", storage_}; }
  long peak_rss_kib() const { return child_->peak_rss_kib(); }
  double cpu_seconds() const { return child_->cpu_seconds(); }
  void stop();  // SIGTERM and wait; throws if hubd does not exit cleanly

 private:
  std::string data_dir_;
  HubStorage storage_;
  IngestTarget ingest_;
  std::string http_url_;
  std::unique_ptr<Child> child_;
};

// Sends the events in batches of `batch` with up to `window` batches in flight on one
// connection; every reply must be ok. Returns the seconds until the last acknowledgment.
double publish_batches(const IngestTarget& endpoint, const std::vector<std::string>& events, std::size_t batch,
                       std::size_t window);
// Sends each event alone, from `threads` connections with one request in flight each.
// Returns events per second.
double publish_singles(const IngestTarget& endpoint, const std::vector<std::string>& events, std::size_t threads);
// Waits until all `departments` cursors of the ledger reached `last_seq`.
void wait_delivered(const LedgerSource& ledger, std::size_t departments, std::uint64_t last_seq,
                    std::chrono::seconds limit);

// `count` status changes for the town's households (which must be registered already, and not
// evaluated after 2020Q4): fresh event ids; each pass over the households is a later quarter,
// starting with 2021Q1.
std::vector<std::string> status_changes(const Town& town, std::size_t count);
// The households' registration and commitment events only.
std::vector<std::string> registrations(const Town& town);

// Single status changes at `rate` per second: publish -> durable acknowledgment, and publish
// -> recorded in every department's ledger (found by polling the ledger's cursors every
// 0.25 ms, so those figures are up to 0.25 ms late).
LatencySamples hub_latency(const IngestTarget& endpoint, const LedgerSource& ledger, std::size_t departments,
                           const std::vector<std::string>& events, double rate, std::size_t threads);

// The administrators' views of a hub that has delivered everything, as its HTTP API answers
// them (each request timed from send to the whole body; every answer must be 200).
struct ViewTimes {
  std::vector<double> metrics_ms;    // GET /metrics
  std::vector<double> household_ms;  // GET /api/household/ID, one per household asked
  std::vector<double> report_ms;     // GET /api/report?quarter=Q
  std::vector<double> timeline_ms;   // GET /api/timeline?minutes=60 (the overview page's chart, every 30 s)
  std::vector<double> reconcile_ms;  // GET /api/reconcile (must find nothing)
};
ViewTimes time_views(const std::string& http_url, const std::vector<std::string>& households,
                     const std::string& quarter, std::size_t runs);

}  // namespace hub::bench

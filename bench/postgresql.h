// The PostgreSQL side of hub-bench (issue 16): a server of the run's own, durable like SQLite's
// synchronous=FULL (fsync and full_page_writes on, synchronous_commit on), started in a
// temporary directory with the tests' fixture (testing/postgres_server.h, as `nobody` when the
// bench runs as root), and the cluster's own limit: COPY of the hub's event rows.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "hub_runs.h"

namespace hub::testing {
class PostgresServer;
}

namespace hub::bench {

class BenchPostgres {
 public:
  BenchPostgres();  // initdb and start; throws when PostgreSQL is not installed
  ~BenchPostgres();
  BenchPostgres(const BenchPostgres&) = delete;
  BenchPostgres& operator=(const BenchPostgres&) = delete;

  // A new, empty database for one hub run, as hubd's storage section names it.
  HubStorage fresh_hub(const std::string& name);
  // CPU seconds the whole server (postmaster, its live processes and the sessions that ended)
  // used so far: the difference over a run is what the run cost the server.
  double cpu_seconds() const;
  // "PostgreSQL 15.x, fsync=on, …" for the report.
  std::string describe() const;

 private:
  std::unique_ptr<testing::PostgresServer> server_;
};

// Rows per second COPYed into a scratch table shaped like the hub's event table (created with
// `LIKE event INCLUDING ALL`: the same columns, primary key, unique event id and household
// index), `rows_per_transaction` rows per COPY and commit. The rows are `events` (wire JSON)
// with the columns the store fills (digest, hashes, times), repeated with fresh seqs and ids
// until `rows`.
double pg_copy_rate(BenchPostgres& server, const std::vector<std::string>& events, std::size_t rows,
                    std::size_t rows_per_transaction);

}  // namespace hub::bench

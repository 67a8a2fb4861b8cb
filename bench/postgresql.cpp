#include "postgresql.h"

#include <libpq-fe.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "bench_support.h"
#include "store/postgresql/pg_connection.h"
#include "store/postgresql/pg_event_store.h"
#include "testing/postgres_server.h"

namespace hub::bench {

using nlohmann::json;

BenchPostgres::BenchPostgres()
    : server_(std::make_unique<testing::PostgresServer>(testing::PostgresServer::Durability::kFsync)) {}

BenchPostgres::~BenchPostgres() = default;

HubStorage BenchPostgres::fresh_hub(const std::string& name) {
  return {server_->dsn(server_->fresh_database("bench_" + name)), "bench"};
}

double BenchPostgres::cpu_seconds() const {
  const pid_t postmaster = server_->postmaster_pid();
  double total = process_cpu_seconds(postmaster, /*waited_children=*/true);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat) || stat.rfind(')') == std::string::npos) continue;
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string state;
    pid_t parent = 0;
    if (fields >> state >> parent && parent == postmaster) total += process_cpu_seconds(std::stoi(name), false);
  }
  return total;
}

std::string BenchPostgres::describe() const {
  auto setting = [&](const char* name) {
    std::string value = server_->psql(std::string("SHOW ") + name);
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
    return value;
  };
  return std::string("PostgreSQL ") + setting("server_version") + ", fsync=" + setting("fsync") +
         ", synchronous_commit=" + setting("synchronous_commit") + ", full_page_writes=" + setting("full_page_writes") +
         ", wal_sync_method=" + setting("wal_sync_method") + ", shared_buffers=" + setting("shared_buffers");
}

namespace {

// One field of COPY's text format: backslash, tab, newline and carriage return escaped.
void append_field(std::string& out, const std::string& value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

// A 32-byte hash as a bytea in COPY's text format (\\x and hex; the backslash itself escaped).
std::string bytea_field(std::size_t seed) {
  static const char hex[] = "0123456789abcdef";
  std::string out = "\\\\x";
  std::size_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int i = 0; i < 64; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out += hex[x & 15];
  }
  return out;
}

// The event table's columns the store writes (pg_event_store.cpp's INSERT).
constexpr const char* kCopy =
    "COPY copy_scratch (hub_id, seq, event_id, type, household_id, village, status, previous_status, quarter, "
    "previous_quarter, effective_date, designations, correction, received_at_ms, digest, body, publisher, "
    "prev_hash, hash) FROM STDIN";

std::string copy_row(const std::string& wire, std::size_t seq, std::size_t pass) {
  const json e = json::parse(wire);
  const auto text = [&](const char* key) {
    return e.contains(key) && e[key].is_string() ? e[key].get<std::string>() : "";
  };
  const bool status_change = text("type") == "status_change";
  const auto status_field = [&](const char* key) { return status_change ? text(key) : std::string("\\N"); };
  std::string row = "bench\t" + std::to_string(seq) + "\t";
  append_field(row, text("event_id") + (pass > 0 ? "-" + std::to_string(pass) : ""));
  for (const char* key : {"type", "household_id", "village"}) {
    row += '\t';
    append_field(row, text(key));
  }
  for (const char* key : {"status", "previous_status", "quarter", "previous_quarter", "effective_date"}) {
    row += '\t';
    append_field(row, status_field(key));
  }
  row += '\t';
  if (status_change && e.contains("designations"))
    append_field(row, e["designations"].dump());
  else
    row += "\\N";
  row += "\t0\t1700000000000\t" + bytea_field(seq).substr(3) + "\t";  // digest: 64 hex characters
  append_field(row, wire);
  row += "\tbench-publisher\t" + bytea_field(seq - 1) + "\t" + bytea_field(seq) + "\n";
  return row;
}

}  // namespace

double pg_copy_rate(BenchPostgres& server, const std::vector<std::string>& events, std::size_t rows,
                    std::size_t rows_per_transaction) {
  const HubStorage db = server.fresh_hub("copy");
  { store::pg::PgEventStore schema(db.dsn, "bench-schema"); }  // the hub's own event table, to copy its shape
  store::pg::Connection conn(db.dsn);
  conn.exec("CREATE TABLE copy_scratch (LIKE event INCLUDING ALL)");
  std::vector<std::string> chunks;  // built before the clock starts: the server's limit, not the bench's
  for (std::size_t done = 0; done < rows;) {
    std::string chunk;
    for (std::size_t i = 0; i < rows_per_transaction && done < rows; ++i, ++done)
      chunk += copy_row(events[done % events.size()], done + 1, done / events.size());
    chunks.push_back(std::move(chunk));
  }
  PGconn* raw = conn.raw();
  const auto start = Clock::now();
  for (const std::string& chunk : chunks) {  // one COPY = one transaction, committed (fsync) alone
    PGresult* begun = PQexec(raw, kCopy);
    const bool copying = PQresultStatus(begun) == PGRES_COPY_IN;
    PQclear(begun);
    if (!copying || PQputCopyData(raw, chunk.data(), static_cast<int>(chunk.size())) != 1 ||
        PQputCopyEnd(raw, nullptr) != 1)
      throw std::runtime_error(std::string("COPY failed: ") + PQerrorMessage(raw));
    bool ok = true;
    std::string error;
    while (PGresult* r = PQgetResult(raw)) {
      if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        ok = false;
        error = PQresultErrorMessage(r);
      }
      PQclear(r);
    }
    if (!ok) throw std::runtime_error("COPY failed: " + error);
  }
  return static_cast<double>(rows) / seconds_since(start);
}

}  // namespace hub::bench

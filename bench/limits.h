// The limits of the machine, measured with the hub's own message sizes and batch sizes:
// raw libzmq throughput and round trip, raw SQLite appends in WAL with synchronous=FULL,
// and an fsync loop. The hub's figures are reported as a ratio to these.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace hub::bench {

// Messages per second from a PUSH to a PULL socket over TCP on loopback.
double zmq_tcp_throughput(const std::string& message, std::size_t count);

// Round-trip times in milliseconds, DEALER -> ROUTER (echo) -> DEALER over TCP on loopback.
std::vector<double> zmq_tcp_round_trips(const std::string& message, std::size_t count);

// Rows per second appended to an event-log-like table (integer key in order, event id, body)
// in `dir`, WAL, synchronous=FULL, `rows_per_transaction` rows per commit.
double sqlite_append_rate(const std::string& dir, std::size_t rows, std::size_t rows_per_transaction,
                          const std::string& body);

// Events per second when every event row is committed together with one ledger row per
// department (the hub's shape: an event, then one delivery record per department).
double sqlite_event_with_ledger_rate(const std::string& dir, std::size_t events, std::size_t events_per_transaction,
                                     std::size_t departments, const std::string& body);

// fdatasync() calls per second after a small write, for `seconds`.
double fsync_rate(const std::string& dir, double seconds);

}  // namespace hub::bench

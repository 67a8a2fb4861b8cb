// A thin RAII layer over libpq for the PostgreSQL backend (issue 16), in the shape of the SQLite
// backend's database.h: Connection (one server connection), Params (a statement's parameters),
// Rows (a result), Pipeline (many statements in one round trip) and PgError, which carries the
// server's SQLSTATE so that a full disk, a lost connection or a broken key can be told apart.
// PgError stays inside the backend: at a store interface it becomes the hub's StorageError
// (status(), guarded()).
//
// Why libpq and not libpqxx: Debian 12's libpqxx is 6.4, which has no pipeline mode; the backend
// needs exactly four things from the client (parameters, binary bytea, pipelines, SQLSTATE), and
// this file gives them in a few hundred lines with the hub's error type.
//
// Round trips. A group commit or a ledger commit must be one round trip, never one per row
// (issue 16): Pipeline sends BEGIN, every statement and COMMIT without waiting, then reads all
// the results; the first error aborts the rest (PostgreSQL's pipeline semantics) and is thrown.
//
// Outcome unknown. When the connection is lost after COMMIT was sent and before its result came
// back, the transaction may or may not have committed: the error says at_commit() and its status
// outcome_unknown, and the store re-reads what it keeps in memory before it writes again.
//
// A Connection is used by one thread at a time (the thread that owns it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/status.h"

struct pg_conn;
struct pg_result;

namespace hub::store::pg {

class PgError : public std::runtime_error {
 public:
  // `sqlstate` is the server's five-character code, or "" when the client failed (connection
  // lost or refused: treated as unavailable).
  PgError(std::string sqlstate, const std::string& message, bool at_commit = false)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)), at_commit_(at_commit) {}
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  bool at_commit() const noexcept { return at_commit_; }
  // As the hub's Status: code "storage_unavailable"; the kind from the SQLSTATE class (53100
  // disk full -> kFull; 08 connection, 57P0x shutdown, 25006 read-only (a standby), 40001/40P01
  // serialization or deadlock, "" client side -> kUnavailable; 23 integrity -> kConstraint;
  // anything else -> kBug); outcome_unknown when the connection failed at COMMIT.
  Status status() const;

 private:
  std::string sqlstate_;
  bool at_commit_;
};

// Runs `f`, turning a PgError into the StorageError that store interfaces throw. Every public
// entry point of a PostgreSQL store goes through it.
template <class F>
decltype(auto) guarded(F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const PgError& e) {
    throw StorageError(e.status());
  }
}

// A statement's parameters, in order ($1, $2, …). Text values are sent as text; bytes() as
// binary (a bytea parameter: no escaping, no hex doubling).
class Params {
 public:
  Params& text(std::string_view value);
  Params& integer(std::int64_t value);
  Params& bytes(std::string_view value);
  Params& null();
  Params& optional_text(const std::optional<std::string>& value) { return value ? text(*value) : null(); }
  // A PostgreSQL array literal of text values, for `unnest($n::text[])` (one statement for many
  // rows): every element quoted, `"` and `\` escaped.
  Params& text_array(const std::vector<std::string>& values);
  Params& integer_array(const std::vector<std::int64_t>& values);
  // bytea[] as text: each element hex ("\x…"), quoted.
  Params& bytes_array(const std::vector<std::string>& values);

  std::size_t size() const noexcept { return values_.size(); }

 private:
  friend class Connection;
  friend class Pipeline;
  struct Value {
    std::string data;
    bool null = false;
    bool binary = false;
  };
  std::vector<Value> values_;
};

// One statement's result rows. Values are read as text, except bytea columns, which come back
// decoded (bytes()). Column and row indexes are 0-based.
class Rows {
 public:
  explicit Rows(pg_result* result) noexcept : result_(result) {}
  ~Rows();
  Rows(Rows&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  Rows& operator=(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;

  int size() const noexcept;
  bool empty() const noexcept { return size() == 0; }
  bool is_null(int row, int column) const;
  std::string_view text(int row, int column) const;
  std::int64_t integer(int row, int column) const;
  // The value, or std::nullopt for NULL.
  std::optional<std::string> optional_text(int row, int column) const;
  std::optional<std::int64_t> optional_integer(int row, int column) const;
  // A bytea column, decoded from the server's hex output.
  std::string bytes(int row, int column) const;
  // Rows changed by an INSERT/UPDATE/DELETE.
  std::int64_t affected() const;

 private:
  pg_result* result_;
};

class Connection {
 public:
  // Connects with a libpq connection string ("host=… dbname=… target_session_attrs=read-write").
  // Throws PgError ("" SQLSTATE: unavailable) naming the server when it cannot.
  explicit Connection(const std::string& dsn);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A statement, waited for; without parameters it may be several (a schema script), and the
  // rows are the last one's. Throws PgError. A connection that was lost is made again first (a
  // lost connection has no transaction left to continue): the caller learnt of the loss from
  // the PgError of the statement that failed, and re-reads what it keeps before it writes.
  Rows exec(std::string_view sql);
  Rows exec(std::string_view sql, const Params& params);

  // A transaction on this connection. commit() throws PgError with at_commit() when the
  // connection fails there; the destructor rolls back when neither commit() nor rollback() ran
  // (and swallows errors: the connection may be gone).
  class Transaction {
   public:
    explicit Transaction(Connection& connection);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();
    void rollback();

   private:
    Connection& connection_;
    bool open_ = true;
  };

  // `value` as an SQL string literal, escaped for this connection (for the few statements that
  // take no parameters, such as DECLARE … CURSOR). Throws PgError.
  std::string literal(std::string_view value);

  // True while the connection is usable (libpq's status is CONNECTION_OK).
  bool ok() const noexcept;
  // Drops the connection and connects again with the same string; throws PgError.
  void reconnect();
  // The server's pid for this session (tests use it to terminate the session).
  int backend_pid() const noexcept;

  pg_conn* raw() noexcept { return conn_; }

 private:
  friend class Pipeline;
  void ensure_connected();
  // Closes a connection left in a state it cannot be used in (made again on next use).
  void drop() noexcept;
  [[noreturn]] void fail(pg_result* result, std::string_view what, bool at_commit = false);
  std::string dsn_;
  pg_conn* conn_ = nullptr;
};

// Statements sent back to back in libpq's pipeline mode and their results read at the end: one
// round trip for a whole transaction. Usage:
//   Pipeline p(conn);
//   p.send("BEGIN");  p.send("INSERT …", params);  …  p.send("COMMIT");
//   std::vector<Rows> results = p.finish();   // throws PgError at the first failed statement
// A failure while COMMIT's result is outstanding is at_commit() (outcome unknown). The
// connection leaves pipeline mode in finish() and in the destructor.
class Pipeline {
 public:
  explicit Pipeline(Connection& connection);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void send(std::string_view sql);
  void send(std::string_view sql, const Params& params);
  // Sends a sync, reads every result in order and returns them (one per statement sent).
  std::vector<Rows> finish();

 private:
  Connection& connection_;
  std::vector<bool> is_commit_;  // per statement sent: was it COMMIT
  bool active_ = true;
};

// Quotes an identifier (a schema or table name) for SQL text.
std::string quote_identifier(std::string_view name);

}  // namespace hub::store::pg

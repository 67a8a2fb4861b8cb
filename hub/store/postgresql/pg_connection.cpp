#include "store/postgresql/pg_connection.h"

#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>

namespace hub::store::pg {

namespace {

constexpr const char* kHex = "0123456789abcdef";

std::string hex_of(std::string_view bytes) {
  std::string out;
  out.reserve(2 + bytes.size() * 2);
  out += "\\x";
  for (const unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0x0f];
  }
  return out;
}

// An array element, quoted: `"` and `\` escaped with a backslash.
void append_quoted(std::string& out, std::string_view value) {
  out += '"';
  for (const char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

bool connection_lost(const std::string& sqlstate, pg_conn* conn) {
  return sqlstate.empty() || sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0 ||
         (conn != nullptr && PQstatus(conn) != CONNECTION_OK);
}

// libpq's message on one line: its own line breaks and tabs become spaces, the end trimmed
// (a log line stays one line).
std::string trimmed(const char* message) {
  std::string text;
  for (const char* p = message == nullptr ? "" : message; *p != '\0'; ++p) {
    const bool space = *p == '\n' || *p == '\t' || *p == ' ';
    if (space && (text.empty() || text.back() == ' ')) continue;
    text += space ? ' ' : *p;
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  // libpq keeps appending to a connection's error message in some states: a log line stays short.
  constexpr std::size_t kMaxMessage = 600;
  if (text.size() > kMaxMessage) text = text.substr(0, kMaxMessage) + " …";
  return text;
}

// Where a connection string points, for messages (never the password).
std::string server_of(pg_conn* conn) {
  if (conn == nullptr) return "PostgreSQL";
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  std::string where = host != nullptr && *host != '\0' ? host : "localhost";
  if (port != nullptr && *port != '\0') where += ":" + std::string(port);
  return where;
}

}  // namespace

// ---- PgError --------------------------------------------------------------------------------

Status PgError::status() const {
  StorageKind kind = StorageKind::kBug;
  const std::string& s = sqlstate_;
  if (s == "53100")
    kind = StorageKind::kFull;
  else if (s.empty() || s.rfind("08", 0) == 0 || s.rfind("57P", 0) == 0 || s == "25006" || s == "40001" ||
           s == "40P01" || s.rfind("53", 0) == 0)
    kind = StorageKind::kUnavailable;
  else if (s.rfind("23", 0) == 0)
    kind = StorageKind::kConstraint;
  Status status = Status::error("storage_unavailable", what());
  status.storage = kind;
  status.outcome_unknown = at_commit_;
  return status;
}

// ---- Params ---------------------------------------------------------------------------------

Params& Params::text(std::string_view value) {
  values_.push_back({std::string(value), false, false});
  return *this;
}

Params& Params::integer(std::int64_t value) {
  values_.push_back({std::to_string(value), false, false});
  return *this;
}

Params& Params::bytes(std::string_view value) {
  values_.push_back({std::string(value), false, true});
  return *this;
}

Params& Params::null() {
  values_.push_back({{}, true, false});
  return *this;
}

Params& Params::text_array(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ',';
    append_quoted(literal, values[i]);
  }
  literal += '}';
  return text(literal);
}

Params& Params::integer_array(const std::vector<std::int64_t>& values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ',';
    literal += std::to_string(values[i]);
  }
  literal += '}';
  return text(literal);
}

Params& Params::bytes_array(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ',';
    append_quoted(literal, hex_of(values[i]));
  }
  literal += '}';
  return text(literal);
}

namespace {

// libpq's parallel arrays for a Params (pointers into it: it must outlive the call).
struct Wire {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
};

template <class Values>
Wire wire_of(const Values& values) {
  Wire w;
  for (const auto& v : values) {
    w.values.push_back(v.null ? nullptr : v.data.data());
    w.lengths.push_back(static_cast<int>(v.data.size()));
    w.formats.push_back(v.binary ? 1 : 0);
  }
  return w;
}

}  // namespace

// ---- Rows -----------------------------------------------------------------------------------

Rows::~Rows() {
  if (result_ != nullptr) PQclear(result_);
}

Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

int Rows::size() const noexcept { return result_ == nullptr ? 0 : PQntuples(result_); }

bool Rows::is_null(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

std::string_view Rows::text(int row, int column) const {
  return {PQgetvalue(result_, row, column), static_cast<std::size_t>(PQgetlength(result_, row, column))};
}

std::int64_t Rows::integer(int row, int column) const {
  const std::string_view t = text(row, column);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size())
    throw PgError("XX000", "PostgreSQL 返回的不是整数 / not an integer in column " + std::to_string(column) + ": " +
                               std::string(t));
  return value;
}

std::optional<std::string> Rows::optional_text(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return std::string(text(row, column));
}

std::optional<std::int64_t> Rows::optional_integer(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return integer(row, column);
}

std::string Rows::bytes(int row, int column) const {
  std::size_t length = 0;
  unsigned char* decoded =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row, column)), &length);
  if (decoded == nullptr) throw PgError("XX000", "cannot decode a bytea value (out of memory)");
  std::string out(reinterpret_cast<const char*>(decoded), length);
  PQfreemem(decoded);
  return out;
}

std::int64_t Rows::affected() const {
  const char* n = PQcmdTuples(result_);
  return n == nullptr || *n == '\0' ? 0 : std::strtoll(n, nullptr, 10);
}

// ---- Connection -----------------------------------------------------------------------------

Connection::Connection(const std::string& dsn) : dsn_(dsn) { reconnect(); }

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

void Connection::reconnect() {
  if (conn_ != nullptr) PQfinish(std::exchange(conn_, nullptr));
  conn_ = PQconnectdb(dsn_.c_str());
  if (conn_ == nullptr) throw PgError("", "无法连接 PostgreSQL / cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string why = trimmed(PQerrorMessage(conn_));
    const std::string where = server_of(conn_);
    PQfinish(std::exchange(conn_, nullptr));
    throw PgError("", "无法连接 PostgreSQL / cannot connect to PostgreSQL (" + where + "): " + why);
  }
  // The server's NOTICEs ("relation … already exists, skipping") are for people at psql, not
  // for hubd's stderr.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
}

std::string Connection::literal(std::string_view value) {
  ensure_connected();
  char* escaped = PQescapeLiteral(conn_, value.data(), value.size());
  if (escaped == nullptr) fail(nullptr, "escape a literal");
  std::string out(escaped);
  PQfreemem(escaped);
  return out;
}

bool Connection::ok() const noexcept { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

int Connection::backend_pid() const noexcept { return conn_ == nullptr ? 0 : PQbackendPID(conn_); }

void Connection::fail(pg_result* result, std::string_view what, bool at_commit) {
  const char* state = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string sqlstate = state == nullptr ? "" : state;
  std::string message = trimmed(result != nullptr ? PQresultErrorMessage(result) : nullptr);
  if (message.empty()) message = trimmed(conn_ == nullptr ? nullptr : PQerrorMessage(conn_));
  const bool lost = connection_lost(sqlstate, conn_);
  if (result != nullptr) PQclear(result);
  throw PgError(std::move(sqlstate),
                "PostgreSQL (" + server_of(conn_) + "): " + message + " [" + std::string(what.substr(0, 60)) + "]",
                at_commit && lost);
}

namespace {
bool succeeded(pg_result* result) {
  if (result == nullptr) return false;
  const ExecStatusType s = PQresultStatus(result);
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}
}  // namespace

void Connection::drop() noexcept {
  if (conn_ != nullptr) PQfinish(std::exchange(conn_, nullptr));
}

void Connection::ensure_connected() {
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) reconnect();
}

Rows Connection::exec(std::string_view sql) {
  // The simple protocol: several statements in one string are allowed (schema scripts); the
  // result is the last statement's.
  ensure_connected();
  const std::string text(sql);
  pg_result* result = PQexec(conn_, text.c_str());
  if (!succeeded(result)) fail(result, sql, sql == "COMMIT");
  return Rows(result);
}

Rows Connection::exec(std::string_view sql, const Params& params) {
  ensure_connected();
  const std::string text(sql);
  const Wire w = wire_of(params.values_);
  pg_result* result = PQexecParams(conn_, text.c_str(), static_cast<int>(w.values.size()), nullptr, w.values.data(),
                                   w.lengths.data(), w.formats.data(), 0);
  if (!succeeded(result)) fail(result, sql, sql == "COMMIT");
  return Rows(result);
}

Connection::Transaction::Transaction(Connection& connection) : connection_(connection) { connection_.exec("BEGIN"); }

Connection::Transaction::~Transaction() {
  if (!open_) return;
  try {
    if (connection_.ok()) connection_.exec("ROLLBACK");
  } catch (const PgError&) {
    // The connection is gone or the server refused: the transaction did not commit either way.
  }
}

void Connection::Transaction::commit() {
  open_ = false;
  connection_.exec("COMMIT");
}

void Connection::Transaction::rollback() {
  open_ = false;
  connection_.exec("ROLLBACK");
}

// ---- Pipeline -------------------------------------------------------------------------------

Pipeline::Pipeline(Connection& connection) : connection_(connection) {
  connection_.ensure_connected();
  if (PQenterPipelineMode(connection_.conn_) != 1) connection_.fail(nullptr, "pipeline mode");
}

Pipeline::~Pipeline() {
  if (!active_) return;
  // Abandoned before finish() (an exception while building the statements): what was sent may
  // include a BEGIN whose transaction would stay open, so the connection is not used again
  // (made again on next use; the server rolls the transaction back).
  connection_.drop();
}

void Pipeline::send(std::string_view sql) { send(sql, Params{}); }

void Pipeline::send(std::string_view sql, const Params& params) {
  const std::string text(sql);
  const Wire w = wire_of(params.values_);
  if (PQsendQueryParams(connection_.conn_, text.c_str(), static_cast<int>(w.values.size()), nullptr, w.values.data(),
                        w.lengths.data(), w.formats.data(), 0) != 1) {
    // Nothing after this was sent; if a COMMIT was, its outcome is unknown.
    bool commit_sent = false;
    for (const bool c : is_commit_) commit_sent = commit_sent || c;
    active_ = false;
    const std::string why = trimmed(PQerrorMessage(connection_.conn_));
    connection_.drop();
    throw PgError("", "PostgreSQL: " + why + " [" + std::string(sql.substr(0, 60)) + "]", commit_sent);
  }
  is_commit_.push_back(sql == "COMMIT");
}

std::vector<Rows> Pipeline::finish() {
  active_ = false;
  pg_conn* conn = connection_.conn_;
  std::vector<Rows> results;
  results.reserve(is_commit_.size());
  std::optional<PgError> first_error;
  bool lost = PQpipelineSync(conn) != 1;
  for (std::size_t i = 0; i < is_commit_.size() && !lost; ++i) {
    pg_result* result = PQgetResult(conn);
    if (result == nullptr) {  // connection lost: no result for this statement or any after it
      lost = true;
      break;
    }
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      results.emplace_back(result);
    } else {
      if (!first_error && status != PGRES_PIPELINE_ABORTED) {
        const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
        std::string sqlstate = state == nullptr ? "" : state;
        const bool at_commit = is_commit_[i] && connection_lost(sqlstate, conn);
        first_error.emplace(sqlstate, "PostgreSQL (" + server_of(conn) + "): " + trimmed(PQresultErrorMessage(result)),
                            at_commit);
      }
      PQclear(result);
      results.emplace_back(nullptr);
    }
    // Each statement's results end with a NULL.
    while (pg_result* extra = PQgetResult(conn)) PQclear(extra);
  }
  if (!lost) {
    // The sync's own result.
    if (pg_result* sync = PQgetResult(conn)) {
      if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC) lost = PQstatus(conn) != CONNECTION_OK;
      PQclear(sync);
    } else {
      lost = true;
    }
  }
  if (lost || PQstatus(conn) != CONNECTION_OK) {
    // Whatever was outstanding is unknown: a COMMIT among the unread statements may have run.
    bool commit_unread = false;
    for (std::size_t i = results.size(); i < is_commit_.size(); ++i) commit_unread = commit_unread || is_commit_[i];
    const std::string why = trimmed(PQerrorMessage(conn));
    const std::string where = server_of(conn);
    connection_.drop();  // made again on next use
    if (first_error) {
      // A statement the server refused (with its own SQLSTATE) ended the transaction there: a
      // COMMIT after it did not run. An error libpq made up for the lost connection (no
      // SQLSTATE) says nothing of how far the server got: it may have run the COMMIT and died
      // before its results arrived.
      if (!first_error->sqlstate().empty()) throw *first_error;
      throw PgError("", first_error->what(), first_error->at_commit() || commit_unread);
    }
    throw PgError("", "PostgreSQL (" + where + "): " + (why.empty() ? "connection lost" : why), commit_unread);
  }
  bool clean = PQexitPipelineMode(conn) == 1;
  if (first_error) {
    // A pipeline of BEGIN … COMMIT that failed leaves the session in the aborted transaction.
    if (clean && PQtransactionStatus(conn) != PQTRANS_IDLE) {
      pg_result* rolled_back = PQexec(conn, "ROLLBACK");
      clean = succeeded(rolled_back);
      PQclear(rolled_back);
    }
    // A connection that cannot be brought back to a clean, idle state is not used again.
    if (!clean || PQstatus(conn) != CONNECTION_OK) connection_.drop();
    throw *first_error;
  }
  if (!clean) connection_.drop();
  return results;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (const char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace hub::store::pg

#include "store/sqlite/database.h"

#include <sqlite3.h>

namespace hub::store {
namespace {

[[noreturn]] void fail(sqlite3* db, int code, const std::string& what) {
  std::string message = what + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code));
  throw SqliteError(code, message);
}

}  // namespace

Status SqliteError::status() const {
  Status s = Status::error("storage_unavailable", what());
  switch (code_ & 0xff) {
    case SQLITE_FULL:
      s.storage = StorageKind::kFull;
      break;
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      s.storage = StorageKind::kUnavailable;
      break;
    case SQLITE_CONSTRAINT:
      s.storage = StorageKind::kConstraint;
      break;
    default:
      s.storage = StorageKind::kBug;
  }
  s.outcome_unknown = at_commit_ && (code_ & 0xff) == SQLITE_IOERR;
  return s;
}

Database::Database(const std::string& path, Mode mode) : path_(path) {
  // No global allocation statistics: they take a process-wide mutex on every allocation.
  // Only possible before SQLite initialises; harmless (SQLITE_MISUSE) if something was first.
  static const int unused = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)unused;
  const int flags = mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY
                                            : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "cannot open " + path + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError(rc, message);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
}

Database::~Database() { sqlite3_close_v2(db_); }

void Database::exec(const char* sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw SqliteError(rc, path_ + ": " + text);
  }
}

std::int64_t Database::changes() const noexcept { return sqlite3_changes64(db_); }

Statement::Statement(Database& db, const char* sql) : db_(db) {
  const int rc = sqlite3_prepare_v3(db.handle(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db.handle(), rc, std::string("prepare '") + sql + "'");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail(db_.handle(), rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  const int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail(db_.handle(), rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

Statement& Statement::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) fail(db_.handle(), rc, "bind");
  return *this;
}

Statement& Statement::bind_blob(int index, const void* data, std::size_t size) {
  const int rc = sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_.handle(), rc, "bind");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const int code = rc;
  sqlite3_reset(stmt_);
  fail(db_.handle(), code, db_.path() + ": step");  // names the file: "…/events.db: step: database or disk is full"
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, index));
}

std::string_view Statement::column_view(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index))};
}

std::optional<std::int64_t> Statement::column_optional_int(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_int(index);
}

bool Statement::column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

std::string Statement::column_blob(int index) const {
  const void* data = sqlite3_column_blob(stmt_, index);
  if (data == nullptr) return {};
  return std::string(static_cast<const char*>(data), sqlite3_column_bytes(stmt_, index));
}

Statement::Type Statement::column_type(int index) const {
  switch (sqlite3_column_type(stmt_, index)) {
    case SQLITE_INTEGER: return Type::kInteger;
    case SQLITE_FLOAT: return Type::kFloat;
    case SQLITE_TEXT: return Type::kText;
    case SQLITE_BLOB: return Type::kBlob;
    default: return Type::kNull;
  }
}

bool has_column(Database& db, std::string_view table, std::string_view column) {
  Statement q(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
  q.bind(1, table).bind(2, column);
  return q.step();
}

std::int64_t user_version(Database& db) {
  Statement q(db, "PRAGMA user_version");
  q.step();
  return q.column_int(0);
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
    }
  }
}

void Transaction::commit() {
  try {
    db_.exec("COMMIT");
  } catch (const SqliteError& e) {
    throw SqliteError(e.code(), e.what(), /*at_commit=*/true);
  }
  done_ = true;
}

ReadTransaction::ReadTransaction(Database& db) : db_(db) { db_.exec("BEGIN"); }

ReadTransaction::~ReadTransaction() { sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr); }

}  // namespace hub::store

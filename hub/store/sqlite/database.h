// A thin RAII layer over the SQLite C API: Database (one connection) and Statement (one
// prepared statement). Errors throw SqliteError carrying the SQLite result code, so callers
// can tell a full disk (SQLITE_FULL) or an I/O error from a bug. SqliteError stays inside the
// backend: at a store interface it becomes the hub's StorageError (status(), guarded()).
//
// A Database is used by one thread at a time (the thread that owns it); SQLite is built in
// serialized mode on Debian, but the hub never shares a connection between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "domain/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hub::store {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& message, bool at_commit = false)
      : std::runtime_error(message), code_(code), at_commit_(at_commit) {}
  int code() const noexcept { return code_; }
  // Thrown by COMMIT (Transaction::commit()).
  bool at_commit() const noexcept { return at_commit_; }
  // As the hub's Status: code "storage_unavailable", the kind from the result code, and
  // outcome_unknown for an I/O error at COMMIT (the WAL frames may be written and not synced:
  // whether the transaction survives is not known until the file is read again).
  Status status() const;

 private:
  int code_;
  bool at_commit_;
};

// Runs `f`, turning a SqliteError into the StorageError that store interfaces throw. Every
// public entry point of a store implementation goes through it.
template <class F>
decltype(auto) guarded(F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const SqliteError& e) {
    throw StorageError(e.status());
  }
}

class Database {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  Database(const std::string& path, Mode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const char* sql);
  sqlite3* handle() const noexcept { return db_; }
  std::int64_t changes() const noexcept;
  const std::string& path() const noexcept { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Statement {
 public:
  Statement(Database& db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binding is 1-based, as in SQLite. Bound text is copied (SQLITE_TRANSIENT).
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::optional<std::int64_t>& value);
  Statement& bind_null(int index);
  Statement& bind_blob(int index, const void* data, std::size_t size);

  // Advances; true while a row is available.
  bool step();
  // Runs a statement that returns no rows, then resets it.
  void run();
  void reset();

  std::int64_t column_int(int index) const;
  std::string column_text(int index) const;
  // The same text without a copy: valid until the next step() or reset(). Empty for NULL.
  std::string_view column_view(int index) const;
  std::optional<std::int64_t> column_optional_int(int index) const;
  bool column_is_null(int index) const;
  // The column's bytes as stored (a BLOB's bytes, a TEXT's UTF-8); empty for NULL.
  std::string column_blob(int index) const;
  // SQLite's storage class of the column in this row: kInteger, kFloat, kText, kBlob or kNull.
  enum class Type { kInteger, kFloat, kText, kBlob, kNull };
  Type column_type(int index) const;

 private:
  Database& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Whether `table` has a column named `column` (the upgrades of older files ask).
bool has_column(Database& db, std::string_view table, std::string_view column);
// The file's schema version (PRAGMA user_version).
std::int64_t user_version(Database& db);

// BEGIN IMMEDIATE … COMMIT; rolls back in the destructor unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

// BEGIN (deferred) … COMMIT around a series of reads: one read snapshot and one set of WAL
// locks for all of them instead of one per statement (each costs several fcntl calls).
class ReadTransaction {
 public:
  explicit ReadTransaction(Database& db);
  ~ReadTransaction();  // ends the read (errors ignored: nothing was written)
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Database& db_;
};

}  // namespace hub::store

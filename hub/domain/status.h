// The one error type between the hub's parts: a Status names what went wrong with a stable
// code (documented in docs/protocol.md, e.g. "missing_field", "stale_quarter",
// "storage_unavailable"), a message a clerk can act on, and the field, row or line it is about.
// Result<T> is a value or a Status.
//
// Parts return these across a part's boundary, or, where a call cannot go on without its answer
// (the stores and read views), throw them as StorageError; inside one part exceptions are fine
// where they make the code clearer. The endpoints (ingest, admin, HTTP) render a Status to the
// wire's JSON error object in one place each; nothing below them knows JSON error replies.
//
// Storage errors reach the parts as a Status too: code "storage_unavailable" (the wire's code),
// with the kind of failure (StorageKind) and whether the write may have happened all the same
// (outcome_unknown: the commit itself failed, so the data may or may not be there). The stores
// throw them as StorageError, since their callers cannot carry on past a failed write anyway;
// a caller that sees outcome_unknown re-reads what it keeps in memory (last seq, chain heads,
// cursors) before it writes again.
//
// Plain values: copy them, keep them, pass them between threads.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace hub {

// Why a store could not do what it was asked (none for every other Status).
enum class StorageKind {
  kNone,
  kFull,         // the disk or a quota is full: frees up when an operator makes room
  kUnavailable,  // I/O error, file or server unreachable, locked: may pass on its own
  kConstraint,   // the data broke a rule of the schema (a key used twice): a caller's bug or a changed file
  kBug,          // anything else: the hub asked for something wrong
};

struct Status {
  std::string code;     // stable, e.g. "invalid_status"; empty means ok
  std::string message;  // human-readable, names the field and the problem
  std::string field;    // the offending field, row or line, or empty
  StorageKind storage = StorageKind::kNone;
  bool outcome_unknown = false;  // a write failed at its commit: it may have happened

  bool ok() const noexcept { return code.empty(); }

  static Status success() { return {}; }
  static Status error(std::string code, std::string message, std::string field = {}) {
    return Status{std::move(code), std::move(message), std::move(field)};
  }
};

// A store's failure, thrown across a store interface (eventlog/event_store.h, delivery/ledger.h,
// audit/audit_log.h): what() is the status's message.
class StorageError : public std::runtime_error {
 public:
  explicit StorageError(Status status) : std::runtime_error(status.message), status_(std::move(status)) {}
  const Status& status() const noexcept { return status_; }
  bool outcome_unknown() const noexcept { return status_.outcome_unknown; }

 private:
  Status status_;
};

// An error found while reading input: the name the validators have always used for a Status
// that names a field.
using FieldError = Status;

// A value, or the Status that explains why there is none.
template <class T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}           // NOLINT(google-explicit-constructor)
  Result(Status error) : state_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return std::holds_alternative<T>(state_); }
  explicit operator bool() const noexcept { return ok(); }

  // The value; only when ok().
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error, or nullptr when ok(): `if (const Status* e = r.error()) …`.
  const Status* error() const noexcept { return std::get_if<Status>(&state_); }
  // The error; only when !ok().
  const Status& status() const& { return std::get<Status>(state_); }
  Status&& status() && { return std::get<Status>(std::move(state_)); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace hub

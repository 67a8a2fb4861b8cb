// The one error type between the hub's parts: a Status names what went wrong with a stable
// code (documented in docs/protocol.md, e.g. "missing_field", "stale_quarter",
// "storage_unavailable"), a message a clerk can act on, and the field, row or line it is about.
// Result<T> is a value or a Status.
//
// Parts return these across a part's boundary (where one still throws — the read views, the
// storage layer — docs/architecture.md says so); inside one part exceptions are fine where they
// make the code clearer. The endpoints (ingest, admin, HTTP) render a
// Status to the wire's JSON error object in one place each; nothing below them knows JSON
// error replies.
//
// Storage errors do not reach the parts as Status yet (the storage backend still throws its own
// exception inside the parts that own SQL, docs/architecture.md §4); when they do, they gain a
// kind (full, unavailable, constraint, bug) and an "outcome unknown" flag here, with the first
// caller that acts on them.
//
// Plain values: copy them, keep them, pass them between threads.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace hub {

struct Status {
  std::string code;     // stable, e.g. "invalid_status"; empty means ok
  std::string message;  // human-readable, names the field and the problem
  std::string field;    // the offending field, row or line, or empty

  bool ok() const noexcept { return code.empty(); }

  static Status success() { return {}; }
  static Status error(std::string code, std::string message, std::string field = {}) {
    return Status{std::move(code), std::move(message), std::move(field)};
  }
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

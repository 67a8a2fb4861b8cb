// The web console's sessions and its defence against password guessing (issue 19).
//
// SessionStore: a logged-in browser holds a random session id (32 bytes from libsodium's
// randombytes, 64 hex digits) in a cookie; the store maps it to the user and the session's CSRF
// token (32 more random bytes). A session ends when it has been idle for `idle`, when it is
// `absolute` old however busy, at logout (erase), and when its user is disabled, removed or
// given a new password (the web access check compares the user and hash it was opened with).
// Sessions live in hubd's memory: a restart logs everyone out.
//
// LoginThrottle: failed logins are counted per user name and per client address over a
// window; at `max_failures_per_user` failures a user name is locked for `lock`, at
// `max_failures_per_address` an address is. While locked, a login is refused before its password
// is checked, right or wrong. A successful login clears the user's count (not the address's).
//
// same_token(): constant-time comparison of two secrets (sodium_memcmp after a length check).
//
// Threads: every member function may be called from any thread; one mutex per object guards
// its maps.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace hub::http {

using Clock = std::chrono::steady_clock;

struct Session {
  std::string id;             // 64 hex digits
  std::string user;
  std::string password_hash;  // the user's hash when the session opened: a new password ends it
  std::string csrf_token;     // 64 hex digits
  std::string address;        // the client's address at login, for the audit log
  Clock::time_point created;
  Clock::time_point last_seen;
};

class SessionStore {
 public:
  SessionStore(std::chrono::seconds idle, std::chrono::seconds absolute) : idle_(idle), absolute_(absolute) {}

  Session open(const std::string& user, const std::string& password_hash, const std::string& address, Clock::time_point now);
  // The live session with this id, its idle clock restarted; nothing when unknown or expired
  // (an expired one is removed).
  std::optional<Session> find(const std::string& id, Clock::time_point now);
  // Logout: true when there was such a session.
  bool erase(const std::string& id);
  // Ends every session of `user` (disabled, removed); returns how many.
  std::size_t erase_user(const std::string& user);
  std::size_t size();

 private:
  void expire_locked(Clock::time_point now);

  const std::chrono::seconds idle_, absolute_;
  std::mutex mutex_;  // guards sessions_
  std::map<std::string, Session> sessions_;
};

struct ThrottleLimits {
  int max_failures_per_user = 5;
  int max_failures_per_address = 20;
  std::chrono::seconds window{15 * 60};  // failures older than this are forgotten
  std::chrono::seconds lock{15 * 60};    // how long a user name or an address stays locked
};

class LoginThrottle {
 public:
  explicit LoginThrottle(ThrottleLimits limits = {}) : limits_(limits) {}

  // When the user or the address is locked: until when (the later of the two).
  std::optional<Clock::time_point> locked_until(const std::string& user, const std::string& address,
                                                Clock::time_point now);
  // Counts a failure; true when it locked the user or the address just now.
  bool failed(const std::string& user, const std::string& address, Clock::time_point now);
  void succeeded(const std::string& user);
  const ThrottleLimits& limits() const { return limits_; }

 private:
  struct Record {
    std::vector<Clock::time_point> failures;
    Clock::time_point locked_until{};
  };
  bool count(Record& record, int limit, Clock::time_point now);

  const ThrottleLimits limits_;
  std::mutex mutex_;  // guards users_ and addresses_
  std::map<std::string, Record> users_, addresses_;
};

// 32 random bytes as 64 hex digits (libsodium's randombytes_buf).
std::string random_token();
// Constant-time equality of two tokens (the length is not secret).
bool same_token(const std::string& a, const std::string& b);

}  // namespace hub::http

#include "http/sessions.h"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

namespace hub::http {

std::string random_token() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  sodium_memzero(bytes, sizeof bytes);
  return std::string(hex, 2 * sizeof bytes);
}

bool same_token(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || a.empty()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Session SessionStore::open(const std::string& user, const std::string& password_hash, const std::string& address,
                           Clock::time_point now) {
  Session session{random_token(), user, password_hash, random_token(), address, now, now};
  std::lock_guard lock(mutex_);
  expire_locked(now);
  sessions_[session.id] = session;
  return session;
}

std::optional<Session> SessionStore::find(const std::string& id, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  Session& s = it->second;
  if (now - s.last_seen >= idle_ || now - s.created >= absolute_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  s.last_seen = now;
  return s;
}

bool SessionStore::erase(const std::string& id) {
  std::lock_guard lock(mutex_);
  return sessions_.erase(id) > 0;
}

std::size_t SessionStore::erase_user(const std::string& user) {
  std::lock_guard lock(mutex_);
  return std::erase_if(sessions_, [&](const auto& entry) { return entry.second.user == user; });
}

std::size_t SessionStore::size() {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void SessionStore::expire_locked(Clock::time_point now) {
  std::erase_if(sessions_, [&](const auto& entry) {
    return now - entry.second.last_seen >= idle_ || now - entry.second.created >= absolute_;
  });
}

std::optional<Clock::time_point> LoginThrottle::locked_until(const std::string& user, const std::string& address,
                                                             Clock::time_point now) {
  std::lock_guard lock(mutex_);
  std::optional<Clock::time_point> until;
  for (const auto* map : {&users_, &addresses_}) {
    const auto it = map->find(map == &users_ ? user : address);
    if (it != map->end() && it->second.locked_until > now)
      until = std::max(until.value_or(it->second.locked_until), it->second.locked_until);
  }
  return until;
}

bool LoginThrottle::count(Record& record, int limit, Clock::time_point now) {
  std::erase_if(record.failures, [&](Clock::time_point t) { return now - t >= limits_.window; });
  record.failures.push_back(now);
  if (static_cast<int>(record.failures.size()) < limit || record.locked_until > now) return false;
  record.locked_until = now + limits_.lock;
  record.failures.clear();
  return true;
}

bool LoginThrottle::failed(const std::string& user, const std::string& address, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  // Forget quiet records, so that a flood of made-up names does not grow the maps for ever.
  if (users_.size() + addresses_.size() > 10000)
    for (auto* map : {&users_, &addresses_})
      std::erase_if(*map, [&](const auto& e) {
        return e.second.locked_until <= now &&
               (e.second.failures.empty() || now - e.second.failures.back() >= limits_.window);
      });
  const bool user_locked = count(users_[user], limits_.max_failures_per_user, now);
  const bool address_locked = count(addresses_[address], limits_.max_failures_per_address, now);
  return user_locked || address_locked;
}

void LoginThrottle::succeeded(const std::string& user) {
  std::lock_guard lock(mutex_);
  users_.erase(user);
}

}  // namespace hub::http

// Sessions, the login throttle and the CSRF comparison (http/sessions.h), on a clock the test
// moves.
#include "http/sessions.h"

#include <set>

#include <gtest/gtest.h>

namespace {

using hub::http::Clock;
using hub::http::LoginThrottle;
using hub::http::SessionStore;
using namespace std::chrono_literals;

TEST(Sessions, RandomIdsAndTokens) {
  SessionStore store(30min, 12h);
  const auto t0 = Clock::now();
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto s = store.open("li", "hash", "127.0.0.1", t0);
    EXPECT_EQ(s.id.size(), 64u);
    EXPECT_EQ(s.csrf_token.size(), 64u);
    EXPECT_NE(s.id, s.csrf_token);
    EXPECT_TRUE(seen.insert(s.id).second);
    EXPECT_TRUE(seen.insert(s.csrf_token).second);
  }
  EXPECT_FALSE(store.find("", t0));
  EXPECT_FALSE(store.find(std::string(64, '0'), t0));
}

TEST(Sessions, IdleAndAbsoluteExpiry) {
  SessionStore store(30min, 2h);
  const auto t0 = Clock::now();
  const auto s = store.open("li", "hash", "127.0.0.1", t0);
  // Used every 20 minutes: alive until it is two hours old, however busy.
  auto t = t0;
  for (; t - t0 < 2h - 20min; t += 20min) ASSERT_TRUE(store.find(s.id, t + 20min)) << (t - t0) / 1min;
  EXPECT_FALSE(store.find(s.id, t0 + 2h));
  // Idle for 30 minutes: over.
  const auto idle = store.open("li", "hash", "127.0.0.1", t0);
  EXPECT_TRUE(store.find(idle.id, t0 + 29min));
  EXPECT_FALSE(store.find(idle.id, t0 + 29min + 30min));
  EXPECT_FALSE(store.find(idle.id, t0 + 30s)) << "an expired session stays gone";
}

TEST(Sessions, LogoutAndDisableEndSessions) {
  SessionStore store(30min, 12h);
  const auto t0 = Clock::now();
  const auto a = store.open("li", "hash", "127.0.0.1", t0);
  const auto b = store.open("li", "hash", "127.0.0.2", t0);
  const auto c = store.open("wang", "hash", "127.0.0.1", t0);
  EXPECT_TRUE(store.erase(a.id));
  EXPECT_FALSE(store.erase(a.id));
  EXPECT_FALSE(store.find(a.id, t0));
  EXPECT_TRUE(store.find(b.id, t0));
  EXPECT_EQ(store.erase_user("li"), 1u);
  EXPECT_FALSE(store.find(b.id, t0));
  EXPECT_TRUE(store.find(c.id, t0));
}

TEST(LoginThrottle, LocksAUserAfterFiveFailuresForFifteenMinutes) {
  LoginThrottle throttle;
  const auto t0 = Clock::now();
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(throttle.failed("li", "10.0.0." + std::to_string(i), t0 + i * 1s));
    EXPECT_FALSE(throttle.locked_until("li", "10.0.0.9", t0 + i * 1s));
  }
  EXPECT_TRUE(throttle.failed("li", "10.0.0.5", t0 + 5s)) << "the fifth failure locks";
  EXPECT_TRUE(throttle.locked_until("li", "10.0.0.9", t0 + 6s)) << "from any address";
  EXPECT_FALSE(throttle.locked_until("wang", "10.0.0.9", t0 + 6s)) << "another user is not locked";
  EXPECT_TRUE(throttle.locked_until("li", "10.0.0.9", t0 + 5s + 15min - 1s));
  EXPECT_FALSE(throttle.locked_until("li", "10.0.0.9", t0 + 5s + 15min));
}

TEST(LoginThrottle, FailuresOutsideTheWindowAreForgottenAndSuccessClearsTheUser) {
  LoginThrottle throttle;
  const auto t0 = Clock::now();
  for (int i = 0; i < 4; ++i) throttle.failed("li", "10.0.0.1", t0);
  EXPECT_FALSE(throttle.failed("li", "10.0.0.1", t0 + 16min)) << "the first four were over 15 minutes ago";
  for (int i = 0; i < 3; ++i) throttle.failed("li", "10.0.0.1", t0 + 16min);
  throttle.succeeded("li");
  EXPECT_FALSE(throttle.failed("li", "10.0.0.1", t0 + 16min));
  EXPECT_FALSE(throttle.locked_until("li", "10.0.0.1", t0 + 16min));
}

TEST(LoginThrottle, LocksAnAddressTryingManyNames) {
  LoginThrottle throttle;
  const auto t0 = Clock::now();
  for (int i = 0; i < 19; ++i) EXPECT_FALSE(throttle.failed("user" + std::to_string(i), "10.0.0.7", t0));
  EXPECT_TRUE(throttle.failed("user19", "10.0.0.7", t0));
  EXPECT_TRUE(throttle.locked_until("someone-else", "10.0.0.7", t0 + 1min)) << "every name from that address";
  EXPECT_FALSE(throttle.locked_until("someone-else", "10.0.0.8", t0 + 1min));
}

TEST(Csrf, SameTokenIsExactAndRefusesEmpty) {
  const std::string token = hub::http::random_token();
  EXPECT_TRUE(hub::http::same_token(token, token));
  std::string other = token;
  other.back() = other.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE(hub::http::same_token(token, other));
  EXPECT_FALSE(hub::http::same_token(token, token.substr(1)));
  EXPECT_FALSE(hub::http::same_token("", ""));
}

}  // namespace

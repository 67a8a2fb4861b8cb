// FaultProxy: a TCP proxy for tests that puts a misbehaving network between two real processes
// (a publisher and hubd's ingest, a plugin host and hubd's plugin-host endpoint, …). It listens
// on a loopback port and forwards every connection to a target; on command, per direction, it
// passes bytes on (optionally late, by `delay`, or slowly, by `throttle`), stalls them (reads
// and holds them, never forwards, as a partition where the sender's TCP keeps retransmitting;
// what it holds flows on when healed), drops them (reads and discards), or half-closes (the
// receiving side sees end-of-file); and it can cut everything (every connection reset, new
// ones refused — the listening socket is closed — until heal). ZeroMQ's ZMTP and CURVE are
// only bytes to it: point a tcp:// endpoint at `endpoint()` instead of the server's.
//
// Why not a tool: Debian 12 has none that fits. Toxiproxy (the usual choice) is not packaged;
// socat forwards but cannot stall, drop or cut on command; trickle only shapes bandwidth of
// the process it preloads; tc/netem needs CAP_NET_ADMIN, acts on the whole loopback interface
// (every other test on the machine) and cannot half-close. A test needs the fault applied at
// a moment it chooses, synchronously, and undone, which a small proxy in the test's own
// process does exactly.
//
// Threads: the proxy owns one thread, which owns every socket and loops on poll(). The command
// methods may be called from any thread; each returns once the proxy's thread has applied it
// (after `cut()` returns, no connection through the proxy is open). Connections accepted later
// get the settings in force. Destroying the proxy resets every connection it carries.
//
// Loopback only: the target must be an IPv4 address literal ("127.0.0.1").
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "testing/reserved_port.h"

namespace hub::testing {

// Upstream: from the client that connected to the proxy towards the target; downstream: back.
enum class Direction { kUpstream, kDownstream, kBoth };

class FaultProxy {
 public:
  // Listens on a fresh reserved loopback port (testing/reserved_port.h), kept while it lives.
  FaultProxy(std::string target_host, int target_port) : reserved_(std::in_place) {
    start(reserved_->number(), std::move(target_host), target_port);
  }
  // Listens on `listen_port` (one the caller has reserved).
  FaultProxy(int listen_port, std::string target_host, int target_port) {
    start(listen_port, std::move(target_host), target_port);
  }
  ~FaultProxy() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake();
    thread_.join();
    for (auto& c : connections_) reset(*c);
    if (listener_ >= 0) ::close(listener_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

  // Forward at full speed again (no delay, no throttle).
  void pass(Direction d = Direction::kBoth) {
    command([&] { each(d, [](Setting& s) { s = Setting{}; }); });
  }
  // Forward every byte `latency` after it was read (added to what is already in the queue).
  void delay(Direction d, std::chrono::milliseconds latency) {
    command([&] { each(d, [&](Setting& s) { s.mode = Mode::kPass, s.delay = latency; }); });
  }
  // Forward at most `bytes_per_second` per connection and direction (0: unlimited).
  void throttle(Direction d, std::size_t bytes_per_second) {
    command([&] { each(d, [&](Setting& s) { s.mode = Mode::kPass, s.bytes_per_second = bytes_per_second; }); });
  }
  // Read and hold, forward nothing (up to kMaxHeld bytes a connection and direction; then the
  // sender's TCP window fills). Closes and resets are held back too. Heal to let it flow.
  void stall(Direction d) {
    command([&] { each(d, [](Setting& s) { s.mode = Mode::kStall; }); });
  }
  // Read and discard: the bytes are lost, the connection stays open.
  void drop(Direction d) {
    command([&] { each(d, [](Setting& s) { s.mode = Mode::kDrop; }); });
  }
  // The receiving side of `d` sees end-of-file (shutdown(SHUT_WR)); what the sender sends
  // afterwards is discarded. Undone for new connections only: a TCP half-close is final.
  void half_close(Direction d) {
    command([&] { each(d, [](Setting& s) { s.mode = Mode::kHalfClosed; }); });
  }
  // Resets every connection (RST to both ends) and refuses new ones until heal().
  void cut() {
    command([&] { cut_ = true; });
  }
  // Back to passing everything at full speed, in both directions, accepting again.
  void heal() {
    command([&] {
      settings_[0] = settings_[1] = Setting{};
      cut_ = false;
    });
  }

  std::size_t open_connections() const { return open_.load(); }
  std::uint64_t accepted() const { return accepted_.load(); }
  // Bytes written on towards their receiver, ever.
  std::uint64_t forwarded_bytes(Direction d) const { return sum(forwarded_, d); }
  // Bytes thrown away by drop() and after half_close(), ever.
  std::uint64_t discarded_bytes(Direction d) const { return sum(discarded_, d); }
  // Bytes read and not yet forwarded (stalled, delayed or throttled), now.
  std::uint64_t held_bytes(Direction d) const { return sum(held_, d); }

  static constexpr std::size_t kMaxHeld = 4 << 20;

 private:
  using Clock = std::chrono::steady_clock;
  enum class Mode { kPass, kStall, kDrop, kHalfClosed };
  struct Setting {
    Mode mode = Mode::kPass;
    std::chrono::milliseconds delay{0};
    std::size_t bytes_per_second = 0;
  };
  struct Chunk {
    Clock::time_point due;
    std::string bytes;
    std::size_t sent = 0;
  };
  // One direction of one connection: bytes read from `from`, to be written to `to`.
  struct Flow {
    std::deque<Chunk> held;
    std::size_t held_bytes = 0;
    bool eof = false;    // `from` finished sending (read returned 0, or failed)
    bool reset = false;  // `from` failed (reset): passed on as a reset, not an end-of-file
    bool shut = false;   // the end (or the half-close) was passed on to `to`
    double tokens = 0;   // throttle's bucket, in bytes
    Clock::time_point refilled = Clock::now();
  };
  struct Connection {
    int client = -1;
    int server = -1;
    bool connecting = true;
    bool dead = false;
    Flow flow[2];  // [0] upstream (client → server), [1] downstream
    int from(int i) const { return i == 0 ? client : server; }
    int to(int i) const { return i == 0 ? server : client; }
  };

  void start(int listen_port, std::string target_host, int target_port) {
    port_ = listen_port;
    target_.sin_family = AF_INET;
    target_.sin_port = htons(static_cast<std::uint16_t>(target_port));
    if (::inet_pton(AF_INET, target_host.c_str(), &target_.sin_addr) != 1)
      throw std::invalid_argument("FaultProxy: target must be an IPv4 address literal, not '" + target_host + "'");
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("FaultProxy: pipe2 failed");
    if (!listen()) throw std::runtime_error("FaultProxy: cannot listen on port " + std::to_string(port_));
    thread_ = std::thread([this] { run(); });
  }

  bool listen() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int on = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    const sockaddr_in address = loopback_address(port_);
    if (::bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 128) != 0) {
      ::close(listener_);
      listener_ = -1;
      return false;
    }
    return true;
  }

  static std::uint64_t sum(const std::atomic<std::uint64_t> (&counts)[2], Direction d) {
    return (d != Direction::kDownstream ? counts[0].load() : 0) + (d != Direction::kUpstream ? counts[1].load() : 0);
  }

  template <typename F>
  void each(Direction d, F f) {
    if (d != Direction::kDownstream) f(settings_[0]);
    if (d != Direction::kUpstream) f(settings_[1]);
  }

  // Changes the settings under the lock, then waits until the proxy's thread has applied them.
  template <typename F>
  void command(F change) {
    std::unique_lock lock(mutex_);
    change();
    const std::uint64_t generation = ++generation_;
    lock.unlock();
    wake();
    lock.lock();
    applied_cv_.wait(lock, [&] { return applied_ >= generation; });
  }

  void wake() {
    const char byte = 1;
    [[maybe_unused]] const auto n = ::write(wake_[1], &byte, 1);
  }

  // Closes both ends with a reset (SO_LINGER 0), as a broken network shows it.
  void reset(Connection& c) {
    const linger hard{1, 0};
    for (int fd : {c.client, c.server}) {
      if (fd < 0) continue;
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      ::close(fd);
    }
    c.client = c.server = -1;
    c.dead = true;
  }

  static bool forwarding(const Setting& s) { return s.mode == Mode::kPass; }

  bool wants_read(const Connection& c, int i) const {
    const Flow& f = c.flow[i];
    if (f.eof || (i == 1 && c.connecting)) return false;
    const Mode mode = settings_now_[i].mode;
    const bool discards = mode == Mode::kDrop || mode == Mode::kHalfClosed;
    return discards || f.held_bytes < kMaxHeld;
  }

  bool wants_write(const Connection& c, int i, Clock::time_point now) const {
    const Flow& f = c.flow[i];
    if (c.connecting || f.shut || f.held.empty() || !forwarding(settings_now_[i])) return false;
    if (f.held.front().due > now) return false;
    return settings_now_[i].bytes_per_second == 0 || f.tokens >= 1;
  }

  void read_from(Connection& c, int i, Clock::time_point now) {
    Flow& f = c.flow[i];
    char buffer[64 * 1024];
    const ssize_t n = ::recv(c.from(i), buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
      f.eof = true;
      f.reset = n < 0;
      return;
    }
    const Setting& s = settings_now_[i];
    if (s.mode == Mode::kDrop || s.mode == Mode::kHalfClosed) {
      discarded_[i] += static_cast<std::uint64_t>(n);
      return;
    }
    f.held.push_back(Chunk{now + s.delay, std::string(buffer, static_cast<std::size_t>(n))});
    f.held_bytes += static_cast<std::size_t>(n);
  }

  void write_to(Connection& c, int i, Clock::time_point now) {
    Flow& f = c.flow[i];
    const Setting& s = settings_now_[i];
    while (!f.held.empty() && f.held.front().due <= now) {
      Chunk& chunk = f.held.front();
      std::size_t size = chunk.bytes.size() - chunk.sent;
      if (s.bytes_per_second != 0) size = std::min(size, static_cast<std::size_t>(f.tokens));
      if (size == 0) return;
      const ssize_t n = ::send(c.to(i), chunk.bytes.data() + chunk.sent, size, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) reset(c);  // the receiver is gone
        return;
      }
      chunk.sent += static_cast<std::size_t>(n);
      f.held_bytes -= static_cast<std::size_t>(n);
      forwarded_[i] += static_cast<std::uint64_t>(n);
      if (s.bytes_per_second != 0) f.tokens -= static_cast<double>(n);
      if (chunk.sent < chunk.bytes.size()) return;
      f.held.pop_front();
    }
  }

  // Passes on what the settings allow of an end: a half-close, or the sender's end once all it
  // sent has been forwarded. Closes the connection when both directions have ended.
  void pass_on_ends(Connection& c) {
    for (int i = 0; i < 2 && !c.dead; ++i) {
      Flow& f = c.flow[i];
      if (f.shut || c.connecting) continue;
      const Setting& s = settings_now_[i];
      if (s.mode == Mode::kHalfClosed) {
        ::shutdown(c.to(i), SHUT_WR);
        f.shut = true;
        f.held.clear();
        f.held_bytes = 0;
      } else if (forwarding(s) && f.eof && f.held.empty()) {
        if (f.reset) {
          reset(c);
          return;
        }
        ::shutdown(c.to(i), SHUT_WR);
        f.shut = true;
      }
    }
    if (!c.dead && c.flow[0].eof && c.flow[0].shut && c.flow[1].eof && c.flow[1].shut) {
      ::close(c.client);
      ::close(c.server);
      c.client = c.server = -1;
      c.dead = true;
    }
  }

  void accept_all() {
    for (;;) {
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client < 0) return;
      ++accepted_;
      auto c = std::make_unique<Connection>();
      c->client = client;
      c->server = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      const int on = 1;
      ::setsockopt(c->client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      ::setsockopt(c->server, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      const int rc = ::connect(c->server, reinterpret_cast<const sockaddr*>(&target_), sizeof target_);
      if (rc != 0 && errno != EINPROGRESS) {
        reset(*c);  // the target is down: the client sees its connection reset
        continue;
      }
      c->connecting = rc != 0;
      connections_.push_back(std::move(c));
    }
  }

  // Takes the commands given since the last look: the settings, and a cut or a heal.
  void apply_commands() {
    char drain[64];
    while (::read(wake_[0], drain, sizeof drain) > 0) {
    }
    std::lock_guard lock(mutex_);
    settings_now_[0] = settings_[0];
    settings_now_[1] = settings_[1];
    if (cut_) {
      for (auto& c : connections_) reset(*c);
      connections_.clear();
      open_ = 0;
      held_[0] = held_[1] = 0;
      if (listener_ >= 0) ::close(listener_);
      listener_ = -1;
    } else if (listener_ < 0) {
      listen();  // retried every turn of the loop until it binds again
    }
    stop_now_ = stopping_;
    applied_ = generation_;
    applied_cv_.notify_all();
  }

  void run() {
    std::vector<pollfd> fds;
    while (!stop_now_) {
      const Clock::time_point now = Clock::now();
      Clock::time_point wake_at = now + std::chrono::milliseconds(100);
      fds.clear();
      fds.push_back({wake_[0], POLLIN, 0});
      fds.push_back({listener_, static_cast<short>(listener_ >= 0 ? POLLIN : 0), 0});
      for (auto& c : connections_) {
        short events[2] = {0, 0};  // [0] client, [1] server
        for (int i = 0; i < 2; ++i) {
          Flow& f = c->flow[i];
          const Setting& s = settings_now_[i];
          if (s.bytes_per_second != 0) {  // refill, with a burst of at most 50 ms' worth
            const double rate = static_cast<double>(s.bytes_per_second);
            f.tokens = std::min(std::max(1.0, rate / 20), f.tokens + rate * std::chrono::duration<double>(now - f.refilled).count());
            if (f.tokens < 1)
              wake_at = std::min(wake_at, now + std::chrono::microseconds(static_cast<std::int64_t>(1e6 * (1 - f.tokens) / rate) + 1));
          }
          f.refilled = now;
          if (wants_read(*c, i)) events[i] |= POLLIN;
          if (wants_write(*c, i, now)) events[1 - i] |= POLLOUT;
          if (!f.held.empty() && forwarding(s) && f.held.front().due > now) wake_at = std::min(wake_at, f.held.front().due);
        }
        if (c->connecting) events[1] |= POLLOUT;
        fds.push_back({c->client, events[0], 0});
        fds.push_back({c->server, events[1], 0});
      }
      const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - now).count() + 1;
      if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<std::int64_t>(timeout, 0))) < 0 && errno != EINTR)
        throw std::runtime_error(std::string("FaultProxy: poll failed: ") + std::strerror(errno));
      const Clock::time_point after = Clock::now();
      for (std::size_t k = 0; k < connections_.size(); ++k) {
        Connection& c = *connections_[k];
        const pollfd& client = fds[2 + 2 * k];
        const pollfd& server = fds[3 + 2 * k];
        if (c.connecting && server.revents != 0) {
          int error = 0;
          socklen_t size = sizeof error;
          ::getsockopt(c.server, SOL_SOCKET, SO_ERROR, &error, &size);
          if (error != 0) {
            reset(c);
            continue;
          }
          c.connecting = false;
        }
        const short in = POLLIN | POLLHUP | POLLERR;
        if ((client.events & POLLIN) && (client.revents & in)) read_from(c, 0, after);
        if (!c.dead && (server.events & POLLIN) && (server.revents & in)) read_from(c, 1, after);
        if (!c.dead && (server.events & POLLOUT) && !c.connecting) write_to(c, 0, after);
        if (!c.dead && (client.events & POLLOUT)) write_to(c, 1, after);
        if (!c.dead) pass_on_ends(c);
      }
      std::erase_if(connections_, [](const auto& c) { return c->dead; });
      if (fds[1].revents & POLLIN) accept_all();
      std::uint64_t held[2] = {0, 0};
      for (const auto& c : connections_) held[0] += c->flow[0].held_bytes, held[1] += c->flow[1].held_bytes;
      held_[0] = held[0];
      held_[1] = held[1];
      open_ = connections_.size();
      if ((fds[0].revents & POLLIN) || listener_ < 0) apply_commands();
    }
  }

  std::optional<ReservedPort> reserved_;
  int port_ = -1;
  sockaddr_in target_{};
  int wake_[2] = {-1, -1};

  // Owned by the proxy's thread.
  std::thread thread_;
  int listener_ = -1;
  std::vector<std::unique_ptr<Connection>> connections_;
  Setting settings_now_[2];
  bool stop_now_ = false;

  // Guards the commands: what the callers asked for, and how far the thread has applied them.
  std::mutex mutex_;
  std::condition_variable applied_cv_;
  Setting settings_[2];
  bool cut_ = false;
  bool stopping_ = false;
  std::uint64_t generation_ = 0;
  std::uint64_t applied_ = 0;

  std::atomic<std::size_t> open_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> forwarded_[2] = {0, 0};
  std::atomic<std::uint64_t> discarded_[2] = {0, 0};
  std::atomic<std::uint64_t> held_[2] = {0, 0};
};

}  // namespace hub::testing

#include "http/guarded_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <optional>
#include <thread>
#include <vector>

#include <openssl/err.h>
#include <spdlog/spdlog.h>

namespace hub::http {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kKeepAliveIdle = std::chrono::seconds(5);   // between requests on one connection
constexpr auto kWriteTimeout = std::chrono::seconds(60);   // one response, to a slow reader
constexpr std::size_t kRequestsPerConnection = 100;        // then "Connection: close"
constexpr std::size_t kSpareThreads = 8;                   // for refusals when every slot is held
constexpr int kStopCheckMs = 100;                          // how soon a wait sees stop()
constexpr std::size_t kBufferBytes = 4096;

// Threads started as connections arrive, up to `max_threads`; a connection finds an idle thread
// or a new one, and waits in the queue only when max_threads are busy (then the spare threads
// are refusing connections, which takes no time). Threads stay until shutdown().
class ConnectionPool final : public httplib::TaskQueue {
 public:
  explicit ConnectionPool(std::size_t max_threads) : max_threads_(max_threads) {}

  // On the accept thread only (cpp-httplib's listen loop), as shutdown() is.
  void enqueue(std::function<void()> job) override {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
    if (idle_ < jobs_.size() && threads_.size() < max_threads_) threads_.emplace_back([this] { work(); });
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& thread : threads_) thread.join();
  }

 private:
  void work() {
    // A TLS write to a client that has gone raises SIGPIPE (OpenSSL writes with write(2)); blocked
    // in this thread, it stays pending and the write fails with EPIPE instead of ending hubd.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      ++idle_;
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // stopping, and nothing left to close
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  const std::size_t max_threads_;
  std::mutex mutex_;  // guards jobs_, idle_, stopping_ (threads_: the accept thread's own)
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

std::string address_of(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text, sizeof text);
  }
  std::string out = text;
  if (out.rfind("::ffff:", 0) == 0 && out.find('.') != std::string::npos) out = out.substr(7);  // IPv4 on a v6 socket
  return out;
}

int port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  return 0;
}

// One connection's bytes, through TLS or not, under the deadlines of the current request. The
// socket is non-blocking; every wait is a poll() that also ends when the server stops.
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(socket_t sock, SSL* ssl, const std::atomic<socket_t>& listening)
      : sock_(sock), ssl_(ssl), listening_(listening) {}

  // A new request: its bytes must all arrive by `deadline`; its response gets kWriteTimeout.
  void start_request(Clock::time_point deadline) {
    read_deadline_ = deadline;
    write_deadline_.reset();
  }

  // SSL_get_error() reads this thread's OpenSSL error queue, which must be empty before each
  // call it explains: a failure left there by another connection of this thread would pass for
  // this one's. Hence the ERR_clear_error() before every SSL call below.
  bool handshake() {
    for (;;) {
      ERR_clear_error();
      const int r = SSL_accept(ssl_);
      if (r == 1) return true;
      if (!wait_ssl(r, read_deadline_)) return false;
    }
  }

  // Whether another request starts within `idle` (bytes already buffered count).
  bool next_request_within(Clock::duration idle) {
    if (pos_ < end_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0)) return true;
    return wait(POLLIN, Clock::now() + idle);
  }

  bool is_readable() const override { return pos_ < end_ || wait(POLLIN, read_deadline_); }
  bool is_writable() const override { return wait(POLLOUT, write_deadline_.value_or(Clock::now() + kWriteTimeout)); }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == end_) {
      const ssize_t n = fill();
      if (n <= 0) return n;
      pos_ = 0;
      end_ = static_cast<std::size_t>(n);
    }
    const std::size_t n = std::min(size, end_ - pos_);
    std::copy_n(buffer_ + pos_, n, ptr);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  // All of it, or -1: cpp-httplib's callers take a short write for a whole one.
  ssize_t write(const char* ptr, size_t size) override {
    if (!write_deadline_) write_deadline_ = Clock::now() + kWriteTimeout;
    std::size_t done = 0;
    while (done < size) {
      const std::size_t chunk = std::min<std::size_t>(size - done, INT_MAX);
      if (ssl_ != nullptr) {
        ERR_clear_error();
        const int r = SSL_write(ssl_, ptr + done, static_cast<int>(chunk));
        if (r > 0) {
          done += static_cast<std::size_t>(r);
        } else if (!wait_ssl(r, *write_deadline_)) {
          return -1;
        }
      } else {
        const ssize_t r = ::send(sock_, ptr + done, chunk, MSG_NOSIGNAL);
        if (r >= 0) {
          done += static_cast<std::size_t>(r);
        } else if (errno != EINTR && !((errno == EAGAIN || errno == EWOULDBLOCK) && wait(POLLOUT, *write_deadline_))) {
          return -1;
        }
      }
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { name(::getpeername, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { name(::getsockname, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  // Up to a buffer of bytes: > 0, 0 at the end of the stream, -1 on an error or a deadline.
  ssize_t fill() {
    for (;;) {
      if (ssl_ != nullptr) {
        ERR_clear_error();
        const int r = SSL_read(ssl_, buffer_, sizeof buffer_);
        if (r > 0) return r;
        if (SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN) return 0;
        if (!wait_ssl(r, read_deadline_)) return -1;
      } else {
        const ssize_t r = ::recv(sock_, buffer_, sizeof buffer_, 0);
        if (r >= 0) return r;
        if (errno == EINTR) continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait(POLLIN, read_deadline_)) return -1;
      }
    }
  }

  // After an SSL call returned `r` ≤ 0: waits for what OpenSSL wants; false on a real error.
  bool wait_ssl(int r, Clock::time_point deadline) const {
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ: return wait(POLLIN, deadline);
      case SSL_ERROR_WANT_WRITE: return wait(POLLOUT, deadline);
      default: return false;
    }
  }

  // Until the socket is ready for `events`, `deadline` passes, or the server stops.
  bool wait(short events, Clock::time_point deadline) const {
    for (;;) {
      if (listening_ == INVALID_SOCKET) return false;
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{sock_, events, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, kStopCheckMs)));
      if (r > 0) return true;  // ready, or an error the next call reports
      if (r < 0 && errno != EINTR) return false;
    }
  }

  void name(int (*get)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (get(sock_, reinterpret_cast<sockaddr*>(&address), &length) != 0) return;
    ip = address_of(address);
    port = port_of(address);
  }

  const socket_t sock_;
  SSL* const ssl_;
  const std::atomic<socket_t>& listening_;
  Clock::time_point read_deadline_;
  std::optional<Clock::time_point> write_deadline_;
  char buffer_[kBufferBytes];
  std::size_t pos_ = 0, end_ = 0;
};

}  // namespace

GuardedServer::GuardedServer(ClientLimits limits, TlsContext tls) : limits_(limits), tls_(std::move(tls)) {
  new_task_queue = [this] { return new ConnectionPool(limits_.max_connections + kSpareThreads); };
}

int GuardedServer::bind(const std::string& host, int port) {
  const int bound = port == 0 ? bind_to_any_port(host) : (bind_to_port(host, port) ? port : -1);
  if (bound > 0) ::listen(svr_sock_, SOMAXCONN);  // Linux takes a second listen() as a new backlog
  return bound;
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  const std::string client = ::getpeername(sock, reinterpret_cast<sockaddr*>(&peer), &length) == 0 ? address_of(peer) : "";
  if (admit(client)) {
    struct Release {
      GuardedServer& server;
      const std::string& client;
      ~Release() { server.release(client); }
    } release{*this, client};
    serve(sock);
  } else {
    refuse(sock, client);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return true;
}

void GuardedServer::serve(socket_t sock) {
  ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(tls_ ? SSL_new(tls_.get()) : nullptr, SSL_free);
  if (tls_ && (!ssl || SSL_set_fd(ssl.get(), sock) != 1)) return;
  DeadlineStream stream(sock, ssl.get(), svr_sock_);
  stream.start_request(Clock::now() + limits_.request_timeout);
  if (ssl && !stream.handshake()) return;
  bool ok = true;
  for (std::size_t left = kRequestsPerConnection; left > 0 && ok; --left) {
    if (left != kRequestsPerConnection) {
      if (!stream.next_request_within(kKeepAliveIdle)) break;
      stream.start_request(Clock::now() + limits_.request_timeout);
    }
    bool closed = false;
    ok = process_request(stream, left == 1, closed, [&](httplib::Request& request) { request.ssl = ssl.get(); });
    if (closed) break;
  }
  if (ssl && ok) SSL_shutdown(ssl.get());  // one try: the close_notify, if the socket takes it now
  ERR_clear_error();  // nothing of this connection's failures is left for the thread's next one
}

bool GuardedServer::admit(const std::string& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t& mine = held_[client];
  if (held_total_ >= limits_.max_connections || mine >= limits_.max_connections_per_client) {
    if (mine == 0) held_.erase(client);
    return false;
  }
  ++mine;
  ++held_total_;
  return true;
}

void GuardedServer::release(const std::string& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  --held_total_;
  if (--held_[client] == 0) held_.erase(client);
}

void GuardedServer::refuse(socket_t sock, const std::string& client) {
  std::size_t refused = 0, mine = 0, total = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    refused = ++refused_;
    total = held_total_;
    if (auto it = held_.find(client); it != held_.end()) mine = it->second;
  }
  if (refused == 1 || refused % 1000 == 0)
    spdlog::warn("http: refused a connection from {} ({} held from there, {} in all; limits "
                 "http.max_connections_per_client {}, http.max_connections {}); {} refused since start",
                 client, mine, total, limits_.max_connections_per_client, limits_.max_connections, refused);
  if (tls_) return;  // a TLS client would not read plain text; closing says enough
  static const std::string kBody = "连接过多，请稍后再试 / too many connections, try again shortly\n";
  const std::string reply = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\n"
                            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                            std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
  (void)::send(sock, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  // Read what the client had sent, so that closing sends FIN rather than a reset that could
  // destroy the 503 before the client reads it.
  ::shutdown(sock, SHUT_WR);
  char discard[4096];
  while (::recv(sock, discard, sizeof discard, MSG_DONTWAIT) > 0) {
  }
}

}  // namespace hub::http

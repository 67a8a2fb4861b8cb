// The dashboard's web server under bounds that slow clients cannot stretch (issue 19): cpp-httplib's
// Server with its connection handling replaced, over plain HTTP or TLS. HttpServer
// (http_server.h) declares the routes on it as on any httplib::Server.
//
// Why: cpp-httplib 0.11.4 serves each connection on a worker of a small fixed pool, and its read
// timeout is per recv(): a client that trickles its request head a byte every few seconds never
// times out, holds its worker as long as it likes, and keeps it for four requests more through
// keep-alive. With 4 workers, 60 such connections (4 would do) made the dashboard and API answer
// nobody; requests queued behind them until the client gave up.
//
// The design: three bounds that hold together.
// - Time. Each request, head and body, must arrive within `request_timeout` of the connection
//   (TLS handshake included), or of its first byte on a kept-alive connection; a kept-alive
//   connection idle for 5 s is closed; writing one response may take 60 s. Sockets are
//   non-blocking and every wait is a poll() against these deadlines, so a trickle resets no clock.
// - Connections. At most `max_connections` held at once, and `max_connections_per_client` from
//   one client address. A connection beyond either is refused at once, before anything is read:
//   HTTP gets "503 Service Unavailable" with Retry-After, HTTPS is closed.
// - Threads. Every admitted connection gets a thread of its own at once, from a pool that grows
//   on demand to max_connections plus a few spare threads (for the refusals), so no request
//   waits in a queue behind slow connections. A held slow connection costs a sleeping thread
//   (a mostly untouched stack) for at most `request_timeout`.
//
// Why threads and not an event loop that reads request heads without one (as nginx does):
// cpp-httplib parses and answers a request from a blocking Stream, so the loop would have to be
// written beside it, non-blocking TLS handshakes included; for the hundreds of clients a town
// has, Linux threads are cheap, and the bounds keep their number finite. An attacker with more
// addresses than max_connections / max_connections_per_client can still fill max_connections,
// but only for request_timeout at a time, and the refusals cost nothing.
//
// Threads: construct and add the routes on one thread; listen_after_bind() runs the accept loop
// on the caller's thread; stop() from any thread ends every connection within about 100 ms (a
// handler already running finishes first).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include <httplib.h>

#include "http/tls_context.h"

namespace hub::http {

struct ClientLimits {
  std::chrono::milliseconds request_timeout{10000};
  std::size_t max_connections = 512;
  std::size_t max_connections_per_client = 32;
};

class GuardedServer final : public httplib::Server {
 public:
  // `tls`: null for plain HTTP; else the context every connection's handshake uses.
  GuardedServer(ClientLimits limits, TlsContext tls);
  bool tls() const { return tls_ != nullptr; }
  // Binds `host`:`port` (0: a free port) and returns the port, or -1. The listen queue is made
  // as long as the system allows: cpp-httplib's is 5, and a burst of connections (a page's
  // scripts, or an attack being refused) overflowed it, each dropped one costing its client a
  // second or more of SYN retransmission before the server even saw it.
  int bind(const std::string& host, int port);

 private:
  bool process_and_close_socket(socket_t sock) override;
  void serve(socket_t sock);
  bool admit(const std::string& client);
  void release(const std::string& client);
  void refuse(socket_t sock, const std::string& client);

  const ClientLimits limits_;
  const TlsContext tls_;
  std::mutex mutex_;  // guards held_ and held_total_
  std::map<std::string, std::size_t> held_;  // client address → connections held
  std::size_t held_total_ = 0;
  std::size_t refused_ = 0;  // since start, for the log
};

}  // namespace hub::http

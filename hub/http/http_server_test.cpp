#include "http/http_server.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace hub::http {
namespace {

// hubd stops its HTTP thread with stop() from the main thread; when that came before the
// thread had started listening, cpp-httplib 0.11 ignored it and the listen went on for ever
// (hubd hung at shutdown). stop() must end run() whenever it is called.
TEST(HttpServer, StopBeforeTheThreadListensStillEndsRun) {
  zmq::context_t context(1);
  HubConfig config;
  config.http_address = "127.0.0.1:0";
  HttpServer server(context, config, nullptr, "inproc://unused-admin");
  std::promise<void> started;
  std::thread thread([&] {
    started.set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // stop() comes first
    server.run();
  });
  started.get_future().wait();
  server.stop();
  auto joined = std::async(std::launch::async, [&] { thread.join(); });
  const bool ended = joined.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!ended) server.stop();  // it listens by now: end it, so that the test itself can end
  joined.wait();
  EXPECT_TRUE(ended) << "run() was still serving 10 s after stop()";
}

// A raw connection to 127.0.0.1:port that has sent `bytes`.
int connect_and_send(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  return fd;
}

// All the hub sends until it closes the connection (or 10 s pass).
std::string read_until_closed(int fd) {
  timeval ten{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &ten, sizeof ten);
  std::string text;
  char buffer[1024];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  return text;
}

// The bounds of guarded_server.h at the HTTP server itself: an unfinished request is cut at
// request_timeout_ms however it trickles, and one address's connections beyond its share are
// answered 503 at once, while a whole request is answered.
TEST(HttpServer, UnfinishedRequestsAreCutAtTheirDeadlineAndExtraConnectionsRefused) {
  zmq::context_t context(1);
  HubConfig config;
  config.http_address = "127.0.0.1:0";
  config.http.request_timeout_ms = 500;
  config.http.max_connections_per_client = 2;
  HttpServer server(context, config, nullptr, "inproc://unused-admin");
  std::thread thread([&] { server.run(); });
  const int port = std::stoi(server.bound_address().substr(server.bound_address().rfind(':') + 1));

  const auto start = std::chrono::steady_clock::now();
  const int silent = connect_and_send(port, "");
  const int partial = connect_and_send(port, "GET / HTTP/1.1\r\nHost: x\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // both admitted before the third comes
  const int refused = connect_and_send(port, "GET /nothing HTTP/1.1\r\n\r\n");
  EXPECT_NE(read_until_closed(refused).find("HTTP/1.1 503"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(400)) << "refused at once";
  for (int i = 0; i < 3; ++i) {  // a byte every 200 ms does not extend the deadline
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    (void)::send(partial, "X", 1, MSG_NOSIGNAL);
  }
  read_until_closed(silent);
  read_until_closed(partial);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(450));
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  for (int fd : {silent, partial, refused}) ::close(fd);

  // Their slots are free again: a whole request is answered (a 404 from the static files).
  const int whole = connect_and_send(port, "GET /nothing HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(read_until_closed(whole).find("HTTP/1.1 404"), std::string::npos);
  ::close(whole);
  server.stop();
  thread.join();
}

}  // namespace
}  // namespace hub::http

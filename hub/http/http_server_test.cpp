#include "http/http_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
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

}  // namespace
}  // namespace hub::http

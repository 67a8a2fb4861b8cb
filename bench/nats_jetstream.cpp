#include "nats_jetstream.h"

#include <nats/nats.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <stdexcept>
#include <thread>

namespace hub::bench {

namespace {

[[noreturn]] void fail(const std::string& what, natsStatus s, jsErrCode js_error = static_cast<jsErrCode>(0)) {
  std::string message = "jetstream: " + what + ": " + natsStatus_GetText(s);
  if (js_error != 0) message += " (JetStream error " + std::to_string(static_cast<int>(js_error)) + ")";
  if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0') message += ": " + std::string(last);
  throw std::runtime_error(message);
}

void check(natsStatus s, const std::string& what, jsErrCode js_error = static_cast<jsErrCode>(0)) {
  if (s != NATS_OK) fail(what, s, js_error);
}

// One client connection and its JetStream context. `send_asap`: every publish is written to the
// socket at once instead of by the library's flusher thread (lower latency for one event at a
// time). `max_pending`: the js_PublishAsync window (0: the library's default).
class Connection {
 public:
  Connection(const std::string& url, bool send_asap, std::int64_t max_pending = 0,
             std::atomic<int>* async_errors = nullptr) {
    natsOptions* opts = nullptr;
    check(natsOptions_Create(&opts), "options");
    natsOptions_SetURL(opts, url.c_str());
    natsOptions_SetSendAsap(opts, send_asap);
    const natsStatus s = natsConnection_Connect(&nc_, opts);
    natsOptions_Destroy(opts);
    check(s, "connect to " + url);
    jsOptions js_opts;
    jsOptions_Init(&js_opts);
    js_opts.Wait = 60000;  // API requests (stream and consumer creation) on a loaded machine
    if (max_pending > 0) {
      js_opts.PublishAsync.MaxPending = max_pending;
      js_opts.PublishAsync.StallWait = 600000;  // a full window waits for acks (up to 10 min), it does not fail
    }
    if (async_errors != nullptr) {
      js_opts.PublishAsync.ErrHandler = [](jsCtx*, jsPubAckErr*, void* closure) {
        static_cast<std::atomic<int>*>(closure)->fetch_add(1);
      };
      js_opts.PublishAsync.ErrHandlerClosure = async_errors;
    }
    if (const natsStatus js = natsConnection_JetStream(&js_, nc_, &js_opts); js != NATS_OK) {
      natsConnection_Destroy(nc_);
      fail("JetStream context", js);
    }
  }
  ~Connection() {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  jsCtx* js() const noexcept { return js_; }

 private:
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

// A stream on file storage (one replica: one server), made for one measurement and deleted
// after it, with one durable pull consumer per department ("d0", "d1", ...) with explicit acks.
class Stream {
 public:
  Stream(const std::string& url, std::size_t consumers) : admin_(url, false) {
    const int n = counter_++;
    name_ = "HUB" + std::to_string(n);
    subject_ = "hub." + std::to_string(n);
    const char* subjects[] = {subject_.c_str()};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name_.c_str();
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = 1;
    jsStreamInfo* info = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    check(js_AddStream(&info, admin_.js(), &cfg, nullptr, &js_error), "add stream " + name_, js_error);
    jsStreamInfo_Destroy(info);
    for (std::size_t c = 0; c < consumers; ++c) {
      const std::string durable = consumer_name(c);
      jsConsumerConfig cc;
      jsConsumerConfig_Init(&cc);
      cc.Durable = durable.c_str();
      cc.AckPolicy = js_AckExplicit;
      cc.DeliverPolicy = js_DeliverAll;
      cc.MaxAckPending = 10000;  // above the 512 a consumer has unacknowledged at most: never the limit
      jsConsumerInfo* ci = nullptr;
      check(js_AddConsumer(&ci, admin_.js(), name_.c_str(), &cc, nullptr, &js_error), "add consumer " + durable,
            js_error);
      jsConsumerInfo_Destroy(ci);
    }
  }
  ~Stream() { js_DeleteStream(admin_.js(), name_.c_str(), nullptr, nullptr); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  const std::string& name() const noexcept { return name_; }
  const std::string& subject() const noexcept { return subject_; }
  static std::string consumer_name(std::size_t c) {
    std::string name = "d";
    name += std::to_string(c);
    return name;
  }

 private:
  static inline std::atomic<int> counter_{0};
  Connection admin_;
  std::string name_;
  std::string subject_;
};

// The message body: the event's index in the run, a newline, then the event (Redis carries the
// index as a field beside the event).
std::string body(const std::vector<std::string>& payloads, std::size_t index) {
  std::string b = std::to_string(index);
  b += '\n';
  b += payloads[index % payloads.size()];
  return b;
}

void publish_sync(Connection& c, const std::string& subject, const std::string& data) {
  jsPubAck* ack = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  check(js_Publish(&ack, c.js(), subject.c_str(), data.data(), static_cast<int>(data.size()), nullptr, &js_error),
        "publish", js_error);
  jsPubAck_Destroy(ack);
}

// Publishes payloads[0..n) asynchronously with the connection's window and waits until every
// publish is acknowledged; throws if the server refused any.
void publish_async(Connection& c, const std::atomic<int>& errors, const std::string& subject,
                   const std::vector<std::string>& payloads) {
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const std::string data = body(payloads, i);
    check(js_PublishAsync(c.js(), subject.c_str(), data.data(), static_cast<int>(data.size()), nullptr),
          "publish async");
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = 600000;
  check(js_PublishAsyncComplete(c.js(), &wait), "wait for publish acks");
  if (errors.load() != 0) throw std::runtime_error("jetstream: " + std::to_string(errors.load()) + " publishes failed");
}

// A department's loop: fetch up to 512 messages, acknowledge each (natsMsg_Ack; the last one
// with AckSync, whose reply comes after the server processed it, the others having gone before
// it on the same connection), then call
// on_acked(index) for each; stops after `expected` messages.
template <typename OnAcked>
void consume(const std::string& url, const Stream& stream, std::size_t consumer, std::size_t expected,
             OnAcked on_acked) {
  Connection c(url, false);
  const std::string durable = Stream::consumer_name(consumer);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.name().c_str();
  so.Consumer = durable.c_str();  // bind to the durable made beforehand
  natsSubscription* sub = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  check(js_PullSubscribe(&sub, c.js(), stream.subject().c_str(), durable.c_str(), nullptr, &so, &js_error),
        "pull subscribe " + durable, js_error);
  std::vector<std::size_t> indices;
  std::size_t done = 0;
  try {
    while (done < expected) {
      natsMsgList list{nullptr, 0};
      const natsStatus s = natsSubscription_Fetch(&list, sub, 512, 100, &js_error);
      if (s == NATS_TIMEOUT) continue;
      check(s, "fetch", js_error);
      indices.clear();
      for (int m = 0; m < list.Count; ++m) {
        natsMsg* msg = list.Msgs[m];
        indices.push_back(std::strtoull(natsMsg_GetData(msg), nullptr, 10));
        const natsStatus a =
            m + 1 < list.Count ? natsMsg_Ack(msg, nullptr) : natsMsg_AckSync(msg, nullptr, &js_error);
        if (a != NATS_OK) {
          natsMsgList_Destroy(&list);
          fail("ack", a, js_error);
        }
      }
      natsMsgList_Destroy(&list);
      for (std::size_t i : indices) on_acked(i);
      done += indices.size();
    }
  } catch (...) {
    natsSubscription_Destroy(sub);
    throw;
  }
  natsSubscription_Destroy(sub);  // not Unsubscribe: the durable stays with the stream
}

// One consumer per department, each on its own thread running consume() for `expected`
// messages and calling on_acked(department, index). join() waits for all and rethrows the first
// failure; join_without_rethrow() only waits (join() rethrows afterwards).
class ConsumerThreads {
 public:
  using OnAcked = std::function<void(std::size_t, std::size_t)>;
  ConsumerThreads(const std::string& url, const Stream& stream, std::size_t consumers, std::size_t expected,
                  OnAcked on_acked = [](std::size_t, std::size_t) {})
      : failures_(consumers), on_acked_(std::move(on_acked)) {
    for (std::size_t d = 0; d < consumers; ++d) {
      threads_.emplace_back([this, url, &stream, d, expected] {
        try {
          consume(url, stream, d, expected, [this, d](std::size_t i) { on_acked_(d, i); });
        } catch (...) {
          failures_[d] = std::current_exception();
        }
      });
    }
  }
  ~ConsumerThreads() { join_without_rethrow(); }
  ConsumerThreads(const ConsumerThreads&) = delete;
  ConsumerThreads& operator=(const ConsumerThreads&) = delete;

  void join_without_rethrow() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  void join() {
    join_without_rethrow();
    for (auto& f : failures_)
      if (f) std::rethrow_exception(f);
  }

 private:
  std::vector<std::exception_ptr> failures_;
  OnAcked on_acked_;
  std::vector<std::thread> threads_;
};

std::string command_output(const char* command) {
  std::string out;
  if (FILE* p = ::popen(command, "r")) {
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, p) != nullptr) out += buffer;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

std::string JetStreamServer::unavailable() {
  if (std::system("command -v nats-server >/dev/null 2>&1") != 0) return "nats-server not found";
  return "";
}

std::string JetStreamServer::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

JetStreamServer::JetStreamServer(const std::string& dir) : port_(free_tcp_port()) {
  version_ = command_output("nats-server --version 2>&1");
  // No sync option: 2.9 has none (see the header); its file store syncs every 2 minutes.
  child_ = std::make_unique<Child>(std::vector<std::string>{"nats-server", "-a", "127.0.0.1", "-p",
                                                            std::to_string(port_), "-js", "-sd", dir + "/store"},
                                   dir + "/nats.log");
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  for (;;) {
    try {
      Stream probe(url(), 0);  // JetStream answers: a stream can be made (and is deleted)
      return;
    } catch (const std::exception&) {
      if (Clock::now() > deadline || !child_->running())
        throw std::runtime_error("nats-server did not start with JetStream (see " + dir + "/nats.log)");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

JetStreamServer::~JetStreamServer() { child_->stop(std::chrono::seconds(10)); }

double jetstream_publish_single(const JetStreamServer& server, const std::vector<std::string>& payloads,
                                std::size_t count) {
  Stream stream(server.url(), 0);
  Connection c(server.url(), true);
  std::vector<std::string> bodies;
  for (std::size_t i = 0; i < count; ++i) bodies.push_back(body(payloads, i));
  const auto start = Clock::now();
  for (const auto& b : bodies) publish_sync(c, stream.subject(), b);
  return static_cast<double>(count) / seconds_since(start);
}

double jetstream_publish_batched(const JetStreamServer& server, const std::vector<std::string>& payloads,
                                 std::size_t in_flight) {
  Stream stream(server.url(), 0);
  std::atomic<int> errors{0};
  Connection c(server.url(), false, static_cast<std::int64_t>(in_flight), &errors);
  const auto start = Clock::now();
  publish_async(c, errors, stream.subject(), payloads);
  return static_cast<double>(payloads.size()) / seconds_since(start);
}

double jetstream_fanout(const JetStreamServer& server, const std::vector<std::string>& payloads,
                        std::size_t consumers) {
  Stream stream(server.url(), consumers);
  {
    std::atomic<int> errors{0};
    Connection c(server.url(), false, 4000, &errors);
    publish_async(c, errors, stream.subject(), payloads);
  }
  const auto start = Clock::now();
  ConsumerThreads threads(server.url(), stream, consumers, payloads.size());
  threads.join();
  return static_cast<double>(payloads.size() * consumers) / seconds_since(start);
}

double jetstream_deliver_all(const JetStreamServer& server, const std::vector<std::string>& payloads,
                             std::size_t consumers, std::size_t in_flight) {
  Stream stream(server.url(), consumers);
  std::atomic<int> errors{0};
  Connection c(server.url(), false, static_cast<std::int64_t>(in_flight), &errors);
  const auto start = Clock::now();
  ConsumerThreads threads(server.url(), stream, consumers, payloads.size());
  std::exception_ptr publish_failure;
  try {
    publish_async(c, errors, stream.subject(), payloads);
  } catch (...) {
    publish_failure = std::current_exception();
  }
  threads.join_without_rethrow();  // a consumer gives up only by failing; see fetch's timeout
  const double seconds = seconds_since(start);
  if (publish_failure) std::rethrow_exception(publish_failure);
  threads.join();
  return seconds;
}

LatencySamples jetstream_latency(const JetStreamServer& server, const std::vector<std::string>& payloads,
                                 std::size_t count, double rate, std::size_t threads, std::size_t consumers) {
  Stream stream(server.url(), consumers);
  std::vector<std::vector<Clock::time_point>> acked(consumers, std::vector<Clock::time_point>(count));
  ConsumerThreads consumer_threads(server.url(), stream, consumers, count,
                                   [&](std::size_t d, std::size_t i) { acked[d][i] = Clock::now(); });
  const std::string url = server.url();
  PacedRun run = paced_publish(count, rate, threads, [&]() -> Publisher {
    auto c = std::make_shared<Connection>(url, true);
    return [c, &payloads, &stream](std::size_t i) { publish_sync(*c, stream.subject(), body(payloads, i)); };
  });
  consumer_threads.join();
  LatencySamples out;
  for (std::size_t i = 0; i < count; ++i) {
    out.acked_ms.push_back((run.acked_s[i] - run.due_s[i]) * 1000.0);
    Clock::time_point last = acked[0][i];
    for (std::size_t d = 1; d < consumers; ++d) last = std::max(last, acked[d][i]);
    out.all_groups_ms.push_back((seconds_between(run.start, last) - run.due_s[i]) * 1000.0);
  }
  return out;
}

}  // namespace hub::bench

#include "redis_streams.h"

#include <hiredis/hiredis.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace hub::bench {

namespace {

// One hiredis connection; every reply is checked.
class Connection {
 public:
  explicit Connection(int port) : c_(redisConnect("127.0.0.1", port)) {
    if (c_ == nullptr || c_->err != 0) {
      const std::string why = c_ != nullptr ? c_->errstr : "out of memory";
      if (c_ != nullptr) redisFree(c_);
      throw std::runtime_error("redis: cannot connect: " + why);
    }
  }
  ~Connection() { redisFree(c_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void append(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(c_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) fail("append");
  }
  // The next reply (owned by the caller through the returned pointer).
  std::unique_ptr<redisReply, void (*)(void*)> reply() {
    void* r = nullptr;
    if (redisGetReply(c_, &r) != REDIS_OK || r == nullptr) fail("reply");
    auto* reply = static_cast<redisReply*>(r);
    if (reply->type == REDIS_REPLY_ERROR) {
      const std::string message(reply->str, reply->len);
      freeReplyObject(reply);
      throw std::runtime_error("redis: " + message);
    }
    return {reply, freeReplyObject};
  }
  auto command(const std::vector<std::string>& args) {
    append(args);
    return reply();
  }

 private:
  [[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string("redis ") + what + ": " + c_->errstr);
  }
  redisContext* c_;
};

// "g0", "g1", ...: one consumer group per department. (Built with += rather than
// "g" + std::to_string(g): GCC 12 at -O3 warns falsely (-Wrestrict) about the latter.)
std::string group_name(std::size_t g) {
  std::string name = "g";
  name += std::to_string(g);
  return name;
}

std::atomic<int> stream_counter{0};
std::string fresh_stream() { return "hub-bench-" + std::to_string(stream_counter++); }

std::vector<std::string> xadd(const std::string& stream, const std::string& payload, std::size_t index) {
  return {"XADD", stream, "*", "i", std::to_string(index), "b", payload};
}

// A consumer group's loop: read up to 512 entries, acknowledge them in one XACK, and call
// on_acked(index) for each entry once the XACK reply arrived; stops after `expected` entries.
template <typename OnAcked>
void consume(int port, const std::string& stream, const std::string& group, std::size_t expected, OnAcked on_acked) {
  Connection c(port);
  std::size_t done = 0;
  std::vector<std::size_t> indices;
  while (done < expected) {
    auto r = c.command({"XREADGROUP", "GROUP", group, "c", "COUNT", "512", "BLOCK", "100", "STREAMS", stream, ">"});
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) continue;
    const redisReply* entries = r->element[0]->element[1];
    std::vector<std::string> ack{"XACK", stream, group};
    indices.clear();
    for (std::size_t e = 0; e < entries->elements; ++e) {
      const redisReply* entry = entries->element[e];
      ack.emplace_back(entry->element[0]->str, entry->element[0]->len);
      const redisReply* fields = entry->element[1];
      indices.push_back(std::strtoull(fields->element[1]->str, nullptr, 10));
    }
    c.command(ack);
    for (std::size_t i : indices) on_acked(i);
    done += indices.size();
  }
}

void create_groups(Connection& c, const std::string& stream, std::size_t groups) {
  for (std::size_t g = 0; g < groups; ++g)
    c.command({"XGROUP", "CREATE", stream, group_name(g), "0", "MKSTREAM"});
}

}  // namespace

bool RedisServer::available() { return std::system("command -v redis-server >/dev/null 2>&1") == 0; }

RedisServer::RedisServer(const std::string& dir) : port_(free_tcp_port()) {
  child_ = std::make_unique<Child>(
      std::vector<std::string>{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir", dir,
                               "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
                               "--protected-mode", "no"},
      dir + "/redis.log");
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    try {
      Connection c(port_);
      c.command({"PING"});
      return;
    } catch (const std::exception&) {
      if (Clock::now() > deadline || !child_->running())
        throw std::runtime_error("redis-server did not start (see " + dir + "/redis.log)");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

RedisServer::~RedisServer() { child_->stop(std::chrono::seconds(10)); }

double redis_publish_single(const RedisServer& server, const std::vector<std::string>& payloads, std::size_t count) {
  Connection c(server.port());
  const std::string stream = fresh_stream();
  const auto start = Clock::now();
  for (std::size_t i = 0; i < count; ++i) c.command(xadd(stream, payloads[i % payloads.size()], i));
  const double rate = static_cast<double>(count) / seconds_since(start);
  c.command({"DEL", stream});
  return rate;
}

double redis_publish_batched(const RedisServer& server, const std::vector<std::string>& payloads, std::size_t batch) {
  Connection c(server.port());
  const std::string stream = fresh_stream();
  const auto start = Clock::now();
  for (std::size_t first = 0; first < payloads.size(); first += batch) {
    const std::size_t n = std::min(batch, payloads.size() - first);
    for (std::size_t i = 0; i < n; ++i) c.append(xadd(stream, payloads[first + i], first + i));
    for (std::size_t i = 0; i < n; ++i) c.reply();
  }
  const double rate = static_cast<double>(payloads.size()) / seconds_since(start);
  c.command({"DEL", stream});
  return rate;
}

double redis_fanout(const RedisServer& server, const std::vector<std::string>& payloads, std::size_t groups) {
  Connection c(server.port());
  const std::string stream = fresh_stream();
  for (std::size_t first = 0; first < payloads.size(); first += 1000) {
    const std::size_t n = std::min<std::size_t>(1000, payloads.size() - first);
    for (std::size_t i = 0; i < n; ++i) c.append(xadd(stream, payloads[first + i], first + i));
    for (std::size_t i = 0; i < n; ++i) c.reply();
  }
  create_groups(c, stream, groups);
  const auto start = Clock::now();
  std::vector<std::thread> consumers;
  for (std::size_t g = 0; g < groups; ++g) {
    consumers.emplace_back(
        [&, g] { consume(server.port(), stream, group_name(g), payloads.size(), [](std::size_t) {}); });
  }
  for (auto& t : consumers) t.join();
  const double rate = static_cast<double>(payloads.size() * groups) / seconds_since(start);
  c.command({"DEL", stream});
  return rate;
}

double redis_deliver_all(const RedisServer& server, const std::vector<std::string>& payloads, std::size_t groups,
                         std::size_t batch) {
  Connection c(server.port());
  const std::string stream = fresh_stream();
  create_groups(c, stream, groups);
  const auto start = Clock::now();
  std::vector<std::thread> consumers;
  for (std::size_t g = 0; g < groups; ++g) {
    consumers.emplace_back(
        [&, g] { consume(server.port(), stream, group_name(g), payloads.size(), [](std::size_t) {}); });
  }
  for (std::size_t first = 0; first < payloads.size(); first += batch) {
    const std::size_t n = std::min(batch, payloads.size() - first);
    for (std::size_t i = 0; i < n; ++i) c.append(xadd(stream, payloads[first + i], first + i));
    for (std::size_t i = 0; i < n; ++i) c.reply();
  }
  for (auto& t : consumers) t.join();
  const double seconds = seconds_since(start);
  c.command({"DEL", stream});
  return seconds;
}

LatencySamples redis_latency(const RedisServer& server, const std::vector<std::string>& payloads, std::size_t count,
                             double rate, std::size_t threads, std::size_t groups) {
  Connection admin(server.port());
  const std::string stream = fresh_stream();
  create_groups(admin, stream, groups);
  std::vector<std::vector<Clock::time_point>> acked(groups, std::vector<Clock::time_point>(count));
  std::vector<std::thread> consumers;
  for (std::size_t g = 0; g < groups; ++g) {
    consumers.emplace_back([&, g] {
      consume(server.port(), stream, group_name(g), count,
              [&](std::size_t i) { acked[g][i] = Clock::now(); });
    });
  }
  PacedRun run = paced_publish(count, rate, threads, [&]() -> Publisher {
    auto c = std::make_shared<Connection>(server.port());
    return [c, &payloads, &stream](std::size_t i) { c->command(xadd(stream, payloads[i % payloads.size()], i)); };
  });
  for (auto& t : consumers) t.join();
  LatencySamples out;
  for (std::size_t i = 0; i < count; ++i) {
    out.acked_ms.push_back((run.acked_s[i] - run.due_s[i]) * 1000.0);
    Clock::time_point last = acked[0][i];
    for (std::size_t g = 1; g < groups; ++g) last = std::max(last, acked[g][i]);
    out.all_groups_ms.push_back((seconds_between(run.start, last) - run.due_s[i]) * 1000.0);
  }
  admin.command({"DEL", stream});
  return out;
}

}  // namespace hub::bench

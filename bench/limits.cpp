#include "limits.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <thread>
#include <zmq.hpp>

#include "bench_support.h"

namespace hub::bench {

namespace fs = std::filesystem;

double zmq_tcp_throughput(const std::string& message, std::size_t count) {
  zmq::context_t context;
  zmq::socket_t pull(context, zmq::socket_type::pull);
  zmq::socket_t push(context, zmq::socket_type::push);
  pull.set(zmq::sockopt::rcvhwm, 0);
  push.set(zmq::sockopt::sndhwm, 0);
  pull.bind("tcp://127.0.0.1:*");
  push.connect(pull.get(zmq::sockopt::last_endpoint));
  // The first message connects the pair; time from there.
  push.send(zmq::buffer(message));
  zmq::message_t first;
  (void)pull.recv(first);

  const auto start = Clock::now();
  std::thread receiver([&] {
    zmq::message_t m;
    for (std::size_t i = 0; i < count; ++i) (void)pull.recv(m);
  });
  for (std::size_t i = 0; i < count; ++i) push.send(zmq::buffer(message));
  receiver.join();
  return static_cast<double>(count) / seconds_since(start);
}

std::vector<double> zmq_tcp_round_trips(const std::string& message, std::size_t count) {
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  std::thread echo([&] {
    for (std::size_t i = 0; i < count + 1; ++i) {
      zmq::message_t id, body;
      (void)router.recv(id);
      (void)router.recv(body);
      router.send(id, zmq::send_flags::sndmore);
      router.send(body, zmq::send_flags::none);
    }
  });
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.connect(endpoint);
  std::vector<double> ms;
  ms.reserve(count);
  zmq::message_t reply;
  dealer.send(zmq::buffer(message));  // warm-up: connects
  (void)dealer.recv(reply);
  for (std::size_t i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    dealer.send(zmq::buffer(message));
    (void)dealer.recv(reply);
    ms.push_back(seconds_since(t0) * 1000.0);
  }
  echo.join();
  return ms;
}

namespace {

// A scratch SQLite database configured like the hub's files.
class ScratchDb {
 public:
  explicit ScratchDb(const std::string& path) : path_(path) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + path);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
  }
  ~ScratchDb() {
    sqlite3_close(db_);
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);
  }
  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error != nullptr ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error(std::string("sqlite: ") + message + " in " + sql);
    }
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db_));
    return s;
  }
  static void run(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) throw std::runtime_error("sqlite insert failed");
    sqlite3_reset(s);
  }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

std::string event_id(std::size_t i) { return "ev-2020Q3-V01-" + std::to_string(1000000 + i); }

}  // namespace

double sqlite_append_rate(const std::string& dir, std::size_t rows, std::size_t rows_per_transaction,
                          const std::string& body) {
  ScratchDb db(dir + "/append.db");
  db.exec("CREATE TABLE event (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL)");
  sqlite3_stmt* insert = db.prepare("INSERT INTO event (seq, event_id, body) VALUES (?, ?, ?)");
  const auto start = Clock::now();
  for (std::size_t done = 0; done < rows;) {
    db.exec("BEGIN");
    for (std::size_t i = 0; i < rows_per_transaction && done < rows; ++i, ++done) {
      const std::string id = event_id(done);
      sqlite3_bind_int64(insert, 1, static_cast<sqlite3_int64>(done + 1));
      sqlite3_bind_text(insert, 2, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 3, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
      ScratchDb::run(insert);
    }
    db.exec("COMMIT");
  }
  const double rate = static_cast<double>(rows) / seconds_since(start);
  sqlite3_finalize(insert);
  return rate;
}

double sqlite_event_with_ledger_rate(const std::string& dir, std::size_t events, std::size_t events_per_transaction,
                                     std::size_t departments, const std::string& body) {
  ScratchDb db(dir + "/ledger.db");
  db.exec("CREATE TABLE event (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL)");
  db.exec(
      "CREATE TABLE delivery (department TEXT NOT NULL, seq INTEGER NOT NULL, actions TEXT NOT NULL, "
      "PRIMARY KEY (department, seq)) WITHOUT ROWID");
  sqlite3_stmt* insert_event = db.prepare("INSERT INTO event (seq, event_id, body) VALUES (?, ?, ?)");
  sqlite3_stmt* insert_delivery = db.prepare("INSERT INTO delivery (department, seq, actions) VALUES (?, ?, ?)");
  const std::string actions = body.substr(0, std::min<std::size_t>(body.size(), 160));
  std::vector<std::string> names;
  for (std::size_t d = 0; d < departments; ++d) names.push_back("department_" + std::to_string(d));
  const auto start = Clock::now();
  for (std::size_t done = 0; done < events;) {
    db.exec("BEGIN");
    const std::size_t first = done;
    const std::size_t n = std::min(events_per_transaction, events - done);
    for (std::size_t i = 0; i < n; ++i) {
      const std::string id = event_id(first + i);
      sqlite3_bind_int64(insert_event, 1, static_cast<sqlite3_int64>(first + i + 1));
      sqlite3_bind_text(insert_event, 2, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(insert_event, 3, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
      ScratchDb::run(insert_event);
    }
    for (const auto& name : names) {  // key order: department, then seq
      for (std::size_t i = 0; i < n; ++i) {
        sqlite3_bind_text(insert_delivery, 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
        sqlite3_bind_int64(insert_delivery, 2, static_cast<sqlite3_int64>(first + i + 1));
        sqlite3_bind_text(insert_delivery, 3, actions.data(), static_cast<int>(actions.size()), SQLITE_STATIC);
        ScratchDb::run(insert_delivery);
      }
    }
    db.exec("COMMIT");
    done += n;
  }
  const double rate = static_cast<double>(events) / seconds_since(start);
  sqlite3_finalize(insert_event);
  sqlite3_finalize(insert_delivery);
  return rate;
}

double fsync_rate(const std::string& dir, double seconds) {
  const std::string path = dir + "/fsync.bin";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + path);
  const std::string block(512, 'x');
  std::size_t calls = 0;
  const auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>((calls % 64) * block.size())) < 0 ||
        ::fdatasync(fd) != 0) {
      ::close(fd);
      throw std::runtime_error("write/fdatasync failed on " + path);
    }
    ++calls;
  }
  const double rate = static_cast<double>(calls) / seconds_since(start);
  ::close(fd);
  fs::remove(path);
  return rate;
}

}  // namespace hub::bench

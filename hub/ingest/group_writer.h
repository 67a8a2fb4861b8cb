// Ingest's commit thread: writes the event log's group in flight (EventLog::write_in_flight,
// eventlog/event_log.h) while the ingest thread reads, parses and stages the next group. On a
// normal disk a group's commit (its fsync included) is about as long as reading and staging the
// next one, and the two cores can do both at once.
//
// One write at a time, started by start() on the ingest thread; the end of the write makes
// done_socket() readable (an inproc PAIR), so the ingest thread waits for it in the same
// zmq::poll as for its publishers; collect() then gives the write's failure, if any. Nothing
// else of the EventLog is touched on the commit thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "domain/status.h"

namespace hub {

class EventLog;

class GroupWriter {
 public:
  // Starts the commit thread.
  GroupWriter(zmq::context_t& context, EventLog& log);
  // Waits for a write in progress to end, then stops the thread.
  ~GroupWriter();
  GroupWriter(const GroupWriter&) = delete;
  GroupWriter& operator=(const GroupWriter&) = delete;

  // Writes the log's group in flight, received at `received_at_ms`, on the commit thread.
  void start(std::int64_t received_at_ms);
  bool busy() const noexcept { return busy_; }
  // Readable (ZMQ_POLLIN) when the write started last has ended.
  zmq::socket_t& done_socket() noexcept { return ingest_side_; }
  // Without waiting: true when the write started last has ended (collect() will not block).
  bool done();
  // After done_socket() was readable: reads its message; the write's failure, or nothing.
  // Any other exception of the write counts as a storage failure whose outcome is unknown.
  std::optional<StorageError> collect();
  // Blocks until the write in progress (if any) has ended; then as collect().
  std::optional<StorageError> wait();

 private:
  void serve(zmq::context_t& context);

  EventLog& log_;
  const std::string endpoint_;
  zmq::socket_t ingest_side_;  // PAIR, bound; used on the ingest thread only
  bool busy_ = false;          // ingest thread only
  std::mutex mutex_;
  std::int64_t received_at_ms_ = 0;      // under mutex_: the write asked for
  bool stop_ = false;                    // under mutex_: end the thread
  std::optional<StorageError> failure_;  // under mutex_: the last write's
  std::thread thread_;
};

}  // namespace hub

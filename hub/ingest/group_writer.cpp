#include "ingest/group_writer.h"

#include <cstdio>
#include <exception>

#include <spdlog/spdlog.h>

#include "eventlog/event_log.h"

namespace hub {
namespace {

std::string unique_endpoint(const void* owner) {
  char text[64];
  std::snprintf(text, sizeof text, "inproc://ingest-group-writer-%p", owner);
  return text;
}

}  // namespace

GroupWriter::GroupWriter(zmq::context_t& context, EventLog& log)
    : log_(log), endpoint_(unique_endpoint(this)), ingest_side_(context, zmq::socket_type::pair) {
  ingest_side_.set(zmq::sockopt::linger, 0);
  ingest_side_.bind(endpoint_);  // before the thread connects: inproc needs the bind first
  thread_ = std::thread([this, &context] { serve(context); });
}

GroupWriter::~GroupWriter() {
  try {
    if (busy_) (void)wait();
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    ingest_side_.send(zmq::str_buffer("stop"), zmq::send_flags::none);
  } catch (const std::exception& e) {
    spdlog::error("ingest: stopping the commit thread: {}", e.what());
  }
  if (thread_.joinable()) thread_.join();
}

void GroupWriter::start(std::int64_t received_at_ms) {
  busy_ = true;
  {
    // The mutex, not only the message, orders the group's hand-over for the thread (and for
    // ThreadSanitizer, which cannot see libzmq's own ordering).
    std::lock_guard lock(mutex_);
    received_at_ms_ = received_at_ms;
  }
  ingest_side_.send(zmq::str_buffer("write"), zmq::send_flags::none);
}

bool GroupWriter::done() {
  return busy_ && (ingest_side_.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
}

std::optional<StorageError> GroupWriter::collect() {
  zmq::message_t done;
  (void)ingest_side_.recv(done, zmq::recv_flags::none);
  busy_ = false;
  std::lock_guard lock(mutex_);
  std::optional<StorageError> failure = std::move(failure_);
  failure_.reset();
  return failure;
}

std::optional<StorageError> GroupWriter::wait() {
  if (!busy_) return std::nullopt;
  return collect();
}

void GroupWriter::serve(zmq::context_t& context) {
  zmq::socket_t socket(context, zmq::socket_type::pair);
  socket.set(zmq::sockopt::linger, 0);
  socket.connect(endpoint_);
  for (;;) {
    zmq::message_t request;
    try {
      if (!socket.recv(request, zmq::recv_flags::none)) continue;
    } catch (const zmq::error_t& e) {
      spdlog::error("ingest: the commit thread stops: {}", e.what());  // the context is ending
      return;
    }
    std::int64_t received_at_ms = 0;
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
      received_at_ms = received_at_ms_;
    }
    std::optional<StorageError> failure;
    try {
      log_.write_in_flight(received_at_ms);
    } catch (const StorageError& e) {
      failure = e;
    } catch (const std::exception& e) {
      Status status = Status::error("storage_unavailable", std::string("writing the event log failed: ") + e.what());
      status.storage = StorageKind::kBug;
      status.outcome_unknown = true;  // nothing says whether the transaction ended
      failure = StorageError(std::move(status));
    }
    {
      std::lock_guard lock(mutex_);
      failure_ = std::move(failure);
    }
    try {
      socket.send(zmq::str_buffer("done"), zmq::send_flags::none);
    } catch (const zmq::error_t& e) {
      spdlog::error("ingest: the commit thread stops: {}", e.what());
      return;
    }
  }
}

}  // namespace hub

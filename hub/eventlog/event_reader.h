// Reads committed events back from events.db for delivery and the live feed, in sequence
// order, through its own read-only connection.
//
// Used by one thread at a time: the thread that opened it (the dispatcher's, or the live
// feed's). Readers never block the ingest thread's writer (WAL).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/logged_event.h"
#include "store/sqlite/database.h"

namespace hub {

class EventReader {
 public:
  explicit EventReader(const std::string& path);
  // Events with from <= seq <= to, in sequence order.
  std::vector<LoggedEvent> read(std::uint64_t from, std::uint64_t to);
  // When the event was received, or 0 if unknown.
  std::int64_t received_at(std::uint64_t seq);

 private:
  store::Database db_;
  store::Statement range_;
  store::Statement received_;
};

}  // namespace hub

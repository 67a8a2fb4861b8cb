// Reads committed events back from the event log for delivery and the live feed, in sequence
// order. The contract a storage backend implements (hub/store/sqlite/sqlite_event_store.h).
//
// A reader is used by one thread at a time: the thread that opened it (the dispatcher's, or the
// live feed's), which is why its users are handed an opener rather than a reader. Readers never
// block the ingest thread's writer. Methods throw StorageError (domain/status.h) when the store
// cannot be read.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "domain/logged_event.h"
#include "domain/status.h"

namespace hub {

class EventReader {
 public:
  virtual ~EventReader() = default;
  // Events with from <= seq <= to, in sequence order.
  virtual std::vector<LoggedEvent> read(std::uint64_t from, std::uint64_t to) = 0;
  // When the event was received, or 0 if unknown.
  virtual std::int64_t received_at(std::uint64_t seq) = 0;
};

// Opens a reader on the calling thread; throws StorageError when it cannot.
using EventReaderOpener = std::function<std::unique_ptr<EventReader>()>;

}  // namespace hub

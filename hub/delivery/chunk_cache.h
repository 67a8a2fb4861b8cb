// The events the dispatcher delivers, read from the event log in runs that never cross a
// boundary of 1,024 seqs and shared read-only by every department at a similar position
// (domain/logged_event.h's EventChunk): a bounded cache, most recently used first, so that
// departments a little apart read the log once between them. A run starts where the first
// department that needed it was: at a chunk's first event for a department catching up
// (batches end at the boundaries), at the new events for departments at the end of the log.
//
// Owned by the dispatcher and used only on the delivery thread; it opens its own read-only
// connection to events.db on first use (not in the constructor, which runs on hubd's main
// thread).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <utility>

#include "domain/logged_event.h"
#include "eventlog/event_reader.h"

namespace hub::delivery {

class ChunkCache {
 public:
  // Opens its reader with `open` on first use (on the thread that uses the cache).
  explicit ChunkCache(EventReaderOpener open);

  // A run holding `seq` and every event after it up to the boundary or `last_seq` (the last
  // one committed), whichever comes first: a run cached before the log grew is not used again,
  // the new events are read from `seq`. Throws when the log lacks events, and StorageError
  // when it cannot be read (the reader is then opened again on next use).
  std::shared_ptr<const EventChunk> containing(std::uint64_t seq, std::uint64_t last_seq);
  // When event `seq` was received, or 0 if unknown.
  std::int64_t received_at(std::uint64_t seq);

 private:
  EventReader& reader();
  template <class F>
  decltype(auto) reading(F&& read);

  EventReaderOpener open_;
  std::unique_ptr<EventReader> reader_;
  std::list<std::shared_ptr<const EventChunk>> chunks_;  // most recently used first
};

}  // namespace hub::delivery

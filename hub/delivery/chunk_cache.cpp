#include "delivery/chunk_cache.h"

#include <algorithm>
#include <stdexcept>

namespace hub::delivery {

namespace {

constexpr std::uint64_t kChunkEvents = 1024;
constexpr std::size_t kMaxCachedChunks = 48;

}  // namespace

ChunkCache::ChunkCache(EventReaderOpener open) : open_(std::move(open)) {}

EventReader& ChunkCache::reader() {
  if (!reader_) reader_ = open_();
  return *reader_;
}

// A reader whose store failed is dropped and opened again on next use: a connection lost to a
// database server (or a file that could not be read) is not reused.
template <class F>
decltype(auto) ChunkCache::reading(F&& read) {
  try {
    return read(reader());
  } catch (const StorageError&) {
    reader_.reset();
    throw;
  }
}

std::int64_t ChunkCache::received_at(std::uint64_t seq) {
  return reading([seq](EventReader& r) { return r.received_at(seq); });
}

namespace {

// The last seq of the 1,024-event chunk that holds `seq`: no read goes past it.
std::uint64_t chunk_end(std::uint64_t seq) { return ((seq - 1) / kChunkEvents + 1) * kChunkEvents; }

}  // namespace

std::shared_ptr<const EventChunk> ChunkCache::containing(std::uint64_t seq, std::uint64_t last_seq) {
  const std::uint64_t last = std::min(chunk_end(seq), last_seq);
  std::shared_ptr<const EventChunk> found;
  for (auto it = chunks_.begin(); it != chunks_.end();) {
    const EventChunk& c = **it;
    const std::uint64_t c_last = c.first_seq + c.events.size() - 1;
    if (c_last < std::min(chunk_end(c.first_seq), last_seq)) {
      it = chunks_.erase(it);  // the log has grown past it: no department will be served from it again
      continue;
    }
    if (!found && c.first_seq <= seq && c_last >= last) {
      found = *it;
      chunks_.splice(chunks_.begin(), chunks_, it++);  // most recently used first
      continue;
    }
    ++it;
  }
  if (found) return found;
  // Read from `seq`, not from the chunk's first event: at the end of the log, where each new
  // event is pumped as it is committed, the cache would otherwise read the whole chunk so far
  // again for every new event (up to 1,024 rows for one).
  auto c = std::make_shared<EventChunk>();
  c->first_seq = seq;
  c->events = reading([seq, last](EventReader& r) { return r.read(seq, last); });
  if (c->events.empty() || c->events.front().seq != seq || c->events.back().seq != last)
    throw std::runtime_error("event log is missing events " + std::to_string(seq) + ".." + std::to_string(last));
  for (const LoggedEvent& e : c->events) c->has_notice_events = c->has_notice_events || e.from_notice;
  chunks_.emplace_front(c);
  if (chunks_.size() > kMaxCachedChunks) chunks_.pop_back();
  return c;
}

}  // namespace hub::delivery

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

std::shared_ptr<const EventChunk> ChunkCache::containing(std::uint64_t seq, std::uint64_t last_seq) {
  const std::uint64_t index = (seq - 1) / kChunkEvents;
  const std::uint64_t first = index * kChunkEvents + 1;
  const std::uint64_t last = std::min(first + kChunkEvents - 1, last_seq);
  for (auto it = chunks_.begin(); it != chunks_.end(); ++it) {
    if (it->first != index) continue;
    const auto& c = it->second;
    if (c->first_seq + c->events.size() - 1 >= last) {
      chunks_.splice(chunks_.begin(), chunks_, it);  // most recently used first
      return c;
    }
    chunks_.erase(it);  // a partial chunk that has grown since: read it again
    break;
  }
  auto c = std::make_shared<EventChunk>();
  c->first_seq = first;
  c->events = reading([first, last](EventReader& r) { return r.read(first, last); });
  if (c->events.empty() || c->events.front().seq != first || c->events.back().seq != last)
    throw std::runtime_error("event log is missing events " + std::to_string(first) + ".." + std::to_string(last));
  chunks_.emplace_front(index, c);
  if (chunks_.size() > kMaxCachedChunks) chunks_.pop_back();
  return c;
}

}  // namespace hub::delivery

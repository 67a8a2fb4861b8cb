// A Bloom filter over the event ids the event log holds, so that staging a new event does not
// probe the store's unique index: an id the filter has never seen is certainly new; one it may
// have seen is looked up in the store as before (about 1 % of new ids at the sizes below).
//
// Sized for `capacity` ids at 10 bits and 7 probes per id (a false-positive rate near 1 % when
// full); past its capacity it still answers correctly, only with more false positives, and the
// event log builds a larger one (event_log.h). Memory: capacity x 10 bits (1.25 MB per million
// ids). Owned by the ingest thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace hub {

class EventIdFilter {
 public:
  explicit EventIdFilter(std::size_t capacity = 0);

  void add(std::string_view event_id);
  // False: `event_id` was never added. True: it may have been.
  bool may_contain(std::string_view event_id) const;

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t size() const noexcept { return added_; }  // adds, not distinct ids
  bool full() const noexcept { return added_ > capacity_; }

 private:
  std::size_t capacity_ = 0;
  std::size_t added_ = 0;
  std::vector<std::uint64_t> bits_;
};

}  // namespace hub

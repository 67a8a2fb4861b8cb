#include "eventlog/event_id_filter.h"

#include <algorithm>
#include <functional>

namespace hub {
namespace {

constexpr std::size_t kBitsPerId = 10;
constexpr int kProbes = 7;

// Two independent 64-bit hashes of the id; probe i is h1 + i*h2 (Kirsch–Mitzenmacher).
struct Hashes {
  std::uint64_t h1, h2;
};
Hashes hashes(std::string_view id) {
  const std::uint64_t h = std::hash<std::string_view>{}(id);
  // A second hash from the first by a 64-bit finalizer (splitmix64): enough for the probes.
  std::uint64_t z = h + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return {h, (z ^ (z >> 31)) | 1};  // odd: the probes cover the table
}

}  // namespace

EventIdFilter::EventIdFilter(std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1024)), bits_((capacity_ * kBitsPerId + 63) / 64, 0) {}

void EventIdFilter::add(std::string_view event_id) {
  const Hashes h = hashes(event_id);
  const std::uint64_t n = bits_.size() * 64;
  for (int i = 0; i < kProbes; ++i) {
    const std::uint64_t bit = (h.h1 + static_cast<std::uint64_t>(i) * h.h2) % n;
    bits_[bit / 64] |= std::uint64_t{1} << (bit % 64);
  }
  ++added_;
}

bool EventIdFilter::may_contain(std::string_view event_id) const {
  const Hashes h = hashes(event_id);
  const std::uint64_t n = bits_.size() * 64;
  for (int i = 0; i < kProbes; ++i) {
    const std::uint64_t bit = (h.h1 + static_cast<std::uint64_t>(i) * h.h2) % n;
    if ((bits_[bit / 64] & (std::uint64_t{1} << (bit % 64))) == 0) return false;
  }
  return true;
}

}  // namespace hub

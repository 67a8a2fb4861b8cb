#include "delivery/scheduler.h"

#include <algorithm>

namespace hub::delivery {

Scheduler::Scheduler(EventReaderOpener events, std::size_t batch_events)
    : chunks_(std::move(events)), batch_events_(batch_events) {}

Scheduler::Cut Scheduler::next(std::uint64_t sent_upto, std::uint64_t last_seq, const HeldBack& held, bool ask_each) {
  const std::uint64_t from = sent_upto + 1;
  auto chunk = chunks_.containing(from, last_seq);
  const std::size_t begin = from - chunk->first_seq;
  std::size_t end = std::min<std::size_t>(begin + batch_events_, chunk->events.size());
  if (held && (ask_each || chunk->has_notice_events)) {
    // Events of parked households wait behind their parked event, a confirmed notice's event
    // for its effective date: the batch stops before the first one; when that is the first of
    // the batch, it alone is stepped over.
    std::size_t i = begin;
    while (i < end && !held(chunk->events[i])) ++i;
    if (i == begin) return Cut{nullptr, 0, 0, chunk->events[i].seq};
    end = i;
  }
  Cut cut{nullptr, begin, end, chunk->first_seq + end - 1};
  cut.chunk = std::move(chunk);
  return cut;
}

Scheduler::Cut Scheduler::single(std::uint64_t seq, std::uint64_t last_seq) {
  auto chunk = chunks_.containing(seq, last_seq);
  const std::size_t begin = seq - chunk->first_seq;
  return Cut{std::move(chunk), begin, begin + 1, seq};
}

const LoggedEvent& Scheduler::event_at(std::uint64_t seq, std::uint64_t last_seq) {
  auto chunk = chunks_.containing(seq, last_seq);
  return chunk->events.at(seq - chunk->first_seq);  // the chunk stays cached (most recently used)
}

}  // namespace hub::delivery

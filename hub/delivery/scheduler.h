// The scheduler: what a department is sent next. It cuts batches from the event log's chunks
// (chunk_cache.h, which it owns), in sequence order, from where the department's last batch
// ended: at most `batch_events` events of one chunk, stopping before the first event the
// department must hold back (an event of a household that has a parked event waits behind it,
// and a confirmed notice's event waits for its effective date; the dispatcher records it as
// parked and the scheduler steps over it). The single events of an operator's retry, or of
// hubd's release of an event on its effective date, are cut here too.
//
// What it does not decide: whether a department may be sent anything now (its state, an
// operation waiting for it) and how many batches may be in flight — that is the dispatcher's
// pump() (dispatcher.cpp), the flow control around it.
//
// Owned by the dispatcher; used only on the delivery thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "delivery/chunk_cache.h"
#include "domain/logged_event.h"
#include "eventlog/event_reader.h"

namespace hub::delivery {

class Scheduler {
 public:
  Scheduler(EventReaderOpener events, std::size_t batch_events);

  // Events [begin, end) of `chunk`, or no chunk when the first event after `sent_upto` is held
  // back; `upto` is the last seq the cut covers either way (what the department has been
  // sent, or stepped over, once it is used).
  struct Cut {
    std::shared_ptr<const EventChunk> chunk;
    std::size_t begin = 0;
    std::size_t end = 0;
    std::uint64_t upto = 0;
  };
  // Says whether the department must hold an event back (and records it when it must).
  using HeldBack = std::function<bool(const LoggedEvent&)>;

  // The next batch after `sent_upto` (< last_seq, the last committed event). `held` is asked
  // about every event when `ask_each` (the department has parked events), otherwise only when
  // the chunk has a confirmed notice's events; it may be empty when nothing is held back.
  Cut next(std::uint64_t sent_upto, std::uint64_t last_seq, const HeldBack& held, bool ask_each = true);
  // Event `seq` alone (an operator's retry of a parked event).
  Cut single(std::uint64_t seq, std::uint64_t last_seq);

  // Event `seq` (<= last_seq); valid while the caller uses it (its chunk stays cached).
  const LoggedEvent& event_at(std::uint64_t seq, std::uint64_t last_seq);
  // When event `seq` was received, or 0 if unknown.
  std::int64_t received_at(std::uint64_t seq) { return chunks_.received_at(seq); }

 private:
  ChunkCache chunks_;
  std::size_t batch_events_;
};

}  // namespace hub::delivery

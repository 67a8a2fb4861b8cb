// The dispatcher's writes to the ledger and what it tells its observer: one round's batches, every
// department's, in one transaction, and, once they are durable, what was recorded (a neutral
// record per department, delivery_observer.h) and up to which seq the event log is committed.
// Nothing is told before the commit: the live feed never shows what the ledger may not keep.
//
// Owned by the dispatcher, which collects each department's batch and applies the outcome to
// its cursors; called only on the delivery thread. The Ledger it writes to is the dispatcher's.
#pragma once

#include <cstdint>
#include <vector>

#include "delivery/delivery_observer.h"
#include "delivery/ledger.h"

namespace hub::delivery {

class LedgerCommitter {
 public:
  // `observer` may be null (no live feed).
  LedgerCommitter(Ledger& ledger, DeliveryObserver* observer);

  enum class Outcome {
    kCommitted,     // recorded; the observer was told
    kNotWritten,    // nothing recorded (logged; nothing told)
    kUnknown,       // the commit failed and may have happened: read the cursors again (nothing told)
  };
  // Writes `batches` at `at_ms` in one transaction and tells the observer what was recorded
  // (if it is watching outcomes).
  Outcome commit(std::vector<LedgerBatch>& batches, std::int64_t at_ms);
  // The event log is committed up to `last_seq`.
  void committed_upto(std::uint64_t last_seq);

 private:
  Ledger& ledger_;
  DeliveryObserver* observer_;
};

}  // namespace hub::delivery

#include "delivery/ledger_committer.h"

#include <string>

#include <spdlog/spdlog.h>

namespace hub::delivery {

namespace {

// What the batches recorded, without personal data: seqs, action counts, failed attempts.
std::vector<RecordedOutcome> outcomes_of(const std::vector<LedgerBatch>& batches) {
  std::vector<RecordedOutcome> outcomes;
  for (const LedgerBatch& b : batches) {
    if (b.delivered.empty() && b.failures.empty()) continue;
    RecordedOutcome& o = outcomes.emplace_back();
    o.department = b.department;
    o.delivered.reserve(b.delivered.size());
    for (const auto& delivered : b.delivered) {
      auto& out = o.delivered.emplace_back();
      out.seq = delivered.seq;
      for (const auto& a : delivered.actions) ++out.actions[std::string(hub::sdk::to_string(a.action))];
    }
    for (const auto& f : b.failures) o.failures.push_back({f.seq, f.attempt});
  }
  return outcomes;
}

}  // namespace

LedgerCommitter::LedgerCommitter(Ledger& ledger, DeliveryObserver* observer) : ledger_(ledger), observer_(observer) {}

LedgerCommitter::Outcome LedgerCommitter::commit(std::vector<LedgerBatch>& batches, std::int64_t at_ms) {
  try {
    ledger_.commit(batches, at_ms);
  } catch (const StorageError& e) {
    if (e.outcome_unknown()) {
      spdlog::error("delivery: the ledger's commit failed and may have happened ({}); reading the cursors again",
                    e.what());
      return Outcome::kUnknown;
    }
    if (e.status().storage == StorageKind::kConstraint) {
      // A key used twice: the ledger already has rows these cursors say are still to come (a
      // commit whose outcome was misjudged). Delivering again from the same cursors would fail
      // the same way for ever; reading them again moves past what is recorded.
      spdlog::error("delivery: the ledger already has some of these records ({}); reading the cursors again",
                    e.what());
      return Outcome::kUnknown;
    }
    spdlog::error("delivery: cannot write the ledger ({}); redelivering from the cursors", e.what());
    return Outcome::kNotWritten;
  }
  if (observer_ != nullptr && observer_->watching_outcomes()) observer_->recorded(outcomes_of(batches), at_ms);
  return Outcome::kCommitted;
}

void LedgerCommitter::committed_upto(std::uint64_t last_seq) {
  if (observer_ != nullptr) observer_->committed(last_seq);
}

}  // namespace hub::delivery

// The dispatcher's side of the ledger, on the delivery thread: each department's results wait in
// its pending batch, and commit_pending() has the committer (ledger_committer.h) write every
// department's batch in one transaction, then moves the cursors. Parking lives here too: a parked event is a
// pending record until that commit, and the parked sets are what the ledger says after one.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "delivery/dispatcher.h"
#include "domain/notice.h"
#include "runtime/subscription.h"

namespace hub::delivery {

// After a commit whose outcome is unknown the ledger's cursors are what the file says: the
// deliveries it kept are not delivered again, the ones it lost are.
bool Dispatcher::reread_cursors() {
  try {
    const auto cursors = ledger_->load_cursors();
    for (auto& d : departments_)
      if (auto it = cursors.find(d->config->id); it != cursors.end()) d->cursor = it->second;
    cursors_stale_ = false;
    return true;
  } catch (const StorageError& e) {
    spdlog::error("delivery: cannot read the cursors again ({}); trying before the next commit", e.what());
    cursors_stale_ = true;
    return false;
  }
}

// How long a result may wait for the rest of its round before it is written anyway. A status
// change goes to every department at once and counts as delivered when the last one has it, so
// writing the first departments' results early gains nothing and costs a commit (and a sync)
// each: the results are written together, when no batch is in flight any more — a lone event
// is written the moment its last department answers. Under load something is always in
// flight; then a commit every kCommitWait carries whatever arrived meanwhile, so the commits
// grow with the load instead of their number. A slow department delays the others' records
// by at most this.
constexpr auto kCommitWait = std::chrono::milliseconds(2);

bool Dispatcher::commit_due(Clock::time_point now, std::chrono::milliseconds& wake) {
  bool pending = false;
  bool in_flight = false;
  bool op_waiting = false;
  for (const auto& d : departments_) {
    pending = pending || d->has_pending;
    in_flight = in_flight || d->in_flight > 0;
    op_waiting = op_waiting || d->op != OpKind::kNone;
  }
  if (!pending) {
    pending_since_.reset();
    return false;
  }
  if (!pending_since_) pending_since_ = now;
  // An operator's command waits for a quiet department: its results are written at once.
  if (!in_flight || op_waiting || draining_ || now - *pending_since_ >= kCommitWait) return true;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*pending_since_ + kCommitWait - now);
  wake = std::min(wake, std::max(left, std::chrono::milliseconds(0)));
  return false;
}

bool Dispatcher::commit_pending(bool operator_asked) {
  std::vector<LedgerBatch> batches;
  std::vector<Department*> owners;
  for (auto& d : departments_) {
    if (!d->has_pending) continue;
    if (d->pending.new_cursor < d->cursor.seq) d->pending.new_cursor = d->cursor.seq;
    batches.push_back(std::move(d->pending));
    owners.push_back(d.get());
    d->pending = LedgerBatch{};
    d->pending.department = d->config->id;
    d->pending.plugin_version = d->plugin_version;
    d->has_pending = false;
  }
  pending_since_.reset();
  if (batches.empty()) return true;
  if (!operator_asked && ledger_failures_ > 0 && Clock::now() < ledger_paused_until_) {
    // Results of batches that were in flight when the last commit failed: trying now would fail
    // again and double the pause; they are delivered again after it, like the failed ones.
    redeliver_after_pause(owners);
    return false;
  }
  const std::int64_t now = now_ms();
  auto outcome = LedgerCommitter::Outcome::kNotWritten;
  if (!cursors_stale_ || reread_cursors()) outcome = committer_->commit(batches, now);
  if (outcome == LedgerCommitter::Outcome::kUnknown) reread_cursors();
  if (outcome != LedgerCommitter::Outcome::kCommitted) {
    // Nothing was recorded (or, outcome unknown, the cursors were read again): deliver these
    // events again from each cursor after a pause (the plugins see them twice; their
    // idempotency keys are unchanged). The pause doubles with each failed commit in a row.
    ++ledger_failures_;
    const std::int64_t pause = std::min<std::int64_t>(
        config_.retry_max_ms, config_.retry_initial_ms << std::min<std::uint32_t>(ledger_failures_ - 1, 20));
    if (ledger_failures_ > 1)
      spdlog::warn("delivery: {} ledger commits failed in a row; next try in {} ms", ledger_failures_, pause);
    ledger_paused_until_ = Clock::now() + std::chrono::milliseconds(pause);
    redeliver_after_pause(owners);
    return false;
  }
  if (ledger_failures_ > 0)
    spdlog::info("delivery: the ledger is written again, after {} failed commits in a row", ledger_failures_);
  ledger_failures_ = 0;
  for (const LedgerBatch& b : batches) {
    for (Department* d : owners) {
      if (d->config->id != b.department) continue;
      d->cursor.seq = b.new_cursor;
      d->cursor.delivered += b.delivered.size();
      d->cursor.failed += b.failures.size();
      if (!b.delivered.empty()) d->cursor.last_delivery_at_ms = now;
    }
  }
  return true;
}

void Dispatcher::redeliver_after_pause(const std::vector<Department*>& owners) {
  for (Department* d : owners) {
    ++d->generation;
    d->sent_upto = d->cursor.seq;
    if (d->state == DeliveryState::kRunning || d->state == DeliveryState::kRetrying) {
      d->state = next_state(d->state, DeliveryInput::kLedgerWriteFailed);
      d->retry_at = ledger_paused_until_;
    }
  }
  // Parked events, retries and skips of those batches were not recorded either: the parked
  // state is what the ledger says (events parked again are found again by pump()).
  try {
    load_parked();
  } catch (const StorageError& e) {
    spdlog::error("delivery: cannot read the parked events ({})", e.what());
  }
}

// --- parking ----------------------------------------------------------------------------

const LoggedEvent& Dispatcher::event_at(std::uint64_t seq) { return scheduler_.event_at(seq, last_seq_); }

bool Dispatcher::held(Department& d, const LoggedEvent& e) {
  // A confirmed notice's status change before its effective date: it waits for that day.
  const bool waits = e.from_notice && e.type == EventType::kStatusChange &&
                     waits_for_effective_date(e.effective_date, today_);
  const std::string effective_on = waits ? e.effective_date : std::string();
  auto it = d.parked.find(e.household_id);
  if (it != d.parked.end() && !it->second.empty()) {
    if (it->second.count(e.seq) != 0) return true;  // parked already
    const std::uint64_t head = *it->second.begin();
    if (head < e.seq && runtime::subscribed(*d.config, e)) {
      const std::string& head_waits_for = d.parked_events[head].effective_on;
      park(d, e,
           "waiting behind " + std::string(head_waits_for.empty() ? "parked " : "") + "seq " + std::to_string(head) +
               (head_waits_for.empty() ? "" : " (effective on " + head_waits_for + ")") + " of the same household",
           0, head, effective_on);
      return true;
    }
  }
  if (!waits || !runtime::subscribed(*d.config, e)) return false;
  park(d, e, "effective on " + effective_on, 0, 0, effective_on);
  return true;
}

void Dispatcher::park(Department& d, const LoggedEvent& e, const std::string& reason, std::uint32_t attempts,
                      std::uint64_t behind_seq, const std::string& effective_on) {
  d.pending.parked.push_back(ParkedRecord{e.seq, e.household_id, e.event_id, reason, attempts, behind_seq, effective_on});
  d.has_pending = true;
  d.parked[e.household_id].insert(e.seq);
  d.parked_events[e.seq] = ParkedEntry{e.household_id, attempts, effective_on};
}

void Dispatcher::unpark(Department& d, std::uint64_t seq) {
  auto it = d.parked_events.find(seq);
  if (it == d.parked_events.end()) return;
  auto h = d.parked.find(it->second.household_id);
  if (h != d.parked.end()) {
    h->second.erase(seq);
    if (h->second.empty()) d.parked.erase(h);
  }
  d.parked_events.erase(it);
}

void Dispatcher::load_parked() {
  for (auto& d : departments_) {
    d->parked.clear();
    d->parked_events.clear();
  }
  for (const ParkedRow& row : ledger_->load_parked()) {
    Department* d = find_department(row.department);
    if (d == nullptr) continue;  // a department no longer configured: kept in the file, shown by list
    d->parked[row.household_id].insert(row.seq);
    d->parked_events[row.seq] = ParkedEntry{row.household_id, row.attempts, row.effective_on};
  }
}

// --- effective dates --------------------------------------------------------------------

std::vector<std::uint64_t> Dispatcher::due_parked(const Department& d, const std::set<std::uint64_t>& household) const {
  std::vector<std::uint64_t> due;
  for (const std::uint64_t seq : household) {
    const auto it = d.parked_events.find(seq);
    if (it == d.parked_events.end() || waits_for_effective_date(it->second.effective_on, today_)) break;
    due.push_back(seq);
  }
  return due;
}

std::size_t Dispatcher::waiting_count(const Department& d) const {
  std::size_t n = 0;
  for (const auto& [household, seqs] : d.parked) {
    const auto head = d.parked_events.find(*seqs.begin());
    if (head != d.parked_events.end() && !head->second.effective_on.empty()) n += seqs.size();
  }
  return n;
}

void Dispatcher::release_due() {
  const auto now = Clock::now();
  if (!today_.empty() && now - today_read_at_ < std::chrono::seconds(1)) return;
  today_read_at_ = now;
  today_ = local_today();
  if (draining_) return;
  for (auto& dp : departments_) {
    Department& d = *dp;
    if (d.op != OpKind::kNone || d.state != DeliveryState::kRunning || d.paused) continue;
    std::vector<std::uint64_t> seqs;
    std::size_t households = 0;
    for (const auto& [household, parked] : d.parked) {
      const ParkedEntry& head = d.parked_events[*parked.begin()];
      if (head.effective_on.empty() || waits_for_effective_date(head.effective_on, today_)) continue;
      const auto due = due_parked(d, parked);
      seqs.insert(seqs.end(), due.begin(), due.end());
      ++households;
    }
    if (seqs.empty()) continue;
    std::sort(seqs.begin(), seqs.end());
    // Carried out like an operator's retry, once the department is quiet (run_ops()).
    d.op = OpKind::kRetry;
    d.op_owner.reset();
    d.op_started = false;
    d.op_by = "hubd";
    d.op_release = true;
    d.retry_queue.assign(seqs.begin(), seqs.end());
    d.op_result = {{"delivered", nlohmann::json::array()}, {"still_parked", nlohmann::json::array()}};
    spdlog::info("delivery: {}: {} event(s) of {} household(s) reached their effective date ({}); delivering",
                 d.config->id, seqs.size(), households, today_);
  }
}

}  // namespace hub::delivery
